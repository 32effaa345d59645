"""Moodle adapter: LTI 1.3 Advantage plus Moodle web services (REST)."""

from lmsbridge.core.api import AdapterKind, AdapterSpec, Capability, hookimpl


@hookimpl
def lmsbridge_adapter() -> AdapterSpec:
    return AdapterSpec(
        name="moodle",
        kind=AdapterKind.LMS,
        title="Moodle",
        capabilities=[Capability.GRADEBOOK_COLUMNS, Capability.GRADE_WRITE, Capability.ROSTER_READ,
                      Capability.CONTENT_RETIRE],
        opt_outs={Capability.CONTENT_PUBLISH: "Moodle has no web service that creates an activity;"
                                              " content is published by LTI deep linking"},
    )


@hookimpl
def lmsbridge_platform_setup(urls, tenant):
    from lmsbridge.adapters.moodle.setup import setup

    return setup(urls, tenant)
