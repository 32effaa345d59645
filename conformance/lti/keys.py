"""Keys of the mock LTI platform: its own signing keys and JWKS, and checks of the JWTs the
tool signs (client assertions, deep linking responses) against the tool's registered keys."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

from lmsbridge.conformance.lti.records import ToolRegistration
from lmsbridge.conformance.lti.vocab import REMOVE
from lmsbridge.conformance.lti.wire import MockError, is_number

#: A signing key of the platform and its ``kid``.
KeyPair = tuple[str, rsa.RSAPrivateKey]


def add_key(keys: list[KeyPair]) -> str:
    """Append a new RSA key to ``keys`` (the last one signs); returns its kid."""
    kid = f"platform-{len(keys) + 1}-{secrets.token_hex(4)}"
    keys.append((kid, rsa.generate_private_key(public_exponent=65537, key_size=2048)))
    return kid


def public_jwks(keys: list[KeyPair]) -> dict[str, Any]:
    out = []
    for kid, key in keys:
        jwk = RSAKey.import_key(key.public_key()).as_dict(private=False)
        out.append({"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
                    "n": jwk["n"], "e": jwk["e"]})
    return {"keys": out}


def sign(pair: KeyPair, claims: Mapping[str, Any],
         headers: Mapping[str, Any] | None = None) -> str:
    """An RS256 JWT with a ``kid`` header; ``headers`` override it (:data:`REMOVE` drops)."""
    kid, key = pair
    header: dict[str, Any] = {"alg": "RS256", "typ": "JWT", "kid": kid}
    for name, value in (headers or {}).items():
        if value is REMOVE:
            header.pop(name, None)
        else:
            header[name] = value
    return jwt.encode(header, dict(claims), RSAKey.import_key(key))


def tool_key(tool: ToolRegistration, kid: str, error: str) -> RSAKey:
    """The tool's public key ``kid``: from the inline JWKS, or fetched from its JWKS URL
    (no cache, so a rotation on the tool side is seen at once)."""
    if tool.jwks is not None:
        doc = tool.jwks
    elif tool.jwks_url:
        try:
            doc = requests.get(tool.jwks_url, timeout=5).json()
        except (requests.RequestException, ValueError) as exc:
            raise MockError(400, error, f"tool key set at {tool.jwks_url} unavailable: "
                                        f"{type(exc).__name__}") from None
    else:
        raise MockError(400, error, "the tool registration has no public key")
    keys = doc.get("keys") if isinstance(doc, dict) else None
    for jwk in keys if isinstance(keys, list) else []:
        if isinstance(jwk, dict) and jwk.get("kid") == kid and jwk.get("kty") == "RSA":
            try:
                return RSAKey.import_key({"kty": "RSA", "n": jwk.get("n"),
                                          "e": jwk.get("e"), "kid": kid})
            except (JoseError, ValueError, TypeError):
                raise MockError(400, error, f"tool key {kid!r} is malformed") from None
    raise MockError(400, error, f"no tool key with kid {kid!r}")


def verify_tool_jwt(tool: ToolRegistration, token: str, error: str) -> dict[str, Any]:
    """Verify an RS256 JWT signed by the tool (kid required); returns its claims. A
    failure is a :class:`MockError` with ``error`` as its code."""
    try:
        obj = jws.extract_compact(token.encode())
    except (JoseError, ValueError, TypeError):
        raise MockError(400, error, "not a compact JWS") from None
    header = obj.headers()
    if header.get("alg") != "RS256":
        raise MockError(400, error, f"alg must be RS256, got {header.get('alg')!r}")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise MockError(400, error, "the JWT header has no kid")
    key = tool_key(tool, kid, error)
    try:
        decoded = jwt.decode(token, key, algorithms=["RS256"])
    except (JoseError, ValueError, TypeError):
        raise MockError(400, error, "signature does not verify") from None
    return dict(decoded.claims)


def check_times(claims: Mapping[str, Any], error: str, now: float, leeway: float) -> float:
    """``exp`` and ``iat`` present, valid at ``now`` give or take ``leeway``, at most an hour
    apart; returns ``exp``."""
    exp, iat = claims.get("exp"), claims.get("iat")
    if not is_number(exp) or not is_number(iat):
        raise MockError(400, error, "exp and iat are required numbers")
    if exp < now - leeway:
        raise MockError(400, error, "the JWT has expired")
    if iat > now + leeway:
        raise MockError(400, error, "the JWT was issued in the future (iat)")
    if exp - iat > 3600:
        raise MockError(400, error, "the JWT lives longer than an hour")
    return float(exp)
