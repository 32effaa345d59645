"""A mock LTI 1.3 Advantage platform (an LMS), served over real HTTP on loopback.

See :mod:`lmsbridge.conformance.lti.platform` for the API, the routes and the quirks it
reproduces. ``lmsbridge mock lti --port N`` serves one from the command line.
"""

from lmsbridge.conformance.lti.platform import (
    AGS_SCOPES,
    ALL_SCOPES,
    NRPS_SCOPE,
    REMOVE,
    LoginInitiation,
    MockLtiPlatform,
    ToolRegistration,
    role_uri,
)

__all__ = ["AGS_SCOPES", "ALL_SCOPES", "NRPS_SCOPE", "REMOVE", "LoginInitiation",
           "MockLtiPlatform", "ToolRegistration", "role_uri"]
