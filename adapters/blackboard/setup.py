"""What a Blackboard Learn admin pastes to register the tool (``lmsbridge platform config blackboard``).

Only settings we could source are named; where a screen differs between versions the text
says so ("check in your LMS") instead of guessing.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from lmsbridge.core.api import DESCRIPTION, ToolConfig, ToolUrls, title

BLACKBOARD_ISSUER = "https://blackboard.com"


def setup(urls: ToolUrls, tenant: str | None = None) -> ToolConfig:
    fields = (
        ("Application name", title(tenant)),
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
