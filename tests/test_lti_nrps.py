"""NRPS client against the mock platform over real HTTP: paging, filters, differences."""

from __future__ import annotations

import lti_service_fixtures as fixtures
import pytest
import requests
from lti_service_fixtures import CONTEXT

from lmsbridge.core.lti.nrps import Member, NrpsClient
from lmsbridge.core.lti.service_errors import ServiceError

# Shared fixtures, made visible to pytest in this module.
keyring = fixtures.keyring
platform = fixtures.platform
registration = fixtures.registration
service = fixtures.service
sleeps = fixtures.sleeps
tokens = fixtures.tokens

LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"


@pytest.fixture
def nrps(service) -> NrpsClient:
    return NrpsClient(service)


def member_requests(platform) -> list[dict]:
    log = requests.get(f"{platform.url}/_mock/state", timeout=5).json()["requests"]
    return [r for r in log if r["path"].endswith("/memberships")]


def test_every_member_to_the_last_page(nrps, platform):
    listing = nrps.memberships(platform.memberships_url(CONTEXT))
    members = list(listing)
    assert [m.user_id for m in members] == [f"user-{i}" for i in range(5)] + ["teacher"]
    assert listing.pages == 3 and listing.context == {"id": CONTEXT, "label": "M101",
                                                      "title": "Math 101"}
    first = members[0]
    assert (first.roles, first.status, first.name, first.email, first.lis_person_sourcedid) \
        == ((LEARNER,), "Active", "User 0", "user0@example.edu", "sis-0")
    assert members[-1].display_name == "Tea Cher" and members[-1].email is None
    # Next links carry Canvas-like opaque bookmarks; they were followed exactly as given.
    assert ["page=bookmark" in r["query"] for r in member_requests(platform)] == \
        [False, True, True]


def test_role_limit_and_resource_link_filters(nrps, platform):
    url = platform.memberships_url(CONTEXT)
    assert [m.user_id for m in nrps.memberships(url, role=INSTRUCTOR)] == ["teacher"]
    assert [m.user_id for m in nrps.memberships(url, role="Instructor")] == ["teacher"]
    limited = nrps.memberships(url, limit=5)
    assert len(list(limited)) == 6 and limited.pages == 2
    platform.add_resource_link(CONTEXT, "rl-1", members=["user-2", "teacher"])
    assert [m.user_id for m in nrps.memberships(url, rlid="rl-1")] == ["user-2", "teacher"]
    with pytest.raises(ServiceError) as unknown:
        list(nrps.memberships(url, rlid="ghost"))
    assert unknown.value.status == 404


def test_differences_report_changes_since_the_last_read(nrps, platform):
    listing = nrps.memberships(platform.memberships_url(CONTEXT))
    list(listing)
    assert listing.differences_url and "since=" in listing.differences_url
    platform.remove_member(CONTEXT, "user-1")
    platform.add_user("late", name="Late Comer")
    platform.add_member(CONTEXT, "late")
    platform.add_member(CONTEXT, "user-3", status="Inactive")
    changes = nrps.memberships(listing.differences_url)
    assert [(m.user_id, m.status) for m in changes] == [
        ("user-1", "Deleted"), ("user-3", "Inactive"), ("late", "Active")]
    assert changes.differences_url != listing.differences_url
    assert list(nrps.memberships(changes.differences_url)) == []
    assert "user-1" not in [m.user_id for m in nrps.memberships(
        platform.memberships_url(CONTEXT))]


def test_transient_failure_mid_paging_is_retried_in_place(nrps, platform, sleeps):
    platform.faults.add("status", path="/memberships$", status=503, skip=1, retry_after=1)
    assert len(list(nrps.memberships(platform.memberships_url(CONTEXT)))) == 6
    assert sleeps == [1]
    statuses = [r["status"] for r in member_requests(platform)]
    assert statuses == [200, 503, 200, 200]


def test_expired_token_mid_paging_is_reminted(nrps, platform, tokens):
    platform.faults.add("expired_token", path="/memberships$", skip=2)
    assert len(list(nrps.memberships(platform.memberships_url(CONTEXT)))) == 6
    assert tokens.minted == 2


def test_member_parsing_is_lenient_where_platforms_differ():
    minimal = Member.from_json({"user_id": "u", "roles": ["Learner", 3], "email": ""})
    assert (minimal.status, minimal.roles, minimal.email) == ("Active", ("Learner",), None)
    assert Member.from_json({"user_id": "u", "status": "Weird"}).status == "Active"
    with pytest.raises(ValueError, match="user_id"):
        Member.from_json({"name": "no id"})


def test_a_container_without_members_is_an_error(nrps, platform):
    platform.faults.add("malformed_json", path="/memberships$")
    with pytest.raises(ServiceError, match="not JSON") as broken:
        list(nrps.memberships(platform.memberships_url(CONTEXT)))
    assert broken.value.transient
