"""A client for Moodle web services (the REST protocol, JSON answers).

Every call is ``POST {base_url}/webservice/rest/server.php`` with ``wstoken``,
``wsfunction`` and ``moodlewsrestformat=json`` and the function's parameters in PHP bracket
keys (``grades[0][studentid]``). Moodle answers an error with HTTP 200 and
``{exception, errorcode, message, debuginfo?}``; errors are told apart by ``errorcode``
(the message is localised). Token, service and capability errors are :class:`ConfigError`
naming the Moodle setting to change; other errors are :class:`MoodleError`. A failure to
get a readable answer (any HTTP status but 200 and 404, reset, timeout, cut or garbled
body) is :class:`MoodleTransient`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import requests

from lmsbridge.core.api import (
    JSON_LIMIT,
    AdapterError,
    ConfigError,
    Secret,
    failure,
    is_transient,
    read_capped,
    retry_after,
)

REST_PATH = "/webservice/rest/server.php"
#: Where each configuration problem is fixed in Moodle's admin screens.
SERVICES = "Site administration > Server > Web services > External services"
TOKENS = "Site administration > Server > Web services > Manage tokens"
CONFIG_ERRORS = {
    "invalidtoken": f"the wstoken is invalid or expired: create one in {TOKENS}",
    "accessexception": f"the web service user may not call {{function}}: add the function to "
                       f"the token's service ({SERVICES} > Functions) and check the user is "
                       "enrolled or authorised there",
    "servicerequireslogin": f"the token's service needs a login: enable it for authorised "
                            f"users in {SERVICES}",
    "servicenotavailable": f"the token's service is disabled: enable it in {SERVICES}",
    "enablewsdescription": "web services are disabled: enable them in Site administration > "
                           "Advanced features > Enable web services, and the REST protocol in "
                           "Site administration > Server > Web services > Manage protocols",
    "webservicesnotenabled": "web services are disabled: enable them in Site administration "
                             "> Advanced features",
    "nopermissions": "the web service user lacks a capability for {function} ({detail}): "
                     "allow it in the user's role (Site administration > Users > Permissions)",
    "invalidrecord_function": f"function {{function}} does not exist on this Moodle or is not "
                              f"in the token's service ({SERVICES} > Functions)",
}


class MoodleError(AdapterError):
    """Moodle refused a call; ``errorcode`` is Moodle's."""

    def __init__(self, function: str, errorcode: str, message: str) -> None:
        super().__init__(f"Moodle {function}: {errorcode}: {message}")
        self.function, self.errorcode = function, errorcode


class MoodleTransient(AdapterError):
    """No readable answer; the call may be sent again."""

    def __init__(self, detail: str, retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.detail, self.retry_after = detail, retry_after


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested dicts and lists → PHP bracket keys; booleans as 0/1."""
    out: dict[str, str] = {}
    for key, value in data.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if isinstance(value, Mapping):
            out.update(flatten(value, name))
        elif isinstance(value, list | tuple):
            out.update(flatten(dict(enumerate(value)), name))
        elif isinstance(value, bool):
            out[name] = str(int(value))
        elif value is not None:
            out[name] = str(value)
    return out


class MoodleWsClient:
    def __init__(self, base_url: str, token: Secret, session: requests.Session,
                 timeout: float) -> None:
        self.url = base_url.rstrip("/") + REST_PATH
        self._token, self.session, self.timeout = token, session, timeout
        self.calls = 0

    def call(self, function: str, **params: Any) -> Any:
        form = {**flatten(params), "wstoken": self._token.reveal(), "wsfunction": function,
                "moodlewsrestformat": "json"}
        self.calls += 1
        try:
            response = self.session.post(self.url, data=form, timeout=self.timeout,
                                         stream=True)
            read_capped(response, JSON_LIMIT)
        except requests.RequestException as exc:
            raise MoodleTransient(f"Moodle {function}: {failure(exc)}") from None
        status = response.status_code
        if status == 404:
            raise ConfigError(f"no Moodle web services at {self.url} (HTTP 404): check the "
                              "tenant's base_url (the site's wwwroot)")
        if status != 200:
            # Moodle answers its own errors with 200: anything else came from a server or
            # proxy in front of it, so the call may succeed later.
            later = "" if is_transient(status) else " (not Moodle's own answer)"
            raise MoodleTransient(f"Moodle {function}: HTTP {status}{later}",
                                  retry_after(response))
        try:
            answer = response.json()
        except ValueError:
            raise MoodleTransient(f"Moodle {function}: the answer is not JSON") from None
        if isinstance(answer, dict) and "exception" in answer and "errorcode" in answer:
            raise _error(function, answer)
        return answer

    # ================================================================ functions

    def site_info(self) -> dict[str, Any]:
        return self.call("core_webservice_get_site_info")

    def enrolled_users(self, course_id: int, page: int = 100) -> Iterator[dict[str, Any]]:
        """Every user enrolled in the course, ``page`` at a time (``limitfrom``)."""
        start = 0
        while True:
            rows = self.call("core_enrol_get_enrolled_users", courseid=course_id,
                             options=[{"name": "limitfrom", "value": start},
                                      {"name": "limitnumber", "value": page}])
            if not isinstance(rows, list):
                raise MoodleTransient("Moodle core_enrol_get_enrolled_users: not a list")
            yield from rows
            if len(rows) < page:
                return
            start += len(rows)

    def lti_activities(self, course_id: int) -> list[dict[str, Any]]:
        """The course's External tool activities (``mod_lti_get_ltis_by_courses``)."""
        answer = self.call("mod_lti_get_ltis_by_courses", courseids=[course_id])
        return list((answer or {}).get("ltis") or [])

    def course_contents(self, course_id: int) -> list[dict[str, Any]]:
        return list(self.call("core_course_get_contents", courseid=course_id) or [])

    def update_grades(self, course_id: int, cmid: int, grades: list[dict[str, Any]],
                      source: str = "lmsbridge") -> int:
        """Write many learners' grades of one LTI activity's grade item in one call.

        Moodle answers 0 (``GRADE_UPDATE_OK``), 1 (failed), 2 (multiple items) or 3
        (item locked); a bare null is taken as success."""
        answer = self.call("core_grades_update_grades", source=source, courseid=course_id,
                           component="mod_lti", activityid=cmid, itemnumber=0, grades=grades)
        return 0 if answer is None else int(answer)


def _error(function: str, answer: Mapping[str, Any]) -> ConfigError | MoodleError:
    code = str(answer.get("errorcode") or "")
    detail = str(answer.get("debuginfo") or answer.get("message") or "").splitlines()[0:1]
    first = detail[0] if detail else ""
    if code == "invalidrecord" and "external_functions" in str(answer.get("message", "")) + \
            str(answer.get("debuginfo", "")):
        code = "invalidrecord_function"
    if code in CONFIG_ERRORS:
        return ConfigError(f"Moodle {function}: " +
                           CONFIG_ERRORS[code].format(function=function, detail=first[:200]))
    return MoodleError(function, code, str(answer.get("message") or "")[:300])

