"""The token service client against the mock platform's token endpoint, over real HTTP."""

from __future__ import annotations

import json
import time

import attrs
import lti_service_fixtures as fixtures
import pytest
import requests
from joserfc import jwt
from joserfc.jwk import KeySet

from lmsbridge.core.lti.service_errors import TokenError
from lmsbridge.core.lti.token import TokenService
from lmsbridge.core.model import PlatformRegistration

# Shared fixtures, made visible to pytest in this module.
keyring = fixtures.keyring
platform = fixtures.platform
registration = fixtures.registration
tokens = fixtures.tokens


SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
D2L_AUDIENCE = "https://api.brightspace.com/auth/token"


class Clock:
    """A clock tests move by hand; it starts at the real time the mock platform also uses."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def state(platform) -> dict:
    return requests.get(f"{platform.url}/_mock/state", timeout=5).json()


def test_assertion_claims_and_signature(keyring, registration):
    clock = Clock()
    assertion = TokenService(keyring, clock=clock).assertion(registration)
    token = jwt.decode(assertion, KeySet.import_key_set(keyring.jwks()), algorithms=["RS256"])
    claims = token.claims
    assert token.header["kid"] == keyring.current().kid
    assert claims["iss"] == claims["sub"] == "tool-1"
    assert claims["aud"] == registration.auth_token_url
    assert claims["iat"] <= clock.now and 0 < claims["exp"] - clock.now <= 60
    second = jwt.decode(TokenService(keyring, clock=clock).assertion(registration),
                        KeySet.import_key_set(keyring.jwks()), algorithms=["RS256"]).claims
    assert second["jti"] != claims["jti"]


def test_token_is_minted_once_per_scope_set_and_reused(platform, registration, tokens):
    first = tokens.token(registration, [SCORE, LINEITEM])
    assert tokens.token(registration, [LINEITEM, SCORE]) is first
    assert tokens.token(registration, [SCORE]) is not first
    issued = state(platform)["tokens"]
    assert len(issued) == tokens.minted == 2
    assert sorted(issued[0]["scopes"]) == sorted([SCORE, LINEITEM])
    assert first.scopes == {SCORE, LINEITEM}
    # The mock keeps fingerprints only, and the token never shows in a repr.
    assert first.value.reveal() not in json.dumps(issued)
    assert first.value.reveal() not in repr(first)


def test_token_is_reminted_when_expires_in_runs_out(platform, registration, keyring):
    clock = Clock()
    platform.clock = clock  # the platform's clock moves with the tool's
    platform.token_lifetime = 100
    service = TokenService(keyring, clock=clock, margin=60)
    first = service.token(registration, [SCORE])
    clock.now += 79  # expires_in 100 less a margin capped at a fifth: kept for 80 s
    assert service.token(registration, [SCORE]) is first
    clock.now += 1
    assert service.token(registration, [SCORE]) is not first
    assert service.minted == 2


def test_invalidate_forgets_only_the_token_that_failed(platform, registration, tokens):
    first = tokens.token(registration, [SCORE])
    tokens.invalidate(registration, [SCORE], first)
    second = tokens.token(registration, [SCORE])
    assert second is not first
    tokens.invalidate(registration, [SCORE], first)  # stale: another caller already renewed
    assert tokens.token(registration, [SCORE]) is second


def test_token_audience_overrides_the_token_url(platform, registration, tokens):
    platform.register_tool(**{**attrs.asdict(platform.tool), "token_audience": D2L_AUDIENCE})
    with pytest.raises(TokenError) as refused:
        tokens.token(registration, [SCORE])
    assert refused.value.error == "invalid_grant"
    assert "token audience" in str(refused.value) and "brightspace" in str(refused.value)
    assert not refused.value.transient
    d2l = attrs.evolve(registration, token_audience=D2L_AUDIENCE)
    assert tokens.token(d2l, [SCORE]).scopes == {SCORE}


def test_errors_name_the_oauth_code_and_never_carry_the_assertion(platform, registration,
                                                                   tokens):
    platform.register_tool(**{**attrs.asdict(platform.tool), "scopes": [LINEITEM]})
    with pytest.raises(TokenError) as refused:
        tokens.token(registration, [SCORE])
    error = refused.value
    assert (error.status, error.error) == (400, "invalid_scope")
    assert "enable the service" in str(error)
    assert "eyJ" not in str(error) and "eyJ" not in repr(error)


def test_unknown_client_id_is_invalid_client(platform, registration, tokens):
    stranger = attrs.evolve(registration, client_id="someone-else")
    with pytest.raises(TokenError) as refused:
        tokens.token(stranger, [SCORE])
    assert refused.value.error == "invalid_client" and refused.value.status == 401


def test_assertion_signed_with_a_key_the_platform_lacks_is_refused(platform, registration,
                                                                    tokens, keyring):
    keyring.rotate()  # the tool signs with a new key the platform was never given
    with pytest.raises(TokenError, match="no tool key with kid"):
        tokens.token(registration, [SCORE])


def test_platform_refuses_a_replayed_assertion(platform, registration, keyring):
    assertion = TokenService(keyring).assertion(registration)
    form = {"grant_type": "client_credentials", "client_assertion": assertion, "scope": SCORE,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}
    assert requests.post(platform.token_url, data=form, timeout=5).status_code == 200
    again = requests.post(platform.token_url, data=form, timeout=5)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert "jti" in again.json()["error_description"]


def test_throttled_and_failing_token_endpoints_are_transient(platform, registration, tokens):
    platform.faults.add("throttle", path="^/token$", retry_after=7)
    with pytest.raises(TokenError) as throttled:
        tokens.token(registration, [SCORE])
    assert throttled.value.transient and throttled.value.retry_after == 7
    platform.faults.add("status", path="^/token$", status=503)
    with pytest.raises(TokenError) as failing:
        tokens.token(registration, [SCORE])
    assert failing.value.transient and failing.value.status == 503
    platform.faults.add("reset", path="^/token$")
    with pytest.raises(TokenError, match="could not be reached") as reset:
        tokens.token(registration, [SCORE])
    assert reset.value.transient and reset.value.status is None
    assert tokens.token(registration, [SCORE]).scopes == {SCORE}  # faults spent: it works


def test_a_200_without_a_token_is_an_error(platform, registration, tokens):
    platform.faults.add("malformed_json", path="^/token$")
    with pytest.raises(TokenError, match="without an access_token"):
        tokens.token(registration, [SCORE])


def test_no_scopes_is_a_programming_error(registration, tokens):
    with pytest.raises(ValueError, match="scope"):
        tokens.token(registration, [])


def test_registration_from_the_mock_is_a_valid_model(platform):
    reg = PlatformRegistration(**platform.registration("uni"))
    assert reg.auth_token_url == platform.token_url and reg.jwks_url == platform.jwks_url
