"""What a Moodle admin pastes to register the tool (``lmsbridge platform config moodle``).

Only settings we could source are named; where a screen differs between versions the text
says so ("check in your LMS") instead of guessing.
"""

from __future__ import annotations

from lmsbridge.core.api import DESCRIPTION, ToolConfig, ToolUrls, title


def setup(urls: ToolUrls, tenant: str | None = None) -> ToolConfig:
    fields = (
        ("Tool name", title(tenant)),
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
