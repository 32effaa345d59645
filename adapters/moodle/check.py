"""Moodle's connection check: the LTI token endpoint for each platform registration, and,
when the tenant has a ``wstoken``, ``core_webservice_get_site_info``: the token works and
the token's service allows every function the adapter calls."""

from __future__ import annotations

from lmsbridge.adapters.moodle.webservices import WSTOKEN, ws_client
from lmsbridge.adapters.moodle.ws import SERVICES, MoodleError, MoodleTransient
from lmsbridge.core.api import ConfigError, Runtime, Tenant, advantage

#: The web service functions the adapter calls.
FUNCTIONS = ("core_enrol_get_enrolled_users", "mod_lti_get_ltis_by_courses",
             "core_grades_update_grades")


def check(tenant: Tenant, runtime: Runtime) -> list[str]:
    return advantage.check_connection(tenant, runtime) + check_ws(tenant, runtime)


def check_ws(tenant: Tenant, runtime: Runtime) -> list[str]:
    try:
        client = ws_client(tenant, runtime)
    except ConfigError as exc:
        return [str(exc)]
    if client is None:
        return []
    try:
        info = client.site_info()
    except ConfigError as exc:
        return [f"{WSTOKEN}: {exc}"]
    except MoodleTransient as exc:
        return [f"Moodle at {tenant.base_url} could not be reached: {exc.detail}"]
    except MoodleError as exc:
        return [str(exc)]
    allowed = {f.get("name") for f in (info or {}).get("functions") or []}
    return [f"function {name} not in the token's service: add it in {SERVICES} > Functions"
            for name in FUNCTIONS if name not in allowed]
