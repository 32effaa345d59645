"""Coursera adapter: the content-provider side (catalog and learner progress).

A provider is registered with ``lmsbridge provider add`` (base URL, organisation id); its
``client_id`` and ``client_secret`` live in the store's secrets under ``provider:<name>``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

from lmsbridge.adapters.coursera import mapping
from lmsbridge.adapters.coursera.client import CourseraClient
from lmsbridge.adapters.coursera.mock import MockCoursera
from lmsbridge.adapters.coursera.retry import ProviderError
from lmsbridge.core.api import (
    AdapterKind,
    AdapterSpec,
    Capability,
    Program,
    Progress,
    Provider,
    Runtime,
    hookimpl,
)

DEFAULT_BASE_URL = "https://api.coursera.com"


@hookimpl
def lmsbridge_adapter() -> AdapterSpec:
    return AdapterSpec(
        name="coursera",
        kind=AdapterKind.PROVIDER,
        title="Coursera for Business",
        capabilities=[Capability.CATALOG_READ, Capability.PROGRESS_READ],
    )


@hookimpl
def lmsbridge_mock_platform() -> MockCoursera:
    return MockCoursera()


def client_for(provider: Provider, runtime: Runtime) -> CourseraClient:
    if not provider.org_id:
        raise ProviderError(f"provider {provider.name!r} has no organisation id "
                            "(`lmsbridge provider add … --org-id`)")
    return CourseraClient(provider.base_url or DEFAULT_BASE_URL, provider.org_id,
                          runtime.secret(provider, "client_id").reveal(),
                          runtime.secret(provider, "client_secret"),
                          runtime.session(), timeout=runtime.timeout)


@hookimpl
def lmsbridge_read_catalog(provider: Provider, program_ids: Sequence[str],
                           runtime: Runtime) -> list[Program]:
    client = client_for(provider, runtime)
    wanted = set(program_ids)
    return [mapping.program(element, client.contents(str(element["id"])))
            for element in client.programs() if str(element["id"]) in wanted]


@hookimpl
def lmsbridge_read_progress(provider: Provider, since: datetime | None,
                            runtime: Runtime) -> Iterator[Progress]:
    client = client_for(provider, runtime)  # here, so a missing secret fails the call
    since_ms = None if since is None else mapping.to_ms(since)
    return (p for record in client.enrollment_reports(since_ms)
            for p in mapping.progress(record, since))
