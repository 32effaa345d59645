"""What a D2L Brightspace admin pastes to register the tool (``lmsbridge platform config d2l``).

Only settings we could source are named; where a screen differs between versions the text
says so ("check in your LMS") instead of guessing.
"""

from __future__ import annotations

from lmsbridge.core.api import ToolConfig, ToolUrls, title

D2L_TOKEN_AUDIENCE = "https://api.brightspace.com/auth/token"


def setup(urls: ToolUrls, tenant: str | None = None) -> ToolConfig:
    fields = (
        ("Name", title(tenant)),
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
