"""A mock of "Example LMS": a small JSON API served over real HTTP on loopback.

Wire format: bearer-token auth; lists paged with ``?cursor=&limit=`` answering
``{"items": [...], "next": URL-or-null}``; the platform's own throttle signal is a 503 with
``X-Backoff: <seconds>``; a score older than the one held is refused with 409.

Besides its routes it implements the conformance suite's seeding and read-back protocol
(``connect``, ``seed_context``, ``held_columns``, ``held_grades``), which is all the suite
needs for the capabilities this adapter declares.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from flask import Flask, Response, jsonify, request

from lmsbridge.conformance.mock import FaultRule, MockServer
from lmsbridge.conformance.suite.platform import HeldColumn, HeldGrade, SeedMember
from lmsbridge.core.api import Context, Secret, Tenant

TOKEN = "example-mock-token"


def _error(code: int, message: str) -> Response:
    response = jsonify(error=message)
    response.status_code = code
    return response


class ExampleMock(MockServer):
    name = "example"

    def __init__(self) -> None:
        self.max_page_size = 50
        self.roster_has_email = True
        self.tenant_name = "example"
        super().__init__()

    def reset(self) -> None:
        super().reset()
        self.ids = itertools.count(1)
        self.members: dict[str, list[dict]] = {}  # course id -> members
        self.columns: dict[str, dict] = {}  # column id -> column
        self.scores: dict[tuple[str, str], dict] = {}  # (column id, user id) -> score

    # ------------------------------------------------------------ suite protocol

    def connect(self, store, name: str) -> Tenant:
        tenant = store.tenants.add(Tenant(name, "example", base_url=self.url))
        store.tenants.set_secret(name, "api_token", Secret(TOKEN))
        self.tenant_name = name
        return tenant

    def seed_context(self, context_id: str, members: Sequence[SeedMember]) -> Context:
        with self.lock:
            self.members[context_id] = [
                {"id": m.user_id, "name": m.name, "email": m.email, "roles": list(m.roles)}
                for m in members]
        return Context(self.tenant_name, context_id, title=f"Course {context_id}")

    def held_columns(self, context_id: str | None) -> list[HeldColumn]:
        with self.lock:
            return [HeldColumn(c["id"], c["label"], c["maximum"], c["key"])
                    for c in self.columns.values() if c["course"] == context_id]

    def held_grades(self, context_id: str | None) -> list[HeldGrade]:
        with self.lock:
            return [HeldGrade(col, user, s["score"], self.columns[col]["maximum"], s["changes"])
                    for (col, user), s in self.scores.items()
                    if self.columns[col]["course"] == context_id]

    # ------------------------------------------------------------ fault answers

    def throttle_response(self, rule: FaultRule) -> Response:
        response = _error(503, "slow down")
        response.headers["X-Backoff"] = str(rule.retry_after or 1)
        return response

    def expired_token_response(self, rule: FaultRule) -> Response:
        return _error(401, "token expired")

    # ------------------------------------------------------------ routes

    def _page(self, rows: list[dict]) -> Response:
        cursor = int(request.args.get("cursor", 0))
        limit = max(1, min(int(request.args.get("limit", 20)), self.max_page_size))
        end = cursor + limit
        nxt = f"{request.base_url}?cursor={end}&limit={limit}" if end < len(rows) else None
        return jsonify(items=rows[cursor:end], next=nxt)

    def routes(self, app: Flask) -> None:
        @app.before_request
        def auth() -> Response | None:
            if request.headers.get("Authorization") != f"Bearer {TOKEN}":
                return _error(401, "bad token")
            return None

        @app.get("/api/courses/<course>/members")
        def members(course: str) -> Response:
            with self.lock:
                if course not in self.members:
                    return _error(404, f"no course {course}")
                return self._page(self.members[course])

        @app.get("/api/courses/<course>/columns")
        def columns(course: str) -> Response:
            with self.lock:
                return self._page([c for c in self.columns.values() if c["course"] == course])

        @app.post("/api/courses/<course>/columns")
        def add_column(course: str) -> Response | tuple[Response, int]:
            body: dict[str, Any] = request.get_json(silent=True) or {}
            if not body.get("key") or not body.get("label") or not body.get("maximum"):
                return _error(422, "key, label and maximum are required")
            with self.lock:
                cid = str(next(self.ids))
                self.columns[cid] = {"id": cid, "course": course, "key": body["key"],
                                     "label": body["label"], "maximum": float(body["maximum"])}
                return jsonify(self.columns[cid]), 201

        @app.put("/api/courses/<course>/columns/<col>/scores/<user>")
        def put_score(course: str, col: str, user: str) -> Response:
            body: dict[str, Any] = request.get_json(silent=True) or {}
            try:
                score, when = float(body["score"]), datetime.fromisoformat(body["timestamp"])
            except (KeyError, TypeError, ValueError):
                return _error(422, "score and timestamp (ISO 8601) are required")
            with self.lock:
                column = self.columns.get(col)
                if column is None or column["course"] != course:
                    return _error(404, f"no column {col} in course {course}")
                if user not in {m["id"] for m in self.members.get(course, [])}:
                    return _error(404, f"no member {user} in course {course}")
                if not 0 <= score <= column["maximum"]:
                    return _error(422, f"score must be between 0 and {column['maximum']:g}")
                held = self.scores.get((col, user))
                if held and when < held["timestamp"]:
                    return _error(409, "a newer score is held")
                if held is None or held["score"] != score:
                    changes = held["changes"] + 1 if held else 1
                    held = self.scores[(col, user)] = {"score": score, "timestamp": when,
                                                       "changes": changes}
                held["timestamp"] = max(held["timestamp"], when)
                return jsonify(score=held["score"], timestamp=held["timestamp"].isoformat())
