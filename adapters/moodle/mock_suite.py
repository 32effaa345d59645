"""The conformance suite's seeding and read-back protocol for the Moodle mock.

:class:`MoodleSuitePlatform` is a base of :class:`~lmsbridge.adapters.moodle.mock.MockMoodle`
(listed first; the mock LTI platform's ``seed_context`` and ``held_*`` do the LTI side). The
suite connects a tenant two ways (``connect_modes``): ``lti``, a platform registration whose
issuer is the site URL and whose deployment id is the tool type id; and ``ws``, the same
plus a ``wstoken`` secret, so the roster and activity grades go over web services. A
seeded course is a Moodle course on both sides, its id (a number, as Moodle's LTI context
id is the course id) the Context's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from lmsbridge.conformance.lti.mock_suite import LtiSuitePlatform
from lmsbridge.conformance.suite.platform import HeldGrade, SeedMember
from lmsbridge.core.api import Context, PlatformRegistration, Secret, Tenant, ToolKeyring

if TYPE_CHECKING:
    from lmsbridge.core.api import Store

#: Where the suite's tenants say the tool lives (the mock never calls it for services).
TOOL_URL = "https://tool.lmsbridge.test"


class MoodleSuitePlatform:
    """Mixin for :class:`MockMoodle`: uses its ``type_id``, ``url``, ``register_tool``,
    ``registration``, web service state (``add_course``, ``add_ws_user``, ``enrol``,
    ``activities``, ``ws_grades``) and the mock LTI platform's suite methods."""

    #: How the suite may connect a tenant, and what each way cannot do (with the reason).
    connect_modes: dict[str, dict] = {"lti": {}, "ws": {}}
    #: Both NRPS and core_enrol_get_enrolled_users give email.
    roster_has_email = True
    _suite_store: Store | None = None
    _suite_tenant: str | None = None
    _suite_courses: dict[str, int]

    def connect(self, store: Store, name: str, mode: str = "lti") -> Tenant:
        """A tenant of kind ``moodle`` registered as Moodle's "Manage tools" would have it:
        the tool's keys pasted in, one deployment (the tool type id); with ``ws`` also the
        site's web service token."""
        me: Any = self
        if mode not in self.connect_modes:
            raise ValueError(f"mode must be one of {', '.join(self.connect_modes)}")
        keyring = ToolKeyring(store)
        keyring.current()  # the tool's signing key exists before Moodle is told of it
        me.register_tool(client_id=f"lmsbridge-{name}", deployment_ids=[str(me.type_id)],
                         jwks=keyring.jwks(), login_url=f"{TOOL_URL}/lti/login",
                         launch_url=f"{TOOL_URL}/lti/launch",
                         deep_link_url=f"{TOOL_URL}/lti/launch")
        tenant = store.tenants.add(Tenant(name, "moodle", base_url=me.url,
                                          options={"tool_url": TOOL_URL}))
        store.platforms.add(PlatformRegistration(**me.registration(name)))
        if mode == "ws":
            store.tenants.set_secret(name, "wstoken", Secret(me.wstoken))
        self._suite_store, self._suite_tenant = store, name
        self._suite_courses = {}
        return tenant

    def seed_context(self, context_id: str, members: Sequence[SeedMember]) -> Context:
        """A Moodle course (a new course id) with these members, on both sides."""
        me: Any = self
        with me.lock:
            course = me._id()
            me.add_course(course, f"Course {context_id}", context_id)
            for member in members:
                me.add_ws_user(member.user_id, member.user_id, member.name, member.email)
                me.enrol(course, member.user_id, list(member.roles))
        self._suite_courses[context_id] = course
        return LtiSuitePlatform.seed_context(self, str(course), members)  # type: ignore[arg-type]

    def held_grades(self, context_id: str | None) -> list[HeldGrade]:
        """Results of scores sent over AGS and grades written over web services."""
        me: Any = self
        out = LtiSuitePlatform.held_grades(self, context_id)  # type: ignore[arg-type]
        with me.lock:
            for (cmid, _, user), held in me.ws_grades.items():
                activity = me.activities[cmid]
                if str(activity["course"]) == context_id and held["grade"] is not None:
                    out.append(HeldGrade(f"moodle:cm:{cmid}", str(user), held["grade"],
                                         activity["grade"], held["changes"]))
        return out
