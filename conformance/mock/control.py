"""The control endpoints every mock platform serves under ``/_mock/``: ``GET state``,
``POST reset``, and ``GET|POST|DELETE faults`` (``DELETE faults/<id>`` for one rule).

They live in an app of their own, so a platform's auth checks (``before_request`` hooks)
and catch-all routes never touch them, and no fault rule applies to them.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from lmsbridge.conformance.mock.faults import FaultSet

CONTROL_PREFIX = "/_mock"


class Controlled(Protocol):
    """What the control endpoints use of a mock platform."""

    lock: threading.RLock
    faults: FaultSet

    def state(self) -> dict[str, Any]: ...

    def reset(self) -> None: ...


def control_app(mock: Controlled) -> Flask:
    control = Flask(__name__)

    @control.get(f"{CONTROL_PREFIX}/state")
    def get_state() -> Response:
        with mock.lock:
            return jsonify(mock.state())

    @control.post(f"{CONTROL_PREFIX}/reset")
    def post_reset() -> tuple[str, int]:
        with mock.lock:
            mock.reset()
        return "", 204

    @control.get(f"{CONTROL_PREFIX}/faults")
    def get_faults() -> Response:
        return jsonify(faults=mock.faults.as_list())

    @control.post(f"{CONTROL_PREFIX}/faults")
    def post_faults() -> tuple[Response, int]:
        data = request.get_json(force=True, silent=True)
        specs = data if isinstance(data, list) else [data]
        if data is None or not all(isinstance(spec, dict) for spec in specs):
            return _error("body must be a JSON fault rule object or a list of them", 400)
        try:
            rules = mock.faults.extend(specs)
        except ValueError as exc:
            return _error(str(exc), 400)
        return jsonify(faults=[rule.as_dict() for rule in rules]), 201

    @control.delete(f"{CONTROL_PREFIX}/faults")
    def delete_faults() -> tuple[str, int]:
        mock.faults.clear()
        return "", 204

    @control.delete(f"{CONTROL_PREFIX}/faults/<int:rule_id>")
    def delete_fault(rule_id: int) -> tuple[str, int] | tuple[Response, int]:
        if not mock.faults.remove(rule_id):
            return _error(f"no fault rule with id {rule_id}", 404)
        return "", 204

    @control.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[Response, int]:
        return _error(exc.description or exc.name, exc.code or 500)

    return control


def _error(message: str, status: int) -> tuple[Response, int]:
    return jsonify(error=message), status
