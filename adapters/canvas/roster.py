"""Roster through the course users API, with email and enrolments.

Canvas enrolment types map onto LIS context roles so the engine sees one vocabulary.
"""

from __future__ import annotations

from collections.abc import Iterator

from lmsbridge.adapters.canvas.client import CanvasClient
from lmsbridge.adapters.canvas.connect import course_path
from lmsbridge.core.api import MemberStatus, RosterMember

LIS = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
ROLE_OF = {
    "StudentEnrollment": LIS + "Learner",
    "TeacherEnrollment": LIS + "Instructor",
    "TaEnrollment": LIS + "TeachingAssistant",
    "DesignerEnrollment": LIS + "ContentDeveloper",
    "ObserverEnrollment": LIS + "Mentor",
}
STATUS_OF = {"active": MemberStatus.ACTIVE, "invited": MemberStatus.ACTIVE,
             "inactive": MemberStatus.INACTIVE, "completed": MemberStatus.INACTIVE,
             "deleted": MemberStatus.DELETED, "rejected": MemberStatus.DELETED}


def read(client: CanvasClient, context_id: str) -> Iterator[RosterMember]:
    params = {"include": ["email", "enrollments"]}
    for user in client.pages(f"{course_path(context_id)}/users", params):
        enrollments = user.get("enrollments") or []
        roles = tuple(dict.fromkeys(ROLE_OF.get(e.get("type"), e.get("type") or "")
                                    for e in enrollments if e.get("type")))
        states = [STATUS_OF.get(e.get("enrollment_state"), MemberStatus.INACTIVE)
                  for e in enrollments]
        status = MemberStatus.ACTIVE if MemberStatus.ACTIVE in states or not states \
            else states[0]
        yield RosterMember(user_id=str(user["id"]), roles=roles, status=status,
                           name=user.get("name"), email=user.get("email") or None,
                           sourced_id=user.get("sis_user_id"))
