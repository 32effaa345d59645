"""A mock of the provider's business API, served over real HTTP on loopback.

Behaves like the real service as publicly described: client-credentials tokens that expire,
``/api/businesses.v1/{orgId}/…`` resources paged with ``start``/``limit`` and ``paging.next``,
JSON error bodies, and (through the base's fault rules) throttling and 5xx. While it runs,
``/_mock/programs``, ``/_mock/courses``, ``/_mock/items`` and ``/_mock/progress`` add or remove
catalog content and learner progress, as the provider's staff and learners would.
"""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Callable
from typing import Any, ClassVar

from flask import Flask, Response, jsonify, request

from lmsbridge.adapters.coursera.mock_suite import CourseraSuitePlatform
from lmsbridge.conformance.mock import MockServer

MAX_LIMIT = 100
API = "/api/businesses.v1/<org_id>"


class MockCoursera(CourseraSuitePlatform, MockServer):
    name: ClassVar[str] = "coursera"

    def __init__(self, *, org_id: str = "org-demo", client_id: str = "demo-client",
                 client_secret: str = "demo-secret", token_lifetime: int = 1800,
                 clock: Callable[[], float] = time.time, **kwargs: Any) -> None:
        self.org_id, self.client_id, self.client_secret = org_id, client_id, client_secret
        self.token_lifetime, self.clock = token_lifetime, clock
        super().__init__(**kwargs)

    # --- state -------------------------------------------------------------------------

    def reset(self) -> None:
        super().reset()
        self.programs: dict[str, dict[str, Any]] = {}
        self.courses: dict[str, dict[str, Any]] = {}
        # (learner_id, course_id) -> enrollment record
        self.enrollments: dict[tuple[str, str], dict[str, Any]] = {}
        self.tokens: dict[str, float] = {}
        self.tokens_issued = 0

    def state(self) -> dict[str, Any]:
        data = super().state()
        data.update(
            org_id=self.org_id,
            programs={pid: {**p, "contentIds": list(p["contentIds"])}
                      for pid, p in self.programs.items()},
            courses=self.courses,
            enrollments=len(self.enrollments),
            tokens_issued=self.tokens_issued,
        )
        return data

    def credentials(self) -> dict[str, Any]:
        return {"org_id": self.org_id, "client_id": self.client_id,
                "client_secret": self.client_secret}

    def seed_world(self) -> None:
        self.add_program("p1", "Data Science", seats=10)
        self.add_course("p1", "c1", "Statistics with Python")
        self.add_item("c1", "q1", "Quiz 1", max_score=10.0)
        self.set_progress("learner-1", "c1", item_id="q1", score=8.0, max_score=10.0,
                          email="sam.student@example.edu")

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)

    # --- changing the catalog and progress (Python API; /_mock/ endpoints call these) ---

    def add_program(self, program_id: str, name: str, seats: int | None = None) -> None:
        with self.lock:
            program = self.programs.setdefault(program_id, {"id": program_id,
                                                            "contentIds": []})
            program.update(name=name, tagline=f"{name} program", seats=seats,
                           url=f"https://www.coursera.org/programs/{program_id}")

    def add_course(self, program_id: str, course_id: str, name: str,
                   description: str | None = None) -> None:
        with self.lock:
            program = self.programs[program_id]
            course = self.courses.setdefault(course_id, {"id": course_id, "items": []})
            course.update(name=name, description=description,
                          url=f"https://www.coursera.org/learn/{course_id}")
            if course_id not in program["contentIds"]:
                program["contentIds"].append(course_id)

    def remove_course(self, program_id: str, course_id: str) -> None:
        with self.lock:
            self.programs[program_id]["contentIds"].remove(course_id)

    def add_item(self, course_id: str, item_id: str, name: str, gradable: bool = True,
                 max_score: float = 1.0) -> None:
        with self.lock:
            items = self.courses[course_id]["items"]
            items[:] = [i for i in items if i["id"] != item_id]
            items.append({"id": item_id, "name": name, "gradable": gradable,
                          "maxScore": max_score})

    def remove_item(self, course_id: str, item_id: str) -> None:
        with self.lock:
            items = self.courses[course_id]["items"]
            if not any(i["id"] == item_id for i in items):
                raise KeyError(item_id)
            items[:] = [i for i in items if i["id"] != item_id]

    def set_progress(self, learner_id: str, course_id: str, *, item_id: str | None = None,
                     score: float | None = None, max_score: float = 1.0,
                     email: str | None = None, completed: bool = False,
                     at_ms: int | None = None) -> None:
        """Record a learner's activity: an item score, or (no item) the course grade."""
        with self.lock:
            if course_id not in self.courses:
                raise KeyError(course_id)
            at = self._now_ms() if at_ms is None else at_ms
            record = self.enrollments.setdefault((learner_id, course_id), {
                "userId": learner_id, "email": email, "contentId": course_id,
                "contentType": "Course", "programId": self._program_of(course_id),
                "enrolledAt": at, "isCompleted": False, "completedAt": None,
                "grade": None, "itemGrades": []})
            record["lastActivityAt"] = at
            if email:
                record["email"] = email
            if item_id is not None:
                grades = [g for g in record["itemGrades"] if g["itemId"] != item_id]
                grades.append({"itemId": item_id, "score": score, "maxScore": max_score,
                               "updatedAt": at})
                record["itemGrades"] = grades
            elif score is not None:
                record["grade"] = score / max_score
            if completed:
                record.update(isCompleted=True, completedAt=at)

    def _program_of(self, course_id: str) -> str | None:
        return next((pid for pid, p in self.programs.items() if course_id in p["contentIds"]),
                    None)

    # --- the API -----------------------------------------------------------------------

    def routes(self, app: Flask) -> None:
        app.post("/oauth2/client_credentials/token")(self._token)
        app.get(f"{API}/programs")(self._programs)
        app.get(f"{API}/programs/<program_id>/contents")(self._contents)
        app.get(f"{API}/enrollmentReports")(self._enrollment_reports)

    def _token(self) -> Response:
        auth = request.authorization
        if request.form.get("grant_type") != "client_credentials":
            return _error(400, "unsupported_grant_type", "grant_type must be client_credentials")
        if auth is None or (auth.username, auth.password) != (self.client_id,
                                                              self.client_secret):
            return _error(401, "invalid_client", "client authentication failed")
        token = base64.urlsafe_b64encode(secrets.token_bytes(24)).decode()
        with self.lock:
            self.tokens[token] = self.clock() + self.token_lifetime
            self.tokens_issued += 1
        return jsonify(access_token=token, token_type="Bearer",
                       expires_in=self.token_lifetime)

    def _authorized(self, org_id: str) -> Response | None:
        header = request.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
        with self.lock:
            expires = self.tokens.get(token)
        if expires is None or expires <= self.clock():
            return _error(401, "Unauthorized", "missing, unknown or expired access token")
        if org_id != self.org_id:
            return _error(404, "NotFound", f"no business with id {org_id}")
        return None

    def _page(self, elements: list[dict[str, Any]]) -> Response:
        try:
            start = int(request.args.get("start", "0"))
            limit = int(request.args.get("limit", "100"))
        except ValueError:
            return _error(400, "BadRequest", "start and limit must be integers")
        if start < 0 or not 1 <= limit <= MAX_LIMIT:
            return _error(400, "BadRequest", f"start must be >= 0 and limit 1..{MAX_LIMIT}")
        limit = min(limit, self.max_page_size)  # the suite lowers the cap to force paging
        page = elements[start:start + limit]
        paging: dict[str, Any] = {"total": len(elements)}
        if start + limit < len(elements):
            paging["next"] = str(start + limit)
        return jsonify(elements=page, paging=paging, linked={})

    def _programs(self, org_id: str) -> Response:
        if (denied := self._authorized(org_id)) is not None:
            return denied
        with self.lock:
            elements = [{"id": p["id"], "name": p["name"], "tagline": p["tagline"],
                         "url": p["url"], "contentIds": list(p["contentIds"]),
                         "seats": p["seats"]}
                        for p in sorted(self.programs.values(), key=lambda p: p["id"])]
        return self._page(elements)

    def _contents(self, org_id: str, program_id: str) -> Response:
        if (denied := self._authorized(org_id)) is not None:
            return denied
        with self.lock:
            program = self.programs.get(program_id)
            if program is None:
                return _error(404, "NotFound", f"no program with id {program_id}")
            elements = [{"contentId": cid, "contentType": "Course",
                         "name": self.courses[cid]["name"], "url": self.courses[cid]["url"],
                         "description": self.courses[cid]["description"],
                         "items": [dict(i) for i in self.courses[cid]["items"]]}
                        for cid in program["contentIds"]]
        return self._page(elements)

    def _enrollment_reports(self, org_id: str) -> Response:
        if (denied := self._authorized(org_id)) is not None:
            return denied
        raw_since = request.args.get("modifiedSince")
        if raw_since is not None and not raw_since.isdigit():
            return _error(400, "BadRequest", "modifiedSince must be epoch milliseconds")
        since = int(raw_since) if raw_since is not None else None
        with self.lock:
            records = [dict(r, itemGrades=[dict(g) for g in r["itemGrades"]])
                       for r in self.enrollments.values()
                       if since is None or r["lastActivityAt"] >= since]
        records.sort(key=lambda r: (r["lastActivityAt"], r["userId"], r["contentId"]))
        return self._page(records)

    # --- control endpoints -------------------------------------------------------------

    def _control_app(self) -> Flask:
        control = super()._control_app()
        if not hasattr(MockServer, "control_routes"):  # older base: no seeding hook
            self.control_routes(control)
        return control

    def control_routes(self, control: Flask) -> None:
        def body() -> dict[str, Any]:
            data = request.get_json(force=True, silent=True)
            return data if isinstance(data, dict) else {}

        def guarded(action: Callable[[dict[str, Any]], None]) -> tuple[Response, int]:
            data = body()
            try:
                action(data)
            except KeyError as exc:
                return jsonify(error=f"missing or unknown: {exc.args[0]}"), 400
            except (TypeError, ValueError) as exc:
                return jsonify(error=str(exc)), 400
            return jsonify(ok=True), 201

        @control.post("/_mock/programs")
        def add_program() -> tuple[Response, int]:
            return guarded(lambda d: self.add_program(d["id"], d["name"], d.get("seats")))

        @control.post("/_mock/courses")
        def add_course() -> tuple[Response, int]:
            return guarded(lambda d: self.add_course(d["program_id"], d["id"], d["name"],
                                                     d.get("description")))

        @control.delete("/_mock/courses/<program_id>/<course_id>")
        def remove_course(program_id: str, course_id: str) -> tuple[Response, int]:
            return guarded(lambda _d: self.remove_course(program_id, course_id))

        @control.post("/_mock/items")
        def add_item() -> tuple[Response, int]:
            return guarded(lambda d: self.add_item(d["course_id"], d["id"], d["name"],
                                                   bool(d.get("gradable", True)),
                                                   float(d.get("max_score", 1.0))))

        @control.delete("/_mock/items/<course_id>/<item_id>")
        def remove_item(course_id: str, item_id: str) -> tuple[Response, int]:
            return guarded(lambda _d: self.remove_item(course_id, item_id))

        @control.post("/_mock/progress")
        def progress() -> tuple[Response, int]:
            return guarded(lambda d: self.set_progress(
                d["learner_id"], d["course_id"], item_id=d.get("item_id"),
                score=None if d.get("score") is None else float(d["score"]),
                max_score=float(d.get("max_score", 1.0)), email=d.get("email"),
                completed=bool(d.get("completed", False)), at_ms=d.get("at_ms")))


def _error(status: int, code: str, message: str) -> Response:
    response = jsonify(errorCode=code, message=message)
    response.status_code = status
    return response
