"""Canvas adapter: LTI 1.3 Advantage (AGS, NRPS) plus the Canvas REST API."""

from lmsbridge.core import AdapterKind, AdapterSpec, Capability, hookimpl


@hookimpl
def lmsbridge_adapter() -> AdapterSpec:
    return AdapterSpec(
        name="canvas",
        kind=AdapterKind.LMS,
        title="Canvas LMS",
        capabilities=[Capability.GRADEBOOK_COLUMNS, Capability.GRADE_WRITE, Capability.ROSTER_READ,
                      Capability.CONTENT_PUBLISH, Capability.CONTENT_RETIRE],
    )
