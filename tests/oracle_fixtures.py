"""Fixtures for the Oracle tests (loaded with ``pytest_plugins = ["oracle_fixtures"]``)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from oracle_helpers import ISSUER, KEYS, USER

from lmsbridge.adapters.oracle.auth import PROVIDER_ROLE
from lmsbridge.adapters.oracle.mock import MockOracle
from lmsbridge.core.runtime import Runtime
from lmsbridge.core.store import Store


@pytest.fixture
def pod() -> Iterator[MockOracle]:
    """A running mock pod trusting our issuer and certificate, with the integration user."""
    mock = MockOracle()
    mock.trust(ISSUER, KEYS.certificate_pem)
    mock.add_user(USER, [PROVIDER_ROLE])
    with mock:
        yield mock


@pytest.fixture
def runtime(store: Store) -> Runtime:
    return Runtime(store, timeout=5)


@pytest.fixture
def oracle_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """``caplog`` hooked straight onto the ``lmsbridge`` logger at DEBUG.

    caplog listens on the root logger, so it hears nothing once ``core.logs.setup`` (run by
    any CLI test) has set ``lmsbridge.propagate = False``; attaching its handler here makes
    what a test reads independent of the logging setup other tests left behind.
    """
    logger = logging.getLogger("lmsbridge")
    saved = logger.level, logger.propagate
    logger.addHandler(caplog.handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False  # each record once, through the handler attached above
    try:
        yield caplog
    finally:
        logger.removeHandler(caplog.handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]
