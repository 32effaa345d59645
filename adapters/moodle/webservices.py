"""Moodle over web services, for a tenant with a ``wstoken`` secret.

- The roster comes from ``core_enrol_get_enrolled_users`` (with email and Moodle roles,
  mapped to LIS context roles), paged with ``limitfrom``/``limitnumber``.
- A column whose key an LTI activity of the course carries (our deep-linked links: custom
  parameter or launch URL query) is that activity's grade item (itemnumber 0); its ref is
  ``moodle:cm:<course module id>``. Moodle has no web service that creates a grade item or
  an activity, so other columns are AGS line items.
- Grades into such activities go in one ``core_grades_update_grades`` call per activity,
  for all its learners; Moodle keeps no timestamps there, so a re-send writes the same
  value again (harmless).

The LTI context id Moodle sends is the course id, which these calls take.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import parse_qs, urlsplit

from lmsbridge.adapters.moodle.ws import MoodleError, MoodleTransient, MoodleWsClient
from lmsbridge.core.api import (
    COURSE,
    ITEM,
    ConfigError,
    Context,
    Delivery,
    DeliveryResult,
    NotFound,
    Outcome,
    RosterMember,
    Runtime,
    Tenant,
    keys,
)

WSTOKEN = "wstoken"
CM_PREFIX = "moodle:cm:"
LIS = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
#: Moodle's standard role shortnames as LIS context roles.
ROLES = {"student": (LIS + "Learner",), "editingteacher": (LIS + "Instructor",),
         "teacher": (LIS + "Instructor",
                     "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor"
                     "#TeachingAssistant"),
         "manager": (LIS + "Administrator",), "coursecreator": (LIS + "ContentDeveloper",),
         "guest": (LIS + "Learner",)}
#: Users per core_enrol_get_enrolled_users page.
PAGE = 100
#: core_grades_update_grades answers.
UPDATE_ANSWERS = {1: "GRADE_UPDATE_FAILED", 2: "GRADE_UPDATE_MULTIPLE",
                  3: "GRADE_UPDATE_ITEM_LOCKED"}


def ws_client(tenant: Tenant, runtime: Runtime) -> MoodleWsClient | None:
    """A web service client when the tenant has a ``wstoken`` secret, else None."""
    try:
        token = runtime.secret(tenant, WSTOKEN)
    except NotFound:
        return None
    if not tenant.base_url:
        raise ConfigError(f"tenant {tenant.name!r} has a wstoken but no base_url: set the "
                          "Moodle site URL (e.g. https://moodle.example.edu)")
    return MoodleWsClient(tenant.base_url, token, runtime.session(), runtime.timeout)


def course_id(context_id: str) -> int:
    try:
        return int(context_id)
    except ValueError:
        raise ConfigError(f"context {context_id!r} is not a Moodle course id") from None


def read_roster(client: MoodleWsClient, context: Context) -> Iterator[RosterMember]:
    for user in client.enrolled_users(course_id(context.context_id), PAGE):
        roles: list[str] = []
        for role in user.get("roles") or []:
            roles += ROLES.get(role.get("shortname", ""), ())
        yield RosterMember(user_id=str(user["id"]), roles=tuple(dict.fromkeys(roles)),
                           name=user.get("fullname") or None, email=user.get("email") or None)


def activity_key(activity: dict[str, Any]) -> str | None:
    """Which of our contents an LTI activity launches: custom parameters, else its URL."""
    custom = dict(line.split("=", 1) for line in
                  str(activity.get("instructorcustomparameters") or "").splitlines()
                  if "=" in line)
    query = {k: v[0] for k, v in parse_qs(urlsplit(str(activity.get("toolurl") or "")).query)
             .items()}
    for source in (custom, query):
        if source.get(ITEM):
            return keys.item(source[ITEM].strip())
        if source.get(COURSE):
            return keys.course(source[COURSE].strip())
    return None


def activities_by_key(client: MoodleWsClient, context: Context) -> dict[str, dict[str, Any]]:
    out = {}
    for activity in client.lti_activities(course_id(context.context_id)):
        key = activity_key(activity)
        if key and key not in out:
            out[key] = activity
    return out


def write_grades(client: MoodleWsClient, deliveries: Sequence[Delivery],
                 grade_max: dict[int, float]) -> list[DeliveryResult]:
    """Deliveries whose ``column_ref`` names an activity; one call per (course, activity).
    ``grade_max`` is each activity's maximum grade (the delivery's score is scaled to it)."""
    batches: dict[tuple[int, int], list[Delivery]] = {}
    for d in deliveries:
        cmid = int(str(d.column_ref)[len(CM_PREFIX):])
        batches.setdefault((course_id(d.context_id), cmid), []).append(d)
    results: dict[str, DeliveryResult] = {}
    for (course, cmid), batch in batches.items():
        top = grade_max.get(cmid)
        rows = [{"studentid": d.lms_user_id,
                 "grade": round(d.score * top / d.max_score, 5) if top and d.max_score
                 else d.score} for d in batch]
        try:
            answer = client.update_grades(course, cmid, rows)
        except MoodleTransient as exc:
            outcome = (Outcome.RETRY, exc.detail, exc.retry_after)
        except ConfigError as exc:  # token or service setup: fixed by an admin, then re-sent
            outcome = (Outcome.RETRY, str(exc), None)
        except MoodleError as exc:
            outcome = (Outcome.REJECTED, str(exc), None)
        else:
            outcome = (Outcome.DELIVERED, "", None) if answer == 0 else \
                (Outcome.REJECTED, f"core_grades_update_grades answered {answer} "
                                   f"({UPDATE_ANSWERS.get(answer, 'unknown')})", None)
        for d in batch:
            results[d.dedupe_key] = DeliveryResult(d.dedupe_key, outcome[0], outcome[1],
                                                   outcome[2])
    return [results[d.dedupe_key] for d in deliveries]
