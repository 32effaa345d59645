"""Verify a platform-signed JWT (the LTI id_token) against the platform's JWKS.

The compact JWS is parsed here (split, strict base64url, stdlib JSON) and the RS256 signature
is checked by ``cryptography`` (PKCS#1 v1.5, SHA-256) with the public key the JWKS cache
imported once per kid (``RSAKey.public_key``). joserfc did this before; it went because a
launch parsed the token twice with it (a 23 us unverified peek to find the registration, then
extract + validate), while ``parse_compact`` hands one parsed object to the routing, the header
rules, the verify and the claim rules. Alone, joserfc was not the problem: per decode +
verify of a 3.3 KB Canvas-like token (bench/jose_verify.py, 2-core machine, medians)
bare ``cryptography`` verify 16.6 us (floor), ``decode_id_token`` 39 us, joserfc 42 us,
PyJWT 131 us. What is left above the floor is stdlib work on ~3 KB: strict base64url 5 us
(``binascii`` in strict mode plus the alphabet translate, which also maps the non-base64url
``+/=`` to a byte strict mode refuses, so no separate scans for them), payload JSON 5 us,
header 2 us, split 1 us. Parsing is ours, the crypto is not. Inside a whole launch
(bench/launch.py, 2026-11-22, 67 us in all) the same work measures: ``parse_compact`` 11 us,
payload JSON 6 us, ``verify_signature`` 23 us of which the RS256 verify is ~20.

What was taken over from joserfc, unchanged in effect (tests in test_lti_idtoken.py):
exactly three segments; header segment <= 2048 bytes, signature segment <= 1024; base64url
only (no ``+``, ``/``, ``=``, whitespace), canonical (a length of 1 mod 4, or unused trailing
bits set, is refused); the header a JSON object with ``alg``; registered header members of
the right type (``typ`` a string, ``x5c`` a list of strings ...) or the token does not
verify; ``b64: false`` (RFC 7797) refused (``header_unsupported`` when ``crit`` names it).
One deliberate tightening: header and payload JSON must be UTF-8 (RFC 7515 5.2); joserfc's
``json.loads`` of bytes also sniffed UTF-16/32.

Hostile JSON is refused as ``token_malformed``, header and payload alike: nesting deeper
than ``MAX_JSON_DEPTH`` (found before parsing: the C parser recurses, so deep nesting was a
RecursionError), lone UTF-16 surrogate escapes (``"\\ud800"``: no UTF-8 text has them, RFC
7493 2.1, and encoding such a string later raises), and the ``NaN``/``Infinity`` literals
(no JSON, RFC 8259 6). The common token costs two ``bytes.count`` calls and a substring test;
only a token with more than ``MAX_JSON_DEPTH`` brackets, or with a ``\\uD8..``-``\\uDF..``
escape, is examined further.

Rules (research/lti.md checklist item 2-3): ``alg`` must be RS256 whatever the key or the
registration says; ``kid`` is required; ``jku``, ``x5u``, ``jwk`` and ``x5c`` headers are
never used to find a key (the key comes only from the registration's JWKS URL); ``crit`` is
refused since we implement no extension. Claims are checked separately in ``claims.py``.
"""

from __future__ import annotations

import binascii
import json
import re
from typing import Any

from attrs import frozen
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.hashes import SHA256

from lmsbridge.core.lti.errors import LaunchError
from lmsbridge.core.lti.jwks import JwksCache, JwksError

ALGORITHM = "RS256"
MAX_TOKEN_BYTES = 64 * 1024
# joserfc's 512-byte default could refuse a platform that adds header fields; still bounded.
MAX_HEADER_BYTES = 2048
MAX_SIGNATURE_BYTES = 1024  # base64url of a 4096-bit signature is 683
# An LTI payload nests 4 deep (claim object, AGS scope list ...); vendor claims a few more.
MAX_JSON_DEPTH = 32

_PADDING, _HASH = PKCS1v15(), SHA256()  # stateless; built once
# base64url to base64 in the one pass a2b_base64 needs anyway: "-_" become "+/", and "+/="
# (standard base64, not base64url) become "!", which strict a2b_base64 refuses like any other
# stray byte - three scans for them per segment cost more than this whole table lookup.
_STD_ALPHABET = bytes.maketrans(b"-_+/=", b"+/!!!")
# Last character allowed when the length is 2 or 3 mod 4: its unused low bits must be zero,
# otherwise several encodings decode to the same bytes (RFC 4648 3.5, RFC 7515 2).
_CANONICAL_LAST = {2: frozenset(b"AQgw"), 3: frozenset(b"AEIMQUYcgkosw048")}


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


# json.loads with NaN, Infinity and -Infinity refused; one decoder, built once.
_decode = json.JSONDecoder(parse_constant=_no_constant).decode
# A JSON string, or an unterminated one running to the end (possessive: no backtracking, so
# a text of many unterminated quotes is still one linear pass).
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*+(?:"|\\?\Z)', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_EMPTY_PAIR = re.compile(rb"\[\]|\{\}")
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _nesting_ok(text: bytes) -> bool:
    """False when JSON ``text`` nests deeper than MAX_JSON_DEPTH (or its brackets outside
    strings do not pair up, which no JSON does)."""
    if text.count(b"[") + text.count(b"{") <= MAX_JSON_DEPTH:
        return True  # fewer brackets than the limit: no need to know where they are
    brackets = _STRING.sub(b"", text).translate(None, _NOT_BRACKETS)
    for _ in range(MAX_JSON_DEPTH):  # each round removes the innermost pairs: one level
        brackets, removed = _EMPTY_PAIR.subn(b"", brackets)
        if not brackets:
            return True
        if not removed:
            return False
    return False


def _has_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        if value.isascii():
            return False
        try:
            value.encode()
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    return False


def parse_json(text: bytes) -> Any:
    """Strict UTF-8 JSON with the limits above; ValueError otherwise."""
    if not _nesting_ok(text):
        raise ValueError("JSON nested too deep")
    value = _decode(text.decode())  # UTF-8 only (RFC 7515 5.2): no encoding sniffing
    # Paired surrogate escapes (an emoji) are fine: the decoder joins them.
    if b"\\u" in text and _SURROGATE_ESCAPE.search(text) and _has_lone_surrogate(value):
        raise ValueError("JSON string with a lone surrogate")
    return value


def _str(v: Any) -> bool:
    return isinstance(v, str)


def _url(v: Any) -> bool:
    return isinstance(v, str) and v.startswith(("http://", "https://"))


def _str_list(v: Any) -> bool:
    return isinstance(v, list) and all(isinstance(x, str) for x in v)


# RFC 7515 4.1 members: present means well-typed (unknown members are ignored, RFC 7515 4.1).
_HEADER_TYPES = {"jku": _url, "jwk": lambda v: isinstance(v, dict), "x5u": _url,
                 "x5c": _str_list, "x5t": _str, "x5t#S256": _str, "typ": _str, "cty": _str}


@frozen
class CompactJws:
    """A compact JWS split and decoded, NOT verified: ``header`` is a dict with ``alg``;
    ``payload`` passed the nesting and surrogate checks (``parse_compact`` is its one maker)."""

    header: dict[str, Any]
    payload: bytes
    signing_input: bytes  # the ASCII header.payload the signature covers
    signature: bytes  # still base64url; decoded when verified


def _reject(rule: str, reason: str) -> LaunchError:
    return LaunchError(rule, reason, 401)


def _malformed() -> LaunchError:
    return _reject("token_malformed", "the id_token is not a compact JWS")


def b64url_decode(segment: bytes) -> bytes:
    """Strict, unpadded, canonical base64url; ValueError (binascii.Error) otherwise."""
    rem = len(segment) % 4
    if rem == 1 or (rem and segment[-1] not in _CANONICAL_LAST[rem]):
        raise ValueError("not canonical base64url")
    return binascii.a2b_base64(segment.translate(_STD_ALPHABET) + b"=" * (-rem % 4),
                               strict_mode=True)


def parse_compact(token: str | bytes) -> CompactJws:
    """Split and decode ``token``; LaunchError token_malformed (401) if it is no compact JWS."""
    raw = token.encode("ascii", "replace") if isinstance(token, str) else token
    if len(raw) > MAX_TOKEN_BYTES:
        raise _reject("token_malformed", "the id_token is too large")
    parts = raw.split(b".")
    if len(parts) != 3:
        raise _malformed()
    head, body, sig = parts
    if len(head) > MAX_HEADER_BYTES or len(sig) > MAX_SIGNATURE_BYTES:
        raise _malformed()
    try:
        header = parse_json(b64url_decode(head))
        payload = b64url_decode(body)
        # Checked here, not only where the payload is parsed, so no CompactJws carries a
        # payload any parser of it could choke on.
        if not _nesting_ok(payload) or (b"\\u" in payload and _SURROGATE_ESCAPE.search(payload)
                                        and _has_lone_surrogate(parse_json(payload))):
            raise ValueError("hostile payload")
    except ValueError:  # binascii.Error, JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise _malformed() from None
    if not isinstance(header, dict) or "alg" not in header:
        raise _malformed()
    if "b64" in header and header["b64"] is not True:  # RFC 7797 unencoded payload
        if isinstance(header.get("crit"), list) and "b64" in header["crit"]:
            raise _reject("header_unsupported", "critical header extensions are not supported")
        raise _malformed()
    return CompactJws(header, payload, raw[: len(head) + 1 + len(body)], sig)


def payload_claims(jws: CompactJws) -> dict[str, Any]:
    """The payload as a JSON object (token_malformed otherwise); verified or not is up to
    the caller."""
    try:
        claims = _decode(jws.payload.decode())  # nesting and surrogates: parse_compact's
    except ValueError:
        claims = None
    if not isinstance(claims, dict):
        raise _reject("token_malformed", "the id_token payload is not a JSON object")
    return claims


def verify_signature(jws: CompactJws, *, jwks: JwksCache, jwks_url: str) -> None:
    """Apply the header rules, find the key ``kid`` names in the set at ``jwks_url`` and
    check the RS256 signature. Raises LaunchError (401, or 502 when the key set can't be had).
    """
    header = jws.header
    alg = header["alg"]
    if alg != ALGORITHM:
        # Checked before any key lookup: `none` and HS* (HMAC keyed with the public key) die here.
        raise _reject("alg_not_allowed", f"signing algorithm must be {ALGORITHM}, got {alg!r:.20}")
    if "crit" in header:
        raise _reject("header_unsupported", "critical header extensions are not supported")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise _reject("kid_missing", "the id_token header has no kid")

    try:
        key = jwks.get_key(jwks_url, kid)
    except JwksError as exc:
        raise LaunchError("jwks_unavailable", str(exc), 502) from None
    if key is None:
        raise _reject("kid_unknown", f"no key with kid {kid[:80]!r} in the platform's key set")

    try:
        for name, value in header.items():
            check = _HEADER_TYPES.get(name)
            if check is not None and not check(value):
                raise ValueError("ill-typed header member")
        # key.public_key is the cryptography key, imported once when the set was fetched.
        key.public_key.verify(b64url_decode(jws.signature), jws.signing_input, _PADDING, _HASH)
    except (InvalidSignature, ValueError):
        raise _reject("signature_invalid", "the id_token signature does not verify") from None


def decode_id_token(token: str | bytes, *, jwks: JwksCache, jwks_url: str) -> dict[str, Any]:
    """Return the claims of ``token`` once its RS256 signature checks out against the key
    its ``kid`` names in the set at ``jwks_url``. Raises LaunchError (401, or 502 when the
    platform's key set can't be had). Claim values are NOT validated here.
    """
    jws = parse_compact(token)
    verify_signature(jws, jwks=jwks, jwks_url=jwks_url)
    return payload_claims(jws)
