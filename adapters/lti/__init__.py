"""Generic LTI 1.3 Advantage adapter: any platform speaking AGS and NRPS (no native REST).

Its hooks are :mod:`lmsbridge.core.lti.advantage` as they are, plus a connection check
(:func:`check_token_endpoint`, which Canvas's LTI mode uses too); its mock platform is
:class:`lmsbridge.conformance.lti.MockLtiPlatform` (``lmsbridge mock lti --port N``).
"""

from __future__ import annotations

from lmsbridge.core.api import (
    SCOPES,
    AdapterKind,
    AdapterSpec,
    Capability,
    Runtime,
    Tenant,
    TokenError,
    advantage,
    hookimpl,
)

REFUSED = ("token endpoint refused our client assertion (check the tool's public key / "
           "client id in the LMS)")
# What each OAuth error code of a token endpoint asks the admin to fix.
_FIX = {
    "invalid_client": REFUSED,
    "unauthorized_client": REFUSED,
    "invalid_grant": "token endpoint refused our client assertion (check the tool's public "
                     "key in the LMS, the registration's token audience and this machine's "
                     "clock)",
    "invalid_scope": "token endpoint refused the AGS/NRPS scopes (enable assignment and grade "
                     "services and names and roles for the tool in the LMS)",
    "unsupported_grant_type": "token URL does not accept client credentials (check the "
                              "registration's token URL)",
}


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
    return check_token_endpoint(tenant, runtime)


def check_token_endpoint(tenant: Tenant, runtime: Runtime) -> list[str]:
    """Ask each of the tenant's platform registrations for a fresh token with the AGS/NRPS
    scopes; one line per registration refused, or granted fewer scopes."""
    problems = []
    for registration in runtime.registrations(tenant):
        where = f"platform {registration.issuer} (client id {registration.client_id})"
        try:
            token = runtime.tokens.token(registration, SCOPES, force=True)
        except TokenError as err:
            problems.append(f"{where}: {_refusal(err)}")
            continue
        missing = sorted(set(SCOPES) - token.scopes)
        if missing:
            problems.append(f"{where}: token endpoint did not grant {' '.join(missing)} "
                            "(enable assignment and grade services and names and roles for "
                            "the tool in the LMS)")
    return problems


def _refusal(err: TokenError) -> str:
    """What to fix, from the OAuth error code; else the error's own line (it names the URL
    and the status, never the assertion)."""
    fix = _FIX.get(err.error or "")
    if fix is None and err.status == 401:
        fix = REFUSED
    if fix is None:
        return str(err).splitlines()[0]
    return f"{fix}: HTTP {err.status} {err.error or ''}".rstrip()
