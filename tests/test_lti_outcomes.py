"""LTI 1.1 Basic Outcomes: our client against the mock platform (which checks the OAuth 1.0a
signature and body hash), and the mock and our XML checked with the independent `lti`
package (0.9.5)."""

from __future__ import annotations

import pytest
import requests
from lti import OutcomeRequest

from lmsbridge.conformance.lti import MockLtiPlatform
from lmsbridge.core.lti.outcomes import (
    OutcomesClient,
    build_request,
    format_score,
    parse_response,
)
from lmsbridge.core.lti.service_errors import ServiceError
from lmsbridge.core.model import Outcome
from lmsbridge.core.secret import Secret

KEY, SECRET = "legacy-key", "s3cret-shared"


@pytest.fixture
def platform():
    with MockLtiPlatform() as mock:
        mock.add_context("c1")
        mock.add_member("c1", "u1")
        mock.add_resource_link("c1", "rl1", line_item={"label": "Quiz", "scoreMaximum": 20})
        mock.add_lti11_consumer(KEY, SECRET)
        yield mock


@pytest.fixture
def sourcedid(platform) -> str:
    return platform.lti11_sourcedid("c1", "rl1", "u1")


@pytest.fixture
def client() -> OutcomesClient:
    return OutcomesClient(KEY, Secret(SECRET))


def held(platform) -> dict:
    state = requests.get(f"{platform.url}/_mock/state", timeout=5).json()
    return state["contexts"]["c1"]["line_items"][0]["results"]


def test_replace_read_delete(platform, client, sourcedid):
    answer = client.replace_result(platform.outcomes_url, sourcedid, 0.85, text="Well done")
    assert answer.ok and answer.outcome is Outcome.DELIVERED
    assert answer.operation == "replaceResult"
    assert held(platform)["u1"]["resultScore"] == pytest.approx(17)
    assert client.read_result(platform.outcomes_url, sourcedid) == pytest.approx(0.85)
    assert client.delete_result(platform.outcomes_url, sourcedid).ok
    assert client.read_result(platform.outcomes_url, sourcedid) is None


def test_failure_answers_are_rejected_not_raised(platform, client):
    answer = client.replace_result(platform.outcomes_url, "not-a-sourcedid", 0.5)
    assert (answer.code_major, answer.outcome) == ("failure", Outcome.REJECTED)
    assert "sourcedId" in answer.description
    with pytest.raises(ServiceError, match="failure"):
        client.read_result(platform.outcomes_url, "not-a-sourcedid")


def test_wrong_secret_is_refused_by_the_signature_check(platform, sourcedid):
    wrong = OutcomesClient(KEY, Secret("not-the-secret"))
    with pytest.raises(ServiceError) as refused:
        wrong.replace_result(platform.outcomes_url, sourcedid, 0.5)
    assert refused.value.status == 401 and "signature" in str(refused.value)
    assert "not-the-secret" not in str(refused.value) and "not-the-secret" not in repr(wrong)
    assert held(platform) == {}


def test_tampered_body_fails_the_body_hash(platform, client, sourcedid):
    session = requests.Session()
    original = session.send

    def send(prepared, **kwargs):
        prepared.body = prepared.body.replace(b">0.5<", b">1.0<")
        return original(prepared, **kwargs)

    session.send = send  # what a proxy rewriting the body after signing would do
    tampered = OutcomesClient(KEY, Secret(SECRET), session)
    with pytest.raises(ServiceError, match="oauth_body_hash"):
        tampered.replace_result(platform.outcomes_url, sourcedid, 0.5)


def test_throttled_or_failing_platform_is_transient(platform, client, sourcedid):
    platform.faults.add("throttle", path="/lti11/", retry_after=9)
    with pytest.raises(ServiceError) as throttled:
        client.replace_result(platform.outcomes_url, sourcedid, 0.5)
    assert throttled.value.transient and throttled.value.retry_after == 9
    platform.faults.add("malformed_json", path="/lti11/")
    with pytest.raises(ServiceError, match="not XML") as garbled:
        client.replace_result(platform.outcomes_url, sourcedid, 0.5)
    assert garbled.value.transient and garbled.value.outcome is Outcome.RETRY


def test_scores_are_decimal_text_in_range():
    assert [format_score(s) for s in (0, 1, 0.85, 1e-7)] == ["0.0", "1.0", "0.85", "0.0000001"]
    for bad in (-0.1, 1.01, True, "0.5"):
        with pytest.raises(ValueError):
            format_score(bad)


def test_our_xml_reads_right_to_an_independent_parser():
    xml = build_request("replaceResult", "sid-1", "m-1", score=0.5, text="ok")
    theirs = OutcomeRequest()
    theirs.process_xml(xml)
    assert theirs.is_replace_request() and theirs.score == "0.5"
    assert theirs.lis_result_sourcedid == "sid-1" and theirs.message_identifier == "m-1"
    read = OutcomeRequest()
    read.process_xml(build_request("deleteResult", "sid-2", "m-2"))
    assert read.is_delete_request() and read.lis_result_sourcedid == "sid-2"
    with pytest.raises(ValueError, match="needs a score"):
        build_request("replaceResult", "sid", "m")


def test_the_mock_accepts_an_independent_client(platform, sourcedid):
    theirs = OutcomeRequest({"consumer_key": KEY, "consumer_secret": SECRET,
                             "lis_outcome_service_url": platform.outcomes_url,
                             "lis_result_sourcedid": sourcedid})
    response = theirs.post_replace_result(0.25)
    assert response.is_success(), response.description
    assert held(platform)["u1"]["resultScore"] == pytest.approx(5)


def test_parser_refuses_entities_and_foreign_documents():
    bomb = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
            b'<imsx_POXEnvelopeResponse xmlns="http://www.imsglobal.org/services/ltiv1p1/xsd/'
            b'imsoms_v1p0"><imsx_POXHeader><imsx_POXResponseHeaderInfo><imsx_statusInfo>'
            b'<imsx_codeMajor>&e;</imsx_codeMajor></imsx_statusInfo>'
            b'</imsx_POXResponseHeaderInfo></imsx_POXHeader></imsx_POXEnvelopeResponse>')
    with pytest.raises(ValueError, match="codeMajor"):
        parse_response(bomb)  # the entity stays unresolved: no file content, no code
    with pytest.raises(ValueError, match="not an imsx_POXEnvelopeResponse"):
        parse_response(b"<html/>")
