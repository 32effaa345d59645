"""Refusal pages: every rejected request is a 4xx page naming the rule, plus a log line."""

from __future__ import annotations

import logging

from flask import Response, render_template

from lmsbridge.core.lti.errors import LaunchError

log = logging.getLogger("lmsbridge.web")

_HEADINGS = {400: "This request cannot be used", 401: "Sign-in failed",
             403: "Access refused", 404: "Content not found", 409: "No license left"}
_HINTS = {
    "state_unknown": "Open the link again from your course. If it keeps failing, your "
                     "browser may block cookies for this site inside the LMS.",
    "no_seat_left": "Every license of this program is in use. Ask your institution's "
                    "administrator to free one (remove learners who no longer need it).",
    "program_not_activated": "Ask your institution's administrator to activate it.",
}


def refusal(exc: LaunchError, what: str = "launch") -> Response:
    status = exc.status
    if status >= 500:
        # The platform's keys could not be had: the token cannot be verified, so it is
        # refused like a bad signature; never a 5xx page for a launch.
        status = 401
    log.warning("%s rejected: %s: %s", what, exc.rule, exc.reason)
    body = render_template("error.html", status=status, rule=exc.rule, reason=exc.reason,
                           heading=_HEADINGS.get(status, "Request refused"),
                           hint=_HINTS.get(exc.rule))
    resp = Response(body, status=status, mimetype="text/html")
    resp.headers["Cache-Control"] = "no-store"
    return resp
