"""Base of every mock platform: a real HTTP server on loopback, inspectable, that can misbehave.

A platform mock subclasses :class:`MockServer`, registers its routes in :meth:`~MockServer.routes`
and keeps its state in attributes it (re)initialises in :meth:`~MockServer.reset`, guarded by
``self.lock``. Clients talk to it over real sockets, exactly as to the remote system.

Faults and platform state
-------------------------
Every request outside ``/_mock/`` first goes through the fault rules (:mod:`.faults`).

- By default a fault fires *before* the route handler: the platform state is untouched, so
  the client's request was simply not applied ("nothing happened, try again").
- With ``after=True`` (kinds ``status``, ``reset``, ``slow``, ``malformed_json``) the handler
  runs first and its answer is then replaced (error status, truncated JSON), dropped (reset)
  or held back (slow). This is "the platform applied the write but the client never heard":
  the case that makes a retrying client send things twice unless it is idempotent.
- ``slow`` without ``after`` waits, then lets the request through: a client that waits long
  enough gets the normal answer, one that timed out never learns the request was applied.
  To time out a client *without* the platform applying anything, use another kind with a
  ``delay`` (e.g. ``status`` 504 after 2 s, like a gateway giving up).
- Stopping the server wakes requests waiting in a delay; one that had not reached its handler
  yet is dropped rather than applied.

Every request outside ``/_mock/`` is logged (``GET /_mock/state``) with the kind of the fault
that fired on it, so tests can count faults and retries. The entry is written once the answer
is decided, before any byte of it is sent: a client that got its answer (or its connection
error) finds its request logged. A request still waiting in a delay is not logged yet, but its
rule's ``fired`` count (``GET /_mock/faults``) already includes it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from typing import Any, ClassVar, Self

from flask import Flask, Response, jsonify
from werkzeug.http import HTTP_STATUS_CODES

from lmsbridge.conformance.mock._http import DropConnection, MockHTTPServer, bind
from lmsbridge.conformance.mock.control import CONTROL_PREFIX, control_app
from lmsbridge.conformance.mock.faults import FaultRule, FaultSet
from lmsbridge.conformance.mock.requestlog import LoggedRequest, RequestLog

WSGIEnvironment = dict[str, Any]
StartResponse = Callable[..., Any]

# How often the accept loop checks for stop(): the longest stop() waits for it. Short, so a
# test suite starting a server per test does not spend its time in teardown.
_POLL_INTERVAL = 0.01

# Valid JSON cut in half; what a client gets when a proxy or platform dies mid-body.
_GENERIC_JSON = b'{"data": [{"id": 1, "name": "mock"}, {"id": 2, "name": "mock"}]}'


class MockServer:
    """Base mock platform. Subclass it; override the hooks below as the platform needs.

    Hooks: :meth:`routes` (add Flask routes), :meth:`state` / :meth:`reset` (called with
    ``self.lock`` held; call ``super()``), and the fault answers :meth:`status_response`,
    :meth:`throttle_response`, :meth:`expired_token_response`, :meth:`malformed_json_response`
    (called inside a Flask request context for the faulted request).

    Set configuration attributes before calling ``super().__init__()``: it calls
    :meth:`routes` and :meth:`reset`.
    """

    #: Short name, as in ``lmsbridge mock NAME``.
    name: ClassVar[str] = "mock"

    def __init__(self, *, log_size: int = 1000) -> None:
        #: Guards platform state; handlers take it around reads and writes of shared state.
        self.lock = threading.RLock()
        self.faults = FaultSet()
        self.log = RequestLog(log_size)
        self._stopping = threading.Event()
        self._httpd: MockHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.app = Flask(type(self).__module__)
        self.routes(self.app)
        self._control = self._control_app()
        with self.lock:
            self.reset()

    # ----------------------------------------------------------------- extension points

    def routes(self, app: Flask) -> None:
        """Register the platform's routes on ``app``. The base has none."""

    def state(self) -> dict[str, Any]:
        """JSON-able state for ``GET /_mock/state``; extend the base dict with the platform's.
        It carries :meth:`credentials`, so a person exploring the mock can sign in."""
        return {**self.log.as_dict(), "credentials": self.credentials()}

    def credentials(self) -> dict[str, Any]:
        """What a client needs to call this mock (tokens, client ids and secrets): test
        values, listed so a person or a third-party client can use the mock."""
        return {}

    def seed_world(self) -> None:
        """Fill the mock with a small world a person can explore; ``lmsbridge mock NAME``
        calls it. Suite runs never do, so their seeding starts from an empty platform."""

    def reset(self) -> None:
        """Back to a freshly started server: request log and fault rules cleared.

        The sequence number keeps growing, so log entries from before a reset are never
        confused with new ones.
        """
        self.log.clear()
        self.faults.clear()

    def status_response(self, rule: FaultRule) -> Response:
        """Answer for kind ``status``: JSON error with the rule's status and Retry-After."""
        status = rule.status or 500
        response = jsonify(error=HTTP_STATUS_CODES.get(status, "Error"), status=status)
        response.status_code = status
        _set_retry_after(response, rule)
        return response

    def throttle_response(self, rule: FaultRule) -> Response:
        """The platform's "slow down" signal. Base: 429 with Retry-After if the rule has one.

        Platforms differ (Canvas: 403 text/plain "403 Forbidden (Rate Limit Exceeded)"), so
        each mock overrides this.
        """
        response = jsonify(error="Too Many Requests", status=429)
        response.status_code = 429
        _set_retry_after(response, rule)
        return response

    def expired_token_response(self, rule: FaultRule) -> Response:
        """Answer to a request whose access token has expired (RFC 6750 style by default)."""
        description = "The access token expired"
        response = jsonify(error="invalid_token", error_description=description)
        response.status_code = 401
        response.headers["WWW-Authenticate"] = (
            f'Bearer error="invalid_token", error_description="{description}"'
        )
        return response

    def _control_app(self) -> Flask:
        """The app serving ``/_mock/`` (:mod:`.control`); extend it with seeding routes."""
        return control_app(self)

    def malformed_json_response(self, rule: FaultRule, answer: Response | None) -> Response:
        """A JSON body cut short, with a Content-Length that matches the cut body.

        ``answer`` is the handler's real answer when ``rule.after`` is set (its body is the
        one truncated, its status kept), else None (status 200 and a generic body).
        """
        body, status = _GENERIC_JSON, 200
        if answer is not None:
            body, status = answer.get_data(), answer.status_code
        truncated = _truncate(body) or _truncate(_GENERIC_JSON) or b"{"
        return Response(truncated, status=status, mimetype="application/json")

    # ----------------------------------------------------------------------- lifecycle

    def start(self, host: str = "127.0.0.1", port: int = 0, *, quiet: bool = True) -> Self:
        """Serve in a background thread. Returns once the socket is listening.

        ``port=0`` picks a free port (see :attr:`port`). ``quiet`` hides the access log.
        """
        if self._httpd is not None:
            raise RuntimeError(f"{self!r} is already running")
        httpd = self._make_httpd(host, port, quiet)
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": _POLL_INTERVAL},
            name=f"mock-{self.name}-{httpd.port}",
            daemon=True,
        )
        self._httpd = httpd
        self._thread.start()
        return self

    def serve_forever(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        quiet: bool = False,
        on_ready: Callable[[MockServer], None] | None = None,
    ) -> None:
        """Serve in the calling thread until Ctrl-C or :meth:`stop` (for the CLI).

        ``on_ready`` is called once the socket listens, e.g. to print :attr:`url`.
        """
        if self._httpd is not None:
            raise RuntimeError(f"{self!r} is already running")
        httpd = self._make_httpd(host, port, quiet)
        self._httpd = httpd
        try:
            if on_ready is not None:
                on_ready(self)
            httpd.serve_forever(_POLL_INTERVAL)  # werkzeug's: returns on KeyboardInterrupt
        finally:
            httpd.server_close()
            self._httpd = None

    def stop(self) -> None:
        """Stop serving, waiting for requests in progress (delayed ones are woken up)."""
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        self._stopping.set()
        httpd.shutdown()
        if thread is not None:
            thread.join()
            self._thread = None
        httpd.server_close()
        self._httpd = None

    def _make_httpd(self, host: str, port: int, quiet: bool) -> MockHTTPServer:
        sock = bind(host, port)
        try:
            httpd = MockHTTPServer(sock, self, self._stopping, quiet)
        finally:
            sock.close()  # the server holds its own duplicate of the descriptor
        # After construction: werkzeug calls server_close() on a scratch socket in there.
        self._stopping.clear()
        return httpd

    @property
    def running(self) -> bool:
        return self._httpd is not None

    @property
    def port(self) -> int:
        return self._require_httpd().port

    @property
    def url(self) -> str:
        """Base URL without a trailing slash, e.g. ``http://127.0.0.1:54321``."""
        host = self._require_httpd().host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}"

    def _require_httpd(self) -> MockHTTPServer:
        if self._httpd is None:
            raise RuntimeError(f"{self!r} is not running; call start() first")
        return self._httpd

    def __enter__(self) -> Self:
        return self if self.running else self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.url if self.running else "stopped"
        return f"<{type(self).__name__} {self.name!r} {where}>"

    # ---------------------------------------------------------------- request handling

    @property
    def requests(self) -> list[LoggedRequest]:
        """Snapshot of the request log, oldest first."""
        return self.log.entries()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """WSGI entry point: control endpoints, else faults, then the platform's routes."""
        path = _path(environ)
        if path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/"):
            return self._control(environ, start_response)

        method = environ["REQUEST_METHOD"]
        seq = self.log.next_seq()
        rule = self.faults.match(method, path)

        def record(status: int | None) -> None:
            self.log.append(
                LoggedRequest(
                    seq=seq,
                    method=method,
                    path=path,
                    query=environ.get("QUERY_STRING", ""),
                    status=status,
                    fault=rule.kind if rule else None,
                    fault_id=rule.id if rule else None,
                    after=bool(rule and rule.after),
                )
            )

        if rule is None:
            return self._pass(environ, start_response, record)
        if rule.after:
            return self._fail_after(rule, environ, start_response, record)
        return self._fail_before(rule, environ, start_response, record)

    def _pass(
        self, environ: WSGIEnvironment, start_response: StartResponse, record: Callable
    ) -> Iterable[bytes]:
        def logging_start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
            # Logged before the body is sent, so the entry exists once the client has it.
            record(int(status.split(None, 1)[0]))
            return start_response(status, headers, exc_info)

        return self.app(environ, logging_start_response)

    def _fail_before(
        self,
        rule: FaultRule,
        environ: WSGIEnvironment,
        start_response: StartResponse,
        record: Callable,
    ) -> Iterable[bytes]:
        if rule.delay and self._stopping.wait(rule.delay):
            record(None)  # shutting down: hang up rather than apply the request late
            raise DropConnection
        if rule.kind == "slow":
            return self._pass(environ, start_response, record)
        if rule.kind == "reset":
            record(None)
            raise DropConnection
        response = self._fault_response(rule, environ, None)
        record(response.status_code)
        return response(environ, start_response)

    def _fail_after(
        self,
        rule: FaultRule,
        environ: WSGIEnvironment,
        start_response: StartResponse,
        record: Callable,
    ) -> Iterable[bytes]:
        answer = self._run_buffered(environ)  # the platform state changes here
        if rule.delay:
            self._stopping.wait(rule.delay)
        if rule.kind == "reset":
            record(None)
            raise DropConnection
        response = answer if rule.kind == "slow" else self._fault_response(rule, environ, answer)
        record(response.status_code)
        return response(environ, start_response)

    def _run_buffered(self, environ: WSGIEnvironment) -> Response:
        """Run the platform app to completion and keep its answer in memory."""
        head: list[Any] = []
        chunks: list[bytes] = []

        def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
            head[:] = [status, headers]
            return chunks.append

        body = self.app(environ, start_response)
        try:
            chunks.extend(body)
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()
        status, headers = head
        return Response(b"".join(chunks), status=status, headers=headers)

    def _fault_response(
        self, rule: FaultRule, environ: WSGIEnvironment, answer: Response | None
    ) -> Response:
        with self.app.request_context(environ):
            if rule.kind == "status":
                return self.status_response(rule)
            if rule.kind == "throttle":
                return self.throttle_response(rule)
            if rule.kind == "expired_token":
                return self.expired_token_response(rule)
            if rule.kind == "malformed_json":
                return self.malformed_json_response(rule, answer)
        raise AssertionError(f"fault kind {rule.kind!r} has no response")  # pragma: no cover


def _set_retry_after(response: Response, rule: FaultRule) -> None:
    if rule.retry_after is not None:
        response.headers["Retry-After"] = str(rule.retry_after)


def _truncate(body: bytes) -> bytes | None:
    """The first half of a JSON body, or None when that half would still parse (or is empty)."""
    cut = body[: len(body) // 2]
    if not cut:
        return None
    try:
        json.loads(cut)
    except ValueError:
        return cut
    return None


def _path(environ: WSGIEnvironment) -> str:
    # WSGI hands over the raw path bytes as latin-1; routes and rules want the real text.
    raw: str = environ.get("PATH_INFO", "")
    return raw.encode("latin-1", "replace").decode("utf-8", "replace")
