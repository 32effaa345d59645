"""Hook implementations any LTI 1.3 Advantage platform can use: AGS columns and scores, NRPS
rosters, and what LTI can (not) do about retired content.

The generic ``lti`` adapter registers these as they are; an LMS adapter reuses them for its
LTI path and adds its quirks around them::

    from lmsbridge.core import hookimpl
    from lmsbridge.core.lti import advantage

    @hookimpl
    def lmsbridge_write_grades(tenant, context, deliveries, runtime):
        return advantage.write_grades(tenant, context, deliveries, runtime)

Each call finds the tenant's platform registration (``runtime.registrations``), signs token
requests with the tool's keys (``runtime.keyring``), and talks through ``runtime.session()``
(our User-Agent). Access tokens are cached per runtime, per (registration, scopes), and each
operation asks only for the scope it needs (``lineitem``, ``score``,
``contextmembership.readonly``), so a platform that granted the tool fewer services still
serves the others.

- :func:`ensure_columns`: one listing of the context's line items (every page), matched on
  ``platform_ref``, then ``resourceId`` then ``tag`` equal to ``column.key``, then the line
  item the platform made with the column's deep-linked resource link; only what is missing
  is created, with ``resourceId = tag = column.key``. Safe to repeat after a lost
  answer: the second call finds what the first created.
- :func:`write_grades`: one score per delivery, one :class:`DeliveryResult` per delivery by
  ``dedupe_key``. ``CURRENT`` when the platform already holds that or a newer score;
  ``RETRY`` for throttling, 5xx, network trouble and an answer that cannot be read (see
  :mod:`~lmsbridge.core.lti.ags`); after a 429, a network failure, an answer cut short or
  too large, or a token failure the remaining deliveries are not sent and come back ``RETRY`` too (with the
  platform's ``Retry-After``).
- :func:`read_roster`: NRPS members to the last page, as :class:`RosterMember`.
- :func:`retire_content`: LTI has no service to remove a resource link, so nothing is marked
  retired; each stale link is logged for an instructor to remove.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from lmsbridge.core.errors import ConfigError
from lmsbridge.core.lti.ags import AgsClient, LineItem, Score, ScoreResult
from lmsbridge.core.lti.nrps import NrpsClient
from lmsbridge.core.lti.service import ServiceClient
from lmsbridge.core.lti.service_errors import ServiceError, TokenError
from lmsbridge.core.lti.setup import SCOPES
from lmsbridge.core.lti.token import TokenService
from lmsbridge.core.model import (
    Context,
    Delivery,
    DeliveryResult,
    GradebookColumn,
    MemberStatus,
    Outcome,
    PlatformRegistration,
    Publication,
    RosterMember,
    Tenant,
    evolve,
)

if TYPE_CHECKING:
    from lmsbridge.core.runtime import Runtime

log = logging.getLogger(__name__)

__all__ = ["ensure_columns", "read_roster", "registration_for", "retire_content",
           "service_for", "tokens_for", "write_grades"]


# ================================================================ plumbing


def tokens_for(runtime: Runtime) -> TokenService:
    """The runtime's token service (one per runtime, so tokens are reused across calls)."""
    return runtime.tokens


def registration_for(tenant: Tenant, url: str, runtime: Runtime) -> PlatformRegistration:
    """The tenant's registration serving ``url``: the only one, or the one whose issuer or
    token URL shares the service URL's host."""
    registrations = runtime.registrations(tenant)
    if not registrations:
        raise ConfigError(f"tenant {tenant.name!r} has no LTI platform registration "
                          f"(add one with `lmsbridge platform add --tenant {tenant.name} …`)")
    if len(registrations) == 1:
        return registrations[0]
    host = urlsplit(url).netloc
    matches = [r for r in registrations
               if host in (urlsplit(r.issuer).netloc, urlsplit(r.auth_token_url).netloc)]
    if len(matches) == 1:
        return matches[0]
    raise ConfigError(f"tenant {tenant.name!r} has {len(registrations)} LTI registrations and "
                      f"none is clearly the one serving {host}")


def service_for(tenant: Tenant, url: str, runtime: Runtime) -> ServiceClient:
    return ServiceClient(registration_for(tenant, url, runtime), tokens_for(runtime),
                         runtime.session(), timeout=runtime.timeout)


def _need(url: str | None, what: str, context: Context) -> str:
    if not url:
        raise ConfigError(f"context {context.context_id!r} of tenant {context.tenant!r} has no "
                          f"{what} URL: the platform did not offer the service in a launch "
                          f"from it yet (enable it for the tool, then launch once)")
    return url


def _index(items: Sequence[LineItem]) -> tuple[dict[str, LineItem], dict[str, LineItem]]:
    """Line items by id, and by our key (resourceId first, tag second)."""
    by_id = {item.id: item for item in items if item.id}
    by_key: dict[str, LineItem] = {}
    for field in ("resource_id", "tag"):
        for item in items:
            key = getattr(item, field)
            if key:
                by_key.setdefault(key, item)
    return by_id, by_key


def _link_item(items: Iterable[LineItem], resource_link_id: str | None) -> LineItem | None:
    """The line item the platform made with a deep-linked resource link (its ``lineItem``)
    is that link's column: adopt it rather than add a second one."""
    if not resource_link_id:
        return None
    return next((i for i in items if i.resource_link_id == resource_link_id), None)


# ================================================================ gradebook


def ensure_columns(tenant: Tenant, context: Context, columns: Sequence[GradebookColumn],
                   runtime: Runtime) -> list[GradebookColumn]:
    url = _need(context.lineitems_url, "AGS line items", context)
    ags = AgsClient(service_for(tenant, url, runtime))
    by_id, by_key = _index(list(ags.line_items(url)))
    ensured = []
    for column in columns:
        item = (by_id.get(column.platform_ref) if column.platform_ref else None) \
            or by_key.get(column.key) or _link_item(by_id.values(), column.resource_link_id)
        if item is None:
            item = ags.create_line_item(url, LineItem(
                label=column.label, score_maximum=column.score_maximum,
                resource_id=column.key, tag=column.key,
                resource_link_id=column.resource_link_id))
            log.info("created line item %s for %s in context %s", item.id, column.key,
                     context.context_id)
            by_key[column.key] = item
        ensured.append(evolve(column, platform_ref=item.id))
    return ensured


def write_grades(tenant: Tenant, context: Context | None, deliveries: Sequence[Delivery],
                 runtime: Runtime, writer: type[ScoreWriter] | None = None,
                 ) -> list[DeliveryResult]:
    """One result per delivery. Once the platform throttles or can't be reached, the rest
    are not sent (they would fare alike) and come back RETRY. ``writer`` lets an LMS
    adapter add its quirks (Canvas: a submission claim, its 403 throttle signal)."""
    if context is None:
        return [DeliveryResult(d.dedupe_key, Outcome.REJECTED,
                               "LTI grades need a context (course shell)") for d in deliveries]
    scores = (writer or ScoreWriter)(tenant, context, runtime)
    halted: ScoreResult | None = None
    results = []
    for delivery in deliveries:
        if halted is not None:
            results.append(DeliveryResult(delivery.dedupe_key, Outcome.RETRY,
                                          f"not sent: {halted.detail}", halted.retry_after))
            continue
        outcome = scores.write(delivery)
        results.append(DeliveryResult(delivery.dedupe_key, outcome.outcome, outcome.detail,
                                      outcome.retry_after))
        if scores.halts(outcome):
            halted = outcome
    return results


class ScoreWriter:
    """Scores for one context; the line item listing is read once, and only when a
    delivery lacks its ``column_ref``. Subclasses adjust ``score`` and ``classify``."""

    def __init__(self, tenant: Tenant, context: Context, runtime: Runtime) -> None:
        self.tenant, self.context, self.runtime = tenant, context, runtime
        self._clients: dict[str, AgsClient] = {}
        self._by_key: dict[str, LineItem] | None = None

    def client(self, url: str) -> AgsClient:
        host = urlsplit(url).netloc
        if host not in self._clients:
            self._clients[host] = AgsClient(service_for(self.tenant, url, self.runtime))
        return self._clients[host]

    def lineitem_url(self, column_key: str) -> str | None:
        if self._by_key is None:
            url = _need(self.context.lineitems_url, "AGS line items", self.context)
            self._by_key = _index(list(self.client(url).line_items(url)))[1]
        item = self._by_key.get(column_key)
        return item.id if item else None

    def score(self, delivery: Delivery) -> Score:
        return Score(user_id=delivery.lms_user_id, timestamp=delivery.timestamp,
                     score_given=delivery.score, score_maximum=delivery.max_score)

    def classify(self, result: ScoreResult) -> ScoreResult:
        """The platform's answer as an outcome; the AGS client's mapping by default."""
        return result

    def halts(self, result: ScoreResult) -> bool:
        """Throttled, unreachable or no token: the rest of this call would fare alike."""
        return result.outcome is Outcome.RETRY and result.status in (None, 429)

    def write(self, delivery: Delivery) -> ScoreResult:
        try:
            url = delivery.column_ref or self.lineitem_url(delivery.column_key)
            if url is None:
                return ScoreResult(Outcome.REJECTED, None, f"no line item for column "
                                   f"{delivery.column_key!r} in context {delivery.context_id!r}")
            return self.classify(self.client(url).post_score(url, self.score(delivery)))
        except TokenError as exc:
            # A token the platform won't give is fixed by an admin, not by dropping the grade.
            return ScoreResult(Outcome.RETRY, None, str(exc), exc.retry_after)
        except ServiceError as exc:  # the line item listing failed
            return ScoreResult(exc.outcome, exc.status, f"line item lookup failed: {exc}",
                               exc.retry_after)
        except (ConfigError, ValueError) as exc:
            return ScoreResult(Outcome.REJECTED, None, str(exc))


# ================================================================== roster


def read_roster(tenant: Tenant, context: Context, runtime: Runtime) -> Iterator[RosterMember]:
    url = _need(context.memberships_url, "NRPS memberships", context)
    for member in NrpsClient(service_for(tenant, url, runtime)).memberships(url):
        yield RosterMember(
            user_id=member.user_id, roles=member.roles,
            status=MemberStatus(member.status.lower()), name=member.display_name,
            email=member.email, sourced_id=member.lis_person_sourcedid)


# ================================================================= content


def retire_content(tenant: Tenant, context: Context | None, publications: Sequence[Publication],
                   runtime: Runtime) -> list[Publication]:
    """LTI cannot remove or hide a resource link: report each one stale, retire none."""
    for publication in publications:
        log.warning("tenant %s: the LTI link to %s in context %s points at retired content; "
                    "an instructor must remove it (LTI offers no service to do so)",
                    tenant.name, publication.key, publication.context_id or "-")
    return list(publications)


# --- connection check ----------------------------------------------------------------

REFUSED = ("token endpoint refused our client assertion (check the tool's public key / "
           "client id in the LMS)")
# What each OAuth error code of a token endpoint asks the admin to fix.
_FIX = {
    "invalid_client": REFUSED,
    "unauthorized_client": REFUSED,
    "invalid_grant": "token endpoint refused our client assertion (check the tool's public "
                     "key in the LMS, the registration's token audience and this machine's "
                     "clock)",
    "invalid_scope": "token endpoint refused the AGS/NRPS scopes (enable assignment and grade "
                     "services and names and roles for the tool in the LMS)",
    "unsupported_grant_type": "token URL does not accept client credentials (check the "
                              "registration's token URL)",
}


def check_connection(tenant: Tenant, runtime: Runtime) -> list[str]:
    """Ask each of the tenant's platform registrations for a fresh token with the AGS/NRPS
    scopes; one line per registration refused, or granted fewer scopes."""
    problems = []
    for registration in runtime.registrations(tenant):
        where = f"platform {registration.issuer} (client id {registration.client_id})"
        try:
            token = runtime.tokens.token(registration, SCOPES, force=True)
        except TokenError as err:
            problems.append(f"{where}: {_refusal(err)}")
            continue
        missing = sorted(set(SCOPES) - token.scopes)
        if missing:
            problems.append(f"{where}: token endpoint did not grant {' '.join(missing)} "
                            "(enable assignment and grade services and names and roles for "
                            "the tool in the LMS)")
    return problems


def _refusal(err: TokenError) -> str:
    """What to fix, from the OAuth error code; else the error's own line (it names the URL
    and the status, never the assertion)."""
    fix = _FIX.get(err.error or "")
    if fix is None and err.status == 401:
        fix = REFUSED
    if fix is None:
        return str(err).splitlines()[0]
    return f"{fix}: HTTP {err.status} {err.error or ''}".rstrip()
