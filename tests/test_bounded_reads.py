"""Bounded reads of platform answers, against a loopback server that sends what we tell it:
huge bodies generated block by block (never held in memory), bodies cut short by a FIN or a
reset, garbled error answers. Every client stops reading early and says so clearly; an answer
it cannot read is transient (a write is RETRY), not a refusal."""

from __future__ import annotations

import socket
import struct
import threading
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import attrs
import lti_service_fixtures as fixtures
import pytest
import requests

from lmsbridge.adapters.canvas.client import CanvasClient
from lmsbridge.adapters.canvas.errors import CanvasError, CanvasTransient
from lmsbridge.adapters.coursera.client import CourseraClient
from lmsbridge.adapters.coursera.retry import ProviderError
from lmsbridge.adapters.oracle.client import OAuthClientCredentials, OracleClient, OracleError
from lmsbridge.core.http import (
    JSON_LIMIT,
    JWKS_LIMIT,
    POX_LIMIT,
    TOKEN_LIMIT,
    AnswerTooLarge,
    UnreadableAnswer,
    read_capped,
    unreadable_json,
)
from lmsbridge.core.lti.ags import AgsClient, Score
from lmsbridge.core.lti.jwks import JwksCache, JwksError
from lmsbridge.core.lti.nrps import NrpsClient
from lmsbridge.core.lti.outcomes import OutcomesClient
from lmsbridge.core.lti.service import NO_RETRY, ServiceClient
from lmsbridge.core.lti.service_errors import ServiceError, TokenError
from lmsbridge.core.lti.token import TokenService
from lmsbridge.core.model import Outcome, PlatformRegistration
from lmsbridge.core.secret import Secret

keyring = fixtures.keyring

HUGE = 512 * 1024 * 1024  # what a runaway platform would send; never sent in full
BLOCK = 64 * 1024
SECRET_BODY = b"SECRET-BODY-"
TOKEN_JSON = b'{"access_token": "tok-123", "token_type": "Bearer", "expires_in": 3600}'


# ====================================================================== the server


@attrs.define
class Answer:
    """What one path answers. ``size``: a body of that many bytes made block by block;
    ``declare``: send Content-Length (else chunked); ``cut``: declare ``body`` whole but send
    only ``cut`` bytes of it, then hang up (``reset``: RST instead of FIN)."""

    status: int = 200
    content_type: str = "application/json"
    body: bytes = b""
    size: int | None = None
    declare: bool = True
    cut: int | None = None
    reset: bool = False


@attrs.define
class Served:
    sent: int = 0  # body bytes the server got out
    finished: bool = False  # the whole body went out
    broken: bool = False  # the client hung up before that
    done: threading.Event = attrs.field(factory=threading.Event)


class AnswerServer:
    def __init__(self) -> None:
        self.routes: dict[str, Answer] = {}
        self.served: dict[str, list[Served]] = defaultdict(list)
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                owner._answer(self)

            do_POST = do_GET  # noqa: N815

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.02}, daemon=True)

    def url(self, path: str = "") -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}{path}"

    def last(self, path: str) -> Served:
        served = self.served[path][-1]
        assert served.done.wait(30), "the server never finished answering"
        return served

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        if length:
            handler.rfile.read(length)
        path = handler.path.split("?")[0]
        answer = self.routes.get(path, Answer(404, "text/plain", b"not found"))
        served = Served()
        self.served[path].append(served)
        try:
            self._send(handler, answer, served)
        except (BrokenPipeError, ConnectionResetError):
            served.broken = True
            handler.close_connection = True
        finally:
            served.done.set()

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, answer: Answer, served: Served) -> None:
        handler.send_response(answer.status)
        handler.send_header("Content-Type", answer.content_type)
        size = answer.size if answer.size is not None else len(answer.body)
        if answer.declare:
            handler.send_header("Content-Length", str(size))
        else:
            handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        if answer.cut is not None:
            handler.wfile.write(answer.body[:answer.cut])
            served.sent = answer.cut
            handler.close_connection = True
            if answer.reset:  # linger 0: close() sends RST, as a crashing proxy does
                handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                              struct.pack("ii", 1, 0))
                handler.connection.close()
            return
        for block in _blocks(answer.body, answer.size):
            handler.wfile.write(block if answer.declare
                                else b"%x\r\n%s\r\n" % (len(block), block))
            served.sent += len(block)
        if not answer.declare:
            handler.wfile.write(b"0\r\n\r\n")
        served.finished = True


def _blocks(body: bytes, size: int | None) -> Iterator[bytes]:
    if size is None:
        yield body
        return
    block = (SECRET_BODY * (BLOCK // len(SECRET_BODY) + 1))[:BLOCK]
    left = size
    while left > 0:
        yield block[:left]
        left -= BLOCK


@pytest.fixture
def server() -> Iterator[AnswerServer]:
    srv = AnswerServer()
    srv.thread.start()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


def huge(declare: bool, status: int = 200, content_type: str = "application/json") -> Answer:
    return Answer(status, content_type, size=HUGE, declare=declare)


def assert_stopped_early(served: Served) -> None:
    """The client hung up: the server got out a small part of the body, never all of it."""
    assert served.broken and not served.finished
    assert served.sent < HUGE // 8


def assert_clear(message: str, url: str, limit: int) -> None:
    assert url in message and str(limit) in message
    assert SECRET_BODY.decode() not in message and "tok-123" not in message


DECLARED = pytest.mark.parametrize("declare", [True, False], ids=["content-length", "chunked"])


# ================================================================ the helper itself


@DECLARED
def test_read_capped_stops_early_and_names_the_url_and_limit(server, declare):
    server.routes["/big"] = huge(declare)
    response = requests.get(server.url("/big"), stream=True, timeout=10)
    with pytest.raises(AnswerTooLarge) as too_large:
        read_capped(response, 100_000)
    assert too_large.value.limit == 100_000
    assert_clear(str(too_large.value), server.url("/big"), 100_000)
    assert_stopped_early(server.last("/big"))


def test_a_declared_length_over_the_limit_is_refused_before_reading(server):
    server.routes["/big"] = huge(declare=True)
    response = requests.get(server.url("/big"), stream=True, timeout=10)
    with pytest.raises(AnswerTooLarge):
        read_capped(response, HUGE - 1)  # a limit that reading alone would take long to hit
    assert_stopped_early(server.last("/big"))


def test_the_body_read_stays_on_the_response(server):
    server.routes["/ok"] = Answer(body=b'{"a": [1, 2]}')
    response = requests.get(server.url("/ok"), stream=True, timeout=10)
    assert read_capped(response, 13) == b'{"a": [1, 2]}'
    assert response.json() == {"a": [1, 2]} and response.text == '{"a": [1, 2]}'
    assert server.last("/ok").finished


@pytest.mark.parametrize("reset", [False, True], ids=["fin", "rst"])
def test_a_body_cut_short_is_unreadable_not_too_large(server, reset):
    body = b'{"error": "invalid_request", "error_description": "x"}' * 50
    server.routes["/cut"] = Answer(400, body=body, cut=len(body) // 2, reset=reset)
    response = requests.get(server.url("/cut"), stream=True, timeout=10)
    with pytest.raises(UnreadableAnswer) as cut:
        read_capped(response, JSON_LIMIT)
    assert not isinstance(cut.value, AnswerTooLarge)
    assert "cut short" in str(cut.value) and server.url("/cut") in str(cut.value)


def test_user_info_and_tokens_in_the_url_never_reach_the_message(server):
    server.routes["/big"] = huge(declare=True)
    url = server.url("/big").replace("//", "//admin:pa55word@")
    response = requests.get(url + "?t=eyJhbGciOi.eyJzdWIiOiJ4In0.c2ln", stream=True,
                            timeout=10)
    with pytest.raises(AnswerTooLarge) as too_large:
        read_capped(response, 1000)
    message = str(too_large.value)
    assert "pa55word" not in message and "eyJzdWIiOiJ4In0" not in message
    assert server.url("/big") in message


def test_garbled_json_is_told_from_readable_answers(server):
    cases = {"/garbled": Answer(400, body=b'{"errors": [{"mess'),
             "/vendor": Answer(400, "application/vnd.ims.lis.v1.score+json", b"[1, 2"),
             "/fine": Answer(400, body=b'{"errors": []}'),
             "/empty": Answer(409, body=b""),
             "/html": Answer(403, "text/html", b"<html><body>Forbid")}
    server.routes.update(cases)
    seen = {}
    for path in cases:
        response = requests.get(server.url(path), stream=True, timeout=10)
        read_capped(response, JSON_LIMIT)
        seen[path] = unreadable_json(response)
    assert seen == {"/garbled": True, "/vendor": True, "/fine": False, "/empty": False,
                    "/html": False}


# ============================================================ every client, too large


@DECLARED
def test_pox_answers_are_read_to_256_kib(server, declare):
    server.routes["/pox"] = huge(declare, content_type="application/xml")
    client = OutcomesClient("key", Secret("shared-secret"))
    with pytest.raises(ServiceError) as failed:
        client.replace_result(server.url("/pox"), "sourcedid-1", 0.5)
    assert failed.value.transient and failed.value.status is None
    assert failed.value.outcome is Outcome.RETRY
    assert_clear(str(failed.value), server.url("/pox"), POX_LIMIT)
    assert "shared-secret" not in str(failed.value)
    assert_stopped_early(server.last("/pox"))


@DECLARED
def test_key_sets_are_read_to_1_mib(server, declare):
    server.routes["/jwks"] = huge(declare)
    with pytest.raises(JwksError) as failed:
        JwksCache().get_key(server.url("/jwks"), "k1")
    assert_clear(str(failed.value), server.url("/jwks"), JWKS_LIMIT)
    assert_stopped_early(server.last("/jwks"))


def registration(server: AnswerServer) -> PlatformRegistration:
    return PlatformRegistration(tenant="uni", issuer=server.url(), client_id="tool-1",
                                deployment_ids=["1"], auth_login_url=server.url("/auth"),
                                auth_token_url=server.url("/token"),
                                jwks_url=server.url("/jwks"))


@DECLARED
def test_token_answers_are_read_to_64_kib(server, keyring, declare):
    server.routes["/token"] = huge(declare)
    with pytest.raises(TokenError) as failed:
        TokenService(keyring).token(registration(server), ["scope-a"])
    assert failed.value.transient and failed.value.status is None
    assert_clear(str(failed.value), server.url("/token"), TOKEN_LIMIT)
    assert_stopped_early(server.last("/token"))


def service(server: AnswerServer, keyring) -> ServiceClient:
    server.routes["/token"] = Answer(body=TOKEN_JSON)
    return ServiceClient(registration(server), TokenService(keyring), retry=NO_RETRY)


def score() -> Score:
    return Score(user_id="u1", timestamp=datetime(2026, 11, 1, tzinfo=UTC), score_given=1,
                 score_maximum=2)


@DECLARED
def test_a_too_large_answer_to_a_score_is_retry(server, keyring, declare):
    server.routes["/li/1/scores"] = huge(declare)
    result = AgsClient(service(server, keyring)).post_score(server.url("/li/1"), score())
    assert (result.outcome, result.status) == (Outcome.RETRY, None)
    assert_clear(result.detail, server.url("/li/1/scores"), JSON_LIMIT)
    assert_stopped_early(server.last("/li/1/scores"))


@DECLARED
def test_a_too_large_roster_page_raises_instead_of_ending_the_roster(server, keyring, declare):
    server.routes["/members"] = huge(declare)
    with pytest.raises(ServiceError) as failed:
        list(NrpsClient(service(server, keyring)).memberships(server.url("/members")))
    assert failed.value.transient
    assert_clear(str(failed.value), server.url("/members"), JSON_LIMIT)
    assert_stopped_early(server.last("/members"))


@DECLARED
def test_canvas_answers_are_capped(server, declare):
    server.routes["/api/v1/courses/1/assignments"] = huge(declare)
    client = CanvasClient(server.url(), Secret("canvas-token"), requests.Session(), 10)
    with pytest.raises(CanvasTransient) as failed:
        client.json("GET", "/courses/1/assignments")
    # Canvas's messages name the path under /api/v1, as every other Canvas message does.
    assert_clear(str(failed.value), "GET /courses/1/assignments", JSON_LIMIT)
    assert "canvas-token" not in str(failed.value)
    assert_stopped_early(server.last("/api/v1/courses/1/assignments"))


class StaticAuth:
    def header(self) -> dict[str, str]:
        return {"Authorization": "Bearer oracle-token"}

    def renew(self) -> None:
        pass


@DECLARED
def test_oracle_answers_are_capped(server, declare):
    server.routes["/hcmRestApi/x"] = huge(declare)
    client = OracleClient(server.url(), StaticAuth(), requests.Session(), timeout=10,
                          max_attempts=1)
    with pytest.raises(OracleError) as failed:
        client.get_json("/hcmRestApi/x")
    assert failed.value.transient and str(JSON_LIMIT) in str(failed.value)
    assert "oracle-token" not in str(failed.value)
    assert_stopped_early(server.last("/hcmRestApi/x"))


def test_oracle_token_answers_are_capped(server):
    server.routes["/oauth2/v1/token"] = huge(declare=False)
    auth = OAuthClientCredentials(token_url=server.url("/oauth2/v1/token"), client_id="app",
                                  client_secret=Secret("app-secret"), scope=None,
                                  session=requests.Session(), timeout=10)
    with pytest.raises(OracleError) as failed:
        auth.header()
    assert failed.value.transient
    assert_clear(str(failed.value), server.url("/oauth2/v1/token"), TOKEN_LIMIT)
    assert "app-secret" not in str(failed.value)
    assert_stopped_early(server.last("/oauth2/v1/token"))


def coursera(server: AnswerServer) -> CourseraClient:
    return CourseraClient(server.url(), "org", "client", Secret("provider-secret"),
                          requests.Session(), timeout=10, attempts=1)


@DECLARED
def test_provider_answers_are_capped(server, declare):
    server.routes["/oauth2/client_credentials/token"] = Answer(body=TOKEN_JSON)
    server.routes["/api/businesses.v1/org/programs"] = huge(declare)
    with pytest.raises(ProviderError) as failed:
        list(coursera(server).programs())
    assert str(JSON_LIMIT) in str(failed.value) and "provider-secret" not in str(failed.value)
    assert_stopped_early(server.last("/api/businesses.v1/org/programs"))


def test_provider_token_answers_are_capped(server):
    server.routes["/oauth2/client_credentials/token"] = huge(declare=True)
    with pytest.raises(ProviderError) as failed:
        list(coursera(server).programs())
    assert str(TOKEN_LIMIT) in str(failed.value)
    assert_stopped_early(server.last("/oauth2/client_credentials/token"))


# ===================================== score writes whose answer cannot be read: RETRY

STALE = (b'{"errors": [{"message": "Provided timestamp of 2026-11-01T00:00:00Z before last '
         b'updated timestamp of 2026-11-02T00:00:00Z"}]}')


def cut(body: bytes, reset: bool = False, status: int = 400) -> Answer:
    return Answer(status, body=body, cut=len(body) // 2, reset=reset)


UNREADABLE_4XX = pytest.mark.parametrize("answer", [
    cut(STALE), cut(STALE, reset=True), Answer(400, body=STALE[:40]),
], ids=["cut-fin", "cut-rst", "garbled"])


@UNREADABLE_4XX
def test_an_unreadable_refusal_of_a_score_is_retry(server, keyring, answer):
    server.routes["/li/1/scores"] = answer
    result = AgsClient(service(server, keyring)).post_score(server.url("/li/1"), score())
    assert result.outcome is Outcome.RETRY


def test_a_readable_refusal_of_a_score_stays_what_it_says(server, keyring):
    ags = AgsClient(service(server, keyring))
    server.routes["/li/1/scores"] = Answer(400, body=STALE)
    assert ags.post_score(server.url("/li/1"), score()).outcome is Outcome.CURRENT
    server.routes["/li/1/scores"] = Answer(400, body=b'{"error": "unknown user"}')
    assert ags.post_score(server.url("/li/1"), score()).outcome is Outcome.REJECTED
    server.routes["/li/1/scores"] = Answer(400, "text/plain", b"unknown user")
    assert ags.post_score(server.url("/li/1"), score()).outcome is Outcome.REJECTED


@UNREADABLE_4XX
def test_an_unreadable_canvas_refusal_is_transient(server, answer):
    server.routes["/api/v1/courses/1/x"] = answer
    client = CanvasClient(server.url(), Secret("canvas-token"), requests.Session(), 10)
    with pytest.raises(CanvasTransient):
        client.json("POST", "/courses/1/x", form={"a": 1})
    server.routes["/api/v1/courses/1/x"] = Answer(400, body=STALE)
    with pytest.raises(CanvasError):
        client.json("POST", "/courses/1/x", form={"a": 1})


@UNREADABLE_4XX
def test_an_unreadable_oracle_refusal_is_transient(server, answer):
    server.routes["/xapi/statements"] = answer
    client = OracleClient(server.url(), StaticAuth(), requests.Session(), timeout=10,
                          max_attempts=1)
    with pytest.raises(OracleError) as failed:
        client.request("POST", "/xapi/statements", json=[{"id": "s1"}], ok=(200, 204))
    assert failed.value.transient and failed.value.status is None
    server.routes["/xapi/statements"] = Answer(400, body=b'{"detail": "bad statement"}')
    with pytest.raises(OracleError) as refused:
        client.request("POST", "/xapi/statements", json=[{"id": "s1"}], ok=(200, 204))
    assert not refused.value.transient and refused.value.status == 400


@pytest.mark.parametrize("answer", [
    cut(b"<?xml version='1.0'?><imsx_POXEnvelopeResponse>" + b" " * 200, status=200),
    Answer(200, "application/xml", b"<?xml version='1.0'?><imsx_POXEnvelopeRes"),
    Answer(400, body=STALE[:40]),
], ids=["cut", "garbled-xml", "garbled-json-error"])
def test_an_unreadable_pox_answer_is_transient(server, answer):
    server.routes["/pox"] = answer
    with pytest.raises(ServiceError) as failed:
        OutcomesClient("key", Secret("shared-secret")).replace_result(server.url("/pox"),
                                                                      "sid", 0.5)
    assert failed.value.transient and failed.value.outcome is Outcome.RETRY


def test_a_pox_answer_of_the_wrong_shape_is_rejected(server):
    server.routes["/pox"] = Answer(200, "application/xml", b"<html><body>Login</body></html>")
    with pytest.raises(ServiceError) as failed:
        OutcomesClient("key", Secret("shared-secret")).replace_result(server.url("/pox"),
                                                                      "sid", 0.5)
    assert not failed.value.transient
