"""Blackboard Learn adapter: LTI 1.3 Advantage plus the Learn public REST API."""

from lmsbridge.core.api import AdapterKind, AdapterSpec, Capability, hookimpl


@hookimpl
def lmsbridge_adapter() -> AdapterSpec:
    return AdapterSpec(
        name="blackboard",
        kind=AdapterKind.LMS,
        title="Blackboard Learn",
        capabilities=[Capability.GRADEBOOK_COLUMNS, Capability.GRADE_WRITE, Capability.ROSTER_READ,
                      Capability.CONTENT_PUBLISH, Capability.CONTENT_RETIRE],
    )


@hookimpl
def lmsbridge_platform_setup(urls, tenant):
    from lmsbridge.adapters.blackboard.setup import setup

    return setup(urls, tenant)
