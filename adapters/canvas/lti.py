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
from urllib.parse import urlsplit

from lmsbridge.core.errors import ConfigError
from lmsbridge.core.lti import advantage
from lmsbridge.core.lti.ags import AgsClient, Score, ScoreResult
from lmsbridge.core.lti.nrps import NrpsClient
from lmsbridge.core.lti.service_errors import ServiceError, TokenError
from lmsbridge.core.model import (
    Context,
    Delivery,
    DeliveryResult,
    MemberStatus,
    Outcome,
    RosterMember,
    Tenant,
)
from lmsbridge.core.runtime import Runtime

SUBMISSION_CLAIM = "https://canvas.instructure.com/lti/submission"
#: Canvas's largest NRPS page.
NRPS_PAGE = 50

ensure_columns = advantage.ensure_columns


def score_for(delivery: Delivery) -> Score:
    return Score(user_id=delivery.lms_user_id, timestamp=delivery.timestamp,
                 score_given=delivery.score, score_maximum=delivery.max_score,
                 extensions={SUBMISSION_CLAIM: {
                     "new_submission": False,
                     "submitted_at": delivery.timestamp.isoformat()}})


def _throttled(result: ScoreResult) -> bool:
    return result.status == 429 or (result.status == 403
                                    and "rate limit exceeded" in result.detail.lower())


def write_grades(tenant: Tenant, context: Context | None, deliveries: Sequence[Delivery],
                 runtime: Runtime) -> list[DeliveryResult]:
    if context is None:
        return [DeliveryResult(d.dedupe_key, Outcome.REJECTED,
                               "Canvas LTI grades need a course context") for d in deliveries]
    clients: dict[str, AgsClient] = {}
    by_key: dict[str, str] | None = None
    halted: ScoreResult | None = None
    results = []
    for delivery in deliveries:
        if halted is not None:
            results.append(DeliveryResult(delivery.dedupe_key, Outcome.RETRY,
                                          f"not sent: {halted.detail}", halted.retry_after))
            continue
        try:
            url = delivery.column_ref
            if url is None:
                if by_key is None:
                    by_key = _line_items_by_key(tenant, context, runtime)
                url = by_key.get(delivery.column_key)
            if not url:
                result = ScoreResult(Outcome.REJECTED, None, f"no line item for column "
                                     f"{delivery.column_key!r} in course {context.context_id!r}")
            else:
                host = urlsplit(url).netloc
                if host not in clients:
                    clients[host] = AgsClient(advantage.service_for(tenant, url, runtime))
                result = clients[host].post_score(url, score_for(delivery))
        except TokenError as exc:  # fixed by an admin, not by dropping the grade
            result = ScoreResult(Outcome.RETRY, None, str(exc), exc.retry_after)
        except ServiceError as exc:  # the line item listing failed
            result = ScoreResult(exc.outcome, exc.status, f"line item lookup failed: {exc}",
                                 exc.retry_after)
        except ConfigError as exc:
            result = ScoreResult(Outcome.REJECTED, None, str(exc))
        if _throttled(result):
            result = ScoreResult(Outcome.RETRY, result.status, result.detail, result.retry_after)
        if result.outcome is Outcome.RETRY and (result.status is None or _throttled(result)):
            halted = result  # throttled, unreachable or no token: the rest would fare alike
        results.append(DeliveryResult(delivery.dedupe_key, result.outcome, result.detail,
                                      result.retry_after))
    return results


def _line_items_by_key(tenant: Tenant, context: Context, runtime: Runtime) -> dict[str, str]:
    url = context.lineitems_url
    if not url:
        raise ConfigError(f"course {context.context_id!r} of tenant {tenant.name!r} has no AGS "
                          "line items URL: launch the tool from it once")
    ags = AgsClient(advantage.service_for(tenant, url, runtime))
    out: dict[str, str] = {}
    for item in ags.line_items(url):
        for key in (item.resource_id, item.tag):
            if key and item.id:
                out.setdefault(key, item.id)
    return out


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
