"""Refusal pages: every rejected request is a 4xx page naming the rule, plus a log line."""

from __future__ import annotations

import logging

from flask import Response, render_template

from lmsbridge.core.lti.errors import LaunchError

log = logging.getLogger("lmsbridge.web")

_HEADINGS = {400: "This request cannot be used", 401: "Sign-in failed",
             403: "Access refused", 404: "Content not found", 409: "Request refused",
             500: "Something went wrong", 503: "Temporarily unavailable"}
# Rules whose heading says more than their status does.
_RULE_HEADINGS = {"no_seat_left": "No license left",
                  "account_conflict": "Account already linked"}
_HINTS = {
    "state_unknown": "Open the link again from your course. If it keeps failing, your "
                     "browser may block cookies for this site inside the LMS.",
    "no_seat_left": "Every license of this program is in use. Ask your institution's "
                    "administrator to free one (remove learners who no longer need it).",
    "program_not_activated": "Ask your institution's administrator to activate it.",
    "account_conflict": "Sign in with the LMS account you used before, or ask your "
                        "institution's support to move your learning record to this one.",
    "state_invalid": "Open the link again from your course.",
    "state_expired": "The sign-in took too long. Open the link again from your course.",
    "picker_session_used": "This selection was already sent to your course. Start again "
                           "from the LMS to add more content.",
}


def page(status: int, rule: str, reason: str, hint: str | None = None) -> Response:
    """The error page (HTML, never cached) for ``status``, naming ``rule``."""
    body = render_template("error.html", status=status, rule=rule, reason=reason,
                           heading=_RULE_HEADINGS.get(rule) or _HEADINGS.get(
                               status, "Request refused"),
                           hint=hint or _HINTS.get(rule))
    resp = Response(body, status=status, mimetype="text/html")
    resp.headers["Cache-Control"] = "no-store"
    return resp


def refusal(exc: LaunchError, what: str = "launch") -> Response:
    status = exc.status
    if status >= 500:
        # The platform's keys could not be had: the token cannot be verified, so it is
        # refused like a bad signature; never a 5xx page for a launch.
        status = 401
    log.warning("%s rejected: %s: %s", what, exc.rule, exc.reason)
    return page(status, exc.rule, exc.reason)
