"""Canvas adapter: LTI 1.3 Advantage (AGS, NRPS) plus the Canvas REST API.

A tenant with an ``api_token`` secret is served over REST (assignments with
``integration_id``, bulk grade writes, the course users API with email, module items); the
others over LTI Advantage (the default), through the core AGS/NRPS clients with Canvas's
quirks (:mod:`.lti`). Publishing and retiring module items need the REST API.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from lmsbridge.adapters.canvas import columns as canvas_columns
from lmsbridge.adapters.canvas import content, grades, lti, roster
from lmsbridge.adapters.canvas.client import CanvasClient
from lmsbridge.adapters.canvas.connect import rest_client
from lmsbridge.adapters.canvas.errors import CanvasTransient
from lmsbridge.core.api import (
    AdapterError,
    AdapterKind,
    AdapterSpec,
    Capability,
    Context,
    Delivery,
    DeliveryResult,
    GradebookColumn,
    Outcome,
    Publication,
    RosterMember,
    Runtime,
    Tenant,
    hookimpl,
)


@hookimpl
def lmsbridge_adapter() -> AdapterSpec:
    return AdapterSpec(
        name="canvas",
        kind=AdapterKind.LMS,
        title="Canvas LMS",
        capabilities=[Capability.GRADEBOOK_COLUMNS, Capability.GRADE_WRITE, Capability.ROSTER_READ,
                      Capability.CONTENT_PUBLISH, Capability.CONTENT_RETIRE,
                      Capability.CONNECTION_CHECK],
        # Canvas's leaky bucket is per token; a few requests at once stay well inside it.
        max_in_flight=4,
    )


@hookimpl
def lmsbridge_mock_platform():
    from lmsbridge.adapters.canvas.mock import CanvasMock

    return CanvasMock()


def _rest(tenant: Tenant, runtime: Runtime, what: str) -> CanvasClient:
    client = rest_client(tenant, runtime)
    if client is None:
        raise AdapterError(f"Canvas {what} needs the REST API, and tenant {tenant.name!r} has "
                           "no api_token (over LTI Advantage content is placed by deep "
                           "linking)")
    return client


@hookimpl
def lmsbridge_ensure_columns(tenant: Tenant, context: Context,
                             columns: Sequence[GradebookColumn],
                             runtime: Runtime) -> list[GradebookColumn]:
    client = rest_client(tenant, runtime)
    if client is None:
        return lti.ensure_columns(tenant, context, columns, runtime)
    return canvas_columns.ensure(client, context, columns)


@hookimpl
def lmsbridge_write_grades(tenant: Tenant, context: Context | None,
                           deliveries: Sequence[Delivery],
                           runtime: Runtime) -> list[DeliveryResult]:
    client = rest_client(tenant, runtime)
    if client is None:
        return lti.write_grades(tenant, context, deliveries, runtime)
    by_context: dict[str, list[Delivery]] = {}
    for delivery in deliveries:
        by_context.setdefault(delivery.context_id, []).append(delivery)
    results: dict[str, DeliveryResult] = {}
    for context_id, batch in by_context.items():
        try:
            for result in grades.write(client, context_id, batch):
                results[result.dedupe_key] = result
        except CanvasTransient as exc:  # e.g. the integration_id lookup failed
            for d in batch:
                results[d.dedupe_key] = DeliveryResult(d.dedupe_key, Outcome.RETRY, exc.detail,
                                                       exc.retry_after)
    return [results[d.dedupe_key] for d in deliveries]


@hookimpl
def lmsbridge_read_roster(tenant: Tenant, context: Context,
                          runtime: Runtime) -> Iterator[RosterMember]:
    client = rest_client(tenant, runtime)
    if client is None:
        return lti.read_roster(tenant, context, runtime)
    return roster.read(client, context.context_id)


def _context_id(context: Context | None, publications: Sequence[Publication]) -> str:
    ids = {p.context_id for p in publications} | ({context.context_id} if context else set())
    ids.discard(None)
    if len(ids) != 1:
        raise AdapterError("Canvas publishes into one course per call; got course ids "
                           f"{sorted(ids) or 'none'}")
    return ids.pop()


@hookimpl
def lmsbridge_publish_content(tenant: Tenant, context: Context | None,
                              publications: Sequence[Publication],
                              runtime: Runtime) -> list[Publication]:
    if not publications:
        return []
    client = _rest(tenant, runtime, "content publishing")
    return content.publish(client, tenant, _context_id(context, publications), publications)


@hookimpl
def lmsbridge_retire_content(tenant: Tenant, context: Context | None,
                             publications: Sequence[Publication],
                             runtime: Runtime) -> list[Publication]:
    if not publications:
        return []
    client = _rest(tenant, runtime, "content retirement")
    return content.retire(client, tenant, _context_id(context, publications), publications)


@hookimpl
def lmsbridge_check_connection(tenant: Tenant, runtime: Runtime) -> list[str]:
    from lmsbridge.adapters.canvas.check import check

    return check(tenant, runtime)


@hookimpl
def lmsbridge_platform_setup(urls, tenant):
    from lmsbridge.adapters.canvas.setup import setup

    return setup(urls, tenant)
