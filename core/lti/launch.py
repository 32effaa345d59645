"""Validate an LTI 1.3 launch: the id_token form post that ends the OIDC login.

Order matters (research/lti.md checklist): the browser-bound state first, then the
registration named by the (still unverified) iss/aud, the RS256 signature against that
registration's JWKS, the claims, our own target_link_uri, and last the nonce, consumed in the
store only once everything else checked out. Nothing is written before the nonce, and the
nonce is the only thing this module writes.
"""

from __future__ import annotations

import hmac
import json
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from attrs import frozen

from lmsbridge.core.lti.claims import LaunchClaims, validate_launch_claims
from lmsbridge.core.lti.errors import LaunchError
from lmsbridge.core.lti.idtoken import CompactJws, parse_compact, verify_signature
from lmsbridge.core.lti.jwks import JwksCache
from lmsbridge.core.lti.oidc import LoginBinding
from lmsbridge.core.lti.registrations import find_registration
from lmsbridge.core.lti.tool_urls import ToolUrls
from lmsbridge.core.model import PlatformRegistration
from lmsbridge.core.store import Store

DEFAULT_LEEWAY = 60.0
DEFAULT_MAX_AGE = 300.0
# Registrations found for launches are reused this long: looking one up cost as much as
# verifying the signature. Only found ones are kept, so a new registration works at once;
# a changed one is seen within this delay.
REGISTRATION_TTL = 30.0
_DEPLOYMENT = "https://purl.imsglobal.org/spec/lti/claim/deployment_id"


@frozen
class ValidatedLaunch:
    registration: PlatformRegistration
    claims: LaunchClaims


def _unauthorized(rule: str, reason: str) -> LaunchError:
    return LaunchError(rule, reason, 401)


class LaunchValidator:
    def __init__(self, store: Store, jwks: JwksCache, *, clock: Callable[[], float] = time.time,
                 leeway: float = DEFAULT_LEEWAY, max_age: float = DEFAULT_MAX_AGE,
                 require_sub: bool = True) -> None:
        if leeway < 0 or max_age <= 0:
            raise ValueError("leeway must be >= 0 and max_age > 0")
        self.store, self.jwks, self.clock = store, jwks, clock
        self.leeway, self.max_age, self.require_sub = leeway, max_age, require_sub
        self._registrations: dict[tuple[str, str | None, str | None],
                                  tuple[float, PlatformRegistration]] = {}
        self._ours: dict[tuple[ToolUrls, str], bool] = {}

    def validate(self, *, id_token: str | None, state: str | None, browser_nonce: str | None,
                 urls: ToolUrls, login: LoginBinding | None = None) -> ValidatedLaunch:
        """``browser_nonce`` is what this browser kept for ``state`` at login, if anything.
        ``login``: the binding that issued the pair; the web views always pass it (None only
        where the caller made up state and nonce itself: benchmarks, unit tests)."""
        if not id_token:
            raise LaunchError("id_token_missing", "the launch request has no id_token", 400)
        if not state:
            raise LaunchError("state_missing", "the launch request has no state", 400)
        if not browser_nonce:
            raise _unauthorized("state_unknown", "this browser did not start a login with this "
                                "state (expired, already used, or cookies blocked)")
        if login is not None:  # the state is ours, current, and this nonce is the one issued
            login.check(state, browser_nonce, leeway=self.leeway)

        # Parsed once: the unverified claims pick the registration, the signature check then
        # vouches for these very bytes, and the claim rules read the same dict.
        jws = parse_compact(id_token)
        claims = _unverified_claims(jws)
        reg = self._registration(*_routing(claims))
        verify_signature(jws, jwks=self.jwks, jwks_url=reg.jwks_url)
        if not hmac.compare_digest(str(claims.get("nonce", "")).encode(), browser_nonce.encode()):
            raise _unauthorized("nonce_mismatch",
                                "the id_token's nonce is not the one issued for this state")
        now = self.clock()
        launch = validate_launch_claims(
            claims, issuer=reg.issuer, client_id=reg.client_id,
            deployment_ids=reg.deployment_ids, now=now, leeway=self.leeway,
            max_age=self.max_age, require_sub=self.require_sub)
        if launch.target_link_uri is not None and not self._is_ours(urls, launch.target_link_uri):
            raise LaunchError("target_link_uri_foreign",
                              "target_link_uri claim is not a URL of this tool", 400)
        if not self.store.nonces.consume(
                launch.nonce, keep_until=datetime.fromtimestamp(launch.valid_until, UTC),
                now=datetime.fromtimestamp(now, UTC)):
            raise _unauthorized("nonce_replayed", "this id_token (its nonce) was already used")
        return ValidatedLaunch(reg, launch)

    def _is_ours(self, urls: ToolUrls, url: str) -> bool:
        # A pure function of (urls, url) that parses two URLs (3 us, 5% of a launch); launches
        # carry a handful of targets, so remember the answers. Only signed tokens get here.
        key = (urls, url)
        ours = self._ours.get(key)
        if ours is None:
            if len(self._ours) > 1000:
                self._ours.clear()
            ours = self._ours[key] = urls.is_ours(url)
        return ours

    def _registration(self, iss: str, client_id: str | None,
                      deployment_id: str | None) -> PlatformRegistration:
        key, now = (iss, client_id, deployment_id), self.clock()
        cached = self._registrations.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        reg = find_registration(self.store.platforms, iss, client_id, deployment_id)
        if len(self._registrations) > 1000:  # bounded: keys come from unverified tokens
            self._registrations.clear()
        self._registrations[key] = (now + REGISTRATION_TTL, reg)
        return reg


def _unverified_routing(token: str) -> tuple[str, str | None, str | None]:
    """iss, client_id and deployment_id from the unverified payload, only to pick the
    registration whose key then verifies it (every value is re-checked after that)."""
    return _routing(_unverified_claims(parse_compact(token)))


def _unverified_claims(jws: CompactJws) -> dict[str, Any]:
    try:
        payload = json.loads(jws.payload.decode())
    except ValueError:
        raise _unauthorized("token_malformed", "the id_token is not a compact JWS") from None
    if not isinstance(payload, dict):
        raise _unauthorized("iss", "the id_token has no issuer")
    return payload


def _routing(payload: Mapping[str, Any]) -> tuple[str, str | None, str | None]:
    if not isinstance(payload.get("iss"), str):
        raise _unauthorized("iss", "the id_token has no issuer")
    aud, azp = payload.get("aud"), payload.get("azp")
    if isinstance(azp, str):
        client_id = azp
    elif isinstance(aud, str):
        client_id = aud
    elif isinstance(aud, list) and len(aud) == 1 and isinstance(aud[0], str):
        client_id = aud[0]
    else:
        raise _unauthorized("aud", "the id_token's audience does not name one client")
    deployment = payload.get(_DEPLOYMENT)
    return payload["iss"], client_id, deployment if isinstance(deployment, str) else None
