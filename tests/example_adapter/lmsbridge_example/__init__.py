"""Example LMS adapter: a third-party lmsbridge adapter package, as an integrator ships one.

It declares gradebook columns, grade writes and roster reads, opts out of content
publishing with a reason, and brings its own mock platform for the conformance suite.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

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
    evolve,
    hookimpl,
)
from lmsbridge_example.client import ExampleClient, Refused, Transient

LIS = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
PUBLISH_OPT_OUT = "Example LMS has no API to create links; content arrives by deep linking"


@hookimpl
def lmsbridge_adapter() -> AdapterSpec:
    return AdapterSpec(
        name="example", kind=AdapterKind.LMS, title="Example LMS",
        capabilities=[Capability.GRADEBOOK_COLUMNS, Capability.GRADE_WRITE,
                      Capability.ROSTER_READ],
        opt_outs={Capability.CONTENT_PUBLISH: PUBLISH_OPT_OUT})


@hookimpl
def lmsbridge_mock_platform():
    from lmsbridge_example.mock import ExampleMock

    return ExampleMock()


def _client(tenant: Tenant, runtime: Runtime) -> ExampleClient:
    token = runtime.secret(tenant, "api_token").reveal()
    return ExampleClient(tenant.base_url or "", token, runtime.session(), runtime.timeout)


@hookimpl
def lmsbridge_ensure_columns(tenant: Tenant, context: Context,
                             columns: Sequence[GradebookColumn],
                             runtime: Runtime) -> list[GradebookColumn]:
    client = _client(tenant, runtime)
    path = f"/courses/{context.context_id}/columns"
    # Look up by our key first: a retry after a lost answer finds what it created.
    found = {c["key"]: c for c in client.pages(path)}
    out = []
    for column in columns:
        held = found.get(column.key)
        if held is None:
            held = found[column.key] = client.call("POST", path, {
                "key": column.key, "label": column.label, "maximum": column.score_maximum})
        out.append(evolve(column, platform_ref=held["id"]))
    return out


@hookimpl
def lmsbridge_write_grades(tenant: Tenant, context: Context | None,
                           deliveries: Sequence[Delivery],
                           runtime: Runtime) -> list[DeliveryResult]:
    client = _client(tenant, runtime)
    results = []
    throttled: Transient | None = None
    for d in deliveries:
        if throttled is not None:  # the platform asked us to wait: leave the rest for later
            results.append(DeliveryResult(d.dedupe_key, Outcome.RETRY, throttled.detail,
                                          throttled.retry_after))
            continue
        if d.column_ref is None:
            results.append(DeliveryResult(d.dedupe_key, Outcome.REJECTED,
                                          "no column_ref: ensure the column first"))
            continue
        path = f"/courses/{d.context_id}/columns/{d.column_ref}/scores/{d.lms_user_id}"
        try:
            # A PUT of the same score is harmless, so a re-send never doubles a grade.
            client.call("PUT", path, {"score": d.score, "timestamp": d.timestamp.isoformat()})
            results.append(DeliveryResult(d.dedupe_key, Outcome.DELIVERED))
        except Transient as exc:
            results.append(DeliveryResult(d.dedupe_key, Outcome.RETRY, exc.detail,
                                          exc.retry_after))
            if exc.retry_after is not None:
                throttled = exc
        except Refused as exc:
            outcome = Outcome.CURRENT if exc.status == 409 else Outcome.REJECTED
            results.append(DeliveryResult(d.dedupe_key, outcome, str(exc)))
    return results


@hookimpl
def lmsbridge_read_roster(tenant: Tenant, context: Context,
                          runtime: Runtime) -> Iterator[RosterMember]:
    client = _client(tenant, runtime)
    for member in client.pages(f"/courses/{context.context_id}/members"):
        yield RosterMember(member["id"], [LIS + r for r in member["roles"]],
                           name=member["name"], email=member.get("email"))
