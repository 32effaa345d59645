"""Launches on the mock LTI platform: the OIDC third-party login a launch starts with, the
authorization endpoint, and the id_token message it posts to the tool (resource link or
deep linking request), signed with the keys the platform's JWKS serves."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from flask import Flask, Response, jsonify, request

from lmsbridge.conformance.lti.records import Launch, LoginInitiation
from lmsbridge.conformance.lti.state import PlatformState
from lmsbridge.conformance.lti.vocab import (
    AGS_CLAIM,
    DEEP_LINKING,
    DL,
    LTI,
    NRPS_CLAIM,
    NRPS_SCOPE,
    REMOVE,
    RESOURCE_LINK,
    role_uri,
)
from lmsbridge.conformance.lti.wire import MockError, auto_submit_form


def start_launch(
    p: PlatformState,
    user: str | None,
    *,
    roles: Iterable[str] = ("Learner",),
    context: str | None = None,
    resource_link: str | None = None,
    custom: Mapping[str, Any] | None = None,
    message_type: str = RESOURCE_LINK,
    target_link_uri: str | None = None,
    deployment_id: str | None = None,
    deep_linking: Mapping[str, Any] | None = None,
    claims: Mapping[str, Any] | None = None,
    headers: Mapping[str, Any] | None = None,
) -> LoginInitiation:
    """Begin a launch: returns the OIDC login initiation to send to the tool.

    ``user`` None makes an anonymous launch (no ``sub``). ``deep_linking`` overrides the
    deep linking settings (accept_types, accept_multiple, data, …). ``claims`` are
    merged over the id_token's claims and ``headers`` over its JOSE header (a value of
    :data:`REMOVE` drops it): that is how tests craft launches a tool must refuse.
    """
    with p.lock:
        tool = p.tool
        if not tool.login_url:
            raise ValueError("register the tool's login_url first (register_tool)")
        if user is not None and user not in p.users:
            raise KeyError(f"unknown user {user!r}; add_user() first")
        if context is not None:
            p.require_context(context)
        if resource_link is not None:
            if context is None or resource_link not in p.resource_links[context]:
                raise KeyError(f"unknown resource link {resource_link!r} in {context!r}")
        deployment = deployment_id or (
            p.contexts[context]["deployment_id"] if context else tool.deployment_ids[0])
        if message_type == DEEP_LINKING:
            target = target_link_uri or tool.deep_link_url or tool.launch_url
        else:
            link = p.resource_links[context][resource_link] if resource_link else None
            target = target_link_uri or (link and link.get("url")) or tool.launch_url
        if not target:
            raise ValueError("no target_link_uri: register the tool's launch_url")
        launch = Launch(
            id=secrets.token_urlsafe(12), user_id=user, message_type=message_type,
            deployment_id=deployment, target_link_uri=target, roles=list(roles),
            context_id=context, resource_link_id=resource_link, custom=dict(custom or {}),
            deep_linking=dict(deep_linking or {}) if message_type == DEEP_LINKING else None,
            claims=dict(claims or {}), headers=dict(headers or {}),
        )
        p.launches[launch.id] = launch
    return LoginInitiation(tool.login_url, login_params(p, launch), launch.id)


def login_params(p: PlatformState, launch: Launch) -> dict[str, str]:
    """The OIDC login initiation's parameters for ``launch``."""
    return {"iss": p.issuer, "login_hint": launch.user_id or "anonymous",
            "target_link_uri": launch.target_link_uri, "lti_message_hint": launch.id,
            "lti_deployment_id": launch.deployment_id, "client_id": p.tool.client_id}


def register(p: PlatformState, app: Flask) -> None:
    @app.get("/jwks")
    def jwks() -> Response:
        response = jsonify(p.public_jwks())
        response.headers["Cache-Control"] = f"max-age={p.jwks_max_age}"
        return response

    @app.route("/auth", methods=["GET", "POST"])
    def authorize() -> Response:
        params = request.values
        try:
            launch, redirect_uri = _check_auth_request(p, params)
        except MockError as exc:
            with p.lock:
                p.auth_errors.append({"error": exc.code, "description": exc.message})
            raise
        token = p.sign(_id_token_claims(p, launch, params["nonce"]), launch.headers)
        page = auto_submit_form(redirect_uri, {"id_token": token, "state": params["state"]},
                                title="Launching…")
        return Response(page, content_type="text/html; charset=utf-8")


def _check_auth_request(p: PlatformState, params: Mapping[str, str]) -> tuple[Launch, str]:
    def need(name: str, expected: str | None = None) -> str:
        value = params.get(name)
        if not value:
            raise MockError(400, "invalid_request", f"{name} is required")
        if expected is not None and value != expected:
            raise MockError(400, "invalid_request", f"{name} must be {expected!r}, got {value!r}")
        return value

    tool = p.tool
    if "openid" not in need("scope").split():
        raise MockError(400, "invalid_scope", "scope must include openid")
    need("response_type", "id_token")
    need("response_mode", "form_post")
    need("prompt", "none")
    need("client_id", tool.client_id)
    redirect_uri = need("redirect_uri")
    if redirect_uri not in tool.allowed_redirects():
        raise MockError(400, "invalid_request",
                        f"redirect_uri {redirect_uri!r} is not registered for the tool")
    login_hint = need("login_hint")
    hint = need("lti_message_hint")
    need("state")
    nonce = need("nonce")
    with p.lock:
        launch = p.launches.get(hint)
        if launch is None:
            raise MockError(400, "invalid_request", "lti_message_hint names no launch")
        if launch.used:
            raise MockError(400, "invalid_request", "this launch was already used")
        if login_hint != (launch.user_id or "anonymous"):
            raise MockError(400, "invalid_request", "login_hint does not match the launch's user")
        launch.used = True
        launch.nonce = nonce
    return launch, redirect_uri


def _id_token_claims(p: PlatformState, launch: Launch, nonce: str) -> dict[str, Any]:
    now = int(p.clock())
    tool = p.tool
    claims: dict[str, Any] = {
        "iss": p.issuer, "aud": tool.client_id, "azp": tool.client_id,
        "iat": now, "exp": now + p.id_token_lifetime, "nonce": nonce,
        LTI + "version": "1.3.0",
        LTI + "message_type": launch.message_type,
        LTI + "deployment_id": launch.deployment_id,
        LTI + "target_link_uri": launch.target_link_uri,
        LTI + "roles": [role_uri(r) for r in launch.roles],
        "https://purl.imsglobal.org/spec/lti/claim/tool_platform": {
            "guid": "mock-lti-platform", "name": "lmsbridge mock LTI platform",
            "product_family_code": "lmsbridge-mock", "version": "1"},
        LTI + "launch_presentation": {"document_target": "iframe",
                                      "return_url": f"{p.url}/return"},
    }
    with p.lock:
        user = p.users.get(launch.user_id) if launch.user_id else None
        if user is not None:
            claims["sub"] = user["id"]
            for key in ("name", "given_name", "family_name", "email"):
                if key in user:
                    claims[key] = user[key]
            if "sourcedid" in user:
                claims[LTI + "lis"] = {"person_sourcedid": user["sourcedid"]}
        custom = {}
        if launch.context_id:
            context = p.contexts[launch.context_id]
            claims[LTI + "context"] = {k: context[k] for k in ("id", "label", "title", "type")}
            scopes = [s for s in tool.scopes if s != NRPS_SCOPE]
            ags: dict[str, Any] = {"scope": scopes, "lineitems": p.lineitems_url(context["id"])}
            link = (p.resource_links[context["id"]].get(launch.resource_link_id)
                    if launch.resource_link_id else None)
            if link is not None:
                custom.update(link["custom"])
                if link["line_item"] is not None:
                    ags["lineitem"] = p.lineitem_url(context["id"], link["line_item"])
            if scopes:
                claims[AGS_CLAIM] = ags
            if NRPS_SCOPE in tool.scopes:
                claims[NRPS_CLAIM] = {"context_memberships_url": p.memberships_url(context["id"]),
                                      "service_versions": ["2.0"]}
        if launch.message_type == RESOURCE_LINK and launch.resource_link_id:
            link = p.resource_links[launch.context_id][launch.resource_link_id]
            claims[LTI + "resource_link"] = {"id": link["id"], "title": link["title"]}
    custom.update(launch.custom)
    if custom:
        claims[LTI + "custom"] = custom
    if launch.message_type == DEEP_LINKING:
        settings = {
            "deep_link_return_url": f"{p.url}/deep_linking/{launch.id}",
            "accept_types": ["ltiResourceLink"],
            "accept_presentation_document_targets": ["iframe", "window"],
            "accept_multiple": True,
            "accept_lineitem": True,
            "auto_create": True,
            "title": "Add content",
        }
        settings.update(launch.deep_linking or {})
        claims[DL + "deep_linking_settings"] = {k: v for k, v in settings.items()
                                                if v is not REMOVE}
        claims.pop(LTI + "resource_link", None)
    for name, value in launch.claims.items():
        if value is REMOVE:
            claims.pop(name, None)
        else:
            claims[name] = value
    return claims
