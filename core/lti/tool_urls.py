"""The tool's own public URLs, and the test that a URL a platform hands us is one of them.

``target_link_uri`` arrives from the platform in the login request and again in the id_token;
following it without this check makes the login endpoint an open redirect.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from attrs import frozen

LOGIN_PATH = "/lti/login"
LAUNCH_PATH = "/lti/launch"
JWKS_PATH = "/.well-known/jwks.json"
PICKER_PATH = "/lti/picker"


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
        scheme = urlsplit(self.base).scheme
        if scheme not in ("http", "https") or not urlsplit(self.base).hostname:
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
