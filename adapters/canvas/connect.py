"""Which way to reach a tenant's Canvas: REST when it has an api_token, else LTI Advantage."""

from __future__ import annotations

from lmsbridge.adapters.canvas.client import CanvasClient
from lmsbridge.core.api import ConfigError, NotFound, Runtime, Tenant

API_TOKEN = "api_token"


def rest_client(tenant: Tenant, runtime: Runtime) -> CanvasClient | None:
    """A REST client when the tenant has an ``api_token`` secret, else None (LTI path)."""
    try:
        token = runtime.secret(tenant, API_TOKEN)
    except NotFound:
        return None
    if not tenant.base_url:
        raise ConfigError(f"tenant {tenant.name!r} has an api_token but no base_url: set the "
                          "Canvas URL (e.g. https://school.instructure.com)")
    return CanvasClient(tenant.base_url, token, runtime.session(), runtime.timeout)


def course_path(context_id: str) -> str:
    """Canvas API path of the course a Context names.

    The REST path keys contexts by Canvas course id; an LTI context id (an opaque hash) does
    not work here, so a tenant using both stores the course id as the context id.
    """
    return f"/courses/{context_id}"
