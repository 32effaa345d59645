"""What an LMS admin pastes to register the tool: the shape (:class:`ToolConfig`), the tool's
URLs, name and scopes. The text for each LMS is its adapter's (hook
``lmsbridge_platform_setup``): Canvas takes a developer key as JSON; Moodle, Blackboard and
D2L ask for the same URLs in their own forms, under their own labels.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from attrs import frozen

from lmsbridge.core.errors import ValidationError
from lmsbridge.core.lti.ags import (
    SCOPE_LINEITEM,
    SCOPE_LINEITEM_READONLY,
    SCOPE_RESULT,
    SCOPE_SCORE,
)
from lmsbridge.core.lti.nrps import SCOPE_MEMBERSHIPS
from lmsbridge.core.lti.tool_urls import ToolUrls

TITLE = "lmsbridge"
DESCRIPTION = "Single sign-on to the provider's programs, a content picker, and grade sync."
SCOPES = (SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY, SCOPE_RESULT, SCOPE_SCORE, SCOPE_MEMBERSHIPS)
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


@frozen
class ToolConfig:
    """``fields``: (label on the LMS screen, value) in screen order; ``document``: a JSON
    document pasted as a whole (Canvas), else None; ``notes``: what to do around them."""

    lms: str
    where: str
    fields: tuple[tuple[str, str], ...]
    notes: tuple[str, ...]
    document: dict[str, Any] | None = None

    def as_json(self) -> dict[str, Any]:
        if self.document is not None:
            return self.document
        return {"lms": self.lms, "where": self.where, "fields": dict(self.fields),
                "notes": list(self.notes)}


def tool_urls(base_url: str) -> ToolUrls:
    """The tool's URLs; platforms only launch over https, so plain http is refused except
    on this machine (a local trial)."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError("--base-url", base_url, "must be an absolute https:// URL")
    if parts.scheme != "https" and parts.hostname not in _LOCAL_HOSTS:
        raise ValidationError("--base-url", base_url,
                              "must use https (LMSs refuse plain http tools; "
                              "http is allowed only for localhost)")
    if parts.query or parts.fragment:
        raise ValidationError("--base-url", base_url, "must not carry a query or fragment")
    return ToolUrls(base_url)


def title(tenant: str | None) -> str:
    """The tool's name on the LMS, after the tenant when one is given."""
    return f"{TITLE} ({tenant})" if tenant else TITLE
