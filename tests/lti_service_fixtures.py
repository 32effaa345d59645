"""Fixtures for the LTI service client tests: the tool's keys, a running mock platform that
knows them, and clients pointed at it. Retries sleep into a list, never for real."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lmsbridge.conformance.lti import MockLtiPlatform
from lmsbridge.core.lti.keys import ToolKeyring
from lmsbridge.core.lti.service import RetryPolicy, ServiceClient
from lmsbridge.core.lti.token import TokenService
from lmsbridge.core.model import PlatformRegistration
from lmsbridge.core.store import Store

TOOL = "https://tool.example"
CONTEXT = "math-101"


@pytest.fixture
def keyring(tmp_path) -> Iterator[ToolKeyring]:
    store = Store.open(f"sqlite:///{tmp_path / 'tool.db'}", key_file=tmp_path / "secret.key")
    store.upgrade()
    ring = ToolKeyring(store)
    ring.current()  # the tool has a signing key before the platform is told about it
    yield ring
    store.dispose()


def seed(platform: MockLtiPlatform, users: int = 5) -> None:
    platform.add_context(CONTEXT, title="Math 101", label="M101")
    for i in range(users):
        platform.add_user(f"user-{i}", name=f"User {i}", email=f"user{i}@example.edu",
                          sourcedid=f"sis-{i}")
        platform.add_member(CONTEXT, f"user-{i}", roles=["Learner"])
    platform.add_user("teacher", given_name="Tea", family_name="Cher")
    platform.add_member(CONTEXT, "teacher", roles=["Instructor"])


@pytest.fixture
def platform(keyring) -> Iterator[MockLtiPlatform]:
    mock = MockLtiPlatform(page_size=2, lineitem_url_query="type_id=7")
    with mock:
        mock.register_tool(client_id="tool-1", deployment_ids=["dep-1"], jwks=keyring.jwks(),
                           login_url=f"{TOOL}/lti/login", launch_url=f"{TOOL}/lti/launch")
        seed(mock)
        yield mock


@pytest.fixture
def registration(platform) -> PlatformRegistration:
    return PlatformRegistration(**platform.registration("uni"))


@pytest.fixture
def tokens(keyring) -> TokenService:
    return TokenService(keyring)


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def service(registration, tokens, sleeps) -> ServiceClient:
    return ServiceClient(registration, tokens, retry=RetryPolicy(sleep=sleeps.append))
