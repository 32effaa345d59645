"""Records the mock LTI platform holds: the tool registration, launches, line item fields."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import attrs

from lmsbridge.conformance.lti.vocab import ALL_SCOPES
from lmsbridge.conformance.lti.wire import is_number, parse_time


@attrs.define
class ToolRegistration:
    """The tool as the platform's admin registered it."""

    client_id: str = "lmsbridge-tool"
    deployment_ids: tuple[str, ...] = attrs.field(default=("deployment-1",), converter=tuple)
    jwks_url: str | None = None
    jwks: dict[str, Any] | None = None  # public keys given inline instead of a URL
    login_url: str | None = None
    launch_url: str | None = None
    deep_link_url: str | None = None
    redirect_uris: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    scopes: tuple[str, ...] = attrs.field(default=ALL_SCOPES, converter=tuple)
    token_audience: str | None = None  # what assertions must name; default: the token URL

    def allowed_redirects(self) -> set[str]:
        uris = set(self.redirect_uris)
        uris.update(u for u in (self.launch_url, self.deep_link_url) if u)
        return uris


@attrs.frozen
class LoginInitiation:
    """What the platform sends to the tool's OIDC login initiation URL."""

    url: str
    params: dict[str, str]
    launch_id: str

    def get_url(self) -> str:
        """The initiation as a GET URL (tools must accept GET and POST)."""
        return f"{self.url}?{urlencode(self.params)}"


@attrs.define
class Launch:
    """A launch started on the platform, until the tool's authorization request uses it."""

    id: str
    user_id: str | None
    message_type: str
    deployment_id: str
    target_link_uri: str
    roles: list[str]
    context_id: str | None
    resource_link_id: str | None
    custom: dict[str, Any]
    deep_linking: dict[str, Any] | None
    claims: dict[str, Any]
    headers: dict[str, Any]
    used: bool = False
    nonce: str | None = None


#: The AGS line item fields the platform keeps (besides ``id``).
LINE_ITEM_FIELDS = ("scoreMaximum", "label", "resourceId", "tag", "resourceLinkId",
                    "startDateTime", "endDateTime", "gradesReleased")


def line_item_problem(fields: Mapping[str, Any]) -> str | None:
    """What is wrong with an AGS line item, or None."""
    if not isinstance(fields, Mapping):
        return "a line item must be a JSON object"
    label = fields.get("label")
    if not isinstance(label, str) or not label.strip():
        return "label is required"
    maximum = fields.get("scoreMaximum")
    if not is_number(maximum) or maximum <= 0:
        return "scoreMaximum must be a number greater than 0"
    for name in ("resourceId", "tag", "resourceLinkId"):
        if fields.get(name) is not None and not isinstance(fields[name], str):
            return f"{name} must be a string"
    for name in ("startDateTime", "endDateTime"):
        if fields.get(name) is not None and parse_time(fields[name]) is None:
            return f"{name} must be an ISO 8601 date-time with a time zone"
    if fields.get("gradesReleased") is not None and not isinstance(fields["gradesReleased"],
                                                                    bool):
        return "gradesReleased must be true or false"
    return None
