"""Generic LTI 1.3 Advantage adapter: any platform speaking AGS and NRPS (no native REST).

Its hooks are :mod:`lmsbridge.core.lti.advantage` as they are (the connection check
included); its mock platform is
:class:`lmsbridge.conformance.lti.MockLtiPlatform` (``lmsbridge mock lti --port N``).
"""

from __future__ import annotations

from lmsbridge.core.api import AdapterKind, AdapterSpec, Capability, advantage, hookimpl


@hookimpl
def lmsbridge_adapter() -> AdapterSpec:
    return AdapterSpec(
        name="lti",
        kind=AdapterKind.LMS,
        title="Any LTI 1.3 Advantage platform",
        capabilities=[Capability.GRADEBOOK_COLUMNS, Capability.GRADE_WRITE,
                      Capability.ROSTER_READ, Capability.CONTENT_RETIRE,
                      Capability.CONNECTION_CHECK],
        opt_outs={Capability.CONTENT_PUBLISH: "LTI has no publishing service; content is"
                                              " published by deep linking"},
        max_in_flight=16,
    )


@hookimpl
def lmsbridge_mock_platform():
    from lmsbridge.conformance.lti import MockLtiPlatform

    return MockLtiPlatform()


@hookimpl
def lmsbridge_ensure_columns(tenant, context, columns, runtime):
    return advantage.ensure_columns(tenant, context, columns, runtime)


@hookimpl
def lmsbridge_write_grades(tenant, context, deliveries, runtime):
    return advantage.write_grades(tenant, context, deliveries, runtime)


@hookimpl
def lmsbridge_read_roster(tenant, context, runtime):
    return advantage.read_roster(tenant, context, runtime)


@hookimpl
def lmsbridge_retire_content(tenant, context, publications, runtime):
    return advantage.retire_content(tenant, context, publications, runtime)


@hookimpl
def lmsbridge_check_connection(tenant, runtime):
    return advantage.check_connection(tenant, runtime)
