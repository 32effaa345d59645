"""The mock platform base: real HTTP on loopback, inspection, and faults as a client sees them."""

from __future__ import annotations

import socket
import threading
from typing import Any

import pytest
import requests
from flask import Flask, Response, jsonify, request

from lmsbridge.conformance.mock import FAULT_KINDS, FaultRule, FaultSet, MockServer


class ItemsMock(MockServer):
    """The smallest stateful platform: a list of items behind POST/GET /items."""

    name = "items"

    def reset(self) -> None:
        super().reset()
        self.items: list[dict[str, Any]] = []

    def state(self) -> dict[str, Any]:
        return {**super().state(), "items": list(self.items)}

    def routes(self, app: Flask) -> None:
        @app.post("/items")
        def create_item() -> tuple[Response, int]:
            with self.lock:
                item = {"id": len(self.items) + 1, **request.get_json()}
                self.items.append(item)
            return jsonify(item), 201

        @app.get("/items")
        def list_items() -> Response:
            with self.lock:
                return jsonify(self.items)

        @app.get("/boom")
        def boom() -> Response:
            raise RuntimeError("handler bug")


class CanvasLikeMock(ItemsMock):
    """Overrides the platform-specific answers and guards its API with a bearer token."""

    name = "canvaslike"

    def routes(self, app: Flask) -> None:
        super().routes(app)

        @app.before_request
        def require_token() -> tuple[Response, int] | None:
            if request.headers.get("Authorization") != "Bearer good":
                return jsonify(errors=[{"message": "Invalid access token."}]), 401
            return None

    def throttle_response(self, rule: FaultRule) -> Response:
        return Response("403 Forbidden (Rate Limit Exceeded)", 403, mimetype="text/plain")

    def expired_token_response(self, rule: FaultRule) -> Response:
        response = jsonify(errors=[{"message": "Invalid access token."}])
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Bearer realm="canvas-lms"'
        return response


@pytest.fixture
def mock():
    with ItemsMock() as server:
        yield server


def state(server: MockServer) -> dict[str, Any]:
    response = requests.get(f"{server.url}/_mock/state", timeout=5)
    assert response.status_code == 200
    return response.json()


def create(server: MockServer, name: str = "a", **kwargs: Any) -> requests.Response:
    kwargs.setdefault("timeout", 5)
    return requests.post(f"{server.url}/items", json={"name": name}, **kwargs)


def faults_fired(server: MockServer, kind: str) -> int:
    return sum(1 for entry in state(server)["requests"] if entry["fault"] == kind)


# --------------------------------------------------------------------------- lifecycle


def test_start_returns_with_a_listening_socket_and_stop_closes_it():
    server = ItemsMock().start()
    port = server.port
    try:
        assert server.url == f"http://127.0.0.1:{port}"
        # No wait between start() and connecting: the socket is bound and listening already.
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass
        with pytest.raises(RuntimeError, match="already running"):
            server.start()
    finally:
        server.stop()
    assert not server.running
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5)


def test_serve_forever_blocks_until_stopped():
    server = ItemsMock()
    ready = threading.Event()
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"on_ready": lambda _: ready.set(), "quiet": True}
    )
    thread.start()
    try:
        assert ready.wait(5)
        assert create(server).status_code == 201
    finally:
        server.stop()
        thread.join(5)
    assert not thread.is_alive()
    assert not server.running


# ------------------------------------------------------------------ state and inspection


def test_subclass_route_changes_state_and_reset_clears_it(mock):
    assert create(mock, "first").json() == {"id": 1, "name": "first"}
    assert requests.get(f"{mock.url}/items?page=2&per_page=10", timeout=5).json() == [
        {"id": 1, "name": "first"}
    ]
    snapshot = state(mock)
    assert snapshot["items"] == [{"id": 1, "name": "first"}]
    assert [(e["method"], e["path"], e["query"], e["status"]) for e in snapshot["requests"]] == [
        ("POST", "/items", "", 201),
        ("GET", "/items", "page=2&per_page=10", 200),
    ]
    assert [e["seq"] for e in snapshot["requests"]] == [1, 2]
    assert all(e["fault"] is None for e in snapshot["requests"])

    mock.faults.add("status", status=500, path="/never")
    assert requests.post(f"{mock.url}/_mock/reset", timeout=5).status_code == 204
    after = state(mock)
    assert after["items"] == [] and after["requests"] == []
    assert len(mock.faults) == 0
    create(mock)
    assert state(mock)["requests"][0]["seq"] == 3  # never reused after a reset


def test_request_log_is_bounded():
    with ItemsMock(log_size=2) as server:
        for name in "abc":
            create(server, name)
        snapshot = state(server)
    assert [e["seq"] for e in snapshot["requests"]] == [2, 3]
    assert snapshot["evicted"] == 1
    assert snapshot["seq"] == 3


def test_a_handler_bug_is_a_500_like_on_a_real_server(mock):
    response = requests.get(f"{mock.url}/boom", timeout=5)
    assert response.status_code == 500
    assert state(mock)["requests"][-1]["status"] == 500


# ---------------------------------------------------------------------- fault kinds


@pytest.mark.parametrize("status", [429, 500, 502, 503])
def test_status_fault_answers_before_the_handler_runs(mock, status):
    mock.faults.add("status", status=status, retry_after=7, method="POST", path="^/items$")
    response = create(mock)
    assert response.status_code == status
    assert response.headers["Retry-After"] == "7"
    assert state(mock)["items"] == []
    assert create(mock).status_code == 201  # times defaults to 1
    entries = state(mock)["requests"]
    assert [(e["status"], e["fault"]) for e in entries] == [(status, "status"), (201, None)]


def test_reset_fault_is_a_connection_error_for_the_client(mock):
    mock.faults.add("reset", path="^/items$")
    with pytest.raises(requests.ConnectionError):
        create(mock)
    snapshot = state(mock)
    assert snapshot["items"] == []
    assert snapshot["requests"][-1]["fault"] == "reset"
    assert snapshot["requests"][-1]["status"] is None


def test_slow_fault_exceeds_a_client_timeout(mock):
    mock.faults.add("slow", delay=1.0, path="^/items$")
    with pytest.raises(requests.Timeout):
        requests.get(f"{mock.url}/items", timeout=0.1)


def test_slow_fault_lets_a_patient_client_through(mock):
    rule = mock.faults.add("slow", delay=0.01, path="^/items$")
    assert create(mock).status_code == 201
    assert state(mock)["items"] == [{"id": 1, "name": "a"}]
    assert rule.fired == 1 and faults_fired(mock, "slow") == 1


def test_stopping_drops_a_delayed_request_instead_of_applying_it():
    server = ItemsMock().start()
    try:
        server.faults.add("slow", delay=5.0, path="^/items$")
        with pytest.raises(requests.Timeout):
            create(server, timeout=0.1)
    finally:
        server.stop()  # wakes the waiting handler thread and waits for it
    assert server.items == []
    assert [(e.fault, e.status) for e in server.requests] == [("slow", None)]


def test_malformed_json_is_a_200_with_a_truncated_body(mock):
    mock.faults.add("malformed_json", method="GET")
    response = requests.get(f"{mock.url}/items", timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert len(response.content) == int(response.headers["Content-Length"])
    with pytest.raises(requests.JSONDecodeError):
        response.json()
    assert faults_fired(mock, "malformed_json") == 1


def test_expired_token_is_a_401(mock):
    mock.faults.add("expired_token")
    response = create(mock)
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert response.json()["error"] == "invalid_token"
    assert state(mock)["items"] == []


def test_throttle_default_is_429(mock):
    mock.faults.add("throttle", retry_after=2)
    response = create(mock)
    assert (response.status_code, response.headers["Retry-After"]) == (429, "2")


def test_subclass_customises_throttle_and_expired_token_and_keeps_control_open():
    auth = {"Authorization": "Bearer good"}
    with CanvasLikeMock() as server:
        server.faults.add("throttle")
        server.faults.add("expired_token")
        throttled = create(server, headers=auth)
        expired = create(server, headers=auth)
        assert create(server).status_code == 401  # the platform's own auth check
        assert create(server, headers=auth).status_code == 201
        # /_mock/* is outside the platform's before_request auth.
        snapshot = state(server)
    assert throttled.status_code == 403
    assert throttled.headers["Content-Type"].startswith("text/plain")
    assert throttled.text == "403 Forbidden (Rate Limit Exceeded)"
    assert expired.status_code == 401
    assert expired.headers["WWW-Authenticate"] == 'Bearer realm="canvas-lms"'
    assert expired.json() == {"errors": [{"message": "Invalid access token."}]}
    assert [e["fault"] for e in snapshot["requests"]] == ["throttle", "expired_token", None, None]
    assert len(snapshot["items"]) == 1


# ------------------------------------------------------- after=True: applied, never heard


def test_after_status_applies_the_write_but_the_client_sees_the_error(mock):
    mock.faults.add("status", status=502, after=True, path="^/items$")
    assert create(mock).status_code == 502
    snapshot = state(mock)
    assert snapshot["items"] == [{"id": 1, "name": "a"}]
    assert snapshot["requests"][-1] | {"seq": 0} == {
        "seq": 0,
        "method": "POST",
        "path": "/items",
        "query": "",
        "status": 502,
        "fault": "status",
        "fault_id": 1,
        "after": True,
    }


def test_after_reset_applies_the_write_but_the_client_gets_a_connection_error(mock):
    mock.faults.add("reset", after=True, method="POST")
    with pytest.raises(requests.ConnectionError):
        create(mock)
    assert state(mock)["items"] == [{"id": 1, "name": "a"}]


def test_after_malformed_json_truncates_the_real_answer(mock):
    mock.faults.add("malformed_json", after=True, method="POST")
    response = create(mock, "a-rather-long-name-so-the-cut-is-visible")
    assert response.status_code == 201
    assert response.content.startswith(b'{"id":1')
    with pytest.raises(requests.JSONDecodeError):
        response.json()
    assert len(state(mock)["items"]) == 1


# ------------------------------------------------------------------ matching and firing


def test_rule_matches_method_and_path_regex(mock):
    mock.faults.add("status", status=503, method="post", path=r"^/items$", times=2)
    assert requests.get(f"{mock.url}/items", timeout=5).status_code == 200
    assert create(mock).status_code == 503
    assert create(mock).status_code == 503
    assert create(mock).status_code == 201


def test_skip_lets_the_first_requests_through(mock):
    rule = mock.faults.add("status", status=500, skip=2, path="^/items$")
    assert [create(mock).status_code for _ in range(4)] == [201, 201, 500, 201]
    assert (rule.seen, rule.fired, rule.exhausted) == (3, 1, True)


def _rate_pattern(seed: int) -> list[int]:
    with ItemsMock() as server:
        server.faults.add("status", status=503, rate=0.3, seed=seed)
        return [create(server).status_code for _ in range(30)]


def test_rate_faults_are_reproducible_from_the_seed():
    first, again, other = _rate_pattern(7), _rate_pattern(7), _rate_pattern(8)
    assert first == again
    assert 0 < first.count(503) < 30
    assert first != other


def test_control_endpoints_are_never_faulted(mock):
    mock.faults.add("reset", times=None)
    mock.faults.add("status", status=500, rate=1.0)
    assert requests.get(f"{mock.url}/_mock/faults", timeout=5).status_code == 200
    assert requests.get(f"{mock.url}/_mock/state", timeout=5).status_code == 200
    with pytest.raises(requests.ConnectionError):
        create(mock)
    assert state(mock)["requests"] == [
        {
            "seq": 1,
            "method": "POST",
            "path": "/items",
            "query": "",
            "status": None,
            "fault": "reset",
            "fault_id": 1,
            "after": False,
        }
    ]


# ------------------------------------------------------------------- faults over HTTP


def test_faults_over_http(mock):
    base = f"{mock.url}/_mock/faults"
    one = requests.post(base, json={"kind": "status", "status": 429, "retry_after": 1}, timeout=5)
    assert one.status_code == 201
    rule = one.json()["faults"][0]
    assert rule | {"id": 0} == {
        "id": 0,
        "kind": "status",
        "method": None,
        "path": None,
        "status": 429,
        "retry_after": 1,
        "delay": 0.0,
        "times": 1,
        "rate": None,
        "seed": 0,
        "skip": 0,
        "after": False,
        "seen": 0,
        "fired": 0,
        "exhausted": False,
    }
    many = requests.post(
        base,
        json=[{"kind": "reset", "path": "^/other$"}, {"kind": "slow", "delay": 0.01}],
        timeout=5,
    )
    assert [r["kind"] for r in many.json()["faults"]] == ["reset", "slow"]

    assert create(mock).status_code == 429
    listed = requests.get(base, timeout=5).json()["faults"]
    assert [(r["kind"], r["fired"], r["exhausted"]) for r in listed] == [
        ("status", 1, True),
        ("reset", 0, False),
        ("slow", 0, False),
    ]
    assert requests.delete(f"{base}/{listed[1]['id']}", timeout=5).status_code == 204
    assert requests.delete(f"{base}/{listed[1]['id']}", timeout=5).status_code == 404
    assert len(requests.get(base, timeout=5).json()["faults"]) == 2
    assert requests.delete(base, timeout=5).status_code == 204
    assert requests.get(base, timeout=5).json() == {"faults": []}


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"kind": "explode"}, "unknown fault kind"),
        ({"kind": "status"}, "needs status"),
        ({"kind": "status", "status": 200}, "400 to 599"),
        ({"kind": "slow"}, "needs delay"),
        ({"kind": "reset", "tims": 2}, "tims"),
        ({"kind": "throttle", "after": True}, "after=true is not possible"),
        ({"kind": "reset", "rate": 1.5}, "rate"),
        ({"kind": "reset", "times": 0}, "times"),
        ({"kind": "reset", "path": "("}, "regular expression"),
        ({"kind": "reset", "retry_after": 3}, "retry_after"),
        ([{"kind": "reset"}, {"kind": "status"}], "needs status"),
        ("reset", "JSON fault rule object"),
    ],
)
def test_invalid_rules_are_rejected_with_a_reason(mock, spec, message):
    response = requests.post(f"{mock.url}/_mock/faults", json=spec, timeout=5)
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert len(mock.faults) == 0  # a bad batch adds nothing


def test_fault_set_in_process():
    faults = FaultSet()
    with pytest.raises(ValueError, match="unknown fault kind"):
        faults.add("nope")
    rule = faults.add("status", status=500, path="^/x", times=1)
    assert faults.match("GET", "/y") is None
    assert faults.match("GET", "/x/1") is rule
    assert faults.match("GET", "/x/1") is None
    always = faults.add("reset", times=None)  # explicit null: no limit
    assert all(faults.match("POST", "/y") is always for _ in range(5))
    assert faults.add("status", status=503, rate=0.5).times is None  # rate: no limit either
    assert set(FAULT_KINDS) == {
        "status",
        "slow",
        "reset",
        "malformed_json",
        "expired_token",
        "throttle",
    }
