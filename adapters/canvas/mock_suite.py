"""The conformance suite's seeding and read-back protocol for the Canvas mock.

:class:`CanvasSuitePlatform` is a base of :class:`~lmsbridge.adapters.canvas.mock.CanvasMock`.
The suite connects a tenant both ways (``connect_modes``): with an ``api_token`` (REST) and
without (LTI Advantage, through a platform registration). ``seed_context`` makes the course
on both sides, and the ``held_*`` methods read back from both: assignments and graded
submissions made over REST, line items and results of scores sent over AGS, module items.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from lmsbridge.conformance.lti.mock_suite import score_changes
from lmsbridge.conformance.suite.platform import HeldColumn, HeldContent, HeldGrade, SeedMember
from lmsbridge.core.api import (
    COURSE,
    ITEM,
    PROGRAM,
    Capability,
    Context,
    PlatformRegistration,
    Secret,
    Tenant,
    ToolKeyring,
    keys,
)

if TYPE_CHECKING:
    from lmsbridge.core.api import Store

#: Where the suite's tenants say the tool lives.
TOOL_URL = "https://tool.lmsbridge.test"
ENROLLMENT_OF = {"Learner": "StudentEnrollment", "Instructor": "TeacherEnrollment",
                 "TeachingAssistant": "TaEnrollment", "ContentDeveloper": "DesignerEnrollment",
                 "Mentor": "ObserverEnrollment"}
#: What LTI Advantage alone cannot do: content is placed by deep linking, not by a service.
LTI_LACKS = "placed by deep linking (no api_token)"


class CanvasSuitePlatform:
    """Mixin for :class:`CanvasMock`: uses its ``token``, ``url``, ``lock``, REST state and
    seeding methods (``add_course``, ``add_user``, ``enrol``) and its LTI side ``lti``."""

    #: How the suite may connect a tenant, and what each way cannot do (with the reason).
    connect_modes = {"rest": {},
                     "lti": {Capability.CONTENT_PUBLISH: LTI_LACKS,
                             Capability.CONTENT_RETIRE: LTI_LACKS}}
    tenant_name = "canvas"  # set by connect()

    def connect(self, store: Store, name: str, mode: str = "rest") -> Tenant:
        """A tenant served over REST (``api_token``) or, with ``mode="lti"``, over LTI
        Advantage: no token, a platform registration, the tool's keys known to Canvas."""
        if mode not in self.connect_modes:
            raise ValueError(f"mode must be one of {', '.join(self.connect_modes)}")
        tenant = store.tenants.add(Tenant(name, "canvas", base_url=self.url,
                                          options={"tool_url": TOOL_URL}))
        if mode == "rest":
            store.tenants.set_secret(name, "api_token", Secret(self.token))
        else:
            keyring = ToolKeyring(store)
            keyring.current()  # the tool's signing key exists before Canvas is told of it
            self.lti.register_tool(client_id=f"lmsbridge-{name}",
                                   deployment_ids=[f"1:{name}"],
                                   jwks=keyring.jwks(),
                                   launch_url=TOOL_URL + "/lti/launch")
            store.platforms.add(PlatformRegistration(**self.lti.registration(name)))
        self.tenant_name = name
        return tenant

    def seed_context(self, context_id: str, members: Sequence[SeedMember]) -> Context:
        """The course on both sides: REST course and enrolments, LTI context and members."""
        with self.lock:
            self.add_course(context_id, f"Course {context_id}")
            for member in members:
                self.add_user(member.user_id, member.name, member.email)
                for role in member.roles:
                    self.enrol(context_id, member.user_id, ENROLLMENT_OF[role])
        with self.lti.lock:
            self.lti.add_context(context_id, title=f"Course {context_id}")
            for member in members:
                self.lti.add_user(member.user_id, name=member.name, email=member.email)
                self.lti.add_member(context_id, member.user_id, roles=member.roles)
        return Context(tenant=self.tenant_name, context_id=context_id,
                       title=f"Course {context_id}",
                       lineitems_url=self.lti.lineitems_url(context_id),
                       memberships_url=self.lti.memberships_url(context_id))

    def held_columns(self, context_id: str | None) -> list[HeldColumn]:
        """Assignments made over REST and line items made over AGS."""
        with self.lock:
            out = [HeldColumn(a["id"], a["name"], a["points_possible"], a["integration_id"])
                   for a in self.assignments.values() if a["course_id"] == context_id]
        with self.lti.lock:
            for n, item in self.lti.line_items.get(context_id or "", {}).items():
                out.append(HeldColumn(self.lti.lineitem_url(context_id, n), item["label"],
                                      item["scoreMaximum"], item.get("resourceId")))
        return out

    def held_grades(self, context_id: str | None) -> list[HeldGrade]:
        """Graded submissions made over REST and results of scores sent over AGS."""
        with self.lock:
            self._run_jobs(everything=True)
            out = []
            for (assignment_id, user_id), sub in self.submissions.items():
                assignment = self.assignments[assignment_id]
                if assignment["course_id"] == context_id and sub["score"] is not None:
                    out.append(HeldGrade(assignment_id, user_id, sub["score"],
                                         assignment["points_possible"], sub["changes"]))
        with self.lti.lock:
            for n, item in self.lti.line_items.get(context_id or "", {}).items():
                for user_id, result in item["results"].items():
                    if result["resultScore"] is None:
                        continue
                    out.append(HeldGrade(self.lti.lineitem_url(context_id, n), user_id,
                                         result["resultScore"], result["resultMaximum"],
                                         score_changes(item["scores"][user_id])))
        return out

    def held_content(self, context_id: str | None) -> list[HeldContent]:
        with self.lock:
            out = []
            for item in self.module_items.values():
                if self.modules[item["module_id"]]["course_id"] != context_id:
                    continue
                out.append(HeldContent(item["id"], item["title"], item["external_url"],
                                       _content_key(item["external_url"]),
                                       retired=not item["published"]))
            return out



def _content_key(url: str | None) -> str | None:
    """Which of our contents a launch of ``url`` opens (what lmsbridge's launch reads)."""
    if not url:
        return None
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    if query.get(ITEM):
        return keys.item(query[ITEM])
    if query.get(COURSE) and query.get(PROGRAM):
        return keys.course(query[COURSE])
    return None
