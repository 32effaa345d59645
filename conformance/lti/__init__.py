"""A mock LTI 1.3 Advantage platform (an LMS), served over real HTTP on loopback.

See :mod:`lmsbridge.conformance.lti.mock` for the API, the routes and the quirks it
reproduces. ``lmsbridge mock lti --port N`` serves one from the command line.
"""

from lmsbridge.conformance.lti.mock import MockLtiPlatform
from lmsbridge.conformance.lti.records import LoginInitiation, ToolRegistration
from lmsbridge.conformance.lti.vocab import AGS_SCOPES, ALL_SCOPES, NRPS_SCOPE, REMOVE, role_uri

__all__ = ["AGS_SCOPES", "ALL_SCOPES", "NRPS_SCOPE", "REMOVE", "LoginInitiation",
           "MockLtiPlatform", "ToolRegistration", "role_uri"]
