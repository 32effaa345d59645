"""Coursera adapter: the content-provider side (catalog and learner progress)."""

from lmsbridge.core import AdapterKind, AdapterSpec, Capability, hookimpl


@hookimpl
def lmsbridge_adapter() -> AdapterSpec:
    return AdapterSpec(
        name="coursera",
        kind=AdapterKind.PROVIDER,
        title="Coursera for Business",
        capabilities=[Capability.CATALOG_READ, Capability.PROGRESS_READ],
    )
