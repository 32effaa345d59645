"""LTI Assignment and Grade Services 2.0 client: line items, scores, results.

Built on :class:`~lmsbridge.core.lti.service.ServiceClient` (tokens, one re-mint on 401,
in-place retries of idempotent calls, :class:`~lmsbridge.core.lti.errors.ServiceError`)::

    ags = AgsClient(ServiceClient(registration, runtime.tokens, runtime.session()))
    for item in ags.line_items(lineitems_url, resource_id="item:42"):   # every page
        ...
    item = ags.create_line_item(lineitems_url, LineItem(label="Quiz 1", score_maximum=10,
                                                        resource_id="item:42", tag="item:42"))
    result = ags.post_score(item.id, Score(user_id=sub, timestamp=when, score_given=7,
                                           score_maximum=10))
    result.outcome   # Outcome.DELIVERED / CURRENT / RETRY / REJECTED (only TokenError raises)

Media types: line item ``application/vnd.ims.lis.v2.lineitem+json``, container
``…lineitemcontainer+json``, score ``application/vnd.ims.lis.v1.score+json``, results
``…resultcontainer+json``. Scores go to ``{lineitem}/scores`` with the path extended *before*
the query string (Moodle's line item URLs carry ``?type_id=…``).

A score's ``timestamp`` is sent as ISO 8601 in UTC with microseconds (``…T10:00:00.123456Z``):
platforms keep only the newest score per user and line item and refuse older ones. Canvas
answers 400 "Provided timestamp of … before last updated timestamp of …", Moodle 409; both
mean the platform already holds this or a newer score, which :func:`score_outcome` reports as
``Outcome.CURRENT`` (delivered). 429/5xx/network trouble are ``RETRY`` with the platform's
``Retry-After``, and so is an answer that cannot be read (cut short, reset mid-body, larger
than :data:`~lmsbridge.core.http.JSON_LIMIT`, an error declared JSON that does not parse):
it may hide a stale-score refusal, i.e. a score the platform holds. Anything else is
``REJECTED`` with the platform's message.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import attrs

from lmsbridge.core.lti.service import ServiceClient
from lmsbridge.core.lti.service_errors import ServiceError, TokenError
from lmsbridge.core.model import Outcome

__all__ = [
    "ACTIVITY_PROGRESS", "GRADING_PROGRESS", "AgsClient", "LineItem", "Result", "Score",
    "ScoreResult", "format_timestamp", "is_stale_score", "score_outcome", "scores_url",
    "results_url", "SCOPE_LINEITEM", "SCOPE_LINEITEM_READONLY", "SCOPE_RESULT", "SCOPE_SCORE",
]

_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/"
SCOPE_LINEITEM = _SCOPE + "lineitem"
SCOPE_LINEITEM_READONLY = _SCOPE + "lineitem.readonly"
SCOPE_RESULT = _SCOPE + "result.readonly"
SCOPE_SCORE = _SCOPE + "score"

LINEITEM_TYPE = "application/vnd.ims.lis.v2.lineitem+json"
CONTAINER_TYPE = "application/vnd.ims.lis.v2.lineitemcontainer+json"
SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"
RESULTS_TYPE = "application/vnd.ims.lis.v2.resultcontainer+json"

ACTIVITY_PROGRESS = ("Initialized", "Started", "InProgress", "Submitted", "Completed")
GRADING_PROGRESS = ("FullyGraded", "Pending", "PendingManual", "Failed", "NotReady")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _opt_str(body: Mapping[str, Any], key: str) -> str | None:
    value = body.get(key)
    return value if isinstance(value, str) else None


def format_timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC with microseconds and ``Z``: ``2026-11-22T10:00:00.000000Z``."""
    if moment.tzinfo is None:
        raise ValueError("a score timestamp must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _extend_path(url: str, segment: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/" + segment, fragment=""))


def scores_url(lineitem_url: str) -> str:
    """``{lineitem}/scores`` with the query string kept after the path."""
    return _extend_path(lineitem_url, "scores")


def results_url(lineitem_url: str) -> str:
    return _extend_path(lineitem_url, "results")


# ======================================================================= model

_LINE_ITEM_KEYS = {"id", "label", "scoreMaximum", "resourceId", "tag", "resourceLinkId",
                   "startDateTime", "endDateTime", "gradesReleased"}


@attrs.frozen
class LineItem:
    """A gradebook column as AGS describes it; ``id`` is its URL (None before creation).
    ``extensions`` keeps members we don't model (platform extensions) for round trips."""

    label: str
    score_maximum: float
    id: str | None = None
    resource_id: str | None = None
    tag: str | None = None
    resource_link_id: str | None = None
    start_date_time: str | None = None
    end_date_time: str | None = None
    grades_released: bool | None = None
    extensions: Mapping[str, Any] = attrs.field(factory=dict)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.label, str) or not self.label.strip():
            raise ValueError("a line item needs a label")
        if not _is_number(self.score_maximum) or self.score_maximum <= 0:
            raise ValueError(f"scoreMaximum must be > 0, got {self.score_maximum!r}")

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = dict(self.extensions)
        body.update({"label": self.label, "scoreMaximum": self.score_maximum})
        for key, value in (("id", self.id), ("resourceId", self.resource_id), ("tag", self.tag),
                           ("resourceLinkId", self.resource_link_id),
                           ("startDateTime", self.start_date_time),
                           ("endDateTime", self.end_date_time),
                           ("gradesReleased", self.grades_released)):
            if value is not None:
                body[key] = value
        return body

    @classmethod
    def from_json(cls, body: Any) -> LineItem:
        if not isinstance(body, Mapping):
            raise ValueError("a line item must be a JSON object")
        if not isinstance(body.get("id"), str) or not body["id"]:
            raise ValueError("a line item from the platform must have an id")
        label = body.get("label")
        return cls(
            label=label if isinstance(label, str) and label.strip() else "(untitled)",
            score_maximum=body.get("scoreMaximum") if _is_number(body.get("scoreMaximum"))
            and body["scoreMaximum"] > 0 else 1.0,
            id=body["id"],
            resource_id=_opt_str(body, "resourceId"),
            tag=_opt_str(body, "tag"),
            resource_link_id=_opt_str(body, "resourceLinkId"),
            start_date_time=_opt_str(body, "startDateTime"),
            end_date_time=_opt_str(body, "endDateTime"),
            grades_released=body.get("gradesReleased")
            if isinstance(body.get("gradesReleased"), bool) else None,
            extensions={k: v for k, v in body.items() if k not in _LINE_ITEM_KEYS},
        )


@attrs.frozen
class Score:
    """One score publication. ``timestamp`` must be aware and newer than the last one sent
    for this user and line item. ``extensions`` adds platform members (e.g. Canvas's
    ``https://canvas.instructure.com/lti/submission``)."""

    user_id: str
    timestamp: datetime
    score_given: float | None = None
    score_maximum: float | None = None
    comment: str | None = None
    activity_progress: str = "Completed"
    grading_progress: str = "FullyGraded"
    started_at: datetime | None = None
    submitted_at: datetime | None = None
    extensions: Mapping[str, Any] = attrs.field(factory=dict)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.user_id, str) or not self.user_id:
            raise ValueError("a score needs the platform's user id")
        if self.timestamp.tzinfo is None:
            raise ValueError("a score timestamp must be timezone-aware")
        if self.activity_progress not in ACTIVITY_PROGRESS:
            raise ValueError(f"activityProgress must be one of {', '.join(ACTIVITY_PROGRESS)}")
        if self.grading_progress not in GRADING_PROGRESS:
            raise ValueError(f"gradingProgress must be one of {', '.join(GRADING_PROGRESS)}")
        if self.score_given is not None:
            if not _is_number(self.score_given) or self.score_given < 0:
                raise ValueError(f"scoreGiven must be a number >= 0, got {self.score_given!r}")
            if self.score_maximum is None:
                raise ValueError("scoreMaximum is required with scoreGiven")
        if self.score_maximum is not None and (
                not _is_number(self.score_maximum) or self.score_maximum <= 0):
            raise ValueError(f"scoreMaximum must be > 0, got {self.score_maximum!r}")

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = dict(self.extensions)
        body.update({"userId": self.user_id, "timestamp": format_timestamp(self.timestamp),
                     "activityProgress": self.activity_progress,
                     "gradingProgress": self.grading_progress})
        if self.score_given is not None:
            body["scoreGiven"] = self.score_given
        if self.score_maximum is not None:
            body["scoreMaximum"] = self.score_maximum
        if self.comment is not None:
            body["comment"] = self.comment
        submission = {k: format_timestamp(v) for k, v in
                      (("startedAt", self.started_at), ("submittedAt", self.submitted_at)) if v}
        if submission:
            body["submission"] = submission
        return body


@attrs.frozen
class Result:
    """A user's current result on a line item, as the platform reports it."""

    user_id: str
    id: str | None = None
    score_of: str | None = None
    result_score: float | None = None
    result_maximum: float | None = None
    comment: str | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False)

    @classmethod
    def from_json(cls, body: Any) -> Result:
        if not isinstance(body, Mapping) or not isinstance(body.get("userId"), str):
            raise ValueError("a result must be a JSON object with a userId")
        score, maximum = body.get("resultScore"), body.get("resultMaximum")
        return cls(user_id=body["userId"], id=_opt_str(body, "id"),
                   score_of=_opt_str(body, "scoreOf"),
                   result_score=score if _is_number(score) else None,
                   result_maximum=maximum if _is_number(maximum) else None,
                   comment=_opt_str(body, "comment"), raw=dict(body))


@attrs.frozen
class ScoreResult:
    """What became of one score: ``outcome`` plus the HTTP status (None: no answer)."""

    outcome: Outcome
    status: int | None = None
    detail: str = ""
    retry_after: float | None = None


# ================================================================= outcome mapping

_TIMESTAMP = re.compile(r"time\s*stamp", re.IGNORECASE)
_NOT_NEWER = re.compile(r"before|earlier|older|newer|later|stale|out of date|out-of-date",
                        re.IGNORECASE)


def is_stale_score(status: int | None, message: str) -> bool:
    """Does this refusal mean "I already hold this or a newer score"?

    Moodle answers 409 (sometimes with an empty body); Canvas 400 "Provided timestamp of X
    before last updated timestamp of Y". A 400 about an *invalid* timestamp is not stale.
    """
    if status == 409:
        return True
    return status in (400, 422) and bool(_TIMESTAMP.search(message)) \
        and bool(_NOT_NEWER.search(message))


def score_outcome(
    error: ServiceError, is_stale: Callable[[int | None, str], bool] = is_stale_score
) -> ScoreResult:
    """Map a failed score POST to an outcome (see the module docstring)."""
    message = str(error)
    if error.transient:
        return ScoreResult(Outcome.RETRY, error.status, message, error.retry_after)
    if is_stale(error.status, message):
        return ScoreResult(Outcome.CURRENT, error.status, message)
    return ScoreResult(Outcome.REJECTED, error.status, message)


# ====================================================================== client


class AgsClient:
    """AGS calls for one registration. ``lineitem_scope`` is what line item reads and writes
    ask for (a tool granted only ``lineitem.readonly`` passes that for read-only use)."""

    def __init__(
        self,
        service: ServiceClient,
        *,
        lineitem_scope: str = SCOPE_LINEITEM,
        is_stale: Callable[[int | None, str], bool] = is_stale_score,
    ) -> None:
        self.service = service
        self.lineitem_scope = lineitem_scope
        self.is_stale = is_stale

    # ------------------------------------------------------------------ line items

    def line_items(
        self,
        lineitems_url: str,
        *,
        resource_link_id: str | None = None,
        resource_id: str | None = None,
        tag: str | None = None,
        limit: int | None = None,
    ) -> Iterator[LineItem]:
        """Every line item of the container (filtered by the platform), to the last page."""
        params = {"resource_link_id": resource_link_id, "resource_id": resource_id,
                  "tag": tag, "limit": limit}
        for response in self.service.pages(lineitems_url, scopes=[self.lineitem_scope],
                                           accept=CONTAINER_TYPE, params=params):
            body = self.service.json_of(response)
            if not isinstance(body, list):
                raise ServiceError(f"GET {response.url} did not answer a line item array",
                                   status=response.status_code, url=response.url)
            for entry in body:
                yield LineItem.from_json(entry)

    def get_line_item(self, url: str) -> LineItem:
        return LineItem.from_json(
            self.service.get_json(url, scopes=[self.lineitem_scope], accept=LINEITEM_TYPE))

    def create_line_item(self, lineitems_url: str, item: LineItem) -> LineItem:
        body = item.to_json()
        body.pop("id", None)
        response = self.service.request("POST", lineitems_url, scopes=[SCOPE_LINEITEM],
                                        accept=LINEITEM_TYPE, json_body=body,
                                        content_type=LINEITEM_TYPE)
        return LineItem.from_json(self.service.json_of(response))

    def update_line_item(self, item: LineItem) -> LineItem:
        """PUT the whole line item to its ``id`` (members left out are cleared)."""
        if not item.id:
            raise ValueError("update_line_item needs a line item with an id")
        response = self.service.request("PUT", item.id, scopes=[SCOPE_LINEITEM],
                                        accept=LINEITEM_TYPE, json_body=item.to_json(),
                                        content_type=LINEITEM_TYPE)
        return LineItem.from_json(self.service.json_of(response))

    def delete_line_item(self, url: str) -> None:
        self.service.request("DELETE", url, scopes=[SCOPE_LINEITEM])

    # ------------------------------------------------------------- scores, results

    def post_score(self, lineitem_url: str, score: Score) -> ScoreResult:
        """Publish a score. What the scores endpoint answers comes back as a ScoreResult;
        only a failure to get an access token raises (TokenError): that is about the
        registration, not this score."""
        try:
            response = self.service.request(
                "POST", scores_url(lineitem_url), scopes=[SCOPE_SCORE],
                json_body=score.to_json(), content_type=SCORE_TYPE,
            )
        except TokenError:
            raise
        except ServiceError as exc:
            return score_outcome(exc, self.is_stale)
        return ScoreResult(Outcome.DELIVERED, response.status_code)

    def results(self, lineitem_url: str, *, user_id: str | None = None,
                limit: int | None = None) -> Iterator[Result]:
        """Current results of a line item (one user's with ``user_id``), to the last page."""
        for response in self.service.pages(results_url(lineitem_url), scopes=[SCOPE_RESULT],
                                           accept=RESULTS_TYPE,
                                           params={"user_id": user_id, "limit": limit}):
            body = self.service.json_of(response)
            if not isinstance(body, list):
                raise ServiceError(f"GET {response.url} did not answer a result array",
                                   status=response.status_code, url=response.url)
            for entry in body:
                yield Result.from_json(entry)
