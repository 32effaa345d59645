"""Canvas over LTI Advantage: the core AGS and NRPS clients with Canvas's ways around them.

- Scores carry Canvas's submission extension (``https://canvas.instructure.com/lti/submission``)
  with ``new_submission: false``: a re-sent grade updates the submission rather than adding
  an attempt to its history, and ``submitted_at`` is the grade's own time.
- Canvas refuses a score not newer than the one it holds with 400 "Provided timestamp of …
  before last updated timestamp of …": it holds this or a newer grade, so ``CURRENT``.
  ``scoreGiven`` without ``scoreMaximum`` is 422: ``REJECTED`` with Canvas's reason.
- Canvas throttles its LTI API like its REST API: 429, or 403 "Rate Limit Exceeded"; both
  are ``RETRY``, and nothing more is sent to a throttled Canvas in that call.
- NRPS pages hold at most 50 members; we ask for that many.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from lmsbridge.core.api import (
    ConfigError,
    Context,
    Delivery,
    DeliveryResult,
    MemberStatus,
    NrpsClient,
    Outcome,
    RosterMember,
    Runtime,
    Score,
    ScoreResult,
    Tenant,
    advantage,
)

SUBMISSION_CLAIM = "https://canvas.instructure.com/lti/submission"
#: Canvas's largest NRPS page.
NRPS_PAGE = 50

ensure_columns = advantage.ensure_columns


class CanvasScoreWriter(advantage.ScoreWriter):
    def score(self, delivery: Delivery) -> Score:
        return Score(user_id=delivery.lms_user_id, timestamp=delivery.timestamp,
                     score_given=delivery.score, score_maximum=delivery.max_score,
                     extensions={SUBMISSION_CLAIM: {
                         "new_submission": False,
                         "submitted_at": delivery.timestamp.isoformat()}})

    def classify(self, result: ScoreResult) -> ScoreResult:
        if _throttled(result):
            return ScoreResult(Outcome.RETRY, result.status, result.detail, result.retry_after)
        return result

    def halts(self, result: ScoreResult) -> bool:
        return result.outcome is Outcome.RETRY and (result.status is None or _throttled(result))


def _throttled(result: ScoreResult) -> bool:
    return result.status == 429 or (result.status == 403
                                    and "rate limit exceeded" in result.detail.lower())


def write_grades(tenant: Tenant, context: Context | None, deliveries: Sequence[Delivery],
                 runtime: Runtime) -> list[DeliveryResult]:
    return advantage.write_grades(tenant, context, deliveries, runtime, CanvasScoreWriter)


def read_roster(tenant: Tenant, context: Context, runtime: Runtime) -> Iterator[RosterMember]:
    url = context.memberships_url
    if not url:
        raise ConfigError(f"course {context.context_id!r} of tenant {tenant.name!r} has no NRPS "
                          "memberships URL: enable Names and Roles for the tool, launch once")
    nrps = NrpsClient(advantage.service_for(tenant, url, runtime))
    for member in nrps.memberships(url, limit=NRPS_PAGE):
        yield RosterMember(user_id=member.user_id, roles=member.roles,
                           status=MemberStatus(member.status.lower()),
                           name=member.display_name, email=member.email,
                           sourced_id=member.lis_person_sourcedid)
