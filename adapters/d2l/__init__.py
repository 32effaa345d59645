"""D2L Brightspace adapter: LTI 1.3 Advantage plus the Brightspace Valence REST API."""

from lmsbridge.core.api import AdapterKind, AdapterSpec, Capability, hookimpl


@hookimpl
def lmsbridge_adapter() -> AdapterSpec:
    return AdapterSpec(
        name="d2l",
        kind=AdapterKind.LMS,
        title="D2L Brightspace",
        capabilities=[Capability.GRADEBOOK_COLUMNS, Capability.GRADE_WRITE, Capability.ROSTER_READ,
                      Capability.CONTENT_PUBLISH, Capability.CONTENT_RETIRE],
    )


@hookimpl
def lmsbridge_platform_setup(urls, tenant):
    from lmsbridge.adapters.d2l.setup import setup

    return setup(urls, tenant)
