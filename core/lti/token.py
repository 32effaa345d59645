"""LTI Advantage token service client: OAuth 2 ``client_credentials`` with a JWT assertion.

Per the 1EdTech Security Framework (section 4.1), the tool POSTs to the registration's token
URL::

    grant_type=client_credentials
    client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer
    client_assertion=<RS256 JWT signed by the tool's current key, kid in the header>
    scope=<space-separated scopes>

The assertion carries ``iss = sub = client_id``, ``aud`` = the registration's
``token_audience`` when set (D2L: ``https://api.brightspace.com/auth/token``, which is not its
token URL) or else the token URL, ``iat``, a short ``exp`` and a unique ``jti``.

Tokens are cached per (registration, scope set) until ``expires_in`` less a margin; one
thread mints while others asking for the same key wait for its token. After a 401 from a
service, call :meth:`TokenService.invalidate` with the token that failed and ask again (the
:class:`~lmsbridge.core.lti.service.ServiceClient` does exactly that, once).

Errors are :class:`~lmsbridge.core.lti.errors.TokenError` with the platform's OAuth error code
(``invalid_grant``, ``invalid_client``, ``invalid_scope``…), a hint at the usual cause, and
``transient`` set for 429/5xx/network trouble and for an answer that cannot be read (larger
than :data:`~lmsbridge.core.http.TOKEN_LIMIT`, cut short, or declared JSON and not parsing).
Neither the assertion nor the access token ever appears in a message, a log line or a repr.

Example::

    tokens = TokenService(runtime.keyring, runtime.session())
    token = tokens.token(registration, [SCOPE_SCORE])
    session.post(url, headers={"Authorization": token.authorization}, ...)
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import attrs
import requests

from lmsbridge.core.http import (
    TOKEN_LIMIT,
    UnreadableAnswer,
    failure,
    is_transient,
    platform_message,
    read_capped,
    redact,
    retry_after,
    unreadable_json,
)
from lmsbridge.core.lti.keys import ToolKeyring
from lmsbridge.core.lti.service_errors import TokenError
from lmsbridge.core.model import PlatformRegistration
from lmsbridge.core.secret import Secret

log = logging.getLogger(__name__)

__all__ = ["ASSERTION_TYPE", "AccessToken", "TokenService"]

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

# What usually causes each OAuth error when an LTI platform sends it.
_HINTS = {
    "invalid_grant": "the platform refused our client assertion: check the registration's "
                     "token audience (D2L wants https://api.brightspace.com/auth/token), that "
                     "the platform has the tool's current public key, and the clocks",
    "invalid_client": "the platform does not know this client id or cannot verify our "
                      "signature with the key it has for the tool",
    "invalid_scope": "the platform did not grant the scopes: enable the service (assignment "
                     "and grade services, names and roles) for the tool on the platform",
    "unauthorized_client": "the tool may not use client credentials on this platform",
    "unsupported_grant_type": "the token URL does not accept client credentials: check "
                              "the registration's token URL",
}


@attrs.frozen(repr=False)
class AccessToken:
    """A bearer token for some scopes. ``expires_at`` is on the service's clock."""

    value: Secret
    scopes: frozenset[str]
    expires_at: float
    requested: frozenset[str] = attrs.field(factory=frozenset)

    @property
    def authorization(self) -> str:
        return f"Bearer {self.value.reveal()}"

    def __repr__(self) -> str:
        return f"AccessToken(scopes={sorted(self.scopes)}, expires_at={self.expires_at:.0f})"


CacheKey = tuple[str, str, str, str | None, frozenset[str]]


@attrs.define
class _Slot:
    lock: threading.Lock = attrs.field(factory=threading.Lock)
    token: AccessToken | None = None


class TokenService:
    """Mints and caches access tokens for platform registrations (thread-safe)."""

    def __init__(
        self,
        keyring: ToolKeyring,
        session: requests.Session | None = None,
        *,
        clock: Callable[[], float] = time.time,
        timeout: float = 30.0,
        margin: float = 60.0,
        assertion_lifetime: float = 60.0,
        default_expires_in: float = 300.0,
    ) -> None:
        if assertion_lifetime <= 0 or margin < 0:
            raise ValueError("assertion_lifetime must be > 0 and margin >= 0")
        self.keyring = keyring
        self.session = session or requests.Session()
        self.clock = clock
        self.timeout = timeout
        self.margin = margin
        self.assertion_lifetime = assertion_lifetime
        self.default_expires_in = default_expires_in
        self.minted = 0  # tokens fetched from platforms, for tests and metrics
        self._slots: dict[CacheKey, _Slot] = {}
        self._slots_lock = threading.Lock()

    # ------------------------------------------------------------------------ public

    def token(
        self, registration: PlatformRegistration, scopes: Iterable[str], *, force: bool = False
    ) -> AccessToken:
        """A valid token for ``scopes``: cached, or minted now. Raises TokenError."""
        key = self._key(registration, scopes)
        if not key[-1]:
            raise ValueError("at least one scope is needed for an access token")
        slot = self._slot(key)
        with slot.lock:
            cached = slot.token
            if not force and cached is not None and self.clock() < cached.expires_at:
                return cached
            slot.token = self._mint(registration, key[-1])
            return slot.token

    def invalidate(
        self,
        registration: PlatformRegistration,
        scopes: Iterable[str],
        token: AccessToken | None = None,
    ) -> None:
        """Forget the cached token (only if it is still ``token``, when given: another thread
        may already have replaced it)."""
        slot = self._slot(self._key(registration, scopes))
        with slot.lock:
            if token is None or slot.token is token:
                slot.token = None

    def clear(self) -> None:
        with self._slots_lock:
            self._slots.clear()

    def assertion(self, registration: PlatformRegistration) -> str:
        """A fresh signed client assertion (exposed for tests and for debugging a platform)."""
        now = int(self.clock())
        claims = {
            "iss": registration.client_id,
            "sub": registration.client_id,
            "aud": registration.token_audience or registration.auth_token_url,
            # A few seconds back: a platform whose clock lags ours must not see iat ahead.
            "iat": now - 5,
            "exp": now + int(self.assertion_lifetime),
            "jti": secrets.token_urlsafe(24),
        }
        return self.keyring.sign(claims)

    # ----------------------------------------------------------------------- private

    @staticmethod
    def _key(registration: PlatformRegistration, scopes: Iterable[str]) -> CacheKey:
        if isinstance(scopes, str):
            scopes = scopes.split()
        return (registration.issuer, registration.client_id, registration.auth_token_url,
                registration.token_audience, frozenset(s for s in scopes if s))

    def _slot(self, key: CacheKey) -> _Slot:
        with self._slots_lock:
            return self._slots.setdefault(key, _Slot())

    def _mint(self, registration: PlatformRegistration, scopes: frozenset[str]) -> AccessToken:
        url = registration.auth_token_url
        form = {
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": self.assertion(registration),
            "scope": " ".join(sorted(scopes)),
        }
        started = self.clock()
        try:
            response = self.session.post(
                url, data=form, timeout=self.timeout, headers={"Accept": "application/json"},
                stream=True,
            )
            read_capped(response, TOKEN_LIMIT)
        except requests.RequestException as exc:
            what = "could not be read" if isinstance(exc, UnreadableAnswer) \
                else "could not be reached"
            raise TokenError(f"token endpoint {url} {what}: {failure(exc)}", transient=True,
                             url=url) from None
        if response.status_code != 200:
            raise self._error(response, url)
        try:
            body: Any = response.json()
        except ValueError:
            raise TokenError(f"token endpoint {url} answered 200 without an access_token: "
                             "the body is not JSON (cut short or garbled)", status=200,
                             transient=True, url=url) from None
        value = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(value, str) or not value:
            raise TokenError(f"token endpoint {url} answered 200 without an access_token",
                             status=200, url=url)
        token_type = body.get("token_type", "Bearer")
        if not isinstance(token_type, str) or token_type.lower() != "bearer":
            raise TokenError(f"token endpoint {url} issued an unsupported token type "
                             f"{str(token_type)[:20]!r}", status=200, url=url)
        expires_in = body.get("expires_in")
        if isinstance(expires_in, str) and expires_in.isdigit():
            expires_in = int(expires_in)
        if not isinstance(expires_in, int | float) or isinstance(expires_in, bool) \
                or expires_in <= 0:
            expires_in = self.default_expires_in
        granted = body.get("scope")
        granted_scopes = frozenset(granted.split()) if isinstance(granted, str) else scopes
        # Cached until expires_in less a margin (at most a fifth of the lifetime, so a
        # platform handing out one-minute tokens still gets them reused).
        ttl = expires_in - min(self.margin, expires_in / 5)
        self.minted += 1
        log.debug("access token minted at %s for %s (expires in %ss)", url,
                  " ".join(sorted(scopes)), expires_in)
        return AccessToken(Secret(value), granted_scopes, started + ttl, scopes)

    def _error(self, response: requests.Response, url: str) -> TokenError:
        status = response.status_code
        try:
            body: Any = response.json()
        except ValueError:
            body = None
        code = body.get("error") if isinstance(body, dict) else None
        code = code if isinstance(code, str) and code.isascii() and len(code) < 64 else None
        described = platform_message(response)
        message = f"token endpoint {url} answered HTTP {status}"
        if code:
            message += f" {code}"
        if described and described != code:
            message += f": {redact(described)}"
        hint = _HINTS.get(code or "")
        if hint:
            message += f" ({hint})"
        garbled = unreadable_json(response)
        if garbled:
            message += " with a body that is not JSON (cut short or garbled)"
        return TokenError(message, status=status, transient=garbled or is_transient(status),
                          retry_after=retry_after(response, self.clock), error=code, url=url)
