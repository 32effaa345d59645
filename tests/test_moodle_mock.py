"""The Moodle mock's web services checked with pymoodle, a Moodle client nobody here wrote:
the seeded world, Moodle's error shapes (HTTP 200), PHP bracket keys, GET and POST merged,
paging, the bare 0 of core_grades_update_grades, and /_mock/state."""

from __future__ import annotations

import pytest
import requests
from moodle.exceptions import WebserviceException
from moodle.session import MoodleClient

from lmsbridge.adapters.moodle.mock import MockMoodle


@pytest.fixture
def moodle():
    with MockMoodle() as mock:
        mock.seed_world()  # what `lmsbridge mock moodle` serves
        client = MoodleClient(mock.url, mock.wstoken)
        yield mock, client
        client.close()


def test_site_info_lists_the_service_functions(moodle):
    mock, client = moodle
    info = client.core_webservice_get_site_info()
    assert info["siteurl"] == mock.url
    assert "core_grades_update_grades" in {f["name"] for f in info["functions"]}


def test_the_seeded_world(moodle):
    mock, client = moodle
    users = client.core_enrol_get_enrolled_users(courseid=2)
    by_role = {u["roles"][0]["shortname"]: u for u in users}
    assert by_role["student"]["email"] == "sam.student@example.edu"
    assert "editingteacher" in by_role
    (section,) = client.core_course_get_contents(courseid=2)
    (module,) = section["modules"]
    assert module["modname"] == "lti"
    ltis = client.mod_lti_get_ltis_by_courses(courseids=[2])["ltis"]
    assert [lti["coursemodule"] for lti in ltis] == [module["id"]]
    state = requests.get(mock.url + "/_mock/state", timeout=5).json()
    assert state["ws"]["wstoken"] == mock.wstoken
    assert {c["id"]: c["format"] for c in state["ws"]["courses"]}[1] == "site"
    assert state["platform"]["token_url"] == mock.url + "/mod/lti/token.php"


def test_update_grades_answers_a_bare_zero(moodle):
    mock, client = moodle
    (lti,) = client.mod_lti_get_ltis_by_courses(courseids=[2])["ltis"]
    answer = client.core_grades_update_grades(
        source="test", courseid=2, component="mod_lti", activityid=lti["coursemodule"],
        itemnumber=0, grades=[{"studentid": 3, "grade": 7.5}])
    assert answer == 0
    assert mock.ws_grades[(lti["coursemodule"], 0, 3)] == {"grade": 7.5, "changes": 1}


def test_paging_keeps_a_stable_order(moodle):
    mock, client = moodle
    for n in range(10, 17):
        mock.add_ws_user(n, f"user{n}", f"User {n}")
        mock.enrol(2, n, ["Learner"])
    pages = [client.core_enrol_get_enrolled_users(courseid=2, options=[
        {"name": "limitfrom", "value": start}, {"name": "limitnumber", "value": 3}])
        for start in range(0, 9, 3)]
    ids = [u["id"] for page in pages for u in page]
    assert ids == sorted(ids) and len(ids) == 9


def test_a_bad_token_is_invalidtoken_with_http_200(moodle):
    mock, _ = moodle
    with MoodleClient(mock.url, "nope") as bad, pytest.raises(WebserviceException) as err:
        bad.core_webservice_get_site_info()
    assert (err.value.exception, err.value.errorcode) == ("moodle_exception", "invalidtoken")
    raw = requests.post(mock.url + "/webservice/rest/server.php", timeout=5, data={
        "wstoken": "nope", "wsfunction": "core_webservice_get_site_info",
        "moodlewsrestformat": "json"})
    assert raw.status_code == 200 and raw.json()["errorcode"] == "invalidtoken"


def test_an_unknown_function_is_invalidrecord(moodle):
    mock, client = moodle
    with pytest.raises(WebserviceException) as err:
        client.webservice("local_nothing_here")
    assert (err.value.exception, err.value.errorcode) == \
        ("dml_missing_record_exception", "invalidrecord")


def test_get_and_post_parameters_are_merged(moodle):
    mock, _ = moodle
    answer = requests.post(mock.url + "/webservice/rest/server.php", timeout=5,
                           params={"wstoken": mock.wstoken, "moodlewsrestformat": "json"},
                           data={"wsfunction": "core_enrol_get_enrolled_users",
                                 "courseid": "2"}).json()
    assert {u["id"] for u in answer} == {3, 4}


def test_the_seeded_course_is_an_lti_context_too(moodle):
    mock, _ = moodle
    state = requests.get(mock.url + "/_mock/state", timeout=5).json()
    assert state["ws"]["lti"]["lineitems_url"].endswith("/lti/contexts/2/lineitems?type_id=2")
    assert state["ws"]["lti"]["deployment_id"] == "2"
    (item,) = state["contexts"]["2"]["line_items"]
    assert item["label"] == "Quiz 1" and item["scoreMaximum"] == 10.0
