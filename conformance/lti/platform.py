"""The mock LTI 1.3 Advantage platform: an LMS as far as a tool can tell.

It holds its own RSA keys, one tool registration, users, contexts (course shells) with
members and resource links, AGS line items with scores, and LTI 1.1 outcome consumers.
Everything is served over real HTTP by :class:`MockLtiPlatform`; see the route table below.

Quick start (Python)::

    platform = MockLtiPlatform().start()
    platform.register_tool(client_id="tool-1", deployment_ids=["dep-1"],
                           jwks=keyring.jwks(),            # or jwks_url="https://tool/.well-known/jwks.json"
                           login_url="https://tool/lti/login",
                           launch_url="https://tool/lti/launch")
    platform.add_user("u1", name="Ada Lovelace", email="ada@example.edu")
    platform.add_context("c1", title="Math 101")
    platform.add_member("c1", "u1", roles=["Learner"])
    platform.add_resource_link("c1", "rl1", title="Quiz 1",
                               line_item={"label": "Quiz 1", "scoreMaximum": 10})
    login = platform.start_launch("u1", context="c1", resource_link="rl1")
    requests.post(login.url, data=login.params)        # the tool's OIDC login initiation

``login.params`` holds iss, login_hint, target_link_uri, lti_message_hint,
lti_deployment_id and client_id; the tool redirects the browser to ``/auth`` here, which
answers an auto-submitting form POSTing ``id_token`` and ``state`` to the tool.
Deep linking: ``start_launch(..., message_type="LtiDeepLinkingRequest")``; the tool's
response JWT comes back to ``/deep_linking/<launch id>``, is verified against the tool's JWKS
and its content items recorded (``GET /_mock/state`` → ``deep_linking_responses``).

Routes (``{ctx}`` is a context id, ``{li}`` a line item number)::

    GET  /jwks                                   platform public keys (Cache-Control)
    GET|POST /auth                               OIDC authorization (launch) endpoint
    POST /token                                  client_credentials with a JWT assertion
    POST /deep_linking/<launch>                  LtiDeepLinkingResponse return URL
    GET|POST /lti/contexts/{ctx}/lineitems       AGS line item container (paged)
    GET|PUT|DELETE /lti/contexts/{ctx}/lineitems/{li}
    POST /lti/contexts/{ctx}/lineitems/{li}/scores
    GET  /lti/contexts/{ctx}/lineitems/{li}/results
    GET  /lti/contexts/{ctx}/memberships         NRPS (paged; role, rlid, limit, since)
    POST /lti11/outcomes                         LTI 1.1 Basic Outcomes (OAuth 1.0a)

Control routes (no faults, no auth) under ``/_mock/``: ``POST tool``, ``POST users``,
``POST contexts``, ``POST contexts/<ctx>/members``, ``DELETE contexts/<ctx>/members/<user>``,
``POST contexts/<ctx>/resource_links``, ``POST launches`` (JSON answer: the login
initiation), ``GET launches/<id>/login`` (a page that starts the launch in a browser),
``POST tokens/expire``, ``POST keys/rotate``, ``POST lti11/consumers``; plus the base's
``state``, ``reset`` and ``faults``. Each POST takes a JSON object (or a list of them) with
the keyword arguments of the Python method of the same name.

Behaviour a tool must cope with, as real platforms do it:

- Link headers Canvas-style (``<…>; rel="current",<…>; rel="next",<…>; rel="first"``);
  NRPS next links carry an opaque, case-sensitive bookmark (``page=bookmark:…``);
- ``lineitem_url_query`` (e.g. ``"type_id=1"``) makes line item URLs carry a query string,
  as Moodle's do, so ``/scores`` must be added to the path, not after the query;
- a score whose timestamp is not newer than the one held is refused: ``stale_score_style``
  ``"canvas"`` answers 400 "Provided timestamp of … before last updated timestamp of …",
  ``"moodle"`` answers 409;
- ``scoreGiven`` without ``scoreMaximum`` is 422 (Canvas); a user who is not a member 422;
- tokens expire after ``token_lifetime`` seconds (401 ``invalid_token``); a missing scope
  is 403 ``insufficient_scope``; a replayed assertion ``jti`` is ``invalid_grant``.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import attrs
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, Response, jsonify
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey
from werkzeug.exceptions import HTTPException, NotFound

from lmsbridge.conformance.lti.suite_platform import LtiSuitePlatform
from lmsbridge.conformance.mock import MockServer
from lmsbridge.conformance.mock.faults import FaultRule

__all__ = [
    "AGS_SCOPES",
    "ALL_SCOPES",
    "LoginInitiation",
    "MockError",
    "MockLtiPlatform",
    "NRPS_SCOPE",
    "REMOVE",
    "ToolRegistration",
    "auto_submit_form",
    "role_uri",
]

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
AGS = "https://purl.imsglobal.org/spec/lti-ags/scope/"
SCOPE_LINEITEM = AGS + "lineitem"
SCOPE_LINEITEM_READONLY = AGS + "lineitem.readonly"
SCOPE_RESULT = AGS + "result.readonly"
SCOPE_SCORE = AGS + "score"
NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
AGS_SCOPES = (SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY, SCOPE_RESULT, SCOPE_SCORE)
ALL_SCOPES = (*AGS_SCOPES, NRPS_SCOPE)

LINEITEM_TYPE = "application/vnd.ims.lis.v2.lineitem+json"
CONTAINER_TYPE = "application/vnd.ims.lis.v2.lineitemcontainer+json"
SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"
RESULTS_TYPE = "application/vnd.ims.lis.v2.resultcontainer+json"
MEMBERSHIPS_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

RESOURCE_LINK = "LtiResourceLinkRequest"
DEEP_LINKING = "LtiDeepLinkingRequest"
ROLE_PREFIX = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
ACTIVITY = ("Initialized", "Started", "InProgress", "Submitted", "Completed")
GRADING = ("FullyGraded", "Pending", "PendingManual", "Failed", "NotReady")

#: In ``start_launch(claims=…)``/``headers=…``: leave this claim or header out entirely.
REMOVE: Any = object()


def role_uri(role: str) -> str:
    """``Learner`` → ``http://purl.imsglobal.org/vocab/lis/v2/membership#Learner``."""
    return role if ":" in role else ROLE_PREFIX + role


class MockError(Exception):
    """Answered as ``{"error": code, "error_description": message}`` with ``status``."""

    def __init__(self, status: int, code: str, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}


@attrs.define
class ToolRegistration:
    """The tool as the platform's admin registered it."""

    client_id: str = "lmsbridge-tool"
    deployment_ids: tuple[str, ...] = attrs.field(default=("deployment-1",), converter=tuple)
    jwks_url: str | None = None
    jwks: dict[str, Any] | None = None  # public keys given inline instead of a URL
    login_url: str | None = None
    launch_url: str | None = None
    deep_link_url: str | None = None
    redirect_uris: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    scopes: tuple[str, ...] = attrs.field(default=ALL_SCOPES, converter=tuple)
    token_audience: str | None = None  # what assertions must name; default: the token URL

    def allowed_redirects(self) -> set[str]:
        uris = set(self.redirect_uris)
        uris.update(u for u in (self.launch_url, self.deep_link_url) if u)
        return uris


@attrs.frozen
class LoginInitiation:
    """What the platform sends to the tool's OIDC login initiation URL."""

    url: str
    params: dict[str, str]
    launch_id: str

    def get_url(self) -> str:
        """The initiation as a GET URL (tools must accept GET and POST)."""
        return f"{self.url}?{urlencode(self.params)}"


@attrs.define
class _Launch:
    id: str
    user_id: str | None
    message_type: str
    deployment_id: str
    target_link_uri: str
    roles: list[str]
    context_id: str | None
    resource_link_id: str | None
    custom: dict[str, Any]
    deep_linking: dict[str, Any] | None
    claims: dict[str, Any]
    headers: dict[str, Any]
    used: bool = False
    nonce: str | None = None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _parse_time(value: Any) -> datetime | None:
    """An ISO 8601 date-time with a time zone, else None."""
    if not isinstance(value, str) or "T" not in value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class MockLtiPlatform(LtiSuitePlatform, MockServer):
    """A mock LMS speaking LTI 1.3 Advantage (and LTI 1.1 Basic Outcomes) over real HTTP.

    The conformance suite seeds and reads it through :class:`LtiSuitePlatform`."""

    name = "lti"

    def __init__(
        self,
        *,
        issuer: str | None = None,
        tool: ToolRegistration | None = None,
        page_size: int = 10,
        max_page_size: int = 50,
        token_lifetime: int = 3600,
        id_token_lifetime: int = 300,
        lineitem_url_query: str | None = None,
        stale_score_style: str = "canvas",
        jwks_max_age: int = 300,
        clock: Callable[[], float] = time.time,
        log_size: int = 1000,
    ) -> None:
        if stale_score_style not in ("canvas", "moodle"):
            raise ValueError("stale_score_style must be 'canvas' or 'moodle'")
        self._issuer = issuer
        self.initial_tool = tool or ToolRegistration()
        self.page_size = page_size
        self.max_page_size = max_page_size
        self.token_lifetime = token_lifetime
        self.id_token_lifetime = id_token_lifetime
        self.lineitem_url_query = lineitem_url_query
        self.stale_score_style = stale_score_style
        self.jwks_max_age = jwks_max_age
        self.clock = clock
        self.leeway = 60
        self._keys: list[tuple[str, rsa.RSAPrivateKey]] = []
        self.rotate_keys()
        super().__init__(log_size=log_size)
        from lmsbridge.conformance.lti import routes

        self._seed_app = Flask(__name__)
        routes.register_control(self, self._seed_app)

    # =============================================================== configuration

    @property
    def issuer(self) -> str:
        """The platform's ``iss``: given, or its base URL once started."""
        return self._issuer or self.url

    @property
    def jwks_url(self) -> str:
        return f"{self.url}/jwks"

    @property
    def auth_url(self) -> str:
        return f"{self.url}/auth"

    @property
    def token_url(self) -> str:
        return f"{self.url}/token"

    @property
    def outcomes_url(self) -> str:
        return f"{self.url}/lti11/outcomes"

    @property
    def token_audience(self) -> str:
        return self.tool.token_audience or self.token_url

    def lineitems_url(self, context_id: str) -> str:
        url = f"{self.url}/lti/contexts/{context_id}/lineitems"
        return f"{url}?{self.lineitem_url_query}" if self.lineitem_url_query else url

    def lineitem_url(self, context_id: str, item_id: int) -> str:
        url = f"{self.url}/lti/contexts/{context_id}/lineitems/{item_id}"
        return f"{url}?{self.lineitem_url_query}" if self.lineitem_url_query else url

    def memberships_url(self, context_id: str) -> str:
        return f"{self.url}/lti/contexts/{context_id}/memberships"

    def registration(self, tenant: str) -> dict[str, Any]:
        """Keyword arguments for ``PlatformRegistration(**…)`` pointing at this platform."""
        return dict(tenant=tenant, issuer=self.issuer, client_id=self.tool.client_id,
                    deployment_ids=tuple(self.tool.deployment_ids),
                    auth_login_url=self.auth_url, auth_token_url=self.token_url,
                    jwks_url=self.jwks_url, token_audience=self.tool.token_audience)

    def rotate_keys(self) -> str:
        """Start signing with a new key; older ones stay in the JWKS. Returns the new kid."""
        kid = f"platform-{len(self._keys) + 1}-{secrets.token_hex(4)}"
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._keys.append((kid, key))
        return kid

    def public_jwks(self) -> dict[str, Any]:
        keys = []
        for kid, key in self._keys:
            jwk = RSAKey.import_key(key.public_key()).as_dict(private=False)
            keys.append({"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
                         "n": jwk["n"], "e": jwk["e"]})
        return {"keys": keys}

    def sign(self, claims: Mapping[str, Any], headers: Mapping[str, Any] | None = None) -> str:
        """Sign as the platform (current key; ``kid`` header unless ``headers`` drop it)."""
        kid, key = self._keys[-1]
        header: dict[str, Any] = {"alg": "RS256", "typ": "JWT", "kid": kid}
        for name, value in (headers or {}).items():
            if value is REMOVE:
                header.pop(name, None)
            else:
                header[name] = value
        return jwt.encode(header, dict(claims), RSAKey.import_key(key))

    # ====================================================================== seeding

    def register_tool(self, **fields: Any) -> ToolRegistration:
        """Replace the tool registration (fields of :class:`ToolRegistration`)."""
        with self.lock:
            self.tool = ToolRegistration(**fields)
            return self.tool

    def add_user(self, id: str, *, name: str | None = None, given_name: str | None = None,
                 family_name: str | None = None, email: str | None = None,
                 sourcedid: str | None = None) -> dict[str, Any]:
        user = {k: v for k, v in dict(id=id, name=name, given_name=given_name,
                                      family_name=family_name, email=email,
                                      sourcedid=sourcedid).items() if v is not None}
        with self.lock:
            self.users[id] = user
        return user

    def add_context(self, id: str, *, title: str | None = None, label: str | None = None,
                    deployment_id: str | None = None) -> dict[str, Any]:
        with self.lock:
            context = {"id": id, "title": title or id, "label": label or id,
                       "deployment_id": deployment_id or self.tool.deployment_ids[0],
                       "type": ["http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"]}
            self.contexts[id] = context
            self.members.setdefault(id, {})
            self.resource_links.setdefault(id, {})
            self.line_items.setdefault(id, {})
            return context

    def add_member(self, context_id: str, user_id: str, *, roles: Iterable[str] = ("Learner",),
                   status: str = "Active") -> dict[str, Any]:
        """Enrol (or update) a user; unknown users are created with no PII."""
        if status not in ("Active", "Inactive", "Deleted"):
            raise ValueError("status must be Active, Inactive or Deleted")
        with self.lock:
            self._context(context_id)
            self.users.setdefault(user_id, {"id": user_id})
            self.member_seq += 1
            member = {"roles": [role_uri(r) for r in roles], "status": status,
                      "seq": self.member_seq}
            self.members[context_id][user_id] = member
            return member

    def remove_member(self, context_id: str, user_id: str) -> None:
        """Unenrol: the member disappears from listings and shows as Deleted in differences."""
        with self.lock:
            member = self.members.get(context_id, {}).get(user_id)
            if member is None:
                raise KeyError(f"{user_id!r} is not a member of {context_id!r}")
            self.member_seq += 1
            member.update(status="Deleted", seq=self.member_seq, removed=True)

    def add_resource_link(self, context_id: str, id: str, *, title: str | None = None,
                          custom: Mapping[str, Any] | None = None, url: str | None = None,
                          line_item: Mapping[str, Any] | None = None,
                          members: Iterable[str] | None = None) -> dict[str, Any]:
        """A link in a course; ``line_item`` (label, scoreMaximum, …) makes it gradable.
        ``members`` limits who NRPS lists for ``rlid`` (default: everyone)."""
        with self.lock:
            self._context(context_id)
            link = {"id": id, "title": title or id, "custom": dict(custom or {}),
                    "url": url, "line_item": None,
                    "members": list(members) if members is not None else None}
            self.resource_links[context_id][id] = link
            if line_item is not None:
                item = self._create_line_item(context_id, {**line_item, "resourceLinkId": id})
                link["line_item"] = item["_n"]
            return link

    def add_line_item(self, context_id: str, **fields: Any) -> dict[str, Any]:
        """Create a line item as an instructor would; returns it in AGS JSON (with ``id``)."""
        with self.lock:
            self._context(context_id)
            item = self._create_line_item(context_id, fields)
            return self._line_item_json(context_id, item)

    def start_launch(
        self,
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
        with self.lock:
            tool = self.tool
            if not tool.login_url:
                raise ValueError("register the tool's login_url first (register_tool)")
            if user is not None and user not in self.users:
                raise KeyError(f"unknown user {user!r}; add_user() first")
            if context is not None:
                self._context(context)
            if resource_link is not None:
                if context is None or resource_link not in self.resource_links[context]:
                    raise KeyError(f"unknown resource link {resource_link!r} in {context!r}")
            deployment = deployment_id or (
                self.contexts[context]["deployment_id"] if context else tool.deployment_ids[0])
            if message_type == DEEP_LINKING:
                target = target_link_uri or tool.deep_link_url or tool.launch_url
            else:
                link = self.resource_links[context][resource_link] if resource_link else None
                target = target_link_uri or (link and link.get("url")) or tool.launch_url
            if not target:
                raise ValueError("no target_link_uri: register the tool's launch_url")
            launch = _Launch(
                id=secrets.token_urlsafe(12), user_id=user, message_type=message_type,
                deployment_id=deployment, target_link_uri=target, roles=list(roles),
                context_id=context, resource_link_id=resource_link, custom=dict(custom or {}),
                deep_linking=dict(deep_linking or {}) if message_type == DEEP_LINKING else None,
                claims=dict(claims or {}), headers=dict(headers or {}),
            )
            self.launches[launch.id] = launch
        params = {
            "iss": self.issuer,
            "login_hint": user or "anonymous",
            "target_link_uri": target,
            "lti_message_hint": launch.id,
            "lti_deployment_id": deployment,
            "client_id": tool.client_id,
        }
        return LoginInitiation(tool.login_url, params, launch.id)

    def expire_tokens(self) -> int:
        """Make every access token issued so far expired; returns how many."""
        with self.lock:
            now = self.clock()
            for token in self.tokens.values():
                token["expires_at"] = min(token["expires_at"], now - 1)
            return len(self.tokens)

    def add_lti11_consumer(self, key: str, secret: str) -> None:
        """An LTI 1.1 consumer key and shared secret for Basic Outcomes."""
        with self.lock:
            self.lti11_consumers[key] = secret

    def lti11_sourcedid(self, context_id: str, resource_link_id: str, user_id: str) -> str:
        """The ``lis_result_sourcedid`` of a user on a gradable resource link."""
        with self.lock:
            link = self.resource_links[context_id][resource_link_id]
            if link["line_item"] is None:
                raise ValueError(f"resource link {resource_link_id!r} has no line item")
            sourcedid = _b64(json.dumps([context_id, link["line_item"], user_id]).encode())
            self.sourcedids[sourcedid] = (context_id, link["line_item"], user_id)
            return sourcedid

    # ======================================================================= state

    def reset(self) -> None:
        super().reset()
        self.tool = attrs.evolve(self.initial_tool)
        self.users: dict[str, dict[str, Any]] = {}
        self.contexts: dict[str, dict[str, Any]] = {}
        self.members: dict[str, dict[str, dict[str, Any]]] = {}
        self.member_seq = 0
        self.resource_links: dict[str, dict[str, dict[str, Any]]] = {}
        self.line_items: dict[str, dict[int, dict[str, Any]]] = {}
        self.line_item_seq = 0
        self.launches: dict[str, _Launch] = {}
        self.tokens: dict[str, dict[str, Any]] = {}
        self.assertion_jtis: dict[str, float] = {}
        self.dl_nonces: set[str] = set()
        self.dl_responses: list[dict[str, Any]] = []
        self.auth_errors: list[dict[str, Any]] = []
        self.token_errors: list[dict[str, Any]] = []
        self.lti11_consumers: dict[str, str] = {}
        self.lti11_nonces: set[str] = set()
        self.lti11_requests: list[dict[str, Any]] = []
        self.sourcedids: dict[str, tuple[str, int, str]] = {}

    def state(self) -> dict[str, Any]:
        base = self.url if self.running else ""
        contexts = {}
        for cid, context in self.contexts.items():
            items = []
            for item in self.line_items[cid].values():
                public = self._line_item_json(cid, item) if base else {}
                items.append({**public, "scores": item["scores"], "results": item["results"]})
            contexts[cid] = {
                **context,
                "members": {uid: {k: v for k, v in m.items() if k != "removed"}
                            for uid, m in self.members[cid].items()},
                "resource_links": self.resource_links[cid],
                "line_items": items,
            }
        return {
            **super().state(),
            "platform": {"issuer": self.issuer if base else self._issuer,
                         "jwks_url": base and self.jwks_url, "auth_url": base and self.auth_url,
                         "token_url": base and self.token_url,
                         "kids": [kid for kid, _ in self._keys]},
            "tool": attrs.asdict(self.tool),
            "users": self.users,
            "contexts": contexts,
            "launches": [{"id": la.id, "user": la.user_id, "message_type": la.message_type,
                          "context": la.context_id, "resource_link": la.resource_link_id,
                          "used": la.used} for la in self.launches.values()],
            # Token values never leave the mock: a fingerprint tells them apart.
            "tokens": [dict(t) for t in self.tokens.values()],
            "token_errors": self.token_errors,
            "auth_errors": self.auth_errors,
            "deep_linking_responses": self.dl_responses,
            "lti11_requests": self.lti11_requests,
        }

    # ========================================================= fault answers (RFC 6750)

    def expired_token_response(self, rule: FaultRule) -> Response:
        return _bearer_error(401, "invalid_token", "The access token expired")

    # ====================================================================== routes

    def routes(self, app: Flask) -> None:
        from lmsbridge.conformance.lti import routes

        routes.register(self, app)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        # Seeding routes live under /_mock/ beside the base's control routes: no faults,
        # no platform auth. Anything they don't match goes to the base (state, faults, …).
        try:
            self._seed_app.url_map.bind_to_environ(environ).match()
        except NotFound:
            return super().__call__(environ, start_response)
        except HTTPException:
            pass  # e.g. a wrong method on a seeding route: let Flask answer it
        return self._seed_app(environ, start_response)

    # ========================================================== internals (locked)

    def _context(self, context_id: str) -> dict[str, Any]:
        context = self.contexts.get(context_id)
        if context is None:
            raise KeyError(f"unknown context {context_id!r}; add_context() first")
        return context

    def _create_line_item(self, context_id: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        problem = _line_item_problem(fields)
        if problem:
            raise ValueError(problem)
        self.line_item_seq += 1
        item = {k: fields[k] for k in _LINE_ITEM_FIELDS if fields.get(k) is not None}
        item.update(_n=self.line_item_seq, scores={}, results={})
        self.line_items[context_id][self.line_item_seq] = item
        return item

    def _line_item_json(self, context_id: str, item: Mapping[str, Any]) -> dict[str, Any]:
        body = {"id": self.lineitem_url(context_id, item["_n"])}
        body.update({k: item[k] for k in _LINE_ITEM_FIELDS if k in item})
        return body

    def _fingerprint(self, token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()[:12]

    # ----------------------------------------------------------------- JWT checks

    def tool_key(self, kid: str, error: str) -> RSAKey:
        """The tool's public key ``kid``: from the inline JWKS, or fetched from its JWKS URL
        (no cache, so a rotation on the tool side is seen at once)."""
        tool = self.tool
        if tool.jwks is not None:
            doc = tool.jwks
        elif tool.jwks_url:
            try:
                doc = requests.get(tool.jwks_url, timeout=5).json()
            except (requests.RequestException, ValueError) as exc:
                raise MockError(400, error, f"tool key set at {tool.jwks_url} unavailable: "
                                            f"{type(exc).__name__}") from None
        else:
            raise MockError(400, error, "the tool registration has no public key")
        keys = doc.get("keys") if isinstance(doc, dict) else None
        for jwk in keys if isinstance(keys, list) else []:
            if isinstance(jwk, dict) and jwk.get("kid") == kid and jwk.get("kty") == "RSA":
                try:
                    return RSAKey.import_key({"kty": "RSA", "n": jwk.get("n"),
                                              "e": jwk.get("e"), "kid": kid})
                except (JoseError, ValueError, TypeError):
                    raise MockError(400, error, f"tool key {kid!r} is malformed") from None
        raise MockError(400, error, f"no tool key with kid {kid!r}")

    def verify_tool_jwt(self, token: str, error: str) -> dict[str, Any]:
        """Verify an RS256 JWT signed by the tool (kid required); returns its claims."""
        try:
            obj = jws.extract_compact(token.encode())
        except (JoseError, ValueError, TypeError):
            raise MockError(400, error, "not a compact JWS") from None
        header = obj.headers()
        if header.get("alg") != "RS256":
            raise MockError(400, error, f"alg must be RS256, got {header.get('alg')!r}")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise MockError(400, error, "the JWT header has no kid")
        key = self.tool_key(kid, error)
        try:
            decoded = jwt.decode(token, key, algorithms=["RS256"])
        except (JoseError, ValueError, TypeError):
            raise MockError(400, error, "signature does not verify") from None
        return dict(decoded.claims)

    def check_times(self, claims: Mapping[str, Any], error: str) -> float:
        now = self.clock()
        exp, iat = claims.get("exp"), claims.get("iat")
        if not _is_number(exp) or not _is_number(iat):
            raise MockError(400, error, "exp and iat are required numbers")
        if exp < now - self.leeway:
            raise MockError(400, error, "the JWT has expired")
        if iat > now + self.leeway:
            raise MockError(400, error, "the JWT was issued in the future (iat)")
        if exp - iat > 3600:
            raise MockError(400, error, "the JWT lives longer than an hour")
        return float(exp)


_LINE_ITEM_FIELDS = ("scoreMaximum", "label", "resourceId", "tag", "resourceLinkId",
                     "startDateTime", "endDateTime", "gradesReleased")


def _line_item_problem(fields: Mapping[str, Any]) -> str | None:
    if not isinstance(fields, Mapping):
        return "a line item must be a JSON object"
    label = fields.get("label")
    if not isinstance(label, str) or not label.strip():
        return "label is required"
    maximum = fields.get("scoreMaximum")
    if not _is_number(maximum) or maximum <= 0:
        return "scoreMaximum must be a number greater than 0"
    for name in ("resourceId", "tag", "resourceLinkId"):
        if fields.get(name) is not None and not isinstance(fields[name], str):
            return f"{name} must be a string"
    for name in ("startDateTime", "endDateTime"):
        if fields.get(name) is not None and _parse_time(fields[name]) is None:
            return f"{name} must be an ISO 8601 date-time with a time zone"
    if fields.get("gradesReleased") is not None and not isinstance(fields["gradesReleased"],
                                                                    bool):
        return "gradesReleased must be true or false"
    return None


def _bearer_error(status: int, code: str, description: str) -> Response:
    response = jsonify(error=code, error_description=description)
    response.status_code = status
    response.headers["WWW-Authenticate"] = f'Bearer error="{code}", error_description="{description}"'
    return response


def auto_submit_form(action: str, fields: Mapping[str, str], title: str = "LTI") -> str:
    """An HTML page that POSTs ``fields`` to ``action`` as soon as it loads."""
    inputs = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in fields.items())
    return (f"<!doctype html><html><head><meta charset=\"utf-8\"><title>{html.escape(title)}"
            f"</title></head><body><form id=\"lti\" method=\"post\" "
            f"action=\"{html.escape(action)}\">{inputs}<noscript><button>Continue</button>"
            f"</noscript></form><script>document.getElementById('lti').submit()</script>"
            f"</body></html>")

