"""Platform key sets (JWKS) fetched over HTTP and cached per URL, and the tool's own JWKS.

Caching rules:
- a fetched set lives for the response's ``Cache-Control: max-age`` (less ``Age``), clamped
  to ``[min_ttl, max_ttl]``; ``default_ttl`` when the header says nothing usable;
- a ``kid`` missing from a fresh set triggers at most one refetch per ``refetch_interval``
  per URL, so a flood of made-up kids cannot make us hammer the platform, while a platform
  that rotated its key is picked up on the first launch signed with the new one;
- one fetch at a time per URL (threads asking for the same URL wait for it, not duplicate it);
- a failed refresh keeps serving the keys we had, and is retried after ``refetch_interval``;
- a set is read to at most :data:`~lmsbridge.core.http.JWKS_LIMIT` bytes: a larger one fails
  the fetch as soon as its Content-Length or the bytes read pass it.

Keys are filtered to what can verify RS256: ``kty`` RSA with a ``kid`` and at least 2048
bits; ``alg`` and ``use`` are optional (D2L omits ``alg``), but a key that declares another
``alg`` or ``use`` is left out. Only ``n`` and ``e`` are imported, never private members.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import attrs
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

from lmsbridge.core.http import JWKS_LIMIT, failure, read_capped

log = logging.getLogger(__name__)

_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d+)\"?\s*(?:,|$)", re.IGNORECASE)


class JwksError(Exception):
    """The key set could not be fetched or parsed (the message names the URL, never keys)."""


@attrs.define
class _Entry:
    lock: threading.Lock = attrs.field(factory=threading.Lock)
    keys: dict[str, RSAKey] | None = None
    expires_at: float = 0.0
    last_attempt: float | None = None  # last fetch attempt, successful or not


class JwksCache:
    """Thread-safe cache of platform signing keys, looked up by (JWKS URL, kid)."""

    def __init__(
        self,
        *,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.monotonic,
        timeout: float = 5.0,
        default_ttl: float = 3600.0,
        min_ttl: float = 60.0,
        max_ttl: float = 86400.0,
        refetch_interval: float = 60.0,
    ) -> None:
        if not 0 <= min_ttl <= default_ttl <= max_ttl:
            raise ValueError("need 0 <= min_ttl <= default_ttl <= max_ttl")
        self._session = session or requests.Session()
        self._clock = clock
        self._timeout = timeout
        self._default_ttl = default_ttl
        self._min_ttl = min_ttl
        self._max_ttl = max_ttl
        self._refetch_interval = refetch_interval
        self._entries: dict[str, _Entry] = {}
        self._entries_lock = threading.Lock()

    def get_key(self, url: str, kid: str) -> RSAKey | None:
        """The key ``kid`` of the set at ``url``, or None if the platform does not have it.

        Raises JwksError only when no usable copy of the set exists at all.
        """
        entry = self._entry(url)
        with entry.lock:
            now = self._clock()
            if entry.keys is None or now >= entry.expires_at:
                if self._may_fetch(entry, now):
                    self._refresh(url, entry, now)
                elif entry.keys is None:
                    raise JwksError(f"key set at {url} is unavailable (last fetch failed)")
            assert entry.keys is not None
            key = entry.keys.get(kid)
            if key is None and self._may_fetch(entry, now):
                log.info("kid not in key set at %s, refetching", url)
                self._refresh(url, entry, now)
                key = entry.keys.get(kid)
            return key

    def invalidate(self, url: str) -> None:
        """Forget a set (e.g. after an admin changed the registration's JWKS URL)."""
        with self._entries_lock:
            self._entries.pop(url, None)

    def _entry(self, url: str) -> _Entry:
        with self._entries_lock:
            return self._entries.setdefault(url, _Entry())

    def _may_fetch(self, entry: _Entry, now: float) -> bool:
        # A first fetch always runs; any later one waits out the interval since the last
        # attempt, so neither unknown kids nor a failing platform turn into a request storm.
        last = entry.last_attempt
        return last is None or now - last >= self._refetch_interval

    def _refresh(self, url: str, entry: _Entry, now: float) -> None:
        entry.last_attempt = now
        try:
            keys, ttl = self._fetch(url)
        except JwksError:
            if entry.keys is None:
                raise
            log.warning("refreshing key set at %s failed; keeping the previous keys", url)
            return
        entry.keys = keys
        entry.expires_at = now + ttl

    def _fetch(self, url: str) -> tuple[dict[str, RSAKey], float]:
        try:
            with self._session.get(
                url,
                timeout=self._timeout,
                headers={"Accept": "application/json"},
                stream=True,
            ) as resp:
                if resp.status_code != 200:
                    raise JwksError(f"key set at {url} answered HTTP {resp.status_code}")
                body = read_capped(resp, JWKS_LIMIT)
                ttl = self._ttl(resp.headers)
        except requests.RequestException as exc:
            raise JwksError(f"key set at {url} could not be fetched: {failure(exc)}") from exc
        try:
            doc = json.loads(body)
        except ValueError as exc:
            raise JwksError(f"key set at {url} is not JSON") from exc
        if not isinstance(doc, dict) or not isinstance(doc.get("keys"), list):
            raise JwksError(f"key set at {url} has no 'keys' list")
        return _usable_keys(doc["keys"], url), ttl

    def _ttl(self, headers: Any) -> float:
        m = _MAX_AGE.search(headers.get("Cache-Control", ""))
        if m is None:
            return self._default_ttl
        ttl = float(m.group(1))
        age = headers.get("Age", "")
        if age.isdigit():
            ttl -= float(age)
        return min(max(ttl, self._min_ttl), self._max_ttl)


def _usable_keys(jwks: Iterable[Any], url: str) -> dict[str, RSAKey]:
    keys: dict[str, RSAKey] = {}
    for jwk in jwks:
        if not isinstance(jwk, dict) or jwk.get("kty") != "RSA":
            continue
        kid = jwk.get("kid")
        if not isinstance(kid, str) or not kid:
            continue
        if jwk.get("alg", "RS256") != "RS256" or jwk.get("use", "sig") != "sig":
            continue
        n = jwk.get("n")
        if isinstance(n, str) and len(n) * 3 // 4 < 256:  # base64url length of the modulus
            log.warning("skipping RSA key %r shorter than 2048 bits in key set at %s", kid, url)
            continue
        try:
            key = RSAKey.import_key({"kty": "RSA", "n": n, "e": jwk.get("e"), "kid": kid})
        except (JoseError, TypeError, ValueError):
            log.warning("skipping malformed RSA key %r in key set at %s", kid, url)
            continue
        keys[kid] = key
    return keys


def public_jwk(kid: str, key: rsa.RSAPublicKey | rsa.RSAPrivateKey) -> dict[str, str]:
    """The public half of a tool key as a JWK carrying alg/use (Canvas rejects keys without)."""
    public = key.public_key() if isinstance(key, rsa.RSAPrivateKey) else key
    jwk = RSAKey.import_key(public, {"kid": kid, "alg": "RS256", "use": "sig"}).as_dict(
        private=False
    )
    return {name: jwk[name] for name in ("kty", "kid", "alg", "use", "n", "e")}


def public_jwks(keys: Iterable[tuple[str, rsa.RSAPublicKey | rsa.RSAPrivateKey]]) -> dict[str, Any]:
    """A JWKS document from (kid, key) pairs, e.g. the current and the next tool key."""
    return {"keys": [public_jwk(kid, key) for kid, key in keys]}
