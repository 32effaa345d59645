"""The tool's own public URLs, and the test that a URL a platform hands us is one of them.

``target_link_uri`` arrives from the platform in the login request and again in the id_token;
following it without this check makes the login endpoint an open redirect.

Without a configured base URL the tool's URLs come from the request's ``Host``, which the
client chooses: ``host_allowed`` decides which hosts may form them (loopback only, unless an
allow-list names others).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Collection, Iterable
from urllib.parse import urlsplit

from attrs import frozen

LOGIN_PATH = "/lti/login"
LAUNCH_PATH = "/lti/launch"
JWKS_PATH = "/.well-known/jwks.json"
PICKER_PATH = "/lti/picker"

# A DNS name (underscores tolerated: container host names have them), an IPv4 address or a
# bracketed IPv6 address, then an optional port: what can stand between "//" and "/".
_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
_HOST = re.compile(rf"(?P<name>{_LABEL}(?:\.{_LABEL})*\.?|\[(?P<ip6>[0-9A-Fa-f:.]+)\])"
                   r"(?::(?P<port>[0-9]{1,5}))?")
MAX_HOST = 260  # 253 for the name, a port


def split_host(host: str) -> tuple[str, int | None] | None:
    """``host[:port]`` as (lower-case name without a trailing dot, port); None when it
    cannot be the authority of an http(s) URL (bad characters, bad IPv6, port out of range)."""
    if not isinstance(host, str) or len(host) > MAX_HOST:
        return None
    m = _HOST.fullmatch(host)
    if m is None:
        return None
    port = int(m["port"]) if m["port"] is not None else None
    if port is not None and not 0 < port < 65536:
        return None
    if m["ip6"] is not None:
        try:
            ipaddress.IPv6Address(m["ip6"])
        except ValueError:
            return None
        return f"[{m['ip6'].lower()}]", port
    name = m["name"].rstrip(".").lower()
    return (name, port) if len(name) <= 253 else None


def is_loopback(name: str) -> bool:
    """``localhost`` (and names under it, RFC 6761), 127.0.0.0/8 or [::1]."""
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:
        return False


def parse_allowed_hosts(value: str | Iterable[str] | None) -> frozenset[str] | None:
    """An allow-list from ``"a.example, b.example:8443"`` (or an iterable of entries); None
    when empty. An entry without a port allows every port. ValueError names a bad entry."""
    if value is None:
        return None
    entries = value.split(",") if isinstance(value, str) else list(value)
    allowed = set()
    for entry in (e.strip() for e in entries):
        if not entry:
            continue
        parts = split_host(entry)
        if parts is None:
            raise ValueError(f"allowed host {entry!r} is not a host name or address")
        name, port = parts
        allowed.add(name if port is None else f"{name}:{port}")
    return frozenset(allowed) or None


def host_allowed(name: str, port: int | None, allowed: Collection[str] | None) -> bool:
    """Whether a request for ``name:port`` (from ``split_host``) may use that host in the
    tool's URLs: listed in ``allowed``, or, with no list, a loopback host."""
    if allowed is None:
        return is_loopback(name)
    return name in allowed or (port is not None and f"{name}:{port}" in allowed)


def _origin_and_path(url: str) -> tuple[str, str, str]:
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    port = parts.port or {"https": 443, "http": 80}.get(scheme)
    return scheme, f"{host}:{port}", parts.path


@frozen
class ToolUrls:
    """URLs under ``base`` (e.g. ``https://tool.example.edu`` or ``https://x.edu/lmsbridge``)."""

    base: str

    def __attrs_post_init__(self) -> None:
        try:
            parts = urlsplit(self.base)
            ok = parts.scheme in ("http", "https") and bool(parts.hostname)
            parts.port  # noqa: B018 - raises ValueError for a port out of range
        except ValueError:  # "[::1" (bad IPv6) or a bad port
            ok = False
        if not ok:
            raise ValueError(f"tool base URL must be an absolute http(s) URL, got {self.base!r}")

    @property
    def root(self) -> str:
        return self.base.rstrip("/")

    @property
    def login(self) -> str:
        return self.root + LOGIN_PATH

    @property
    def launch(self) -> str:
        return self.root + LAUNCH_PATH

    @property
    def jwks(self) -> str:
        return self.root + JWKS_PATH

    @property
    def secure(self) -> bool:
        return urlsplit(self.base).scheme == "https"

    def is_ours(self, url: object) -> bool:
        """True when ``url`` is an absolute URL on our origin under our LTI paths."""
        if not isinstance(url, str) or not url or len(url) > 2048:
            return False
        try:
            scheme, origin, path = _origin_and_path(url)
            our_scheme, our_origin, our_path = _origin_and_path(self.base)
        except ValueError:  # a bad port number
            return False
        if (scheme, origin) != (our_scheme, our_origin):
            return False
        prefix = our_path.rstrip("/") + "/lti/"
        return path.startswith(prefix) and "/../" not in path and not path.endswith("/..")
