"""The mock LTI platform, checked with a tool nobody here wrote: pylti1p3 2.0.0 logs in,
validates launches signed by the mock, answers deep linking, and uses AGS and NRPS.

pylti1p3 quirks worked around here (not in the mock): its NRPS/AGS paging lowercases the
whole Link header, which breaks case-sensitive next URLs such as Canvas bookmarks; its
Grade sends no timestamp unless set, and platforms refuse scores without one.
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jwt
from joserfc.jwk import KeySet
from lti_service_fixtures import CONTEXT, seed
from pylti1p3.cookie import CookieService
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.exception import LtiServiceException
from pylti1p3.grade import Grade
from pylti1p3.lineitem import LineItem as PyLineItem
from pylti1p3.message_launch import MessageLaunch
from pylti1p3.oidc_login import OIDCLogin
from pylti1p3.redirect import Redirect
from pylti1p3.registration import Registration
from pylti1p3.request import Request
from pylti1p3.service_connector import ServiceConnector
from pylti1p3.session import SessionService
from pylti1p3.tool_config import ToolConfDict

from lmsbridge.conformance.lti import REMOVE, MockLtiPlatform
from lmsbridge.core.lti.paging import find_link, parse_link_header

TOOL = "https://py-tool.example"
LAUNCH_URL = f"{TOOL}/launch"
LTI = "https://purl.imsglobal.org/spec/lti/claim/"

_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PRIVATE_PEM = _KEY.private_bytes(serialization.Encoding.PEM,
                                 serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption()).decode()
PUBLIC_PEM = _KEY.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


# ----------------------------------------------------- pylti1p3's framework-free plumbing


class PyRequest(Request):
    def __init__(self, params: dict, session: dict) -> None:
        self._params, self._session = params, session

    @property
    def session(self) -> dict:
        return self._session

    def is_secure(self) -> bool:
        return False

    def get_param(self, key: str) -> str:
        return self._params.get(key)


class PyCookies(CookieService):
    def __init__(self) -> None:
        self.jar: dict = {}

    def get_cookie(self, name):
        return self.jar.get(f"{self._cookie_prefix}-{name}")

    def set_cookie(self, name, value, exp=3600):
        self.jar[f"{self._cookie_prefix}-{name}"] = value


class PyRedirect(Redirect):
    def __init__(self, url: str) -> None:
        self.url = url

    def do_redirect(self) -> str:
        return self.url

    do_js_redirect = do_redirect

    def set_redirect_url(self, location: str) -> None:
        self.url = location

    def get_redirect_url(self) -> str:
        return self.url


class PyLogin(OIDCLogin):
    def get_redirect(self, url: str) -> PyRedirect:
        return PyRedirect(url)


class PyLaunch(MessageLaunch):
    def _get_request_param(self, key: str) -> str:
        return self._request.get_param(key)


class RfcLinkConnector(ServiceConnector):
    """Test-side fix of pylti1p3's paging: it lowercases the Link header before looking for
    rel="next", which corrupts case-sensitive next URLs. Re-read the header per RFC 8288."""

    def make_service_request(self, *args, **kwargs):
        kwargs["case_insensitive_headers"] = True
        answer = super().make_service_request(*args, **kwargs)
        link = answer["headers"].get("Link", "")
        answer["next_page_url"] = find_link(parse_link_header(link), "next")
        return answer


class FixedLaunch(PyLaunch):
    def get_service_connector(self):
        return RfcLinkConnector(self._registration, self._requests_session)


# -------------------------------------------------------------------------- fixtures


@pytest.fixture
def platform():
    with MockLtiPlatform(page_size=2) as mock:
        jwk = dict(Registration.get_jwk(PUBLIC_PEM))
        mock.register_tool(client_id="py-tool", deployment_ids=["dep-1"], jwks={"keys": [jwk]},
                           login_url=f"{TOOL}/login", launch_url=LAUNCH_URL)
        seed(mock)
        mock.add_resource_link(CONTEXT, "rl-1", title="Quiz 1",
                               custom={"provider_item_id": "item-1"},
                               line_item={"label": "Quiz 1", "scoreMaximum": 10,
                                          "resourceId": "item:1"})
        yield mock


@pytest.fixture
def conf(platform) -> ToolConfDict:
    config = ToolConfDict({platform.issuer: {
        "default": True, "client_id": "py-tool", "auth_login_url": platform.auth_url,
        "auth_token_url": platform.token_url, "key_set_url": platform.jwks_url,
        "deployment_ids": ["dep-1"]}})
    config.set_private_key(platform.issuer, PRIVATE_PEM)
    config.set_public_key(platform.issuer, PUBLIC_PEM)
    return config


def browser_launch(platform, conf, launch_cls=PyLaunch, **start):
    """Run a launch end to end as a browser would, with pylti1p3 as the tool."""
    login = platform.start_launch(start.pop("user", "user-0"), **start)
    session, cookies = {}, PyCookies()
    request = PyRequest(login.params, session)
    auth_url = PyLogin(request, conf, SessionService(request), cookies).redirect(LAUNCH_URL)
    page = requests.get(auth_url, timeout=5)
    assert page.status_code == 200, page.text
    form = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', page.text))
    assert re.search(r'action="([^"]+)"', page.text).group(1) == LAUNCH_URL
    request = PyRequest(form, session)
    launch = launch_cls(request, conf, SessionService(request), cookies)
    return launch.validate(), form["id_token"]


def state(platform) -> dict:
    return requests.get(f"{platform.url}/_mock/state", timeout=5).json()


# ----------------------------------------------------------------------------- launch


def test_pylti1p3_validates_a_resource_link_launch(platform, conf):
    launch, id_token = browser_launch(platform, conf, context=CONTEXT, resource_link="rl-1",
                                      custom={"provider_course_id": "course-1"})
    data = launch.get_launch_data()
    assert launch.is_resource_launch() and launch.check_student_access()
    assert data["sub"] == "user-0" and data["email"] == "user0@example.edu"
    assert data[LTI + "resource_link"] == {"id": "rl-1", "title": "Quiz 1"}
    assert data[LTI + "custom"] == {"provider_item_id": "item-1",
                                    "provider_course_id": "course-1"}
    assert data[LTI + "context"]["id"] == CONTEXT
    assert data[LTI + "deployment_id"] == "dep-1"
    ags = data["https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"]
    assert ags["lineitem"].endswith("/lineitems/1") and ags["lineitems"].endswith("/lineitems")
    assert launch.has_nrps() and launch.has_ags()
    header = jwt.decode(id_token, KeySet.import_key_set(platform.public_jwks())).header
    assert header["kid"] == platform.state()["platform"]["kids"][-1]
    assert state(platform)["launches"][0]["used"] is True


def test_launch_signed_after_a_key_rotation_still_validates(platform, conf):
    platform.rotate_keys()
    launch, _ = browser_launch(platform, conf, context=CONTEXT, resource_link="rl-1")
    assert launch.get_launch_data()["sub"] == "user-0"
    assert len(requests.get(platform.jwks_url, timeout=5).json()["keys"]) == 2


def test_crafted_claims_reach_the_tool(platform, conf):
    # start_launch(claims=…) is how tests make launches a tool must refuse (or must accept).
    with pytest.raises(Exception, match="[Dd]eployment"):
        browser_launch(platform, conf, context=CONTEXT, resource_link="rl-1",
                       claims={LTI + "deployment_id": "someone-elses"})
    launch, _ = browser_launch(platform, conf, context=CONTEXT, resource_link="rl-1",
                               claims={"email": REMOVE, "name": REMOVE})
    assert "email" not in launch.get_launch_data()


def test_authorization_endpoint_checks_the_tool_request(platform):
    login = platform.start_launch("user-0", context=CONTEXT, resource_link="rl-1")
    good = {"scope": "openid", "response_type": "id_token", "response_mode": "form_post",
            "prompt": "none", "client_id": "py-tool", "redirect_uri": LAUNCH_URL,
            "login_hint": "user-0", "lti_message_hint": login.launch_id, "state": "s",
            "nonce": "n"}
    for change, reason in [({"response_mode": "query"}, "response_mode"),
                           ({"prompt": "login"}, "prompt"),
                           ({"client_id": "other"}, "client_id"),
                           ({"redirect_uri": "https://evil.example/"}, "not registered"),
                           ({"login_hint": "user-1"}, "login_hint"),
                           ({"nonce": ""}, "nonce is required"),
                           ({"scope": "profile"}, "openid")]:
        answer = requests.post(platform.auth_url, data={**good, **change}, timeout=5)
        assert answer.status_code == 400 and reason in answer.json()["error_description"]
    assert requests.post(platform.auth_url, data=good, timeout=5).status_code == 200
    again = requests.post(platform.auth_url, data=good, timeout=5)
    assert again.status_code == 400 and "already used" in again.text
    assert len(state(platform)["auth_errors"]) == 8


# ------------------------------------------------------------------------ deep linking


def test_deep_linking_response_from_pylti1p3_is_verified_and_recorded(platform, conf):
    launch, _ = browser_launch(platform, conf, message_type="LtiDeepLinkingRequest",
                               roles=["Instructor"], user="teacher", context=CONTEXT,
                               deep_linking={"data": "opaque-42"})
    assert launch.is_deep_link_launch()
    settings = launch.get_launch_data()[
        "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"]
    assert settings["deep_link_return_url"].startswith(platform.url)
    resource = (DeepLinkResource().set_url(f"{TOOL}/launch?item=7").set_title("Quiz 7")
                .set_custom_params({"provider_item_id": "item-7"})
                .set_lineitem(PyLineItem().set_score_maximum(5).set_label("Quiz 7")))
    token = launch.get_deep_link().get_response_jwt([resource])
    answer = requests.post(settings["deep_link_return_url"], data={"JWT": token}, timeout=5)
    assert answer.status_code == 200, answer.text
    (recorded,) = state(platform)["deep_linking_responses"]
    assert recorded["accepted"] and recorded["data"] == "opaque-42"
    assert recorded["content_items"][0]["title"] == "Quiz 7"
    (link_id,) = recorded["resource_links"]
    context = state(platform)["contexts"][CONTEXT]
    assert context["resource_links"][link_id]["custom"] == {"provider_item_id": "item-7"}
    assert context["line_items"][-1]["label"] == "Quiz 7"
    replay = requests.post(settings["deep_link_return_url"], data={"JWT": token}, timeout=5)
    assert replay.status_code == 400 and "nonce" in replay.text


def test_deep_linking_response_rules(platform, conf):
    launch, _ = browser_launch(platform, conf, message_type="LtiDeepLinkingRequest",
                               user="teacher", context=CONTEXT,
                               deep_linking={"data": "d", "accept_multiple": False})
    deep_link = launch.get_deep_link()
    url = launch.get_launch_data()[
        "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"][
        "deep_link_return_url"]
    item = DeepLinkResource().set_url(f"{TOOL}/x").set_title("X")

    def send(**changes) -> requests.Response:
        message = deep_link.get_message_jwt([item])
        message.update(changes)
        return requests.post(url, data={"JWT": deep_link.encode_jwt(message)}, timeout=5)

    assert "echo" in send(**{"https://purl.imsglobal.org/spec/lti-dl/claim/data": "x"}).text
    assert "accept_multiple" in send(**{
        "https://purl.imsglobal.org/spec/lti-dl/claim/content_items": [
            item.to_dict(), item.to_dict()]}).text
    assert "not accepted" in send(**{
        "https://purl.imsglobal.org/spec/lti-dl/claim/content_items": [
            {"type": "file", "url": "x"}]}).text
    assert "deployment" in send(**{LTI + "deployment_id": "dep-2"}).text
    assert "aud" in send(aud="https://elsewhere.example").text
    assert "expired" in send(exp=int(time.time()) - 3600, iat=int(time.time()) - 3700).text
    unsigned = deep_link.get_response_jwt([item]).rsplit(".", 1)[0] + ".AAAA"
    assert "signature" in requests.post(url, data={"JWT": unsigned}, timeout=5).text
    assert send().status_code == 200
    assert [r["accepted"] for r in state(platform)["deep_linking_responses"]] == \
        [False] * 7 + [True]


# ---------------------------------------------------------------------- AGS and NRPS


def test_pylti1p3_ags_client_against_the_mock(platform, conf):
    launch, _ = browser_launch(platform, conf, FixedLaunch, context=CONTEXT,
                               resource_link="rl-1")
    ags = launch.get_ags()
    stamp = datetime.now(UTC).isoformat()
    grade = (Grade().set_score_given(8).set_score_maximum(10).set_user_id("user-0")
             .set_activity_progress("Completed").set_grading_progress("FullyGraded")
             .set_timestamp(stamp))
    ags.put_grade(grade)
    assert [g["resultScore"] for g in ags.get_grades()] == [8]
    for i in range(4):
        ags.find_or_create_lineitem(PyLineItem().set_tag(f"t{i}").set_label(f"L{i}")
                                    .set_score_maximum(3))
    assert len(ags.get_lineitems()) == 5  # three pages of two
    with pytest.raises(LtiServiceException):
        ags.put_grade(grade)  # the same timestamp again: the platform refuses it


def test_pylti1p3_nrps_client_against_the_mock(platform, conf):
    launch, _ = browser_launch(platform, conf, FixedLaunch, context=CONTEXT,
                               resource_link="rl-1")
    members = launch.get_nrps().get_members()
    assert [m["user_id"] for m in members] == [f"user-{i}" for i in range(5)] + ["teacher"]
    assert members[0]["roles"] == [
        "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"]


def test_pylti1p3_unpatched_paging_breaks_on_case_sensitive_links(platform, conf):
    """Documents the quirk the test-side connector works around."""
    launch, _ = browser_launch(platform, conf, context=CONTEXT, resource_link="rl-1")
    with pytest.raises(LtiServiceException, match="400"):
        launch.get_nrps().get_members()


def test_tokens_are_scoped_and_checked(platform, conf):
    launch, _ = browser_launch(platform, conf, FixedLaunch, context=CONTEXT,
                               resource_link="rl-1")
    connector = launch.get_service_connector()
    token = connector.get_access_token(
        ["https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"])
    url = platform.lineitems_url(CONTEXT)
    headers = {"Authorization": f"Bearer {token}"}
    assert requests.get(url, headers=headers, timeout=5).status_code == 200
    forbidden = requests.post(url, headers={**headers, "Content-Type":
                                            "application/vnd.ims.lis.v2.lineitem+json"},
                              data=json.dumps({"label": "x", "scoreMaximum": 1}), timeout=5)
    assert forbidden.status_code == 403
    assert 'error="insufficient_scope"' in forbidden.headers["WWW-Authenticate"]
    assert requests.get(url, timeout=5).status_code == 401
    platform.expire_tokens()
    expired = requests.get(url, headers=headers, timeout=5)
    assert expired.status_code == 401 and expired.json()["error"] == "invalid_token"


# ------------------------------------------------------------- seeding over HTTP, CLI


def test_seeding_and_launching_over_http(keyring_free_platform):
    mock = keyring_free_platform
    control = f"{mock.url}/_mock"
    assert requests.post(f"{control}/tool", json={
        "client_id": "web-tool", "deployment_ids": ["d1"], "login_url": f"{TOOL}/login",
        "launch_url": LAUNCH_URL, "jwks_url": f"{TOOL}/.well-known/jwks.json"},
        timeout=5).status_code == 201
    assert requests.post(f"{control}/users", json=[{"id": "a", "name": "A"}, {"id": "b"}],
                         timeout=5).status_code == 201
    assert requests.post(f"{control}/contexts", json={"id": "c9", "title": "C9"},
                         timeout=5).status_code == 201
    assert requests.post(f"{control}/contexts/c9/members",
                         json=[{"user_id": "a", "roles": ["Instructor"]}, {"user_id": "b"}],
                         timeout=5).status_code == 201
    assert requests.post(f"{control}/contexts/c9/resource_links", json={
        "id": "r1", "line_item": {"label": "Q", "scoreMaximum": 2}}, timeout=5).status_code \
        == 201
    started = requests.post(f"{control}/launches", json={
        "user": "a", "roles": ["Instructor"], "context": "c9", "resource_link": "r1"},
        timeout=5)
    assert started.status_code == 201
    body = started.json()
    assert body["url"] == f"{TOOL}/login" and body["params"]["client_id"] == "web-tool"
    assert set(body["params"]) == {"iss", "login_hint", "target_link_uri", "lti_message_hint",
                                   "lti_deployment_id", "client_id"}
    page = requests.get(body["start_url"], timeout=5)
    assert f'action="{TOOL}/login"' in page.text and body["launch_id"] in page.text
    bad = requests.post(f"{control}/contexts/nope/members", json={"user_id": "a"}, timeout=5)
    assert bad.status_code == 400 and "unknown context" in bad.json()["error"]
    seeded = state(mock)
    assert set(seeded["contexts"]["c9"]["members"]) == {"a", "b"}
    assert seeded["contexts"]["c9"]["line_items"][0]["label"] == "Q"
    assert requests.post(f"{control}/reset", timeout=5).status_code == 204
    assert state(mock)["contexts"] == {}


@pytest.fixture
def keyring_free_platform():
    with MockLtiPlatform() as mock:
        yield mock


def test_the_lti_adapter_serves_this_mock():
    from lmsbridge.core.plugins import Registry

    mock = Registry.load().mock_platform("lti")
    assert isinstance(mock, MockLtiPlatform) and not mock.running
