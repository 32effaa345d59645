"""The conformance suite's seeding and read-back protocol for :class:`~.mock.MockOracle`.

Oracle Learning has no course shells and no gradebook: the suite's "content" is the provider
resource, and its "grades" are the completion statements the LRS stored, read back the way
Oracle would turn them into transcript rows (content matched by content URL, learner by user
name or work email, latest completion wins). See ``lmsbridge.conformance.suite.platform``.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from lmsbridge.adapters.oracle import resources as r
from lmsbridge.adapters.oracle.auth import PROVIDER_ROLE, generate_keypair
from lmsbridge.adapters.oracle.mapping import ORACLE_ATTRIBUTE_NAMES, ORACLE_STATUS_CODES
from lmsbridge.adapters.oracle.xapi import VERBS
from lmsbridge.conformance.suite.platform import HeldContent, HeldGrade, SeedMember
from lmsbridge.core.api import Secret, Tenant

if TYPE_CHECKING:
    from lmsbridge.core.api import Store

#: The integration user a connected tenant acts as; Oracle's setup guide (step 6) suggests
#: this user name.
SUITE_USER = "user.coursera"
_URL = ORACLE_ATTRIBUTE_NAMES["content_url"]
_TITLE = ORACLE_ATTRIBUTE_NAMES["title"]
_STATUS = ORACLE_ATTRIBUTE_NAMES["status"]
_COMPLETED = VERBS["completion"]["id"]


class OracleSuitePlatform:
    """Mixed into MockOracle; relies on its state, ``trust`` and ``add_user``."""

    lock: threading.RLock
    content: dict[str, dict[str, Any]]
    statements: dict[str, dict[str, Any]]
    learners: dict[str, SeedMember]
    url: str

    #: The suite lowers it before seeding; every ADF page is capped at it.
    max_page_size: int = r.MAX_LIMIT
    #: Oracle has no rosters.
    roster_has_email = False
    #: Oracle takes whole courses as content, never their quizzes or assignments.
    whole_courses = True

    def connect(self, store: Store, name: str) -> Tenant:
        """A tenant on this pod as Oracle's setup guide (steps 5-9) leaves it: a fresh key
        whose certificate the pod trusts for issuer ``lmsbridge.<name>``, the integration user
        with the provider duty, learners identified by Oracle user name."""
        keys = generate_keypair(f"lmsbridge {name}")
        issuer = f"lmsbridge.{name}"
        self.trust(issuer, keys.certificate_pem)
        self.add_user(SUITE_USER, [PROVIDER_ROLE])
        tenant = store.tenants.add(Tenant(
            name=name, kind="oracle", base_url=self.url,
            options={"issuer": issuer, "username": SUITE_USER, "identify_by": "username"}))
        store.tenants.set_secret(name, "private_key", Secret(keys.private_key_pem.decode()))
        store.tenants.set_secret(name, "certificate", Secret(keys.certificate_pem.decode()))
        return tenant

    def seed_context(self, context_id: str, members: Sequence[SeedMember]) -> None:
        """No course shells: the members become Oracle users (their user name is
        ``user_id``), which completions are matched against."""
        with self.lock:
            for member in members:
                self.learners[member.user_id] = member

    def held_content(self, context_id: str | None) -> list[HeldContent]:
        with self.lock:
            return [HeldContent(platform_ref=str(c[r.CONTENT_ID]), title=str(c.get(_TITLE, "")),
                                url=str(c.get(_URL, "")), content_key=c.get(r.PROVIDER_CONTENT_ID),
                                retired=c.get(_STATUS) == ORACLE_STATUS_CODES["inactive"])
                    for c in self.content.values()]

    def held_grades(self, context_id: str | None) -> list[HeldGrade]:
        """One row per (content, learner): the latest completion's score; ``changes`` counts
        the stored completions that changed the score (a re-sent statement is not stored)."""
        with self.lock:
            by_url = {c.get(_URL): str(c[r.CONTENT_ID]) for c in self.content.values()}
            history: dict[tuple[str, str], list[tuple[str, str, dict[str, Any]]]] = {}
            for statement in self.statements.values():
                if statement["verb"]["id"] != _COMPLETED:
                    continue
                ref = by_url.get(statement["object"]["id"], statement["object"]["id"])
                score = (statement.get("result") or {}).get("score") or {}
                history.setdefault((ref, self._learner_of(statement["actor"])), []).append(
                    (statement["timestamp"], statement["stored"], score))
        out = []
        for (ref, user), rows in sorted(history.items()):
            rows.sort(key=lambda row: (row[0], row[1]))
            scores = [row[2].get("raw") for row in rows]
            changes = sum(1 for before, now in zip([None, *scores], scores, strict=False)
                          if now != before)
            last = rows[-1][2]
            out.append(HeldGrade(ref, user, float(last.get("raw", 0)),
                                 float(last.get("max", 0)), changes))
        return out

    def _learner_of(self, actor: dict[str, Any]) -> str:
        """The seeded user a statement's actor names (by user name or work email)."""
        if "account" in actor:
            return str(actor["account"]["name"])
        email = str(actor.get("mbox", "")).removeprefix("mailto:")
        return next((m.user_id for m in self.learners.values() if m.email == email), email)
