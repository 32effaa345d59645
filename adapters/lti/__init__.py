"""Generic LTI 1.3 Advantage adapter: any platform speaking AGS and NRPS (no native REST)."""

from lmsbridge.core import AdapterKind, AdapterSpec, Capability, hookimpl


@hookimpl
def lmsbridge_adapter() -> AdapterSpec:
    return AdapterSpec(
        name="lti",
        kind=AdapterKind.LMS,
        title="Any LTI 1.3 Advantage platform",
        capabilities=[Capability.GRADEBOOK_COLUMNS, Capability.GRADE_WRITE,
                      Capability.ROSTER_READ, Capability.CONTENT_RETIRE],
        opt_outs={Capability.CONTENT_PUBLISH: "LTI has no publishing service; content is"
                                              " published by deep linking"},
    )
