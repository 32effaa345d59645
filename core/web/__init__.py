"""The web side of the LTI tool: Flask app, OIDC login, launch, JWKS, deep-linking picker."""

from lmsbridge.core.web.app import create_app

__all__ = ["create_app"]
