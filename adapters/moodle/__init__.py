"""Moodle adapter: LTI 1.3 Advantage with Moodle's answers, plus Moodle web services.

Over LTI (the default) columns, grades and the roster go over AGS and NRPS through core's
Advantage helpers: Moodle's line item URLs carry ``?type_id=N`` (the AGS client adds
``/scores`` to the path), a stale score is refused with 409 (core counts it ``CURRENT``:
Moodle holds this or a newer grade), and NRPS sends the whole roster in one page unless
asked for less. A tenant with a ``wstoken`` secret also uses web services
(:mod:`.webservices`): the roster with email and roles, and grades into the LTI
activities our links made, one call per activity. Its mock is
:class:`~lmsbridge.adapters.moodle.mock.MockMoodle` (``lmsbridge mock moodle --port N``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from lmsbridge.adapters.moodle import webservices as ws
from lmsbridge.core.api import (
    AdapterKind,
    AdapterSpec,
    Capability,
    Context,
    Delivery,
    DeliveryResult,
    GradebookColumn,
    Outcome,
    RosterMember,
    Runtime,
    Tenant,
    advantage,
    evolve,
    hookimpl,
)


@hookimpl
def lmsbridge_adapter() -> AdapterSpec:
    return AdapterSpec(
        name="moodle",
        kind=AdapterKind.LMS,
        title="Moodle",
        capabilities=[Capability.GRADEBOOK_COLUMNS, Capability.GRADE_WRITE, Capability.ROSTER_READ,
                      Capability.CONTENT_RETIRE, Capability.CONNECTION_CHECK],
        opt_outs={Capability.CONTENT_PUBLISH: "Moodle has no web service that creates an activity;"
                                              " content is published by LTI deep linking"},
        max_in_flight=8,
    )


@hookimpl
def lmsbridge_mock_platform():
    from lmsbridge.adapters.moodle.mock import MockMoodle

    return MockMoodle()


@hookimpl
def lmsbridge_ensure_columns(tenant: Tenant, context: Context,
                             columns: Sequence[GradebookColumn],
                             runtime: Runtime) -> list[GradebookColumn]:
    client = ws.ws_client(tenant, runtime)
    if client is None or not columns:
        return advantage.ensure_columns(tenant, context, columns, runtime)
    found = ws.activities_by_key(client, context)
    state = runtime.state(tenant)
    out: dict[int, GradebookColumn] = {}
    for n, column in enumerate(columns):
        activity = found.get(column.key)
        if activity is not None:
            cmid = int(activity["coursemodule"])
            state.put(f"grademax:{cmid}", float(activity.get("grade") or 0))
            out[n] = evolve(column, platform_ref=f"{ws.CM_PREFIX}{cmid}")
    rest = [n for n in range(len(columns)) if n not in out]
    if rest:  # no web service creates a grade item: these are AGS line items
        made = advantage.ensure_columns(tenant, context, [columns[n] for n in rest], runtime)
        out.update(zip(rest, made, strict=True))
    return [out[n] for n in range(len(columns))]


@hookimpl
def lmsbridge_write_grades(tenant: Tenant, context: Context | None,
                           deliveries: Sequence[Delivery],
                           runtime: Runtime) -> list[DeliveryResult]:
    over_ws, over_ags = [], []
    for d in deliveries:
        (over_ws if str(d.column_ref or "").startswith(ws.CM_PREFIX) else over_ags).append(d)
    results: dict[str, DeliveryResult] = {}
    if over_ags:
        for r in advantage.write_grades(tenant, context, over_ags, runtime):
            results[r.dedupe_key] = r
    if over_ws:
        client = ws.ws_client(tenant, runtime)
        if client is None:
            for d in over_ws:
                results[d.dedupe_key] = DeliveryResult(
                    d.dedupe_key, Outcome.RETRY,
                    f"column {d.column_key!r} is a Moodle activity and tenant {tenant.name!r} "
                    "has no wstoken: set it with `lmsbridge tenant set-secret`")
        else:
            state = runtime.state(tenant)
            cmids = {int(str(d.column_ref)[len(ws.CM_PREFIX):]) for d in over_ws}
            top = {cmid: float(state.get(f"grademax:{cmid}") or 0) for cmid in cmids}
            for r in ws.write_grades(client, over_ws, top):
                results[r.dedupe_key] = r
    return [results[d.dedupe_key] for d in deliveries]


@hookimpl
def lmsbridge_read_roster(tenant: Tenant, context: Context,
                          runtime: Runtime) -> Iterator[RosterMember]:
    client = ws.ws_client(tenant, runtime)
    if client is None:
        return advantage.read_roster(tenant, context, runtime)
    return ws.read_roster(client, context)


@hookimpl
def lmsbridge_retire_content(tenant, context, publications, runtime):
    return advantage.retire_content(tenant, context, publications, runtime)


@hookimpl
def lmsbridge_check_connection(tenant: Tenant, runtime: Runtime) -> list[str]:
    from lmsbridge.adapters.moodle.check import check

    return check(tenant, runtime)


@hookimpl
def lmsbridge_platform_setup(urls, tenant):
    from lmsbridge.adapters.moodle.setup import setup

    return setup(urls, tenant)
