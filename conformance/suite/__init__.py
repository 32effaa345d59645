"""The conformance suite: one test module per capability, run against each adapter's mock.

Run it with ``pytest -p lmsbridge.conformance.pytest_plugin --pyargs lmsbridge.conformance
--lmsbridge-adapter NAME`` (or ``lmsbridge conformance``). What a mock platform must offer
the suite is :class:`~lmsbridge.conformance.suite.platform.SuitePlatform`.
"""

#: Bumped when a release adds or tightens checks, so integrators can pin what they pass.
SUITE_VERSION = "1"
