"""OIDC third-party login initiation (LTI 1.3 core §5.1.1): the first leg of every launch.

The platform sends iss, login_hint and target_link_uri (plus optional client_id,
lti_deployment_id, lti_message_hint, lti_storage_target); we answer with a redirect to its
authorization endpoint carrying a fresh ``state`` and ``nonce``. The browser keeps the pair
(cookie, or the platform's postMessage storage), so the id_token that comes back can only be
used by the browser that started the login.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from attrs import frozen

from lmsbridge.core.lti.errors import LaunchError
from lmsbridge.core.lti.registrations import find_registration
from lmsbridge.core.lti.tool_urls import ToolUrls
from lmsbridge.core.model import PlatformRegistration
from lmsbridge.core.store.platforms import Platforms

MAX_PARAM = 2048
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


def parse_login(params: Mapping[str, str]) -> LoginRequest:
    def get(name: str, required: bool = False) -> str | None:
        value = params.get(name)
        if value in (None, ""):
            if required:
                raise _bad(f"login_{name}_missing", f"login request has no {name}")
            return None
        if len(value) > MAX_PARAM:
            raise _bad(f"login_{name}_malformed", f"login parameter {name} is too long")
        return value

    target = get("lti_storage_target")
    if target is not None and not set(target) <= _TARGET_CHARS:
        raise _bad("login_lti_storage_target_malformed", "lti_storage_target is not a frame name")
    return LoginRequest(
        iss=get("iss", True), login_hint=get("login_hint", True),  # type: ignore[arg-type]
        target_link_uri=get("target_link_uri", True),  # type: ignore[arg-type]
        client_id=get("client_id"), lti_deployment_id=get("lti_deployment_id"),
        lti_message_hint=get("lti_message_hint"), lti_storage_target=target)


def begin_login(req: LoginRequest, platforms: Platforms, urls: ToolUrls,
                token: Callable[[int], str] = secrets.token_urlsafe) -> LoginRedirect:
    """Check the login request and build the authorization redirect."""
    if not urls.is_ours(req.target_link_uri):
        # Otherwise we would send the id_token's browser wherever the request says.
        raise _bad("target_link_uri_foreign", "target_link_uri is not a URL of this tool")
    reg = find_registration(platforms, req.iss, req.client_id, req.lti_deployment_id)
    if req.lti_deployment_id is not None and req.lti_deployment_id not in reg.deployment_ids:
        raise LaunchError("deployment_unknown",
                          f"deployment {req.lti_deployment_id!r:.120} is not registered", 401)
    state, nonce = token(32), token(32)
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
