"""Which platform registration a login or launch belongs to.

(issuer, client_id) identifies a registration; Canvas and Blackboard use one issuer for every
customer, so where several registrations share them the deployment id decides. A request that
fits none is refused as an unknown issuer (401); one that fits several is malformed (400):
it must name its client id or deployment id.
"""

from __future__ import annotations

from lmsbridge.core.lti.errors import LaunchError
from lmsbridge.core.model import PlatformRegistration
from lmsbridge.core.store.platforms import Platforms


def find_registration(platforms: Platforms, issuer: str, client_id: str | None,
                      deployment_id: str | None) -> PlatformRegistration:
    matches = [r for r in platforms.list() if r.issuer == issuer
               and (client_id is None or r.client_id == client_id)]
    if deployment_id is not None and len(matches) > 1:
        matches = [r for r in matches if deployment_id in r.deployment_ids]
    if not matches:
        what = f"issuer {issuer!r:.200}"
        if client_id is not None:
            what += f" with client id {client_id!r:.200}"
        raise LaunchError("registration_unknown", f"no platform is registered for {what}", 401)
    if len(matches) > 1:
        raise LaunchError("registration_ambiguous",
                          f"issuer {issuer!r:.200} has {len(matches)} registrations; the "
                          "request must name its client_id and lti_deployment_id", 400)
    return matches[0]
