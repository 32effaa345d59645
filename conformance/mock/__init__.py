"""Mock platforms for conformance tests: real HTTP servers on loopback with fault injection.

:class:`MockServer` is the base every platform mock (Canvas, Moodle, D2L, Blackboard, Oracle,
LTI platform, course provider) extends; see :mod:`lmsbridge.conformance.mock.server` for the
fault semantics.
"""

from lmsbridge.conformance.mock.faults import FAULT_KINDS, FaultRule, FaultSet
from lmsbridge.conformance.mock.requestlog import LoggedRequest, RequestLog
from lmsbridge.conformance.mock.server import MockServer

__all__ = ["FAULT_KINDS", "FaultRule", "FaultSet", "LoggedRequest", "MockServer", "RequestLog"]
