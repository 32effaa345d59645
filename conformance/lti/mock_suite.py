"""The conformance suite's seeding and read-back protocol for the mock LTI platform.

:class:`LtiSuitePlatform` is a base of :class:`~lmsbridge.conformance.lti.MockLtiPlatform`,
so any adapter whose mock is (or wraps) that platform gets
:class:`~lmsbridge.conformance.suite.platform.SuitePlatform` for free:

- ``connect`` registers the tool with the platform (its own client id and deployment, the
  tool's public keys inline) and records the tenant and its platform registration;
- ``seed_context`` makes a course shell with members and records the Context as a launch
  from it would (AGS line items and NRPS memberships URLs in the ``contexts`` table);
- ``held_columns``/``held_grades``/``held_content`` read line items, accepted scores and
  resource links back from the platform itself, not from anything the adapter said.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from lmsbridge.conformance.suite.platform import HeldColumn, HeldContent, HeldGrade, SeedMember
from lmsbridge.core import keys
from lmsbridge.core.lti.keys import ToolKeyring
from lmsbridge.core.lti.routing import COURSE, ITEM
from lmsbridge.core.model import Context, PlatformRegistration, Tenant

if TYPE_CHECKING:
    from lmsbridge.core.store import Store

#: Where the suite's tenants say the tool lives (the mock never calls it for services).
TOOL_URL = "https://tool.lmsbridge.test"


class LtiSuitePlatform:
    """Mixin for :class:`MockLtiPlatform`: uses its seeding methods (``register_tool``,
    ``add_context``, ``add_member``…), URLs and state (``line_items``, ``resource_links``)."""

    #: NRPS gives email when the platform shares it with the tool (the mock always does).
    roster_has_email = True
    _suite_store: Store | None = None
    _suite_tenant: str | None = None

    def connect(self, store: Store, name: str) -> Tenant:
        """A tenant of kind ``lti`` whose registration points here, the tool's keys known
        to the platform (as an admin pastes them when installing the tool)."""
        keyring = ToolKeyring(store)
        keyring.current()  # the tool's signing key exists before the platform is told of it
        self.register_tool(client_id=f"lmsbridge-{name}", deployment_ids=[f"1:{name}"],
                           jwks=keyring.jwks(), login_url=f"{TOOL_URL}/lti/login",
                           launch_url=f"{TOOL_URL}/lti/launch",
                           deep_link_url=f"{TOOL_URL}/lti/launch")
        tenant = store.tenants.add(Tenant(name, "lti", base_url=self.url))
        store.platforms.add(PlatformRegistration(**self.registration(name)))
        self._suite_store, self._suite_tenant = store, name
        return tenant

    def seed_context(self, context_id: str, members: Sequence[SeedMember]) -> Context:
        """The course shell and its members here, and the Context a launch from it would
        have recorded in the store."""
        store, tenant = self._suite_store, self._suite_tenant
        if store is None or tenant is None:
            raise RuntimeError("connect(store, name) before seed_context()")
        self.add_context(context_id, title=f"Course {context_id}")
        for member in members:
            self.add_user(member.user_id, name=member.name, email=member.email)
            self.add_member(context_id, member.user_id, roles=member.roles)
        context = Context(tenant=tenant, context_id=context_id, title=f"Course {context_id}",
                          lineitems_url=self.lineitems_url(context_id),
                          memberships_url=self.memberships_url(context_id))
        record_context(store, context)
        return context

    def held_columns(self, context_id: str | None) -> list[HeldColumn]:
        with self.lock:
            return [HeldColumn(self.lineitem_url(context_id, n), item["label"],
                               item["scoreMaximum"], item.get("resourceId") or item.get("tag"))
                    for n, item in self.line_items.get(context_id or "", {}).items()]

    def held_grades(self, context_id: str | None) -> list[HeldGrade]:
        """Each user's result per line item; ``changes`` counts accepted scores that changed
        ``scoreGiven`` (a re-send of the same score changes nothing)."""
        out = []
        with self.lock:
            for n, item in self.line_items.get(context_id or "", {}).items():
                for user_id, result in item["results"].items():
                    if result["resultScore"] is None:
                        continue
                    out.append(HeldGrade(self.lineitem_url(context_id, n), user_id,
                                         result["resultScore"], result["resultMaximum"],
                                         score_changes(item["scores"][user_id])))
        return out

    def held_content(self, context_id: str | None) -> list[HeldContent]:
        """Resource links in the course (LTI cannot hide one, so none is ever retired)."""
        with self.lock:
            links = list(self.resource_links.get(context_id or "", {}).values())
        return [HeldContent(link["id"], link["title"], link["url"] or "",
                            content_key(link["custom"], link["url"])) for link in links]


def record_context(store: Store, context: Context) -> None:
    """Insert or update the context row, as a launch from it records it."""
    with store.transaction() as conn:
        store.launches.upsert_context(
            conn, store.tenants.id_of(conn, context.tenant), context.context_id,
            title=context.title, lineitems_url=context.lineitems_url,
            memberships_url=context.memberships_url)


def score_changes(scores: Sequence[Mapping[str, Any]]) -> int:
    """How many accepted scores changed the ``scoreGiven`` held before them."""
    given = [s.get("scoreGiven") for s in scores]
    return sum(1 for before, now in zip([None, *given], given, strict=False) if now != before)


def content_key(custom: Mapping[str, Any], url: str | None) -> str | None:
    """Which of our contents a launch of this link opens: its custom parameters, else the
    query of its URL (what lmsbridge's launch reads, see core/lti/routing.py)."""
    query = {k: v[0] for k, v in parse_qs(urlsplit(url or "").query).items()}
    for source in (custom, query):
        if source.get(ITEM):
            return keys.item(source[ITEM])
        if source.get(COURSE):
            return keys.course(source[COURSE])
    return None
