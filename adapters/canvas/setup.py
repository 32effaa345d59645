"""What a Canvas admin pastes to register the tool (``lmsbridge platform config canvas``).

Only settings we could source are named; where a screen differs between versions the text
says so ("check in your LMS") instead of guessing.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from lmsbridge.core.api import DESCRIPTION, SCOPES, TITLE, ToolConfig, ToolUrls, title

CANVAS_ISSUER = "https://canvas.instructure.com"


def setup(urls: ToolUrls, tenant: str | None = None) -> ToolConfig:
    def placement(name: str, text: str) -> dict[str, Any]:
        return {"placement": name, "message_type": "LtiDeepLinkingRequest",
                "target_link_uri": urls.launch, "text": text}

    document = {
        "title": title(tenant),
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
