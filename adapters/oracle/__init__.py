"""Oracle Learning adapter: content push over JWT-authenticated REST, completions as xAPI.

The hooks are thin: :mod:`.publish` upserts and deactivates content, :mod:`.completions` turns
deliveries into statements, :mod:`.connect` builds the client a tenant's options ask for.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from lmsbridge.core.api import (
    AdapterKind,
    AdapterSpec,
    Capability,
    ConfigError,
    Context,
    Delivery,
    DeliveryResult,
    Publication,
    Runtime,
    Tenant,
    hookimpl,
)

log = logging.getLogger(__name__)


@hookimpl
def lmsbridge_adapter() -> AdapterSpec:
    return AdapterSpec(
        name="oracle",
        kind=AdapterKind.LEARNING,
        title="Oracle Learning",
        capabilities=[Capability.CONTENT_PUBLISH, Capability.CONTENT_RETIRE,
                      Capability.GRADE_WRITE, Capability.CONNECTION_CHECK],
    )


@hookimpl
def lmsbridge_mock_platform():
    from lmsbridge.adapters.oracle.mock import MockOracle

    return MockOracle()


@hookimpl
def lmsbridge_register_commands(cli) -> None:
    from lmsbridge.adapters.oracle.cli import oracle

    cli.add_command(oracle)


@hookimpl
def lmsbridge_check_connection(tenant: Tenant, runtime: Runtime) -> list[str]:
    """What ``lmsbridge oracle check`` checks: the pod authenticates us and has our learning
    provider; refusals in the setup guide's words (:func:`.diagnose.explain`)."""
    from lmsbridge.adapters.oracle import resources as r
    from lmsbridge.adapters.oracle.client import OracleError
    from lmsbridge.adapters.oracle.connect import connect
    from lmsbridge.adapters.oracle.diagnose import explain

    try:
        options, client = connect(tenant, runtime, max_attempts=2)
    except ConfigError as err:  # a missing option, key or secret, named in the message
        return [str(err)]
    try:
        provider = client.find_one(r.PROVIDERS_PATH, r.PROVIDER_CODE, options.provider_code)
    except OracleError as err:
        return [f"{options.base_url}: {explain(err, options)}"]
    if provider is None:
        return [f"{options.base_url}: authenticated, but Oracle has no learning provider "
                f"{options.provider_code!r}: enable it with 'Configure External Providers' "
                "(Oracle's setup guide, step 7)"]
    return []


#: The engine retries and schedules: inside a hook each request is tried once (see connect).
HOOK_ATTEMPTS = 1


def _publisher(tenant: Tenant, runtime: Runtime):
    from lmsbridge.adapters.oracle.connect import connect
    from lmsbridge.adapters.oracle.ledger import ContentLedger
    from lmsbridge.adapters.oracle.publish import ContentPublisher

    options, client = connect(tenant, runtime, max_attempts=HOOK_ATTEMPTS)
    return ContentPublisher(options, client, ContentLedger(runtime.state(tenant)))


class Published(list):
    """The publications a hook returns, with the run's counts (``created``, ``updated``,
    ``unchanged``, ``deactivated``, ``skipped``, ``failed``) for the engine's report."""

    counts: dict[str, int]


def _run(action: str, tenant: Tenant, runtime: Runtime,
         publications: Sequence[Publication]) -> list[Publication]:
    """Publish or retire, logging one INFO line of counts per run, even when it is cut short.

    The returned publications carry the per-item result an admin sees (``platform_ref``, the
    Oracle content id, and ``retired``); the counts are in this log line and on the returned
    list (:class:`Published`).
    """
    from lmsbridge.adapters.oracle.client import OracleError
    from lmsbridge.adapters.oracle.diagnose import explain
    from lmsbridge.adapters.oracle.publish import PublishReport

    report = PublishReport()
    publisher = _publisher(tenant, runtime)
    call = publisher.publish if action == "publish" else publisher.retire
    try:
        out, _ = call(publications, report)
    except Exception as err:
        log.info("oracle %s tenant=%s interrupted (%s) %s", action, tenant.name,
                 type(err).__name__, report.summary())
        if isinstance(err, OracleError) and err.status in (401, 403):
            # Refused as a whole: say what the admin must fix, in Oracle's setup guide's words.
            raise OracleError(f"tenant {tenant.name!r}: {explain(err, publisher.options)}",
                              status=err.status, code=err.code) from None
        raise
    log.info("oracle %s tenant=%s %s", action, tenant.name, report.summary())
    for key, why in {**report.skipped_why, **report.failed}.items():
        log.warning("oracle %s tenant=%s content=%s not done: %s", action, tenant.name, key, why)
    answer = Published(out)
    answer.counts = {"created": report.created, "updated": report.updated,
                     "unchanged": report.unchanged, "deactivated": report.deactivated,
                     "skipped": report.skipped, "failed": len(report.failed)}
    return answer


@hookimpl
def lmsbridge_publish_content(tenant: Tenant, context: Context | None,
                              publications: Sequence[Publication],
                              runtime: Runtime) -> list[Publication]:
    return _run("publish", tenant, runtime, publications)


@hookimpl
def lmsbridge_retire_content(tenant: Tenant, context: Context | None,
                             publications: Sequence[Publication],
                             runtime: Runtime) -> list[Publication]:
    return _run("retire", tenant, runtime, publications)


@hookimpl
def lmsbridge_write_grades(tenant: Tenant, context: Context | None,
                           deliveries: Sequence[Delivery],
                           runtime: Runtime) -> list[DeliveryResult]:
    from lmsbridge.adapters.oracle.completions import CompletionWriter
    from lmsbridge.adapters.oracle.connect import connect

    options, client = connect(tenant, runtime, max_attempts=HOOK_ATTEMPTS)
    results = CompletionWriter(runtime.state(tenant), options, client).write(deliveries)
    counts: dict[str, int] = {}
    for result in results:
        counts[result.outcome] = counts.get(result.outcome, 0) + 1
    log.info("oracle completions tenant=%s %s", tenant.name,
             " ".join(f"{k}={v}" for k, v in sorted(counts.items())) or "none")
    return results
