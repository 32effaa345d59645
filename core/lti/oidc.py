"""OIDC third-party login initiation (LTI 1.3 core §5.1.1): the first leg of every launch.

The platform sends iss, login_hint and target_link_uri (plus optional client_id,
lti_deployment_id, lti_message_hint, lti_storage_target); we answer with a redirect to its
authorization endpoint carrying a fresh ``state`` and ``nonce``. The browser keeps the pair
(cookie, or the platform's postMessage storage), so the id_token that comes back can only be
used by the browser that started the login. The pair is also bound server-side
(``LoginBinding``): the state is signed with the tool's web secret and the time of the login,
and the nonce is a MAC of the state, so a launch can be checked against the login that issued
it without storing anything at login (an unauthenticated endpoint).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from attrs import frozen
from itsdangerous import BadSignature, Signer, TimestampSigner

from lmsbridge.core.lti.errors import LaunchError
from lmsbridge.core.lti.registrations import find_registration
from lmsbridge.core.lti.tool_urls import ToolUrls
from lmsbridge.core.model import PlatformRegistration
from lmsbridge.core.store.platforms import Platforms

MAX_PARAM = 2048
# LTI 1.3 core 5.3.3: a deployment_id "MUST NOT exceed 255 ASCII characters".
MAX_ID_PARAM = 255
_ID_PARAMS = frozenset({"lti_deployment_id"})
LOGIN_TTL = 600  # seconds from our login redirect to the launch that completes it
# Frame names a platform may give as lti_storage_target: "_parent" or a plain name; anything
# else could be script in the page that talks to it.
_TARGET_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")


@frozen
class LoginRequest:
    iss: str
    login_hint: str
    target_link_uri: str
    client_id: str | None
    lti_deployment_id: str | None
    lti_message_hint: str | None
    lti_storage_target: str | None


@frozen(repr=False)
class LoginRedirect:
    url: str  # the platform's authorization endpoint with our parameters
    state: str
    nonce: str
    registration: PlatformRegistration
    storage_target: str | None

    def __repr__(self) -> str:  # state and nonce are bearer values for one login
        return f"LoginRedirect(issuer={self.registration.issuer!r})"


def _bad(rule: str, reason: str) -> LaunchError:
    return LaunchError(rule, reason, 400)


def _encodable(value: str) -> bool:
    try:
        value.encode()  # a lone surrogate has no UTF-8
    except UnicodeEncodeError:
        return False
    return True


def parse_login(params: Mapping[str, str]) -> LoginRequest:
    """The login request's parameters, each bounded and free of NUL and lone surrogates
    (LaunchError 400 ``login_<name>_malformed``); required ones present."""
    def get(name: str, required: bool = False) -> str | None:
        value = params.get(name)
        if value in (None, ""):
            if required:
                raise _bad(f"login_{name}_missing", f"login request has no {name}")
            return None
        if not isinstance(value, str) or len(value) > (
                MAX_ID_PARAM if name in _ID_PARAMS else MAX_PARAM):
            raise _bad(f"login_{name}_malformed", f"login parameter {name} is too long")
        if "\x00" in value or not (value.isascii() or _encodable(value)):
            raise _bad(f"login_{name}_malformed", f"login parameter {name} is not text")
        return value

    target = get("lti_storage_target")
    if target is not None and not set(target) <= _TARGET_CHARS:
        raise _bad("login_lti_storage_target_malformed", "lti_storage_target is not a frame name")
    return LoginRequest(
        iss=get("iss", True), login_hint=get("login_hint", True),  # type: ignore[arg-type]
        target_link_uri=get("target_link_uri", True),  # type: ignore[arg-type]
        client_id=get("client_id"), lti_deployment_id=get("lti_deployment_id"),
        lti_message_hint=get("lti_message_hint"), lti_storage_target=target)


class _ClockedSigner(TimestampSigner):
    def __init__(self, secret_key: str, salt: str, clock: Callable[[], float]) -> None:
        super().__init__(secret_key, salt=salt, digest_method=hashlib.sha256)
        self._clock = clock

    def get_timestamp(self) -> int:  # itsdangerous' hook for the time it signs
        return int(self._clock())


class LoginBinding:
    """Issues each login's state and nonce, bound together with the tool's web secret
    (itsdangerous, HMAC-SHA256, one key per use by salt): the state is a random login id
    signed with the time of the login; the nonce is the signature, under another key, of
    the whole state. ``check`` tells whether a state is one this tool issued less than
    ``max_age`` seconds ago and whether a nonce is the one issued for it."""

    def __init__(self, secret_key: str, clock: Callable[[], float] = time.time,
                 max_age: float = LOGIN_TTL) -> None:
        self._state = _ClockedSigner(secret_key, "lmsbridge.lti-login.state", clock)
        self._nonce = Signer(secret_key, salt="lmsbridge.lti-login.nonce",
                             digest_method=hashlib.sha256)
        self._clock, self.max_age = clock, max_age

    def issue(self) -> tuple[str, str]:
        state = self._state.sign(secrets.token_urlsafe(24)).decode()
        return state, self._nonce.get_signature(state).decode()

    def check(self, state: str, nonce: str, *, leeway: float = 0.0) -> None:
        """Raise LaunchError (401) unless ``state`` is ours and current and ``nonce`` is
        its nonce. ``leeway``: seconds a login may seem to come from the future (workers'
        clocks differ)."""
        # surrogatepass: text from a request can hold lone surrogates; they never match.
        raw_state = state.encode("utf-8", "surrogatepass")
        try:
            _, signed_at = self._state.unsign(raw_state, return_timestamp=True)
        except BadSignature:
            raise LaunchError("state_invalid", "the launch's state was not issued by this "
                              "tool's login", 401) from None
        age = self._clock() - signed_at.timestamp()
        if not -leeway <= age <= self.max_age:
            raise LaunchError("state_expired", "the login this launch completes is more than "
                              f"{self.max_age:.0f} s old (or from the future); open the "
                              "link again", 401)
        expected = self._nonce.get_signature(raw_state)
        if not hmac.compare_digest(expected, nonce.encode("utf-8", "surrogatepass")):
            raise LaunchError("nonce_mismatch",
                              "the nonce this browser kept is not the one issued for this state",
                              401)


def begin_login(req: LoginRequest, platforms: Platforms, urls: ToolUrls,
                binding: LoginBinding) -> LoginRedirect:
    """Check the login request and build the authorization redirect."""
    if not urls.is_ours(req.target_link_uri):
        # Otherwise we would send the id_token's browser wherever the request says.
        raise _bad("target_link_uri_foreign", "target_link_uri is not a URL of this tool")
    reg = find_registration(platforms, req.iss, req.client_id, req.lti_deployment_id)
    if req.lti_deployment_id is not None and req.lti_deployment_id not in reg.deployment_ids:
        raise LaunchError("deployment_unknown",
                          f"deployment {req.lti_deployment_id!r:.120} is not registered", 401)
    state, nonce = binding.issue()
    params = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": reg.client_id,
        "redirect_uri": urls.launch,
        "login_hint": req.login_hint,
        "state": state,
        "nonce": nonce,
    }
    if req.lti_message_hint is not None:
        params["lti_message_hint"] = req.lti_message_hint
    return LoginRedirect(_with_query(reg.auth_login_url, params), state, nonce, reg,
                         req.lti_storage_target)


def _with_query(url: str, params: Mapping[str, str]) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if k not in params]
    return urlunsplit(parts._replace(query=urlencode([*query, *params.items()])))
