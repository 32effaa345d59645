"""The Canvas mock speaks Canvas's wire format: checked with canvasapi, a client nobody here
wrote (Rails forms, Link paging on the base URL, search_users, Progress, error bodies)."""

from __future__ import annotations

import pytest
import requests
from canvasapi import Canvas
from canvasapi.exceptions import (
    Forbidden,
    InvalidAccessToken,
    RateLimitExceeded,
    ResourceDoesNotExist,
    Unauthorized,
)

from lmsbridge.adapters.canvas.mock import TOKEN, CanvasMock
from lmsbridge.conformance.suite.platform import SeedMember

# canvasapi warns about plain-HTTP base URLs; a loopback mock has no TLS.
pytestmark = pytest.mark.filterwarnings("ignore:Canvas may respond unexpectedly")


@pytest.fixture
def mock():
    with CanvasMock() as server:
        server.seed_context("42", [SeedMember(f"u{n}", f"User {n}", f"u{n}@example.edu")
                                   for n in range(1, 26)]
                            + [SeedMember("t1", "Teacher", "t@example.edu", ("Instructor",))])
        yield server


@pytest.fixture
def course(mock):
    return Canvas(mock.url, TOKEN).get_course(42)


def test_users_page_through_link_headers_with_email(course):
    users = list(course.get_users(include=["email", "enrollments"], per_page=7))
    assert len(users) == 26
    assert {u.email for u in users} >= {"u1@example.edu", "t@example.edu"}
    teacher = next(u for u in users if u.id == "t1")
    assert teacher.enrollments[0]["type"] == "TeacherEnrollment"


def test_enrollment_type_filter(course):
    students = list(course.get_users(enrollment_type=["student"]))
    assert len(students) == 25 and not hasattr(students[0], "email")


def test_assignment_created_from_rails_form_and_bulk_graded_via_progress(mock, course):
    assignment = course.create_assignment({"name": "Quiz 1", "points_possible": 10,
                                           "integration_id": "item:q1", "published": True,
                                           "submission_types": ["none"]})
    assert (assignment.name, assignment.points_possible, assignment.integration_id) == \
        ("Quiz 1", 10.0, "item:q1")
    progress = assignment.submissions_bulk_update(grade_data={"u1": {"posted_grade": "7.5"},
                                                              "u2": {"posted_grade": "9"}})
    assert progress.workflow_state == "queued"
    assert progress.query().workflow_state == "running"
    assert progress.query().workflow_state == "completed"
    scores = {s.user_id: s.score for s in assignment.get_submissions()}
    assert scores == {"u1": 7.5, "u2": 9.0}


def test_unpublished_assignment_refuses_grades(course):
    assignment = course.create_assignment({"name": "Draft", "points_possible": 5})
    with pytest.raises(Unauthorized, match="not authorized"):
        assignment.submissions_bulk_update(grade_data={"u1": {"posted_grade": "1"}})


def test_modules_and_external_tool_items(mock, course):
    module = course.create_module({"name": "Data Science"})
    tool_id = next(iter(mock.tools))
    item = module.create_module_item({"type": "ExternalTool", "title": "Launch",
                                      "content_id": tool_id,
                                      "external_url": "https://tool.lmsbridge.test/lti/launch"})
    assert item.title == "Launch" and not item.published
    assert [i.id for i in module.get_module_items()] == [item.id]


def test_errors_come_in_canvas_shapes(mock):
    with pytest.raises(ResourceDoesNotExist):
        Canvas(mock.url, TOKEN).get_course(999)
    with pytest.raises(InvalidAccessToken):
        Canvas(mock.url, "wrong").get_course(42)


@pytest.mark.parametrize("status, error", [(403, Forbidden), (429, RateLimitExceeded)])
def test_throttle_signal_old_403_text_and_current_429(mock, status, error):
    mock.throttle_status = status
    mock.faults.add("throttle")
    with pytest.raises(error):
        Canvas(mock.url, TOKEN).get_course(42)
    assert mock.requests[-1].status == status


def test_rate_limit_header_and_user_agent_required(mock):
    ok = requests.get(f"{mock.url}/api/v1/courses/42", timeout=5,
                      headers={"Authorization": f"Bearer {TOKEN}"})
    assert float(ok.headers["X-Rate-Limit-Remaining"]) > 0
    refused = requests.get(f"{mock.url}/api/v1/courses/42", timeout=5,
                           headers={"Authorization": f"Bearer {TOKEN}", "User-Agent": ""})
    assert refused.status_code == 403 and "User-Agent" in refused.json()["errors"][0]["message"]
