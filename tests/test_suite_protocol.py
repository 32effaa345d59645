"""The suite protocol of the mock LTI platform and the mock provider: the ``lti`` and
``coursera`` adapters pass the conformance suite, and what the mocks record is what a real
setup would hold."""

from __future__ import annotations

import subprocess
from datetime import timedelta

import pytest
import requests

from lmsbridge.adapters.coursera.mock import MockCoursera
from lmsbridge.conformance.lti import NRPS_SCOPE, MockLtiPlatform
from lmsbridge.conformance.lti.mock_suite import content_key, score_changes
from lmsbridge.conformance.matrix import FAIL, PASS, SKIP, read_junit
from lmsbridge.conformance.suite.harness import EPOCH, members
from lmsbridge.core.capabilities import Capability
from lmsbridge.core.cli.conformance import suite_command
from lmsbridge.core.lti.keys import ToolKeyring
from lmsbridge.core.lti.token import TokenService
from lmsbridge.core.model import Course, Item, Program, Progress

# ------------------------------------------------------------------ the suite, as CI runs it


@pytest.fixture(scope="module")
def matrix(tmp_path_factory):
    work = tmp_path_factory.mktemp("suite")
    (work / "pytest.ini").write_text("[pytest]\n")
    xml = work / "conformance.xml"
    cmd = suite_command(xml, ("lti", "coursera")) + ["-c", str(work / "pytest.ini"),
                                                     "--rootdir", str(work)]
    proc = subprocess.run(cmd, cwd=work, capture_output=True, text=True)
    assert xml.exists(), proc.stdout + proc.stderr
    return read_junit(xml), proc


def test_both_adapters_pass_the_suite(matrix):
    result, proc = matrix
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert set(result.adapters) == {"lti", "coursera"}
    for row in result.adapters:
        assert not [c for c in result.cells[row].values() if c.status == FAIL], row


@pytest.mark.parametrize("capability", [Capability.GRADEBOOK_COLUMNS, Capability.GRADE_WRITE,
                                        Capability.ROSTER_READ])
def test_lti_passes_its_core_capabilities(matrix, capability):
    cell = matrix[0].cell("lti", capability)
    assert cell.status == PASS and cell.failed == 0, cell


def test_lti_grade_writes_ran_under_every_fault(matrix):
    assert matrix[0].cell("lti", Capability.GRADE_WRITE).passed >= 15


def test_lti_content_publishing_is_an_opt_out_with_its_reason(matrix):
    cell = matrix[0].cell("lti", Capability.CONTENT_PUBLISH)
    assert cell.status == SKIP and cell.detail.startswith("opted out: ")
    assert "deep linking" in cell.detail


@pytest.mark.parametrize("capability", [Capability.CATALOG_READ, Capability.PROGRESS_READ])
def test_coursera_passes_its_reads(matrix, capability):
    cell = matrix[0].cell("coursera", capability)
    assert cell.status == PASS and cell.passed == 2, cell


# ------------------------------------------------------------------ LTI: what connect records


@pytest.fixture
def lti():
    with MockLtiPlatform() as platform:
        yield platform


def test_lti_connect_registers_the_tool_both_ways(store, lti):
    tenant = lti.connect(store, "uni")
    assert (tenant.kind, tenant.base_url) == ("lti", lti.url)
    [reg] = store.platforms.list("uni")
    assert (reg.issuer, reg.client_id, reg.auth_token_url, reg.jwks_url) == \
        (lti.issuer, lti.tool.client_id, lti.token_url, lti.jwks_url)
    assert reg.deployment_ids == tuple(lti.tool.deployment_ids)
    # The platform verifies the tool's assertions with the keys the tool signs with.
    assert lti.tool.jwks == ToolKeyring(store).jwks()


def test_a_seeded_context_is_recorded_as_a_launch_would(store, lti):
    tenant = lti.connect(store, "uni")
    context = lti.seed_context("c1", members(2))
    assert store.contexts.get(store.tenants.ref(tenant.name), "c1") == context
    assert context.lineitems_url == lti.lineitems_url("c1")
    assert context.memberships_url == lti.memberships_url("c1")
    assert set(lti.members["c1"]) == {"u001", "u002", "t001"}
    assert lti.users["u001"]["email"] == "learner1@example.edu"


def test_seeding_before_connect_says_what_to_do(lti):
    with pytest.raises(RuntimeError, match="connect"):
        lti.seed_context("c1", members(1))


def test_an_nrps_page_without_a_limit_is_capped_too(store, lti):
    """The suite lowers max_page_size below the default page: every page must obey it."""
    lti.connect(store, "uni")
    lti.seed_context("c1", members(5, 0))
    lti.max_page_size = 2
    [reg] = store.platforms.list("uni")
    token = TokenService(ToolKeyring(store), requests.Session(), timeout=5).token(
        reg, [NRPS_SCOPE])
    answer = requests.get(lti.memberships_url("c1"), timeout=5,
                          headers={"Authorization": token.authorization})
    assert answer.status_code == 200
    assert len(answer.json()["members"]) == 2
    assert 'rel="next"' in answer.headers["Link"]


def test_held_content_names_what_each_link_launches(store, lti):
    lti.connect(store, "uni")
    lti.seed_context("c1", members(1))
    lti.add_resource_link("c1", "rl-item", title="Quiz 1",
                          custom={"provider_program_id": "p", "provider_course_id": "c",
                                  "provider_item_id": "q1"})
    lti.add_resource_link("c1", "rl-course", title="Course",
                          url="https://tool.test/lti/launch?provider_program_id=p"
                              "&provider_course_id=c")
    held = {h.platform_ref: h for h in lti.held_content("c1")}
    assert held["rl-item"].content_key == "item:q1"
    assert held["rl-course"].content_key == "course:c"
    assert not any(h.retired for h in held.values())


def test_only_scores_that_change_the_grade_count_as_changes():
    assert score_changes([{"scoreGiven": 3}, {"scoreGiven": 3}, {"scoreGiven": 4}]) == 2
    assert score_changes([]) == 0


def test_a_hand_made_link_launches_nothing_of_ours():
    assert content_key({}, "https://elsewhere.example/page") is None


# ------------------------------------------------------------------ Coursera


@pytest.fixture
def coursera():
    with MockCoursera() as mock:
        yield mock


def test_coursera_connect_keeps_the_secret_in_the_store_only(store, coursera):
    provider = coursera.connect(store, "acme")
    assert (provider.kind, provider.base_url, provider.org_id) == \
        ("coursera", coursera.url, coursera.org_id)
    assert store.secrets.get("provider:acme", "client_secret").reveal() == \
        coursera.client_secret
    assert coursera.client_secret not in repr(provider)


def test_coursera_pages_are_capped_at_max_page_size(coursera):
    coursera.seed_catalog([Program(f"p{n}", f"Program {n}") for n in range(5)])
    coursera.max_page_size = 2
    token = requests.post(f"{coursera.url}/oauth2/client_credentials/token", timeout=5,
                          data={"grant_type": "client_credentials"},
                          auth=(coursera.client_id, coursera.client_secret)
                          ).json()["access_token"]
    body = requests.get(f"{coursera.url}/api/businesses.v1/{coursera.org_id}/programs",
                        params={"limit": 100}, timeout=5,
                        headers={"Authorization": f"Bearer {token}"}).json()
    assert [e["id"] for e in body["elements"]] == ["p0", "p1"]
    assert body["paging"]["next"] == "2"


def test_coursera_seeding_uses_the_mock_catalog_and_progress(coursera):
    course = Course("c1", "p1", "Course 1", description="About c1",
                    items=[Item("i1", "c1", "Quiz", max_score=5.0)])
    coursera.seed_catalog([Program("p1", "Program 1", seats=10, courses=[course])])
    coursera.seed_progress([Progress("l1", "c1", EPOCH, item_id="i1", score=4.0,
                                     max_score=5.0),
                            Progress("l2", "elsewhere", EPOCH + timedelta(hours=1),
                                     item_id="x", score=1.0)])
    assert coursera.programs["p1"]["contentIds"] == ["c1"]
    assert coursera.courses["c1"]["items"][0]["maxScore"] == 5.0
    l1 = coursera.enrollments[("l1", "c1")]
    assert (l1["programId"], l1["itemGrades"][0]["score"]) == ("p1", 4.0)
    # Progress on content outside the catalog belongs to no program.
    assert coursera.enrollments[("l2", "elsewhere")]["programId"] is None
