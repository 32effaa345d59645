"""id_token signature and header rules, with the platform JWKS served over loopback HTTP.

Attack tokens are assembled by hand (base64url + cryptography / stdlib hmac) so that no JOSE
library's own refusal to *create* them hides whether we refuse to *accept* them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from jwks_server import FakeClock, JwksServer

from lmsbridge.core.lti.errors import LaunchError
from lmsbridge.core.lti.idtoken import decode_id_token
from lmsbridge.core.lti.jwks import JwksCache, public_jwk, public_jwks


@pytest.fixture(scope="module")
def platform_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def attacker_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def server(platform_key, attacker_key) -> Iterator[JwksServer]:
    srv = JwksServer()
    srv.serve_json("/platform/jwks", public_jwks([("p1", platform_key)]))
    srv.serve_json("/evil/jwks", public_jwks([("p1", attacker_key), ("evil", attacker_key)]))
    yield srv.start()
    srv.stop()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def cache(clock) -> JwksCache:
    return JwksCache(clock=clock, refetch_interval=30)


@pytest.fixture
def jwks_url(server) -> str:
    return server.url("/platform/jwks")


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segment(obj: Any) -> str:
    return b64(json.dumps(obj, separators=(",", ":")).encode())


CLAIMS = {
    "iss": "https://platform.example.edu",
    "aud": "client-1",
    "sub": "user-1",
    "nonce": "n-1",
    "iat": int(time.time()),
    "exp": int(time.time()) + 300,
    "https://purl.imsglobal.org/spec/lti/claim/version": "1.3.0",
}


def rs_token(
    key: rsa.RSAPrivateKey,
    header: dict[str, Any] | None = None,
    claims: Any = CLAIMS,
    hash_alg: hashes.HashAlgorithm | None = None,
) -> str:
    hdr = {"typ": "JWT", "alg": "RS256", "kid": "p1"} if header is None else header
    signing_input = f"{segment(hdr)}.{segment(claims)}"
    sig = key.sign(signing_input.encode(), padding.PKCS1v15(), hash_alg or hashes.SHA256())
    return f"{signing_input}.{b64(sig)}"


def rejected(token: str, cache: JwksCache, url: str) -> LaunchError:
    with pytest.raises(LaunchError) as exc:
        decode_id_token(token, jwks=cache, jwks_url=url)
    return exc.value


def test_valid_token_returns_claims(platform_key, cache, jwks_url, server):
    token = rs_token(platform_key)
    assert decode_id_token(token, jwks=cache, jwks_url=jwks_url) == CLAIMS
    assert decode_id_token(token.encode(), jwks=cache, jwks_url=jwks_url) == CLAIMS
    assert server.hits["/platform/jwks"] == 1


def test_unknown_non_critical_header_members_are_ignored(platform_key, cache, jwks_url):
    token = rs_token(platform_key, {"alg": "RS256", "kid": "p1", "x-vendor": 1})
    assert decode_id_token(token, jwks=cache, jwks_url=jwks_url)["sub"] == "user-1"


def test_alg_none_rejected_without_key_lookup(cache, jwks_url, server):
    token = f"{segment({'alg': 'none', 'kid': 'p1'})}.{segment(CLAIMS)}."
    err = rejected(token, cache, jwks_url)
    assert (err.rule, err.status) == ("alg_not_allowed", 401)
    assert server.hits["/platform/jwks"] == 0


@pytest.mark.parametrize("alg", ["HS256", "HS512"])
def test_hmac_signed_with_public_key_bytes_rejected(platform_key, cache, jwks_url, alg):
    # The classic confusion attack: HMAC keyed with the platform's public key, which anyone has.
    pem = platform_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = f"{segment({'alg': alg, 'kid': 'p1'})}.{segment(CLAIMS)}"
    digest = hashlib.sha256 if alg == "HS256" else hashlib.sha512
    sig = hmac.new(pem, signing_input.encode(), digest).digest()
    err = rejected(f"{signing_input}.{b64(sig)}", cache, jwks_url)
    assert (err.rule, err.status) == ("alg_not_allowed", 401)


def test_other_rsa_algorithms_rejected(platform_key, cache, jwks_url):
    token = rs_token(platform_key, {"alg": "RS512", "kid": "p1"}, hash_alg=hashes.SHA512())
    assert rejected(token, cache, jwks_url).rule == "alg_not_allowed"


@pytest.mark.parametrize(
    "header", [{"alg": "RS256"}, {"alg": "RS256", "kid": ""}, {"alg": "RS256", "kid": 7}]
)
def test_no_kid_rejected(platform_key, cache, jwks_url, header):
    err = rejected(rs_token(platform_key, header), cache, jwks_url)
    assert (err.rule, err.status) == ("kid_missing", 401)


def test_incorrect_kid_rejected_after_one_refetch(platform_key, cache, jwks_url, server, clock):
    decode_id_token(rs_token(platform_key), jwks=cache, jwks_url=jwks_url)
    clock.t += 31
    for _ in range(20):
        err = rejected(rs_token(platform_key, {"alg": "RS256", "kid": "nope"}), cache, jwks_url)
        assert (err.rule, err.status) == ("kid_unknown", 401)
    assert server.hits["/platform/jwks"] == 2


def test_rotated_platform_key_accepted(platform_key, attacker_key, cache, jwks_url, server, clock):
    decode_id_token(rs_token(platform_key), jwks=cache, jwks_url=jwks_url)
    new_key = attacker_key  # any second key will do as the platform's next key
    server.serve_json("/platform/jwks", public_jwks([("p1", platform_key), ("p2", new_key)]))
    clock.t += 31
    token = rs_token(new_key, {"alg": "RS256", "kid": "p2"})
    assert decode_id_token(token, jwks=cache, jwks_url=jwks_url)["sub"] == "user-1"


@pytest.mark.parametrize("member", ["jku", "x5u"])
def test_key_url_headers_are_ignored(attacker_key, cache, jwks_url, server, member):
    # Signed by the attacker, pointing at a key set the attacker controls: never fetched.
    header = {"alg": "RS256", "kid": "p1", member: server.url("/evil/jwks")}
    err = rejected(rs_token(attacker_key, header), cache, jwks_url)
    assert (err.rule, err.status) == ("signature_invalid", 401)
    header["kid"] = "evil"
    assert rejected(rs_token(attacker_key, header), cache, jwks_url).rule == "kid_unknown"
    assert server.hits["/evil/jwks"] == 0


def test_embedded_jwk_header_is_ignored(attacker_key, cache, jwks_url):
    header = {"alg": "RS256", "kid": "p1", "jwk": public_jwk("p1", attacker_key)}
    assert rejected(rs_token(attacker_key, header), cache, jwks_url).rule == "signature_invalid"


def test_tampered_payload_rejected(platform_key, cache, jwks_url):
    h, _, s = rs_token(platform_key).split(".")
    forged = f"{h}.{segment({**CLAIMS, 'sub': 'admin'})}.{s}"
    err = rejected(forged, cache, jwks_url)
    assert (err.rule, err.status) == ("signature_invalid", 401)


def test_crit_header_rejected(platform_key, cache, jwks_url):
    token = rs_token(platform_key, {"alg": "RS256", "kid": "p1", "crit": ["exp"], "exp": 1})
    assert rejected(token, cache, jwks_url).status == 401


@pytest.mark.parametrize(
    "token",
    [
        "",
        "abc",
        "a.b",
        "a.b.c.d",
        "!!!.###.$$$",
        f"{segment([1, 2])}.{segment(CLAIMS)}.AAAA",
        "x" * 70000,
        "ünïcode.ünïcode.ünïcode",
    ],
)
def test_malformed_tokens_rejected(cache, jwks_url, token, server):
    err = rejected(token, cache, jwks_url)
    assert (err.rule, err.status) == ("token_malformed", 401)
    assert server.hits["/platform/jwks"] == 0


@pytest.mark.parametrize("payload", [[1, 2], "a string", 42])
def test_payload_must_be_an_object(platform_key, cache, jwks_url, payload):
    err = rejected(rs_token(platform_key, claims=payload), cache, jwks_url)
    assert (err.rule, err.status) == ("token_malformed", 401)


def test_unreachable_jwks_is_a_502(platform_key, cache, server):
    err = rejected(rs_token(platform_key), cache, server.url("/missing"))
    assert (err.rule, err.status) == ("jwks_unavailable", 502)


def test_messages_never_carry_the_token(platform_key, attacker_key, cache, jwks_url):
    tokens = [
        rs_token(attacker_key),
        rs_token(platform_key, {"alg": "RS256", "kid": "unknown"}),
        rs_token(platform_key, {"alg": "HS256", "kid": "p1"}),
    ]
    for token in tokens:
        err = rejected(token, cache, jwks_url)
        for part in token.split("."):
            assert part not in str(err) and part not in repr(err)


def test_verified_claims_feed_claim_validation(platform_key, cache, jwks_url):
    from lmsbridge.core.lti.claims import LTI, validate_launch_claims

    claims = {
        **CLAIMS,
        LTI + "message_type": "LtiResourceLinkRequest",
        LTI + "deployment_id": "d1",
        LTI + "target_link_uri": "https://tool.example.com/launch",
        LTI + "resource_link": {"id": "rl"},
        LTI + "roles": [],
    }
    verified = decode_id_token(rs_token(platform_key, claims=claims), jwks=cache, jwks_url=jwks_url)
    launch = validate_launch_claims(
        verified,
        issuer="https://platform.example.edu",
        client_id="client-1",
        deployment_ids={"d1"},
        now=time.time(),
    )
    assert (launch.sub, launch.resource_link_id, launch.roles) == ("user-1", "rl", ())


# Parsing rules taken over from joserfc when idtoken.py stopped using it (see its docstring).


def _swap(token: str, index: int, segment_text: str) -> str:
    parts = token.split(".")
    parts[index] = segment_text
    return ".".join(parts)


def _noncanonical(seg: str) -> str | None:
    """``seg`` with unused trailing bits set: decodes to the same bytes, different text."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    if len(seg) % 4 in (2, 3):
        return seg[:-1] + alphabet[alphabet.index(seg[-1]) + 1]
    return None


@pytest.mark.parametrize("index", [0, 1])
def test_non_canonical_base64url_rejected(platform_key, cache, jwks_url, server, index):
    token = rs_token(platform_key)
    seg = token.split(".")[index]
    bad = next(b for b in (_noncanonical(seg + pad) for pad in ("", "A", "AA")) if b)
    assert base64.urlsafe_b64decode(bad + "=" * (-len(bad) % 4))  # lenient decoders take it
    err = rejected(_swap(token, index, bad), cache, jwks_url)
    assert (err.rule, err.status) == ("token_malformed", 401)
    assert server.hits["/platform/jwks"] == 0


@pytest.mark.parametrize("mangle", [
    lambda s: s + "==",                     # padded
    lambda s: s[:10] + "+" + s[11:],        # standard alphabet
    lambda s: s[:10] + "/" + s[11:],
    lambda s: s[:10] + " " + s[10:],        # whitespace
    lambda s: s[:10] + "\n" + s[10:],
    lambda s: s + "A" * (5 - len(s) % 4),   # length 1 mod 4
])
@pytest.mark.parametrize("index", [0, 1])
def test_loose_base64url_rejected(platform_key, cache, jwks_url, mangle, index):
    token = rs_token(platform_key)
    bad = _swap(token, index, mangle(token.split(".")[index]))
    assert rejected(bad, cache, jwks_url).rule == "token_malformed"


def test_padded_or_loose_signature_segment_fails_verification(platform_key, cache, jwks_url):
    token = rs_token(platform_key)
    sig = token.split(".")[2]
    for bad in (sig + "=", sig[:-1] + "+", sig[:-1] + "/"):
        assert rejected(_swap(token, 2, bad), cache, jwks_url).rule == "signature_invalid"


def test_header_size_is_capped_at_2048_bytes(platform_key, cache, jwks_url):
    ok = {"alg": "RS256", "kid": "p1", "x-vendor": "v" * 1400}  # over joserfc's 512 default
    assert decode_id_token(rs_token(platform_key, ok), jwks=cache, jwks_url=jwks_url)
    big = {"alg": "RS256", "kid": "p1", "x-vendor": "v" * 1600}
    assert rejected(rs_token(platform_key, big), cache, jwks_url).rule == "token_malformed"


def test_signature_segment_size_is_capped(platform_key, cache, jwks_url):
    token = _swap(rs_token(platform_key), 2, "A" * 1028)
    assert rejected(token, cache, jwks_url).rule == "token_malformed"


@pytest.mark.parametrize("header", [
    {"kid": "p1"},                  # no alg
    ["RS256", "p1"],                # not an object
    "alg",
])
def test_header_must_be_an_object_with_alg(platform_key, cache, jwks_url, header):
    assert rejected(rs_token(platform_key, header), cache, jwks_url).rule == "token_malformed"


def test_header_must_be_utf8_json(platform_key, cache, jwks_url):
    head = b64('{"alg":"RS256","kid":"p1"}'.encode("utf-16"))
    token = _swap(rs_token(platform_key), 0, head)
    assert rejected(token, cache, jwks_url).rule == "token_malformed"


@pytest.mark.parametrize("member,value", [
    ("typ", 5), ("cty", ["a"]), ("x5t", 1), ("x5t#S256", None), ("x5c", "cert"),
    ("x5c", [1]), ("jwk", "key"), ("jku", "ftp://x"), ("x5u", 3),
])
def test_ill_typed_registered_header_members_do_not_verify(platform_key, cache, jwks_url,
                                                           member, value):
    token = rs_token(platform_key, {"alg": "RS256", "kid": "p1", member: value})
    assert rejected(token, cache, jwks_url).rule == "signature_invalid"


def test_unencoded_payload_option_refused(platform_key, cache, jwks_url):
    plain = rs_token(platform_key, {"alg": "RS256", "kid": "p1", "b64": False})
    assert rejected(plain, cache, jwks_url).rule == "token_malformed"
    crit = rs_token(platform_key, {"alg": "RS256", "kid": "p1", "b64": False, "crit": ["b64"]})
    assert rejected(crit, cache, jwks_url).rule == "header_unsupported"
    encoded = rs_token(platform_key, {"alg": "RS256", "kid": "p1", "b64": True})
    assert decode_id_token(encoded, jwks=cache, jwks_url=jwks_url) == CLAIMS


# Hostile JSON: refused as token_malformed, never a RecursionError or a NaN in the claims.


def raw_token(key: rsa.RSAPrivateKey, payload: bytes, header: bytes | None = None) -> str:
    """A token of exactly these payload (and header) bytes, validly signed."""
    head = b'{"alg":"RS256","kid":"p1"}' if header is None else header
    signing_input = f"{b64(head)}.{b64(payload)}"
    sig = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64(sig)}"


def _claims_with(extra: bytes) -> bytes:
    return json.dumps(CLAIMS).encode()[:-1] + b", " + extra + b"}"


@pytest.mark.parametrize("payload", [
    b"[" * 30000 + b"]" * 30000,                           # was a RecursionError: a 500
    _claims_with(b'"x": ' + b"[" * 33 + b"]" * 33),        # one level past the limit
    _claims_with(b'"x": ' + b'{"a":' * 32 + b"1" + b"}" * 32),
    _claims_with(b'"exp": NaN'), _claims_with(b'"iat": Infinity'),
    _claims_with(b'"exp": -Infinity'),
    _claims_with(b'"name": "\\ud800"'), _claims_with(b'"\\udc00": 1'),  # lone surrogates
    _claims_with(b'"name": "a\\udbff\\u0041"'),
    json.dumps(CLAIMS).encode() + b'"x": "' + b'\\"' * 5000 + b"[" * 40,  # unterminated
], ids=["deep", "depth-33", "objects-33", "nan", "infinity", "-infinity", "surrogate",
        "surrogate-key", "high-then-ascii", "unterminated"])
def test_hostile_payload_json_is_malformed(platform_key, cache, jwks_url, payload):
    err = rejected(raw_token(platform_key, payload), cache, jwks_url)
    assert (err.rule, err.status) == ("token_malformed", 401)


def test_hostile_header_json_is_malformed(platform_key, cache, jwks_url, server):
    deep = b'{"alg":"RS256","kid":"p1","x":' + b"[" * 900 + b"]" * 900 + b"}"
    for header in (deep, b'{"alg":"RS256","kid":"p1","x":NaN}',
                   b'{"alg":"RS256","kid":"\\ud800"}'):
        err = rejected(raw_token(platform_key, json.dumps(CLAIMS).encode(), header), cache,
                       jwks_url)
        assert err.rule == "token_malformed"
    assert server.hits["/platform/jwks"] == 0


def test_json_within_the_limits_is_accepted(platform_key, cache, jwks_url):
    for key, raw, value in [
        ("x", b"[" * 31 + b"]" * 31, json.loads(b"[" * 31 + b"]" * 31)),  # 32 with the root
        ("t", b'"' + b"[{" * 100 + b'"', "[{" * 100),  # brackets in a string do not nest
        ("e", b'"\\ud83d\\ude00 \\\\ud800"', "\U0001F600 \\ud800"),  # a pair; a literal
        ("big", b"1e400", float("inf")),  # JSON allows it; the claim rules refuse it
    ]:
        token = raw_token(platform_key, _claims_with(b'"' + key.encode() + b'": ' + raw))
        assert decode_id_token(token, jwks=cache, jwks_url=jwks_url)[key] == value
