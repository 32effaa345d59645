"""Canvas's connection check: the LTI token endpoint for each platform registration, and
the REST API when the tenant has an ``api_token``."""

from __future__ import annotations

import requests

from lmsbridge.adapters.canvas.connect import API_TOKEN
from lmsbridge.core.api import (
    JSON_LIMIT,
    NotFound,
    Runtime,
    Tenant,
    advantage,
    failure,
    is_transient,
    platform_message,
    read_capped,
    redact,
)

#: The cheapest authenticated call: the token's own user.
SELF_PATH = "/api/v1/users/self"


def check(tenant: Tenant, runtime: Runtime) -> list[str]:
    """One line per problem with the tenant's LTI registrations or its REST API token."""
    return advantage.check_connection(tenant, runtime) + check_rest(tenant, runtime)


def check_rest(tenant: Tenant, runtime: Runtime) -> list[str]:
    """``GET /api/v1/users/self`` with the tenant's api_token; nothing to check without one
    (the tenant is served over LTI Advantage)."""
    try:
        token = runtime.secret(tenant, API_TOKEN)
    except NotFound:
        return []
    if not tenant.base_url:
        return ["tenant has an api_token but no base_url: the Canvas URL (e.g. "
                "https://school.instructure.com) is needed for REST calls"]
    url = tenant.base_url.rstrip("/") + SELF_PATH
    try:
        response = runtime.session().get(
            url, headers={"Authorization": f"Bearer {token.reveal()}",
                          "Accept": "application/json"},
            timeout=runtime.timeout, stream=True)
        read_capped(response, JSON_LIMIT)
    except requests.RequestException as exc:
        return [f"Canvas at {tenant.base_url} could not be reached: {failure(exc)}"]
    status = response.status_code
    if status == 401:
        return [f"api_token invalid or expired (Canvas answered 401 to GET {SELF_PATH}): make "
                f"a new access token in Canvas and store it with `lmsbridge tenant set-secret "
                f"{tenant.name} {API_TOKEN}`"]
    if status == 404:
        return [f"no Canvas API at {tenant.base_url} (GET {SELF_PATH} answered 404): check "
                "the tenant's base_url"]
    if status >= 400:
        later = ", try again later" if is_transient(status) else ""
        return [f"Canvas answered {status} to GET {SELF_PATH}: "
                f"{redact(platform_message(response))}{later}"]
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or "id" not in body:
        return [f"Canvas answered GET {SELF_PATH} without a user: is {tenant.base_url} a "
                "Canvas instance?"]
    return []
