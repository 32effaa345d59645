"""What the mock LTI platform holds, and the seeding methods that fill it.

:class:`PlatformState` is the base of :class:`~lmsbridge.conformance.lti.MockLtiPlatform`:
its configuration, URLs and keys, the tool registration, users, contexts with members,
resource links and line items, and what the services record (launches, tokens, deep
linking responses, LTI 1.1 requests). The service modules (:mod:`.oidc`, :mod:`.token`,
:mod:`.ags`, …) read and change it with ``self.lock`` held.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs
from flask import Response
from joserfc.jwk import RSAKey

from lmsbridge.conformance.lti import keys
from lmsbridge.conformance.lti.records import (
    LINE_ITEM_FIELDS,
    Launch,
    ToolRegistration,
    line_item_problem,
)
from lmsbridge.conformance.lti.vocab import role_uri
from lmsbridge.conformance.lti.wire import bearer_error
from lmsbridge.conformance.mock import MockServer
from lmsbridge.conformance.mock.faults import FaultRule


class PlatformState(MockServer):
    """The platform's state and seeding API; served by ``MockLtiPlatform``."""

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
        self._keys: list[keys.KeyPair] = []
        self.rotate_keys()
        super().__init__(log_size=log_size)

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

    # ======================================================================== keys

    def rotate_keys(self) -> str:
        """Start signing with a new key; older ones stay in the JWKS. Returns the new kid."""
        return keys.add_key(self._keys)

    def public_jwks(self) -> dict[str, Any]:
        return keys.public_jwks(self._keys)

    def sign(self, claims: Mapping[str, Any], headers: Mapping[str, Any] | None = None) -> str:
        """Sign as the platform (current key; ``kid`` header unless ``headers`` drop it)."""
        return keys.sign(self._keys[-1], claims, headers)

    def tool_key(self, kid: str, error: str) -> RSAKey:
        return keys.tool_key(self.tool, kid, error)

    def verify_tool_jwt(self, token: str, error: str) -> dict[str, Any]:
        return keys.verify_tool_jwt(self.tool, token, error)

    def check_times(self, claims: Mapping[str, Any], error: str) -> float:
        return keys.check_times(claims, error, self.clock(), self.leeway)

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
            self.require_context(context_id)
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
            self.require_context(context_id)
            link = {"id": id, "title": title or id, "custom": dict(custom or {}),
                    "url": url, "line_item": None,
                    "members": list(members) if members is not None else None}
            self.resource_links[context_id][id] = link
            if line_item is not None:
                item = self.create_line_item(context_id, {**line_item, "resourceLinkId": id})
                link["line_item"] = item["_n"]
            return link

    def add_line_item(self, context_id: str, **fields: Any) -> dict[str, Any]:
        """Create a line item as an instructor would; returns it in AGS JSON (with ``id``)."""
        with self.lock:
            self.require_context(context_id)
            item = self.create_line_item(context_id, fields)
            return self.line_item_json(context_id, item)

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
        self.launches: dict[str, Launch] = {}
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
                public = self.line_item_json(cid, item) if base else {}
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

    def expired_token_response(self, rule: FaultRule) -> Response:
        """The fault answer for an expired token, as RFC 6750 words it."""
        return bearer_error(401, "invalid_token", "The access token expired")

    # ========================================================== internals (locked)

    def require_context(self, context_id: str) -> dict[str, Any]:
        context = self.contexts.get(context_id)
        if context is None:
            raise KeyError(f"unknown context {context_id!r}; add_context() first")
        return context

    def create_line_item(self, context_id: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Store a valid line item (ValueError naming the problem otherwise)."""
        problem = line_item_problem(fields)
        if problem:
            raise ValueError(problem)
        self.line_item_seq += 1
        item = {k: fields[k] for k in LINE_ITEM_FIELDS if fields.get(k) is not None}
        item.update(_n=self.line_item_seq, scores={}, results={})
        self.line_items[context_id][self.line_item_seq] = item
        return item

    def line_item_json(self, context_id: str, item: Mapping[str, Any]) -> dict[str, Any]:
        """A held line item as AGS answers it (``id`` is its URL)."""
        body = {"id": self.lineitem_url(context_id, item["_n"])}
        body.update({k: item[k] for k in LINE_ITEM_FIELDS if k in item})
        return body

    def fingerprint(self, token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()[:12]
