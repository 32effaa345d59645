"""The mock LTI platform's token endpoint (OAuth 2 client credentials with a JWT assertion
signed by the tool) and the check of the bearer tokens it issues, for AGS and NRPS."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, jsonify, request

from lmsbridge.conformance.lti.state import PlatformState
from lmsbridge.conformance.lti.vocab import ASSERTION_TYPE
from lmsbridge.conformance.lti.wire import MockError


def register(p: PlatformState, app: Flask) -> None:
    @app.post("/token")
    def token() -> Response:
        try:
            body = _issue(p, request.form)
        except MockError as exc:
            with p.lock:
                p.token_errors.append({"error": exc.code, "description": exc.message})
            raise
        response = jsonify(body)
        response.headers["Cache-Control"] = "no-store"
        return response


def bearer(p: PlatformState, *any_of: str) -> dict[str, Any]:
    """The request's access token, valid and carrying one of the scopes ``any_of``."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise MockError(401, "invalid_token", "a bearer access token is required")
    with p.lock:
        token = p.tokens.get(value.strip())
        if token is None:
            raise MockError(401, "invalid_token", "unknown access token")
        if p.clock() >= token["expires_at"]:
            raise MockError(401, "invalid_token", "the access token expired")
        if not set(any_of) & set(token["scopes"]):
            raise MockError(403, "insufficient_scope",
                            f"this call needs one of the scopes {' '.join(any_of)}")
        return token


def expire_tokens(p: PlatformState) -> int:
    """Make every access token issued so far expired; returns how many."""
    with p.lock:
        now = p.clock()
        for token in p.tokens.values():
            token["expires_at"] = min(token["expires_at"], now - 1)
        return len(p.tokens)


def _issue(p: PlatformState, form: Mapping[str, str]) -> dict[str, Any]:
    if form.get("grant_type") != "client_credentials":
        raise MockError(400, "unsupported_grant_type", "grant_type must be client_credentials")
    if form.get("client_assertion_type") != ASSERTION_TYPE:
        raise MockError(400, "invalid_request", f"client_assertion_type must be {ASSERTION_TYPE}")
    assertion = form.get("client_assertion", "")
    if not assertion:
        raise MockError(400, "invalid_request", "client_assertion is required")
    claims = p.verify_tool_jwt(assertion, "invalid_client")
    tool = p.tool
    if claims.get("iss") != tool.client_id or claims.get("sub") != tool.client_id:
        raise MockError(401, "invalid_client", "iss and sub must be the tool's client_id")
    aud = claims.get("aud")
    if aud != p.token_audience and not (isinstance(aud, list) and p.token_audience in aud):
        raise MockError(400, "invalid_grant", f"aud must be {p.token_audience}")
    exp = p.check_times(claims, "invalid_grant")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti:
        raise MockError(400, "invalid_grant", "jti is required")
    requested = form.get("scope", "").split()
    if not requested:
        raise MockError(400, "invalid_scope", "scope is required")
    refused = [s for s in requested if s not in tool.scopes]
    if refused:
        raise MockError(400, "invalid_scope", f"scope not allowed for this tool: {refused[0]}")
    with p.lock:
        now = p.clock()
        p.assertion_jtis = {j: e for j, e in p.assertion_jtis.items() if e + p.leeway > now}
        if jti in p.assertion_jtis:
            raise MockError(400, "invalid_grant", "the assertion's jti was already used")
        p.assertion_jtis[jti] = exp
        value = secrets.token_urlsafe(24)
        p.tokens[value] = {"fingerprint": p.fingerprint(value), "client_id": tool.client_id,
                           "scopes": requested, "issued_at": now,
                           "expires_at": now + p.token_lifetime, "jti": jti}
    return {"access_token": value, "token_type": "Bearer", "expires_in": p.token_lifetime,
            "scope": " ".join(requested)}
