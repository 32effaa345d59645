"""What an LMS admin pastes to register the tool: one builder per LMS.

Canvas takes a developer key as JSON; Moodle, Blackboard and D2L ask for the same URLs in
their own forms, under their own labels. Only settings we could source are named; where a
screen differs between versions the text says so ("check in your LMS") instead of guessing.
"""

from __future__ import annotations

from collections.abc import Callable
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
D2L_TOKEN_AUDIENCE = "https://api.brightspace.com/auth/token"
BLACKBOARD_ISSUER = "https://blackboard.com"
CANVAS_ISSUER = "https://canvas.instructure.com"
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


def _title(tenant: str | None) -> str:
    return f"{TITLE} ({tenant})" if tenant else TITLE


def canvas(urls: ToolUrls, tenant: str | None = None) -> ToolConfig:
    def placement(name: str, text: str) -> dict[str, Any]:
        return {"placement": name, "message_type": "LtiDeepLinkingRequest",
                "target_link_uri": urls.launch, "text": text}

    document = {
        "title": _title(tenant),
        "description": DESCRIPTION,
        "oidc_initiation_url": urls.login,
        "target_link_uri": urls.launch,
        "scopes": list(SCOPES),
        "public_jwk_url": urls.jwks,
        # Canvas variable substitutions: the REST side knows courses and users by these ids.
        "custom_fields": {"canvas_course_id": "$Canvas.course.id",
                          "canvas_user_id": "$Canvas.user.id"},
        "extensions": [{
            "platform": "canvas.instructure.com",
            "domain": urlsplit(urls.root).netloc,
            "tool_id": "lmsbridge",
            # public: name and email are sent, which first SSO needs to link accounts.
            "privacy_level": "public",
            "settings": {"text": TITLE, "placements": [
                placement("link_selection", "Add provider content"),
                placement("assignment_selection", "Provider graded item"),
            ]},
        }],
    }
    return ToolConfig(
        "canvas", "Admin > Developer Keys > + Developer Key > + LTI Key, Method: Paste JSON",
        fields=(("Redirect URIs", urls.launch),),
        notes=(
            "Paste the JSON below as the key's configuration and the Redirect URI into "
            "'Redirect URIs', save, then switch the key ON.",
            "Install it: Admin > Settings > Apps > View App Configurations > + App, "
            "Configuration Type 'By Client ID', with the key's Client ID.",
            "Then register it here: lmsbridge platform add --issuer "
            f"{CANVAS_ISSUER} --client-id <Client ID> --deployment-id <Deployment ID> "
            "(Deployment ID is under the app's settings menu).",
        ),
        document=document,
    )


def moodle(urls: ToolUrls, tenant: str | None = None) -> ToolConfig:
    fields = (
        ("Tool name", _title(tenant)),
        ("Tool URL", urls.launch),
        ("Tool description", DESCRIPTION),
        ("LTI version", "LTI 1.3"),
        ("Public key type", "Keyset URL"),
        ("Public keyset", urls.jwks),
        ("Initiate login URL", urls.login),
        ("Redirection URI(s)", urls.launch),
        ("Tool configuration usage", "Do not show; use only when a matching tool URL is "
                                     "entered"),
        ("Supports Deep Linking (Content-Item Message)", "yes"),
        ("Content Selection URL", urls.launch),
        ("IMS LTI Assignment and Grade Services",
         "Use this service for grade sync and column management"),
        ("IMS LTI Names and Role Provisioning",
         "Use this service to retrieve members' information as per privacy settings"),
        ("Share launcher's name with tool", "Always"),
        ("Share launcher's email with tool", "Always"),
        ("Accept grades from the tool", "Always"),
    )
    return ToolConfig(
        "moodle", "Site administration > Plugins > Activity modules > External tool > "
        "Manage tools > configure a tool manually",
        fields=fields,
        notes=(
            "To let faculty publish content in any course shell, switch 'Tool configuration "
            "usage' to 'Show as a preconfigured tool when adding an external tool' while they "
            "publish, then back to 'Do not show; use only when a matching tool URL is "
            "entered'. Alternatively add the tool inside one course shell, where only its "
            "enrolled teachers see it.",
            "After saving, the tool's 'View configuration details' shows Platform ID, Client "
            "ID, Deployment ID and the platform's URLs: register them with "
            "lmsbridge platform add.",
            "Labels vary slightly between Moodle versions: check in your LMS.",
        ),
    )


def blackboard(urls: ToolUrls, tenant: str | None = None) -> ToolConfig:
    fields = (
        ("Application name", _title(tenant)),
        ("Description", DESCRIPTION),
        ("Domain(s)", urlsplit(urls.root).netloc),
        ("Login Initiation URL", urls.login),
        ("Tool Redirect URL(s)", urls.launch),
        ("Tool JWKS URL", urls.jwks),
        ("Signing Algorithm", "RS256"),
    )
    return ToolConfig(
        "blackboard", "Anthology Developer Portal (developer.blackboard.com) > My Apps > "
        "Register a new application, 'My integration supports LTI 1.3'",
        fields=fields,
        notes=(
            f"The portal shows the Application ID (the client_id) and the issuer "
            f"{BLACKBOARD_ISSUER}, shared by every Blackboard site: each institution's "
            "deployment id tells them apart, so register it with --deployment-id.",
            "Two applications cannot share one domain: use a separate host per application.",
            "Each institution then adds the tool: Administrator Panel > LTI Tool Providers > "
            "Register LTI 1.3/Advantage Tool, with the Application ID; its page shows the "
            "Deployment ID.",
            "Institution policies: send the user's name, email and role in course, and allow "
            "grade service and membership service access (check in your LMS for the exact "
            "labels).",
            f"Placement: Manage Placements > Create Placement, type 'Deep Linking content "
            f"tool', Tool Provider URL {urls.launch}, so instructors can pick content.",
        ),
    )


def d2l(urls: ToolUrls, tenant: str | None = None) -> ToolConfig:
    fields = (
        ("Name", _title(tenant)),
        ("Domain", urls.root),
        ("Redirect URLs", urls.launch),
        ("OpenID Connect Login URL", urls.login),
        ("Target Link URI", urls.launch),
        ("Keyset URL", urls.jwks),
        ("Extensions", "Assignment and Grade Services; Deep Linking; Names and Role "
                       "Provisioning Services"),
        ("Roles", "Send Institution Role"),
    )
    return ToolConfig(
        "d2l", "Admin Tools > Manage Extensibility > LTI Advantage > Register Tool, "
        "then New Deployment",
        fields=fields,
        notes=(
            f"Token audience: Brightspace expects client assertions addressed to "
            f"{D2L_TOKEN_AUDIENCE}, not to its token URL: register with lmsbridge platform "
            f"add ... --token-audience {D2L_TOKEN_AUDIENCE}.",
            "In the deployment's security settings, share the user's name and email "
            "(first SSO links accounts by email; Brightspace may send an empty email "
            "otherwise) and the org unit information.",
            "One domain per registration; LTI 1.3 links do not create grade items by "
            "themselves, grade sync creates them.",
            "Names and Role Provisioning lists only users who launched the tool unless "
            "the deployment allows all enrolled users: check in your LMS.",
        ),
    )


BUILDERS: dict[str, Callable[[ToolUrls, str | None], ToolConfig]] = {
    "canvas": canvas, "moodle": moodle, "blackboard": blackboard, "d2l": d2l}


def build(lms: str, base_url: str, tenant: str | None = None) -> ToolConfig:
    builder = BUILDERS.get(lms)
    if builder is None:
        raise ValidationError("lms", lms, f"must be one of {', '.join(BUILDERS)}")
    return builder(tool_urls(base_url), tenant)
