"""A mock Canvas: the REST API lmsbridge and canvasapi use, in Canvas's wire format.

What it reproduces: bearer-token auth with Canvas's error bodies; Rails bracket form (and
JSON) parameters; ``Link`` paging whose URLs start with the base URL the client used
(``per_page`` default 10, max 100); ``X-Rate-Limit-Remaining`` on every answer and an empty
bucket answering ``403 Forbidden (Rate Limit Exceeded)`` as text/plain (set
``throttle_status = 429`` for hosted Canvas since 2025-10); a User-Agent required on every
call; assignments with ``integration_id``; ``update_grades`` answering a Progress whose job
runs in the background (it advances one step per later request and is finished by the time
anything reads the gradebook back); course users and ``search_users`` with email and
enrolments; modules and module items; external tools.

It is also Canvas's LTI Advantage side (token endpoint, AGS, NRPS): every path outside
``/api/v1/`` goes to a :class:`~lmsbridge.adapters.canvas.mock_lti.CanvasLti` sharing this
server, its faults and its page cap.

The conformance suite's seeding and read-back protocol is in :mod:`.mock_suite`.
"""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import Flask, Response, jsonify, request

from lmsbridge.adapters.canvas.mock_lti import CanvasLti
from lmsbridge.adapters.canvas.mock_suite import TOOL_URL, CanvasSuitePlatform
from lmsbridge.adapters.canvas.rails_params import parse, truthy
from lmsbridge.conformance.mock import FaultRule, MockServer

TOKEN = "canvas-mock-token"
#: Steps (later requests) a grading job takes from queued to completed.
JOB_STEPS = 2
REST_PREFIX = "/api/v1/"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _errors(message: str, code: int, **extra: Any) -> Response:
    response = jsonify(errors=[{"message": message}], **extra)
    response.status_code = code
    return response


class CanvasMock(CanvasSuitePlatform, MockServer):
    name = "canvas"

    def __init__(self, *, token: str = TOKEN, log_size: int = 1000) -> None:
        self.token = token
        #: 403 text/plain (classic Canvas) or 429 (hosted Canvas since 2025-10).
        self.throttle_status = 403
        self.max_page_size = 100
        self.roster_has_email = True
        self.lti = CanvasLti(lambda: self.url, lambda: self.max_page_size)
        super().__init__(log_size=log_size)
        rest = self.app.wsgi_app

        def dispatch(environ: dict, start_response: Any) -> Any:
            if environ.get("PATH_INFO", "").startswith(REST_PREFIX):
                return rest(environ, start_response)
            return self.lti.app(environ, start_response)

        self.app.wsgi_app = dispatch  # type: ignore[method-assign]

    # ------------------------------------------------------------------ state

    def reset(self) -> None:
        super().reset()
        self.ids = itertools.count(1)
        self.courses: dict[str, dict] = {}
        self.users: dict[str, dict] = {}
        self.enrollments: list[dict] = []
        self.assignments: dict[str, dict] = {}  # by id
        self.submissions: dict[tuple[str, str], dict] = {}  # (assignment id, user id)
        self.progress: dict[str, dict] = {}
        self.jobs: list[dict] = []  # pending grading jobs, oldest first
        self.modules: dict[str, dict] = {}
        self.module_items: dict[str, dict] = {}
        self.tools: dict[str, dict] = {}
        self.rate_limit_remaining = 700.0
        with self.lti.lock:
            self.lti.reset()

    def state(self) -> dict[str, Any]:
        self._run_jobs(everything=True)
        with self.lti.lock:
            lti = self.lti.state()
        return {**super().state(), "lti": {k: lti[k] for k in ("platform", "contexts")},
                "courses": list(self.courses.values()),
                "assignments": list(self.assignments.values()),
                "submissions": list(self.submissions.values()),
                "progress": list(self.progress.values()),
                "modules": list(self.modules.values()),
                "module_items": list(self.module_items.values())}

    def _id(self) -> str:
        return str(next(self.ids))

    # ------------------------------------------------------------------ seeding

    def credentials(self) -> dict[str, Any]:
        lti = self.lti.state()["platform"]
        return {"api_token": self.token, "lti_issuer": lti["issuer"],
                "lti_token_url": lti["token_url"], "lti_jwks_url": lti["jwks_url"]}

    def seed_world(self) -> None:
        self.add_course("101", "Data Science 101")
        self.add_user("3", "Sam Student", "sam.student@example.edu")
        self.add_user("4", "Tina Teacher", "tina.teacher@example.edu")
        self.enrol("101", "3")
        self.enrol("101", "4", "TeacherEnrollment")

    def add_course(self, course_id: str, name: str) -> dict:
        with self.lock:
            course = self.courses.setdefault(course_id, {
                "id": course_id, "name": name, "course_code": name,
                "workflow_state": "available", "account_id": 1})
            tool_id = self._id()
            self.tools[tool_id] = {"id": tool_id, "course_id": course_id,
                                   "name": "lmsbridge", "url": TOOL_URL + "/lti/launch",
                                   "domain": urlsplit(TOOL_URL).hostname,
                                   "privacy_level": "public"}
            return course

    def add_user(self, user_id: str, name: str, email: str | None = None) -> dict:
        with self.lock:
            return self.users.setdefault(user_id, {
                "id": user_id, "name": name, "sortable_name": name, "short_name": name,
                "sis_user_id": f"sis-{user_id}", "login_id": email or user_id, "email": email})

    def enrol(self, course_id: str, user_id: str, kind: str = "StudentEnrollment") -> None:
        with self.lock:
            self.enrollments.append({"id": self._id(), "course_id": course_id,
                                     "user_id": user_id, "type": kind, "role": kind,
                                     "enrollment_state": "active"})

    # ------------------------------------------------------------------ fault answers

    def throttle_response(self, rule: FaultRule) -> Response:
        if self.throttle_status == 429:
            response = Response('{"errors":[{"message":"Rate Limit Exceeded"}]}', 429,
                                mimetype="application/json")
            if rule.retry_after is not None:
                response.headers["Retry-After"] = str(rule.retry_after)
        else:
            response = Response("403 Forbidden (Rate Limit Exceeded)\n", 403,
                                mimetype="text/plain")
        response.headers["X-Rate-Limit-Remaining"] = "0.0"
        return response

    def expired_token_response(self, rule: FaultRule) -> Response:
        if not request.path.startswith(REST_PREFIX):  # LTI services answer as RFC 6750 says
            return self.lti.expired_token_response(rule)
        response = _errors("Invalid access token.", 401)
        response.headers["WWW-Authenticate"] = 'Bearer realm="canvas-lms"'
        return response

    # ------------------------------------------------------------------ helpers

    def _params(self) -> dict[str, Any]:
        pairs = list(request.args.items(multi=True))
        if request.is_json:
            body = request.get_json(silent=True)
            return {**parse(pairs), **(body if isinstance(body, dict) else {})}
        return parse(pairs + list(request.form.items(multi=True)))

    def _page(self, rows: list[dict]) -> Response:
        """Canvas paging: ``page``/``per_page`` and a Link header on the client's base URL."""
        try:
            per_page = int(request.args.get("per_page", 10))
            page = int(request.args.get("page", 1))
        except ValueError:
            return _errors("invalid page or per_page", 400)
        per_page = max(1, min(per_page, 100, self.max_page_size))
        last = max(1, math.ceil(len(rows) / per_page))
        response = jsonify(rows[(page - 1) * per_page: page * per_page])
        base = request.base_url  # scheme://host:port/path, as the client addressed us
        args = [(k, v) for k, v in request.args.items(multi=True) if k not in ("page",)]

        def link(n: int, rel: str) -> str:
            return f'<{base}?{urlencode([*args, ("page", n)])}>; rel="{rel}"'

        links = [link(page, "current")]
        if page < last:
            links.append(link(page + 1, "next"))
        if page > 1:
            links.append(link(page - 1, "prev"))
        links += [link(1, "first"), link(last, "last")]
        response.headers["Link"] = ",".join(links)
        return response

    def _course(self, course_id: str) -> dict | None:
        return self.courses.get(course_id)

    def _run_jobs(self, everything: bool = False) -> None:
        """Advance grading jobs one step (every job, all the way, when ``everything``)."""
        for job in list(self.jobs):
            job["steps"] += JOB_STEPS if everything else 1
            progress = self.progress[job["progress_id"]]
            if job["steps"] < JOB_STEPS:
                progress.update(workflow_state="running", completion=50.0, updated_at=_now())
                continue
            self.jobs.remove(job)
            missing = [u for u in job["grades"] if u not in self.users]
            if missing:
                progress.update(workflow_state="failed", completion=100.0, updated_at=_now(),
                                message=f"Couldn't find User(s) with API ids "
                                        f"{', '.join(repr(u) for u in missing)}")
                continue
            for user_id, grade in job["grades"].items():
                self._grade(job["assignment_id"], user_id, grade)
            progress.update(workflow_state="completed", completion=100.0, updated_at=_now(),
                            message=None)

    def _grade(self, assignment_id: str, user_id: str, posted: str) -> None:
        score = None if posted in ("", None) else round(float(posted), 4)
        sub = self.submissions.setdefault((assignment_id, user_id), {
            "id": self._id(), "assignment_id": assignment_id, "user_id": user_id,
            "score": None, "grade": None, "workflow_state": "unsubmitted", "changes": 0})
        if sub["score"] != score:
            sub.update(score=score, grade=posted, workflow_state="graded",
                       graded_at=_now(), changes=sub["changes"] + 1)

    # ------------------------------------------------------------------ routes

    def routes(self, app: Flask) -> None:  # noqa: C901 - one place for Canvas's routes
        @app.before_request
        def gatekeeper() -> Response | None:
            if not request.headers.get("User-Agent"):
                return _errors("A User-Agent header is required", 403)
            auth = request.headers.get("Authorization", "")
            if not auth:
                return _errors("user authorization required", 401, status="unauthenticated")
            if auth != f"Bearer {self.token}":
                response = _errors("Invalid access token.", 401)
                response.headers["WWW-Authenticate"] = 'Bearer realm="canvas-lms"'
                return response
            with self.lock:
                self._run_jobs()
                if self.rate_limit_remaining <= 0:
                    return self.throttle_response(FaultRule("throttle"))
            return None

        @app.after_request
        def rate_headers(response: Response) -> Response:
            response.headers.setdefault("X-Rate-Limit-Remaining",
                                        f"{self.rate_limit_remaining:.1f}")
            response.headers.setdefault("X-Request-Cost", "0.5")
            return response

        @app.errorhandler(404)
        def not_found(exc: Exception) -> Response:
            return _errors("The specified resource does not exist.", 404)

        @app.get("/api/v1/users/self")
        def users_self() -> Response:  # the token's own user
            return jsonify(id=1, name="lmsbridge integration")

        @app.get("/api/v1/courses/<course_id>")
        def get_course(course_id: str) -> Response:
            with self.lock:
                course = self._course(course_id)
                return jsonify(course) if course else not_found(None)

        @app.get("/api/v1/courses/<course_id>/users")
        @app.get("/api/v1/courses/<course_id>/search_users")
        def course_users(course_id: str) -> Response:
            params = self._params()
            include = set(params.get("include", []))
            types = set(params.get("enrollment_type", []))
            with self.lock:
                if not self._course(course_id):
                    return not_found(None)
                rows: dict[str, dict] = {}
                for e in self.enrollments:
                    if e["course_id"] != course_id:
                        continue
                    short = e["type"].removesuffix("Enrollment").lower()
                    if types and short not in types and e["type"] not in types:
                        continue
                    user = self.users[e["user_id"]]
                    row = rows.setdefault(user["id"], {k: v for k, v in user.items()
                                                       if k != "email"})
                    if "email" in include:
                        row["email"] = user["email"]
                    if "enrollments" in include:
                        row.setdefault("enrollments", []).append(dict(e))
                return self._page(sorted(rows.values(), key=lambda u: u["sortable_name"]))

        @app.get("/api/v1/courses/<course_id>/external_tools")
        def external_tools(course_id: str) -> Response:
            with self.lock:
                return self._page([t for t in self.tools.values()
                                   if t["course_id"] == course_id])

        @app.get("/api/v1/courses/<course_id>/assignments")
        def list_assignments(course_id: str) -> Response:
            with self.lock:
                if not self._course(course_id):
                    return not_found(None)
                return self._page([a for a in self.assignments.values()
                                   if a["course_id"] == course_id])

        @app.post("/api/v1/courses/<course_id>/assignments")
        def create_assignment(course_id: str) -> Response | tuple[Response, int]:
            fields = self._params().get("assignment") or {}
            if not isinstance(fields, dict) or not str(fields.get("name", "")).strip():
                return jsonify(errors={"name": [{"attribute": "name", "type": "blank",
                                                 "message": "blank"}]}), 400
            try:
                points = float(fields.get("points_possible", 0) or 0)
            except ValueError:
                return jsonify(errors={"points_possible": [{
                    "attribute": "points_possible", "type": "not_a_number",
                    "message": "not_a_number"}]}), 400
            with self.lock:
                if not self._course(course_id):
                    return not_found(None)
                aid = self._id()
                assignment = {
                    "id": aid, "course_id": course_id, "name": fields["name"],
                    "points_possible": points, "grading_type": fields.get("grading_type",
                                                                          "points"),
                    "integration_id": fields.get("integration_id"),
                    "submission_types": fields.get("submission_types", ["none"]),
                    "published": truthy(fields.get("published", False)),
                    "html_url": f"{request.host_url}courses/{course_id}/assignments/{aid}",
                    "created_at": _now()}
                self.assignments[aid] = assignment
                return jsonify(assignment), 201

        @app.get("/api/v1/courses/<course_id>/assignments/<aid>")
        def get_assignment(course_id: str, aid: str) -> Response:
            with self.lock:
                a = self.assignments.get(aid)
                return jsonify(a) if a and a["course_id"] == course_id else not_found(None)

        @app.get("/api/v1/courses/<course_id>/assignments/<aid>/submissions")
        def list_submissions(course_id: str, aid: str) -> Response:
            with self.lock:
                a = self.assignments.get(aid)
                if not a or a["course_id"] != course_id:
                    return not_found(None)
                return self._page([{k: v for k, v in s.items() if k != "changes"}
                                   for (sid, _), s in self.submissions.items() if sid == aid])

        @app.post("/api/v1/courses/<course_id>/assignments/<aid>/submissions/update_grades")
        def update_grades(course_id: str, aid: str) -> Response | tuple[Response, int]:
            data = self._params().get("grade_data")
            if not isinstance(data, dict) or not data:
                return _errors("grade_data is required", 400)
            with self.lock:
                a = self.assignments.get(aid)
                if not a or a["course_id"] != course_id:
                    return not_found(None)
                if not a["published"]:
                    return _errors("user not authorized to perform that action", 401,
                                   status="unauthorized")
                grades = {}
                for user_id, fields in data.items():
                    if not isinstance(fields, dict) or "posted_grade" not in fields:
                        return _errors(f"grade_data[{user_id}] needs posted_grade", 400)
                    try:
                        if fields["posted_grade"] != "":
                            float(fields["posted_grade"])
                    except ValueError:
                        return _errors(f"invalid posted_grade {fields['posted_grade']!r}", 400)
                    grades[user_id] = fields["posted_grade"]
                pid = self._id()
                progress = {"id": pid, "context_id": course_id, "context_type": "Course",
                            "user_id": None, "tag": "submissions_update", "completion": 0.0,
                            "workflow_state": "queued", "created_at": _now(),
                            "updated_at": _now(), "message": None,
                            "url": f"{request.host_url}api/v1/progress/{pid}"}
                self.progress[pid] = progress
                self.jobs.append({"progress_id": pid, "assignment_id": aid, "grades": grades,
                                  "steps": 0})
                return jsonify(progress)

        @app.get("/api/v1/progress/<pid>")
        def get_progress(pid: str) -> Response:
            with self.lock:
                progress = self.progress.get(pid)
                return jsonify(progress) if progress else not_found(None)

        @app.get("/api/v1/courses/<course_id>/modules")
        def list_modules(course_id: str) -> Response:
            with self.lock:
                return self._page([m for m in self.modules.values()
                                   if m["course_id"] == course_id])

        @app.post("/api/v1/courses/<course_id>/modules")
        def create_module(course_id: str) -> Response | tuple[Response, int]:
            fields = self._params().get("module") or {}
            if not isinstance(fields, dict) or not str(fields.get("name", "")).strip():
                return jsonify(errors={"name": [{"attribute": "name", "type": "blank",
                                                 "message": "blank"}]}), 400
            with self.lock:
                if not self._course(course_id):
                    return not_found(None)
                mid = self._id()
                module = {"id": mid, "course_id": course_id, "name": fields["name"],
                          "position": len(self.modules) + 1, "published": True,
                          "items_count": 0,
                          "items_url": f"{request.host_url}api/v1/courses/{course_id}"
                                       f"/modules/{mid}/items"}
                self.modules[mid] = module
                return jsonify(module)

        @app.get("/api/v1/courses/<course_id>/modules/<mid>/items")
        def list_items(course_id: str, mid: str) -> Response:
            with self.lock:
                if self.modules.get(mid, {}).get("course_id") != course_id:
                    return not_found(None)
                return self._page([i for i in self.module_items.values()
                                   if i["module_id"] == mid])

        @app.post("/api/v1/courses/<course_id>/modules/<mid>/items")
        def create_item(course_id: str, mid: str) -> Response | tuple[Response, int]:
            fields = self._params().get("module_item") or {}
            kind = fields.get("type") if isinstance(fields, dict) else None
            if kind not in ("File", "Page", "Discussion", "Assignment", "Quiz", "SubHeader",
                            "ExternalUrl", "ExternalTool"):
                return jsonify(errors={"type": [{"attribute": "type", "type": "inclusion",
                                                 "message": "inclusion"}]}), 400
            with self.lock:
                if self.modules.get(mid, {}).get("course_id") != course_id:
                    return not_found(None)
                if kind in ("ExternalUrl", "ExternalTool") and not fields.get("external_url"):
                    return _errors("external_url is required", 400)
                if kind == "ExternalTool" and fields.get("content_id") not in self.tools:
                    return _errors("external tool not found", 400)
                iid = self._id()
                item = {"id": iid, "module_id": mid, "type": kind,
                        "title": fields.get("title") or "", "position": len(self.module_items),
                        "external_url": fields.get("external_url"),
                        "content_id": fields.get("content_id"),
                        "new_tab": truthy(fields.get("new_tab", False)),
                        "published": False,
                        "html_url": f"{request.host_url}courses/{course_id}/modules/items/{iid}",
                        "url": f"{request.host_url}api/v1/courses/{course_id}/external_tools/"
                               f"sessionless_launch?module_item_id={iid}"}
                self.module_items[iid] = item
                self.modules[mid]["items_count"] += 1
                return jsonify(item)

        @app.put("/api/v1/courses/<course_id>/modules/<mid>/items/<iid>")
        def update_item(course_id: str, mid: str, iid: str) -> Response:
            fields = self._params().get("module_item") or {}
            with self.lock:
                item = self.module_items.get(iid)
                if not item or item["module_id"] != mid or \
                        self.modules[mid]["course_id"] != course_id:
                    return not_found(None)
                if "title" in fields:
                    item["title"] = fields["title"]
                if "published" in fields:
                    item["published"] = truthy(fields["published"])
                return jsonify(item)
