"""Shared pieces for the web tool's tests: a platform key served as a JWKS over real HTTP,
id_tokens crafted with joserfc, a tenant with a registration and a small catalog."""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, jsonify
from joserfc import jwt
from joserfc.jwk import RSAKey
from sqlalchemy import func, select

from lmsbridge.conformance.mock import MockServer
from lmsbridge.core.lti.claims import DL, LTI
from lmsbridge.core.lti.jwks import public_jwks
from lmsbridge.core.model import PlatformRegistration, Tenant
from lmsbridge.core.store.schema import (
    account_links,
    contexts,
    courses,
    items,
    launches,
    learners,
    licenses,
    nonces,
    programs,
    published_links,
)

ISS = "https://lms.example.edu"
CLIENT_ID = "tool-client-1"
DEPLOYMENT = "dep-1"
TOOL = "http://localhost"

_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
KID = "platform-key-1"


class JwksServer(MockServer):
    """The platform's key set endpoint, nothing else."""

    name = "jwks"

    def reset(self) -> None:
        super().reset()
        self.keys = [(KID, _KEY)]

    def routes(self, app: Flask) -> None:
        @app.get("/jwks")
        def jwks():
            with self.lock:
                return jsonify(public_jwks(self.keys))


def sign(claims: dict[str, Any], header: dict[str, Any] | None = None, key=_KEY) -> str:
    h = {"alg": "RS256", "typ": "JWT", "kid": KID} if header is None else header
    return jwt.encode(h, claims, RSAKey.import_key(key), algorithms=[h.get("alg", "RS256")])


def launch_claims(nonce: str, /, now: float | None = None, **over: Any) -> dict[str, Any]:
    t = int(now if now is not None else time.time())
    claims: dict[str, Any] = {
        "iss": ISS, "aud": CLIENT_ID, "sub": "user-1", "iat": t, "exp": t + 300,
        "nonce": nonce, "name": "Ada Lovelace", "email": "ada@example.edu",
        LTI + "version": "1.3.0", LTI + "message_type": "LtiResourceLinkRequest",
        LTI + "deployment_id": DEPLOYMENT, LTI + "target_link_uri": TOOL + "/lti/launch",
        LTI + "resource_link": {"id": "rl-1", "title": "Course 1"},
        LTI + "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"],
        LTI + "context": {"id": "ctx-1", "title": "Biology 101"},
        LTI + "custom": {"provider_program_id": "prog-1", "provider_course_id": "c1"},
        "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint": {
            "scope": ["https://purl.imsglobal.org/spec/lti-ags/scope/score"],
            "lineitems": ISS + "/ags/ctx-1/lineitems"},
        "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice": {
            "context_memberships_url": ISS + "/nrps/ctx-1", "service_versions": ["2.0"]},
    }
    for k, v in over.items():
        if v is None:
            claims.pop(k, None)
        else:
            claims[k] = v
    return claims


def deep_link_claims(nonce: str, return_url: str, **settings: Any) -> dict[str, Any]:
    claims = launch_claims(nonce)
    claims[LTI + "message_type"] = "LtiDeepLinkingRequest"
    del claims[LTI + "resource_link"], claims[LTI + "custom"]
    claims[DL + "deep_linking_settings"] = {
        "deep_link_return_url": return_url, "accept_types": ["ltiResourceLink"],
        "accept_presentation_document_targets": ["iframe", "window"],
        "accept_multiple": True, **settings}
    return claims


def setup_tenant(store, jwks_url: str, *, grade_sync: str = "course", seats: int | None = None,
                 tenant: str = "uni-a", activate: tuple[str, ...] = ("prog-1",),
                 issuer: str = ISS, client_id: str = CLIENT_ID,
                 deployment: str = DEPLOYMENT) -> None:
    store.tenants.add(Tenant(tenant, "canvas", grade_sync=grade_sync))
    store.platforms.add(PlatformRegistration(
        tenant=tenant, issuer=issuer, client_id=client_id, deployment_ids=(deployment,),
        auth_login_url=issuer + "/auth", auth_token_url=issuer + "/token", jwks_url=jwks_url))
    for p in activate:
        store.programs.activate(tenant, p)


def add_catalog(store, seats: int | None = None) -> None:
    with store.engine.begin() as conn:
        if conn.execute(programs.select()).first():
            return
        conn.execute(programs.insert(), [
            {"id": "prog-1", "name": "Data Science", "seats": seats},
            {"id": "prog-2", "name": "Writing", "seats": None}])
        conn.execute(courses.insert(), [
            {"program_id": "prog-1", "id": "c1", "name": "Statistics",
             "url": "https://provider.example/learn/stats"},
            {"program_id": "prog-1", "id": "c2", "name": "Python",
             "url": "https://provider.example/learn/python"},
            {"program_id": "prog-2", "id": "w1", "name": "Essays",
             "url": "https://provider.example/learn/essays"}])
        conn.execute(items.insert(), [
            {"course_id": "c1", "id": "q1", "name": "Quiz 1", "max_score": 10.0, "gradable": True,
             "url": "https://provider.example/learn/stats/quiz1"},
            {"course_id": "c1", "id": "q2", "name": "Quiz 2", "max_score": 5.0, "url": None,
             "gradable": True},
            {"course_id": "c1", "id": "r1", "name": "Reading", "gradable": False,
             "max_score": 1.0, "url": None}])


def login(client, **params: str) -> tuple[Any, str, str]:
    """Run the OIDC login; returns (response, state, nonce)."""
    base = {"iss": ISS, "login_hint": "user-1", "target_link_uri": TOOL + "/lti/launch",
            "client_id": CLIENT_ID, "lti_deployment_id": DEPLOYMENT}
    base.update(params)
    resp = client.get("/lti/login", query_string=base)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    q = parse_qs(urlsplit(resp.headers["Location"]).query)
    return resp, q["state"][0], q["nonce"][0]




def page_value(page: str, name: str) -> str:
    """A value a page's script holds as ``name = "…"`` or ``name: "…"`` (tojson)."""
    return re.search(rf'{name}\s*[:=]\s*"([^"]*)"', page).group(1)


def storage_login(client, target: str = "_parent") -> tuple[str, str, str]:
    """Run the OIDC login with lti_storage_target; returns (page, state, nonce)."""
    resp = client.get("/lti/login", query_string={
        "iss": ISS, "login_hint": "user-1", "target_link_uri": TOOL + "/lti/launch",
        "client_id": CLIENT_ID, "lti_deployment_id": DEPLOYMENT, "lti_storage_target": target})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    page = resp.get_data(as_text=True)
    next_url = page_value(page, "next").replace("\\u0026", "&")
    query = parse_qs(urlsplit(next_url).query)
    return page, query["state"][0], query["nonce"][0]


class Clock:
    """A settable clock for create_app(clock=...)."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


WRITTEN = (learners, account_links, licenses, launches, contexts, nonces, published_links)


def written(store) -> dict[str, int]:
    """Rows in every table a launch or a picker submission writes."""
    with store.engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar()
                for t in WRITTEN}
