"""Oracle inbound JWT: key generation, x5t, minting/caching, and the verifier the mock will use."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from lmsbridge.adapters.oracle.auth import (
    PROVIDER_ROLE,
    AuthError,
    JwtMinter,
    JwtVerifier,
    certificate_x5t,
    generate_keypair,
    x5t,
)

ISSUER = "coursera.example"
USER = "user.coursera"
T0 = 1_800_000_000.0  # a fixed instant; tests move a fake clock instead of sleeping
NOW = dt.datetime.fromtimestamp(T0, dt.UTC)


class FakeClock:
    def __init__(self, t: float = T0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture(scope="module")
def keys():
    return generate_keypair("lmsbridge coursera", now=NOW)


@pytest.fixture(scope="module")
def other_keys():
    return generate_keypair("someone else", now=NOW)


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def minter(keys, clock):
    private_pem, cert_pem, _ = keys
    return JwtMinter(
        issuer=ISSUER, username=USER, private_key_pem=private_pem, certificate=cert_pem, clock=clock
    )


@pytest.fixture
def verifier(keys, clock):
    _, _, cert_der = keys
    return JwtVerifier(
        issuers={ISSUER: [cert_der]},
        users={USER: [PROVIDER_ROLE], "user.nobody": ["ORA_PER_EMPLOYEE_ABSTRACT"]},
        clock=clock,
    )


def b64url_json(part: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def forge(header: dict, claims: dict, private_pem: bytes) -> str:
    """Sign a token by hand with cryptography, independent of the code under test."""

    def enc(obj: dict) -> str:
        raw = json.dumps(obj, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    signing_input = f"{enc(header)}.{enc(claims)}"
    key = serialization.load_pem_private_key(private_pem, password=None)
    sig = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{base64.urlsafe_b64encode(sig).rstrip(b'=').decode()}"


# --------------------------------------------------------------------------- keys


def test_generated_certificate_is_self_signed_rsa2048(keys):
    private_pem, cert_pem, cert_der = keys
    cert = x509.load_der_x509_certificate(cert_der)
    assert cert == x509.load_pem_x509_certificate(cert_pem)
    assert cert.subject == cert.issuer
    assert cert.subject.rfc4514_string() == "CN=lmsbridge coursera"
    key = serialization.load_pem_private_key(private_pem, password=None)
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 2048
    assert cert.public_key() == key.public_key()
    cert.verify_directly_issued_by(cert)  # raises if the self-signature is wrong
    assert cert.not_valid_before_utc <= NOW < cert.not_valid_after_utc


def test_x5t_matches_independent_sha1_of_der(keys):
    _, cert_pem, cert_der = keys
    expected = base64.urlsafe_b64encode(hashlib.sha1(cert_der).digest()).decode().rstrip("=")
    assert x5t(cert_der) == expected
    assert len(expected) == 27 and "=" not in expected
    cert = x509.load_der_x509_certificate(cert_der)
    assert x5t(cert_der) == base64.urlsafe_b64encode(
        cert.fingerprint(hashes.SHA1())
    ).decode().rstrip("=")
    assert certificate_x5t(cert_pem) == certificate_x5t(cert_der) == expected


def test_generated_keys_repr_hides_private_key(keys):
    assert b"PRIVATE KEY" in keys.private_key_pem
    assert "PRIVATE" not in repr(keys) and "redacted" in repr(keys)
    private_pem, cert_pem, cert_der = keys  # still unpacks like the documented tuple
    assert cert_der


# --------------------------------------------------------------------------- minting


def test_token_header_and_claims(minter, keys, clock):
    token = minter.token()
    head, body, _ = token.split(".")
    assert b64url_json(head) == {"alg": "RS256", "typ": "JWT", "x5t": x5t(keys.certificate_der)}
    assert b64url_json(body) == {
        "iss": ISSUER,
        "prn": USER,
        "sub": USER,
        "iat": int(T0),
        "exp": int(T0) + 300,
    }


def test_token_verifies_with_certificate_public_key(minter, keys):
    signing_input, _, sig = minter.token().rpartition(".")
    public_key = x509.load_der_x509_certificate(keys.certificate_der).public_key()
    signature = base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4))
    public_key.verify(signature, signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())


def test_token_is_cached_until_close_to_expiry(minter, clock):
    first = minter.token()
    clock.t += 200
    assert minter.token() == first
    clock.t = T0 + 300 - 30  # inside the 30 s refresh margin
    second = minter.token()
    assert second != first
    assert b64url_json(second.split(".")[1])["iat"] == int(clock.t)


def test_invalidate_and_force_remint(minter, clock):
    first = minter.token()
    clock.t += 1
    minter.invalidate()
    second = minter.token()
    assert second != first
    clock.t += 1
    assert minter.token(force=True) != second


def test_configurable_lifetime(keys, clock):
    m = JwtMinter(
        issuer=ISSUER,
        username=USER,
        private_key_pem=keys.private_key_pem,
        certificate=keys.certificate_der,
        lifetime=dt.timedelta(minutes=1),
        refresh_margin=dt.timedelta(seconds=5),
        clock=clock,
    )
    claims = b64url_json(m.token().split(".")[1])
    assert claims["exp"] - claims["iat"] == 60
    assert m.authorization_header() == {"Authorization": f"Bearer {m.token()}"}


def test_minter_accepts_secret_like_wrapper(keys, clock):
    class Wrapped:
        def reveal(self) -> str:
            return keys.private_key_pem.decode()

    m = JwtMinter(
        issuer=ISSUER,
        username=USER,
        private_key_pem=Wrapped(),
        certificate=keys.certificate_pem,
        clock=clock,
    )
    assert m.token().count(".") == 2


def test_minter_rejects_key_not_matching_certificate(keys, other_keys):
    with pytest.raises(ValueError, match="does not match") as info:
        JwtMinter(
            issuer=ISSUER,
            username=USER,
            private_key_pem=other_keys.private_key_pem,
            certificate=keys.certificate_pem,
        )
    assert "PRIVATE" not in str(info.value)


def test_bad_private_key_error_leaks_nothing():
    junk = b"-----BEGIN PRIVATE KEY-----\nc2VjcmV0LXNlY3JldC1zZWNyZXQ=\n-----END PRIVATE KEY-----\n"
    with pytest.raises(ValueError) as info:
        JwtMinter(issuer=ISSUER, username=USER, private_key_pem=junk, certificate=b"x")
    text = str(info.value) + repr(info.value)
    assert "c2VjcmV0" not in text and "PRIVATE KEY-----" not in text
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_minter_repr_has_no_secrets(minter, keys):
    token = minter.token()
    text = repr(minter) + str(minter)
    assert token not in text
    assert keys.private_key_pem.decode().splitlines()[1] not in text
    assert USER in text and minter.x5t in text


# --------------------------------------------------------------------------- verifying


def test_verifier_accepts_minted_token(minter, verifier):
    assert verifier.verify(minter.token()) == USER
    assert verifier.verify_header(f"Bearer {minter.token()}") == USER


def assert_refused(verifier, token, status, code):
    with pytest.raises(AuthError) as info:
        verifier.verify(token)
    err = info.value
    assert (err.status, err.code) == (status, code), err
    assert err.reason
    # The token (or any of its parts) never appears in what gets logged.
    for part in token.split("."):
        if len(part) > 8:
            assert part not in str(err) and part not in repr(err)
    return err


def test_wrong_issuer_is_401(keys, clock, verifier):
    m = JwtMinter(
        issuer="Coursera.Example",  # differs only in case: Oracle matches exactly
        username=USER,
        private_key_pem=keys.private_key_pem,
        certificate=keys.certificate_der,
        clock=clock,
    )
    err = assert_refused(verifier, m.token(), 401, "issuer_mismatch")
    assert "Coursera.Example" in err.reason


def test_expired_token_is_401(minter, verifier, clock):
    token = minter.token()
    clock.t += 300
    assert_refused(verifier, token, 401, "expired")


def test_unknown_x5t_is_401(other_keys, clock, verifier):
    m = JwtMinter(
        issuer=ISSUER,
        username=USER,
        private_key_pem=other_keys.private_key_pem,
        certificate=other_keys.certificate_der,
        clock=clock,
    )
    err = assert_refused(verifier, m.token(), 401, "unknown_x5t")
    assert x5t(other_keys.certificate_der) in err.reason


def test_tampered_signature_is_401(minter, verifier):
    head, body, sig = minter.token().split(".")
    flipped = ("A" if sig[10] != "A" else "B").join((sig[:10], sig[11:]))
    assert_refused(verifier, f"{head}.{body}.{flipped}", 401, "bad_signature")


def test_tampered_claims_is_401(minter, verifier):
    head, body, sig = minter.token().split(".")
    claims = b64url_json(body) | {"prn": "someone.else", "sub": "someone.else"}
    forged_body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    assert_refused(verifier, f"{head}.{forged_body}.{sig}", 401, "bad_signature")


def test_signed_by_other_key_under_known_x5t_is_401(keys, other_keys, verifier):
    header = {"alg": "RS256", "typ": "JWT", "x5t": x5t(keys.certificate_der)}
    claims = {"iss": ISSUER, "prn": USER, "sub": USER, "iat": int(T0), "exp": int(T0) + 60}
    assert_refused(
        verifier, forge(header, claims, other_keys.private_key_pem), 401, "bad_signature"
    )


def test_independently_forged_token_with_right_key_is_accepted(keys, verifier):
    header = {"alg": "RS256", "typ": "JWT", "x5t": x5t(keys.certificate_der)}
    claims = {"iss": ISSUER, "prn": USER, "sub": USER, "iat": int(T0), "exp": int(T0) + 60}
    assert verifier.verify(forge(header, claims, keys.private_key_pem)) == USER


@pytest.mark.parametrize(
    ("header_patch", "claims_patch", "code"),
    [
        ({"alg": "HS256"}, {}, "unsupported_alg"),
        ({"alg": "none"}, {}, "unsupported_alg"),
        ({"x5t": None}, {}, "missing_x5t"),
        ({}, {"exp": None}, "invalid_claims"),
        ({}, {"iat": int(T0) + 3600}, "invalid_claims"),
        ({}, {"prn": None, "sub": None}, "missing_user"),
        ({}, {"sub": "user.other"}, "user_mismatch"),
        ({}, {"prn": "user.ghost", "sub": "user.ghost"}, "unknown_user"),
    ],
)
def test_other_refusals_are_401(keys, verifier, header_patch, claims_patch, code):
    header = {"alg": "RS256", "typ": "JWT", "x5t": x5t(keys.certificate_der)} | header_patch
    claims = {"iss": ISSUER, "prn": USER, "sub": USER, "iat": int(T0), "exp": int(T0) + 60}
    claims |= claims_patch
    header = {k: v for k, v in header.items() if v is not None}
    claims = {k: v for k, v in claims.items() if v is not None}
    assert_refused(verifier, forge(header, claims, keys.private_key_pem), 401, code)


def test_user_without_provider_role_is_403(keys, clock, verifier):
    m = JwtMinter(
        issuer=ISSUER,
        username="user.nobody",
        private_key_pem=keys.private_key_pem,
        certificate=keys.certificate_der,
        clock=clock,
    )
    err = assert_refused(verifier, m.token(), 403, "missing_role")
    assert PROVIDER_ROLE in err.reason


def test_certificate_bound_to_its_issuer(keys, other_keys, clock):
    verifier = JwtVerifier(
        issuers={ISSUER: [keys.certificate_der], "other.issuer": [other_keys.certificate_pem]},
        users={USER: [PROVIDER_ROLE]},
        clock=clock,
    )
    m = JwtMinter(
        issuer="other.issuer",  # trusted issuer, but not the one this certificate was uploaded for
        username=USER,
        private_key_pem=keys.private_key_pem,
        certificate=keys.certificate_der,
        clock=clock,
    )
    assert_refused(verifier, m.token(), 401, "issuer_mismatch")


def test_expired_certificate_is_401(minter, verifier, clock):
    clock.t = T0 + 800 * 86400  # past the default 730-day validity
    assert_refused(verifier, minter.token(), 401, "certificate_expired")


@pytest.mark.parametrize("value", [None, "", "Basic abc", "Bearer ", "Bearer not-a-jwt"])
def test_bad_authorization_header_is_401(verifier, value):
    with pytest.raises(AuthError) as info:
        verifier.verify_header(value)
    assert info.value.status == 401


def test_auth_error_str_and_repr():
    err = AuthError(401, "expired", "The token is expired")
    assert str(err) == "401 expired: The token is expired"
    assert "expired" in repr(err)
