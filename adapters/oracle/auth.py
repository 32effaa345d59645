"""JWT bearer authentication as Oracle Fusion (HCM REST) verifies it.

The provider signs short-lived RS256 tokens with its private key; the Oracle admin uploads the
matching self-signed certificate (``.cer``) to an "Oracle API Authentication Provider" whose
trusted issuer must equal our ``iss`` exactly. Oracle finds the certificate by the ``x5t``
header (base64url SHA-1 thumbprint of the DER certificate) and takes the integration user from
``prn`` (``sub`` carries the same name). Nothing here does I/O; the clock is injected.

Secrets (the private key, minted tokens) never enter an exception message, a log line or a
repr: errors name *what* failed, never the material.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

__all__ = [
    "ALGORITHM",
    "PROVIDER_ROLE",
    "AuthError",
    "GeneratedKeys",
    "JwtMinter",
    "JwtVerifier",
    "certificate_x5t",
    "generate_keypair",
    "load_certificate",
    "x5t",
]

#: Oracle accepts RS256 only for inbound JWTs.
ALGORITHM = "RS256"
#: Duty role the integration user needs; Oracle's setup guide (step 5) makes it the *only*
#: duty role on the user's job role.
PROVIDER_ROLE = "ORA_WLF_LEARNING_CONTENT_PROVIDER_DUTY"

Clock = Callable[[], float]  # epoch seconds, like time.time


# --------------------------------------------------------------------------- keys & certificates


class GeneratedKeys(NamedTuple):
    """``(private_key_pem, certificate_pem, certificate_der)``; unpacks like a plain tuple."""

    private_key_pem: bytes
    certificate_pem: bytes
    certificate_der: bytes

    def __repr__(self) -> str:  # the default would print the private key
        return f"GeneratedKeys(private_key_pem=<redacted>, x5t={x5t(self.certificate_der)!r})"


def generate_keypair(
    common_name: str,
    *,
    valid_days: int = 730,
    now: dt.datetime | None = None,
) -> GeneratedKeys:
    """Create an RSA-2048 key and the self-signed certificate the Oracle admin uploads.

    ``certificate_der`` is what a ``.cer`` file usually holds; Oracle also accepts PEM.
    """
    if not common_name or not common_name.strip():
        raise ValueError("certificate common name must not be empty")
    if valid_days < 1:
        raise ValueError(f"valid_days must be at least 1, got {valid_days}")
    now = now or dt.datetime.now(dt.UTC)
    if now.tzinfo is None:
        raise ValueError("'now' must be timezone-aware")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        # Back-date a little so a pod whose clock lags ours accepts the certificate at once.
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=valid_days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return GeneratedKeys(
        private_pem,
        cert.public_bytes(serialization.Encoding.PEM),
        cert.public_bytes(serialization.Encoding.DER),
    )


def x5t(cert_der: bytes) -> str:
    """Oracle's certificate lookup key: base64url(SHA-1(DER)) without padding (RFC 7515 4.1.7)."""
    digest = hashlib.sha1(cert_der, usedforsecurity=False).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def load_certificate(data: bytes | x509.Certificate) -> x509.Certificate:
    """Accept a certificate as PEM, DER (a ``.cer`` may be either) or an already-loaded object."""
    if isinstance(data, x509.Certificate):
        return data
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except ValueError:
        raise ValueError("not a valid X.509 certificate (expected PEM or DER)") from None


def certificate_x5t(cert: bytes | x509.Certificate) -> str:
    """x5t of a certificate given in any form :func:`load_certificate` accepts."""
    return x5t(load_certificate(cert).public_bytes(serialization.Encoding.DER))


def _load_private_key(private_key_pem: bytes | str | Any) -> rsa.RSAPrivateKey:
    # Duck-typed so a core ``Secret`` wrapper can be passed as is; the text is revealed here only.
    if hasattr(private_key_pem, "reveal"):
        private_key_pem = private_key_pem.reveal()
    if isinstance(private_key_pem, str):
        private_key_pem = private_key_pem.encode("ascii", "replace")
    try:
        key = serialization.load_pem_private_key(private_key_pem, password=None)
    except (ValueError, TypeError):
        # `from None`: the original error must not drag key material into a traceback.
        raise ValueError("private key could not be loaded (expected unencrypted PEM)") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("private key must be RSA (Oracle accepts RS256 only)")
    if key.key_size < 2048:
        raise ValueError(f"RSA key too small ({key.key_size} bits); use at least 2048")
    return key


# --------------------------------------------------------------------------- minting


class JwtMinter:
    """Mints and caches the bearer token the provider sends to Oracle.

    A token is reused until ``refresh_margin`` before it expires, so a request never leaves with
    a token about to lapse in flight. After a 401 call :meth:`invalidate` (or
    ``token(force=True)``) to re-mint: the pod may have had its clock or certificate changed.
    """

    def __init__(
        self,
        *,
        issuer: str,
        username: str,
        private_key_pem: bytes | str | Any,
        certificate: bytes | x509.Certificate,
        lifetime: dt.timedelta = dt.timedelta(minutes=5),
        refresh_margin: dt.timedelta = dt.timedelta(seconds=30),
        clock: Clock = time.time,
    ) -> None:
        if not issuer:
            raise ValueError("trusted issuer must not be empty")
        if not username:
            raise ValueError("integration user name must not be empty")
        if lifetime <= dt.timedelta(0):
            raise ValueError("token lifetime must be positive")
        if not dt.timedelta(0) <= refresh_margin < lifetime:
            raise ValueError("refresh_margin must be >= 0 and shorter than the token lifetime")
        key = _load_private_key(private_key_pem)
        cert = load_certificate(certificate)
        if cert.public_key() != key.public_key():
            # Oracle would answer every request with 401; say why now instead.
            raise ValueError("private key does not match the certificate's public key")
        self.issuer = issuer
        self.username = username
        self.lifetime = lifetime
        self.refresh_margin = refresh_margin
        self.x5t = certificate_x5t(cert)
        self._key = RSAKey.import_key(key)
        self._clock = clock
        self._token: str | None = None
        self._expires_at = 0.0
        # Shared by the engine's concurrent calls for a tenant: one mint at a time.
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return (
            f"JwtMinter(issuer={self.issuer!r}, username={self.username!r}, "
            f"x5t={self.x5t!r}, lifetime={self.lifetime})"
        )

    def token(self, *, force: bool = False) -> str:
        """The current token, minted anew when absent, near expiry, or ``force``d."""
        with self._lock:
            now = self._clock()
            if (
                force
                or self._token is None
                or now >= self._expires_at - self.refresh_margin.total_seconds()
            ):
                self._token, self._expires_at = self._mint(now)
            return self._token

    def invalidate(self) -> None:
        """Drop the cached token (call after a 401) so the next :meth:`token` re-mints."""
        with self._lock:
            self._token = None
            self._expires_at = 0.0

    def authorization_header(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token()}"}

    def _mint(self, now: float) -> tuple[str, float]:
        iat = int(now)
        exp = iat + int(self.lifetime.total_seconds())
        header = {"alg": ALGORITHM, "typ": "JWT", "x5t": self.x5t}
        # prn is what Oracle reads for the user; sub mirrors it for generic JWT tooling. No aud:
        # Oracle's samples carry none.
        claims = {
            "iss": self.issuer,
            "prn": self.username,
            "sub": self.username,
            "iat": iat,
            "exp": exp,
        }
        return jwt.encode(header, claims, self._key, algorithms=[ALGORITHM]), float(exp)


# --------------------------------------------------------------------------- verifying (mock side)


class AuthError(Exception):
    """Why a token was refused, with the HTTP status Oracle answers.

    ``code`` is stable and machine-readable; ``reason`` is for people. Neither ever contains
    the token.
    """

    def __init__(self, status: int, code: str, reason: str) -> None:
        super().__init__(status, code, reason)
        self.status = status
        self.code = code
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.reason}"

    def __repr__(self) -> str:
        return f"AuthError(status={self.status}, code={self.code!r}, reason={self.reason!r})"


def _unauthorized(code: str, reason: str) -> AuthError:
    return AuthError(401, code, reason)


class JwtVerifier:
    """Checks a bearer token the way an Oracle pod configured per Oracle's setup guide would.

    ``issuers`` maps each trusted issuer to the certificates uploaded for it (a certificate is
    bound to its issuer: a valid signature under another issuer's certificate is refused).
    ``users`` maps user names to their role codes. Status codes: 401 for anything about the
    token or its signer, 403 when the user is known but lacks :data:`PROVIDER_ROLE`.
    """

    def __init__(
        self,
        *,
        issuers: Mapping[str, Iterable[bytes | x509.Certificate]],
        users: Mapping[str, Iterable[str]],
        required_role: str = PROVIDER_ROLE,
        leeway: dt.timedelta = dt.timedelta(0),
        clock: Clock = time.time,
    ) -> None:
        self._by_x5t: dict[str, tuple[str, x509.Certificate, RSAKey]] = {}
        for issuer, certs in issuers.items():
            for raw in certs:
                cert = load_certificate(raw)
                thumb = certificate_x5t(cert)
                if thumb in self._by_x5t and self._by_x5t[thumb][0] != issuer:
                    raise ValueError(
                        f"certificate {thumb} is registered for two issuers: "
                        f"{self._by_x5t[thumb][0]!r} and {issuer!r}"
                    )
                self._by_x5t[thumb] = (issuer, cert, RSAKey.import_key(cert.public_key()))
        self._users = {name: frozenset(roles) for name, roles in users.items()}
        self.required_role = required_role
        self.leeway = leeway
        self._clock = clock

    def verify(self, token: str) -> str:
        """Return the authenticated user name, or raise :class:`AuthError`."""
        try:
            compact = jws.extract_compact(token.encode("ascii"))
        except (JoseError, ValueError, UnicodeError):
            raise _unauthorized("malformed_token", "bearer token is not a compact JWS") from None
        header = compact.headers()
        if header.get("alg") != ALGORITHM:
            raise _unauthorized(
                "unsupported_alg", f"alg must be {ALGORITHM}, got {header.get('alg')!r}"
            )
        thumb = header.get("x5t")
        if not isinstance(thumb, str) or not thumb:
            raise _unauthorized("missing_x5t", "token header has no x5t certificate thumbprint")
        if thumb not in self._by_x5t:
            raise _unauthorized("unknown_x5t", f"no inbound certificate with thumbprint {thumb}")
        issuer, cert, key = self._by_x5t[thumb]
        if not jws.validate_compact(compact, key, algorithms=[ALGORITHM]):
            raise _unauthorized(
                "bad_signature", f"signature does not verify with certificate {thumb}"
            )

        now = self._clock()
        leeway = self.leeway.total_seconds()
        if not (
            cert.not_valid_before_utc.timestamp() - leeway
            <= now
            <= cert.not_valid_after_utc.timestamp() + leeway
        ):
            raise _unauthorized(
                "certificate_expired", f"certificate {thumb} is outside its validity period"
            )
        try:
            claims = json.loads(compact.payload)
        except (TypeError, ValueError):
            claims = None
        if not isinstance(claims, dict):
            raise _unauthorized("malformed_token", "token payload is not a JSON object")

        if claims.get("iss") != issuer:
            # Exact match: Oracle's setup guide warns that any other name fails authentication.
            raise _unauthorized(
                "issuer_mismatch",
                f"issuer {claims.get('iss')!r} is not the trusted issuer {issuer!r} of certificate {thumb}",
            )
        registry = jwt.JWTClaimsRegistry(
            now=lambda: int(self._clock()),
            leeway=int(leeway),
            exp={"essential": True},
            iat={"essential": True},
        )
        try:
            registry.validate(claims)
        except JoseError as err:
            code = "expired" if err.error == "expired_token" else "invalid_claims"
            raise _unauthorized(code, str(err)) from None

        prn, sub = claims.get("prn"), claims.get("sub")
        user = prn if prn is not None else sub
        if not isinstance(user, str) or not user:
            raise _unauthorized("missing_user", "token names no user in prn or sub")
        if prn is not None and sub is not None and prn != sub:
            raise _unauthorized(
                "user_mismatch", f"prn {prn!r} and sub {sub!r} name different users"
            )
        roles = self._users.get(user)
        if roles is None:
            raise _unauthorized("unknown_user", f"no user named {user!r}")
        if self.required_role not in roles:
            raise AuthError(403, "missing_role", f"user {user!r} lacks role {self.required_role}")
        return user

    def verify_header(self, authorization: str | None) -> str:
        """:meth:`verify` for a raw ``Authorization`` header value."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _unauthorized("missing_bearer", "Authorization header must be 'Bearer <jwt>'")
        return self.verify(token.strip())
