"""Moodle's web service REST protocol, for the Moodle mock.

``/webservice/rest/server.php`` takes ``wstoken``, ``wsfunction`` and
``moodlewsrestformat=json`` from the query string or the form body (merged, as PHP's
``$_REQUEST`` is), parameters in PHP bracket keys (``grades[0][studentid]``), and answers
every error with HTTP 200 and ``{exception, errorcode, message, debuginfo?}``: a bad token is
``moodle_exception``/``invalidtoken``, an unknown function
``dml_missing_record_exception``/``invalidrecord``, a function not in the token's service
``webservice_access_exception``/``accessexception``. Users come back in id order;
``limitfrom``/``limitnumber`` page ``core_enrol_get_enrolled_users``.
``core_grades_update_grades`` answers a bare ``0`` (``GRADE_UPDATE_OK``).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, jsonify, request

from lmsbridge.core.api import ITEM

#: Functions the mock implements (and the seeded service allows).
FUNCTIONS = ("core_webservice_get_site_info", "core_enrol_get_enrolled_users",
             "core_course_get_contents", "mod_lti_get_ltis_by_courses",
             "core_grades_update_grades")
#: Moodle's role shortnames and names for the LIS roles the suite seeds.
ROLE_OF = {"Learner": (5, "student", "Student"), "Instructor": (3, "editingteacher", "Teacher"),
           "TeachingAssistant": (4, "teacher", "Non-editing teacher"),
           "ContentDeveloper": (3, "editingteacher", "Teacher"),
           "Mentor": (5, "student", "Student")}


class WsError(Exception):
    def __init__(self, exception: str, errorcode: str, message: str,
                 debuginfo: str | None = None) -> None:
        super().__init__(message)
        self.body = {"exception": exception, "errorcode": errorcode, "message": message}
        if debuginfo is not None:
            self.body["debuginfo"] = debuginfo


def unflatten(flat: Mapping[str, str]) -> dict[str, Any]:
    """PHP bracket keys → nested dicts (lists become dicts keyed by index strings)."""
    out: dict[str, Any] = {}
    for key, value in flat.items():
        parts = re.findall(r"[^\[\]]+", key)
        if not parts:
            continue
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                break
        else:
            node[parts[-1]] = value
    return out


def _items(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [value[k] for k in sorted(value, key=lambda k: int(k) if k.isdigit() else 0)]
    return []


def _int(params: Mapping[str, Any], name: str) -> int:
    raw = params.get(name)
    try:
        return int(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise WsError("invalid_parameter_exception", "invalidparameter",
                      "Invalid parameter value detected",
                      f"{name} => Invalid parameter value detected: Missing required key in "
                      f"single structure: {name}") from None


def _user_id(raw: Any) -> Any:
    """Moodle's user ids are ints; the suite seeds string ids, kept as given."""
    text = str(raw or "")
    return int(text) if text.isdigit() else text


def _order(user: Any) -> tuple[int, int, str]:
    """Users in id order (numbers first, then the suite's string ids)."""
    return (0, user, "") if isinstance(user, int) else (1, 0, str(user))


class MoodleWs:
    """Mixin for :class:`~lmsbridge.adapters.moodle.mock.MockMoodle`: the site's courses,
    users, enrolments, LTI activities and grades as web services see them."""

    lock: Any
    url: str

    def reset_ws(self) -> None:
        # The token survives a reset, as the suite connects before it resets faults.
        self.wstoken = getattr(self, "wstoken", None) or secrets.token_hex(16)
        self.ws_functions = set(FUNCTIONS)
        self.courses: dict[int, dict[str, Any]] = {}
        self.ws_users: dict[Any, dict[str, Any]] = {}
        self.enrolments: dict[int, dict[Any, list[str]]] = {}
        self.activities: dict[int, dict[str, Any]] = {}  # by course module id
        self.ws_grades: dict[tuple[int, int, Any], dict[str, Any]] = {}  # (cmid, itemnumber, user)
        self.ws_calls: list[str] = []
        self._next_id = 100
        self.add_course(1, "Moodle site", "site", format="site")

    def _id(self) -> int:
        self._next_id += 1
        return self._next_id

    # ================================================================== seeding

    def add_course(self, id: int, fullname: str, shortname: str | None = None, *,
                   format: str = "topics") -> dict[str, Any]:
        with self.lock:
            course = {"id": id, "fullname": fullname, "shortname": shortname or fullname,
                      "format": format}
            self.courses[id] = course
            self.enrolments.setdefault(id, {})
            return course

    def add_ws_user(self, id: Any, username: str, fullname: str,
                    email: str | None = None) -> dict[str, Any]:
        first, _, last = fullname.partition(" ")
        user = {"id": id, "username": username, "fullname": fullname, "firstname": first,
                "lastname": last or first}
        if email:
            user["email"] = email
        with self.lock:
            self.ws_users[id] = user
        return user

    def enrol(self, course: int, user: Any, roles: list[str]) -> None:
        """Enrol with LIS role names (``Learner``, ``Instructor``…)."""
        with self.lock:
            self.enrolments[course][user] = list(roles)

    def add_lti_activity(self, course: int, name: str, *, toolurl: str = "",
                         custom: str = "", grade: float = 100.0,
                         cmid: int | None = None) -> dict[str, Any]:
        """An External tool activity (``modname`` ``lti``) with its grade item (itemnumber 0)."""
        with self.lock:
            cmid = cmid or self._id()
            activity = {"coursemodule": cmid, "id": self._id(), "course": course, "name": name,
                        "toolurl": toolurl, "instructorcustomparameters": custom,
                        "grade": grade, "typeid": getattr(self, "type_id", 0)}
            self.activities[cmid] = activity
            return activity

    def seed_ws_world(self) -> None:
        """What ``lmsbridge mock moodle`` serves: a course, a student, a teacher, one LTI
        activity with its grade item."""
        self.add_course(2, "Data Science 101", "DS101")
        self.add_ws_user(3, "student1", "Sam Student", "sam.student@example.edu")
        self.add_ws_user(4, "teacher1", "Tina Teacher", "tina.teacher@example.edu")
        self.enrol(2, 3, ["Learner"])
        self.enrol(2, 4, ["Instructor"])
        self.add_lti_activity(2, "Quiz 1", toolurl="https://tool.lmsbridge.test/lti/launch",
                              custom=f"{ITEM}=quiz-1", grade=10.0)

    def ws_state(self) -> dict[str, Any]:
        return {"wstoken": self.wstoken,
                "rest_url": self.url + "/webservice/rest/server.php",
                "functions": sorted(self.ws_functions),
                "courses": list(self.courses.values()),
                "users": list(self.ws_users.values()),
                "enrolments": {c: dict(e) for c, e in self.enrolments.items()},
                "activities": list(self.activities.values()),
                "grades": [{"cmid": k[0], "itemnumber": k[1], "userid": k[2], **v}
                           for k, v in self.ws_grades.items()],
                "calls": list(self.ws_calls)}

    # =================================================================== functions

    def _site_info(self, params: dict[str, Any]) -> Any:
        return {"sitename": "Mock Moodle", "username": "wsuser", "userid": 2,
                "siteurl": self.url, "release": "4.5 (Build: 20241007)", "version": "2024100700",
                "functions": [{"name": f, "version": "2024100700"}
                              for f in sorted(self.ws_functions)]}

    def _course(self, params: dict[str, Any]) -> dict[str, Any]:
        cid = _int(params, "courseid")
        course = self.courses.get(cid)
        if course is None:
            raise WsError("dml_missing_record_exception", "invalidrecord",
                          "Can't find data record in database table course.",
                          f"SELECT id,category FROM {{course}} WHERE id = ?\n[array (\n  0 => {cid},\n)]")
        return course

    def _enrolled_users(self, params: dict[str, Any]) -> Any:
        course = self._course(params)
        options = {o.get("name"): o.get("value") for o in _items(params.get("options"))}
        start = int(options.get("limitfrom") or 0)
        number = int(options.get("limitnumber") or 0)
        rows = []
        for uid in sorted(self.enrolments[course["id"]], key=_order):
            user = dict(self.ws_users.get(uid, {"id": uid, "username": f"user{uid}",
                                                "fullname": f"User {uid}"}))
            user["roles"] = [{"roleid": r[0], "name": "", "shortname": r[1], "sortorder": 0}
                             for r in dict.fromkeys(ROLE_OF.get(x, ROLE_OF["Learner"])
                                                    for x in self.enrolments[course["id"]][uid])]
            rows.append(user)
        return rows[start:start + number] if number else rows[start:]

    def _contents(self, params: dict[str, Any]) -> Any:
        course = self._course(params)
        modules = [{"id": a["coursemodule"], "url": f"{self.url}/mod/lti/view.php?id="
                    f"{a['coursemodule']}", "name": a["name"], "instance": a["id"],
                    "modname": "lti", "modplural": "External tools", "visible": 1,
                    "uservisible": True}
                   for a in self.activities.values() if a["course"] == course["id"]]
        return [{"id": course["id"] * 10, "name": "General", "visible": 1, "summary": "",
                 "summaryformat": 1, "section": 0, "uservisible": True, "modules": modules}]

    def _ltis(self, params: dict[str, Any]) -> Any:
        wanted = {int(c) for c in _items(params.get("courseids")) if str(c).isdigit()}
        ltis = [{**a, "intro": "", "introformat": 1}
                for a in self.activities.values() if not wanted or a["course"] in wanted]
        return {"ltis": ltis, "warnings": []}

    def _update_grades(self, params: dict[str, Any]) -> Any:
        course = self._course(params)
        if params.get("component") != "mod_lti":
            raise WsError("invalid_parameter_exception", "invalidparameter",
                          "Invalid parameter value detected", "component must be mod_lti here")
        cmid = _int(params, "activityid")
        activity = self.activities.get(cmid)
        if activity is None or activity["course"] != course["id"]:
            raise WsError("dml_missing_record_exception", "invalidrecord",
                          "Can't find data record in database table course_modules.")
        itemnumber = _int(params, "itemnumber")
        if itemnumber != 0:
            return 1  # GRADE_UPDATE_FAILED: an LTI activity has one grade item
        for row in _items(params.get("grades")):
            user = _user_id(row.get("studentid"))
            grade = float(row["grade"]) if row.get("grade") not in (None, "") else None
            held = self.ws_grades.get((cmid, itemnumber, user))
            if held is None:
                self.ws_grades[(cmid, itemnumber, user)] = {"grade": grade, "changes": 1}
            elif held["grade"] != grade:
                held["grade"] = grade
                held["changes"] += 1
        return 0

    def ws_call(self, params: dict[str, Any]) -> Any:
        token, function = params.get("wstoken"), params.get("wsfunction")
        if token != self.wstoken:
            raise WsError("moodle_exception", "invalidtoken",
                          "Invalid token - token not found")
        handlers = {"core_webservice_get_site_info": self._site_info,
                    "core_enrol_get_enrolled_users": self._enrolled_users,
                    "core_course_get_contents": self._contents,
                    "mod_lti_get_ltis_by_courses": self._ltis,
                    "core_grades_update_grades": self._update_grades}
        handler = handlers.get(function or "")
        if handler is None:
            raise WsError("dml_missing_record_exception", "invalidrecord",
                          "Can't find data record in database table external_functions.",
                          f"SELECT * FROM {{external_functions}} WHERE name = ?\n[array (\n"
                          f"  0 => '{function}',\n)]")
        if function not in self.ws_functions:
            raise WsError("webservice_access_exception", "accessexception",
                          "Access control exception",
                          f"Access to the function {function}() is not allowed.\nThere could "
                          "be multiple reasons for this:\n1. The service linked to the user "
                          "token does not contain the function.")
        self.ws_calls.append(function)
        return handler(params)


def register(p: MoodleWs, app: Flask) -> None:
    @app.route("/webservice/rest/server.php", methods=["GET", "POST"])
    def server() -> Response:
        flat = {**request.args.to_dict(), **request.form.to_dict()}
        params = unflatten(flat)
        try:
            with p.lock:
                answer = p.ws_call(params)
        except WsError as exc:
            answer = exc.body
        if flat.get("moodlewsrestformat") != "json":
            return Response("<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<RESPONSE/>\n",
                            mimetype="application/xml")
        return jsonify(answer)
