"""The web side of the LTI tool: Flask app, OIDC login, launch, JWKS, deep-linking picker."""
