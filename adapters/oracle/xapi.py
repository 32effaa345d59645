"""xAPI 1.0.3 statements for learner starts and completions sent to Oracle Learning.

Oracle reads from each statement: the learner (work email *or* Oracle user name, per provider
configuration), the provider content id, the timestamp (stored as the completion date), and
optionally duration (actual effort) and score (actual score). Coursera-like providers send
only two events per enrollment: a start (Oracle creates/keeps an *In progress* enrollment) and
a completion (*Completed*).

Verb choice (Oracle's accepted verb list is in a non-public MOS note, so both live in
:data:`VERBS` for easy correction):

- start -> ``initialized``: ADL defines it as the activity provider having determined the
  actor started the activity, which is exactly what we report, after the fact, from provider
  progress data. ``launched`` describes the *launching system* starting content (cmi5 reserves
  it for the LMS), and we never launch anything.
- completion -> ``completed``. Pass/fail is carried in ``result.success``, not a second verb,
  so one completion is one statement.

Statement ids are uuid5 over (tenant, learner, content, event[, attempt]) so a re-sent
statement is byte-identical and an LRS answers 204/no-op instead of storing a duplicate.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import urlsplit

import attrs

__all__ = [
    "IFI_KEYS",
    "STATEMENT_NAMESPACE",
    "VERBS",
    "XAPI_VERSION",
    "XAPI_VERSION_HEADER",
    "LearnerIdentityError",
    "Score",
    "StatementError",
    "batch_statements",
    "build_actor",
    "build_completion_statement",
    "build_start_statement",
    "format_duration",
    "format_timestamp",
    "statement_id",
    "validate_statement",
]

XAPI_VERSION = "1.0.3"
#: Sent on every request to the statements resource (the statement itself carries no version).
XAPI_VERSION_HEADER = {"X-Experience-API-Version": XAPI_VERSION}

Event = Literal["start", "completion"]
IdentifyBy = Literal["email", "username"]

VERBS: Mapping[str, Mapping[str, Any]] = {
    "start": {
        "id": "http://adlnet.gov/expapi/verbs/initialized",
        "display": {"en-US": "initialized"},
    },
    "completion": {
        "id": "http://adlnet.gov/expapi/verbs/completed",
        "display": {"en-US": "completed"},
    },
}
COURSE_ACTIVITY_TYPE = "http://adlnet.gov/expapi/activities/course"

#: Fixed namespace for statement ids; changing it would re-send every statement as new.
STATEMENT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://lmsbridge.invalid/xapi/statement")

IFI_KEYS = ("mbox", "mbox_sha1sum", "openid", "account")


class StatementError(ValueError):
    """A statement (or its inputs) breaks xAPI 1.0.3 or Oracle's expectations."""

    def __init__(self, problems: Sequence[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("; ".join(self.problems))


class LearnerIdentityError(StatementError):
    """The learner lacks the identifier the tenant is configured to send."""

    def __init__(self, learner: str, message: str) -> None:
        self.learner = learner
        super().__init__(f"learner {learner!r}: {message}")


# --------------------------------------------------------------------------- pieces


def format_timestamp(value: dt.datetime) -> str:
    """UTC ISO 8601 with an explicit ``Z``; naive datetimes are refused, never guessed."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise StatementError(f"timestamp {value.isoformat()} has no timezone")
    return value.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def format_duration(value: dt.timedelta) -> str:
    """ISO 8601 duration in hours/minutes/seconds (no days: a 'day' of effort is ambiguous).

    xAPI keeps 0.01 s precision, so seconds are rounded to centiseconds.
    """
    if value < dt.timedelta(0):
        raise StatementError(f"duration must not be negative, got {value}")
    centis = round(value.total_seconds() * 100)
    hours, rest = divmod(centis, 360_000)
    minutes, centis = divmod(rest, 6_000)
    seconds, centis = divmod(centis, 100)
    out = "PT"
    if hours:
        out += f"{hours}H"
    if minutes:
        out += f"{minutes}M"
    if seconds or centis or out == "PT":
        out += f"{seconds}.{centis:02d}S" if centis else f"{seconds}S"
    return out


@attrs.frozen
class Score:
    """xAPI score; only valid combinations can be built (checked again by validate_statement)."""

    scaled: float | None = None
    raw: float | None = None
    min: float | None = None
    max: float | None = None

    def __attrs_post_init__(self) -> None:
        problems = _score_problems(attrs.asdict(self))
        if problems:
            raise StatementError(problems)

    @classmethod
    def from_percent(cls, percent: float) -> Score:
        """A 0-100 grade as raw/min/max plus the matching scaled value."""
        return cls(scaled=round(percent / 100, 4), raw=percent, min=0, max=100)

    def as_dict(self) -> dict[str, float]:
        return {k: v for k, v in attrs.asdict(self).items() if v is not None}


def _is_absolute_iri(value: Any) -> bool:
    if not isinstance(value, str) or not value or any(c.isspace() for c in value):
        return False
    parts = urlsplit(value)
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", parts.scheme or ""):
        return False
    # http(s) IRIs need a host; other schemes (urn:, tag:) only need something after the colon.
    return bool(parts.netloc) if parts.scheme.lower() in ("http", "https") else bool(parts.path)


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def build_actor(
    *,
    learner: str,
    identify_by: IdentifyBy,
    email: str | None = None,
    username: str | None = None,
    account_home_page: str | None = None,
    name: str | None = None,
    fallback: bool = False,
) -> dict[str, Any]:
    """The learner as an xAPI Agent with exactly one identifier.

    ``identify_by`` is the tenant's setting (Oracle's setup guide, step 3: Oracle matches on
    the work email or the Oracle user name). ``account_home_page`` is the Oracle pod URL,
    required for user names. With ``fallback`` the other identifier is used when the preferred
    one is missing (for tenants that mapped both attributes in Oracle). ``learner`` only names
    the learner in errors.
    """
    if identify_by not in ("email", "username"):
        raise StatementError(f"identify_by must be 'email' or 'username', got {identify_by!r}")
    email = (email or "").strip() or None
    username = (username or "").strip() or None
    if email is None and username is None:
        raise LearnerIdentityError(learner, "has neither a work email nor an Oracle user name")
    order = ["email", "username"] if identify_by == "email" else ["username", "email"]
    chosen = next(
        (
            kind
            for kind in order[: 2 if fallback else 1]
            if (email if kind == "email" else username)
        ),
        None,
    )
    if chosen is None:
        missing = "work email" if identify_by == "email" else "Oracle user name"
        raise LearnerIdentityError(
            learner, f"has no {missing}, which this tenant identifies learners by"
        )
    actor: dict[str, Any] = {"objectType": "Agent"}
    if name:
        actor["name"] = name
    if chosen == "email":
        assert email is not None
        if email.lower().startswith("mailto:"):
            email = email[len("mailto:") :]
        if not _EMAIL.fullmatch(email):
            raise LearnerIdentityError(learner, "work email is not a valid address")
        actor["mbox"] = f"mailto:{email}"
    else:
        if not _is_absolute_iri(account_home_page):
            raise StatementError(
                "account_home_page (the Oracle pod URL) is required to identify learners by user name"
            )
        actor["account"] = {"homePage": account_home_page, "name": username}
    return actor


def statement_id(
    *, tenant: str, learner: str, content: str, event: str, attempt: int | str | None = None
) -> str:
    """Deterministic id: the same event for the same learner and content is the same statement.

    ``attempt`` distinguishes retakes: Oracle opens a new enrollment for a completion after a
    completion, which only works if the retake's statement gets its own id.
    """
    parts = [tenant, learner, content, event]
    if attempt is not None:
        parts.append(str(attempt))
    for label, part in zip(("tenant", "learner", "content", "event"), parts, strict=False):
        if not part:
            raise StatementError(f"statement id needs a non-empty {label}")
    # \x1f cannot occur in ids, so ("a b", "c") and ("a", "b c") never collide.
    return str(uuid.uuid5(STATEMENT_NAMESPACE, "\x1f".join(parts)))


def _activity(activity_id: str, title: str, description: str | None) -> dict[str, Any]:
    if not _is_absolute_iri(activity_id):
        raise StatementError(f"activity id {activity_id!r} is not an absolute IRI")
    if not title or not title.strip():
        raise StatementError(f"activity {activity_id} has no title")
    definition: dict[str, Any] = {"name": {"en-US": title.strip()}, "type": COURSE_ACTIVITY_TYPE}
    if description and description.strip():
        definition["description"] = {"en-US": description.strip()}
    return {"objectType": "Activity", "id": activity_id, "definition": definition}


def _statement(
    *,
    event: Event,
    tenant: str,
    learner_key: str,
    actor: Mapping[str, Any],
    activity_id: str,
    title: str,
    description: str | None,
    timestamp: dt.datetime,
    result: Mapping[str, Any] | None,
    platform: str | None,
    attempt: int | str | None,
    now: dt.datetime | None,
) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "id": statement_id(
            tenant=tenant, learner=learner_key, content=activity_id, event=event, attempt=attempt
        ),
        "actor": dict(actor),
        "verb": {"id": VERBS[event]["id"], "display": dict(VERBS[event]["display"])},
        "object": _activity(activity_id, title, description),
        "timestamp": format_timestamp(timestamp),
    }
    if result:
        statement["result"] = dict(result)
    if platform:
        statement["context"] = {"platform": platform}
    validate_statement(statement, now=now)
    return statement


def build_start_statement(
    *,
    tenant: str,
    learner_key: str,
    actor: Mapping[str, Any],
    activity_id: str,
    title: str,
    timestamp: dt.datetime,
    description: str | None = None,
    platform: str | None = None,
    attempt: int | str | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """'Learner started this content' -> Oracle sets the enrollment *In progress*.

    ``learner_key`` is the provider's stable learner id (not the email, which may change);
    ``activity_id`` is the content IRI, the same content URL sent in the catalog sync so Oracle
    can match the two. Build ``actor`` with :func:`build_actor`.
    """
    return _statement(
        event="start", tenant=tenant, learner_key=learner_key, actor=actor,
        activity_id=activity_id, title=title, description=description, timestamp=timestamp,
        result=None, platform=platform, attempt=attempt, now=now,
    )  # fmt: skip


def build_completion_statement(
    *,
    tenant: str,
    learner_key: str,
    actor: Mapping[str, Any],
    activity_id: str,
    title: str,
    timestamp: dt.datetime,
    score: Score | None = None,
    success: bool | None = None,
    duration: dt.timedelta | None = None,
    description: str | None = None,
    platform: str | None = None,
    attempt: int | str | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """'Learner completed this content' -> *Completed*; ``timestamp`` becomes the completion date,
    ``duration`` the actual effort and ``score`` the actual score in the Oracle transcript."""
    result: dict[str, Any] = {"completion": True}
    if success is not None:
        result["success"] = bool(success)
    if score is not None:
        scored = score.as_dict()
        if scored:
            result["score"] = scored
    if duration is not None:
        result["duration"] = format_duration(duration)
    return _statement(
        event="completion", tenant=tenant, learner_key=learner_key, actor=actor,
        activity_id=activity_id, title=title, description=description, timestamp=timestamp,
        result=result, platform=platform, attempt=attempt, now=now,
    )  # fmt: skip


# --------------------------------------------------------------------------- validation


def _is_number(value: Any) -> bool:
    return (
        isinstance(value, int | float | Decimal)
        and not isinstance(value, bool)
        and math.isfinite(value)
    )


def _score_problems(score: Mapping[str, Any]) -> list[str]:
    problems = []
    values = {k: score.get(k) for k in ("scaled", "raw", "min", "max")}
    for key, value in values.items():
        if value is not None and not _is_number(value):
            problems.append(f"score.{key} must be a finite number, got {value!r}")
    if problems:
        return problems
    scaled, raw, lo, hi = values["scaled"], values["raw"], values["min"], values["max"]
    if scaled is not None and not -1 <= scaled <= 1:
        problems.append(f"score.scaled {scaled} is outside [-1, 1]")
    if lo is not None and hi is not None and not lo < hi:
        problems.append(f"score.min {lo} must be less than score.max {hi}")
    if raw is not None and lo is not None and raw < lo:
        problems.append(f"score.raw {raw} is below score.min {lo}")
    if raw is not None and hi is not None and raw > hi:
        problems.append(f"score.raw {raw} is above score.max {hi}")
    if set(score) - set(values):
        problems.append(f"score has unknown keys {sorted(set(score) - set(values))}")
    return problems


def _parse_timestamp(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        return None


def _actor_problems(actor: Any) -> list[str]:
    if not isinstance(actor, Mapping):
        return ["actor must be an object"]
    present = [k for k in IFI_KEYS if actor.get(k) is not None]
    if len(present) != 1:
        return [f"actor must have exactly one identifier ({', '.join(IFI_KEYS)}), found {present}"]
    problems = []
    mbox = actor.get("mbox")
    if mbox is not None and not (
        isinstance(mbox, str) and mbox.startswith("mailto:") and _EMAIL.fullmatch(mbox[7:])
    ):
        problems.append("actor.mbox must be 'mailto:' followed by an email address")
    account = actor.get("account")
    if account is not None:
        if not isinstance(account, Mapping) or not account.get("name"):
            problems.append("actor.account needs a non-empty name")
        elif not _is_absolute_iri(account.get("homePage")):
            problems.append("actor.account.homePage must be an absolute IRL")
    return problems


def validate_statement(
    statement: Mapping[str, Any],
    *,
    now: dt.datetime | None = None,
    future_leeway: dt.timedelta = dt.timedelta(0),
) -> None:
    """Our checks on top of a schema validator (ralph misses several of these).

    Raises :class:`StatementError` listing every problem found.
    """
    problems: list[str] = []
    for key in ("id", "actor", "verb", "object", "timestamp"):
        if key not in statement:
            problems.append(f"missing {key}")
    if "version" in statement:
        problems.append("version must not be set by the provider (the LRS sets it)")
    if "id" in statement:
        try:
            uuid.UUID(str(statement["id"]))
        except ValueError:
            problems.append(f"id {statement['id']!r} is not a UUID")
    if "actor" in statement:
        problems += _actor_problems(statement["actor"])
    verb = statement.get("verb")
    if "verb" in statement and not (isinstance(verb, Mapping) and _is_absolute_iri(verb.get("id"))):
        problems.append("verb.id must be an absolute IRI")
    obj = statement.get("object")
    if "object" in statement and not (isinstance(obj, Mapping) and _is_absolute_iri(obj.get("id"))):
        problems.append("object.id must be an absolute IRI")

    if "timestamp" in statement:
        ts = _parse_timestamp(statement["timestamp"])
        if ts is None:
            problems.append(f"timestamp {statement['timestamp']!r} is not ISO 8601")
        elif ts.tzinfo is None:
            problems.append(f"timestamp {statement['timestamp']} has no timezone")
        else:
            current = now or dt.datetime.now(dt.UTC)
            if current.tzinfo is None:
                raise ValueError("'now' must be timezone-aware")
            if ts > current + future_leeway:
                problems.append(f"timestamp {statement['timestamp']} is in the future")

    result = statement.get("result")
    if result is not None:
        if not isinstance(result, Mapping):
            problems.append("result must be an object")
        else:
            for flag in ("completion", "success"):
                if flag in result and not isinstance(result[flag], bool):
                    problems.append(f"result.{flag} must be a boolean")
            if "score" in result:
                score = result["score"]
                problems += (
                    _score_problems(score)
                    if isinstance(score, Mapping)
                    else ["result.score must be an object"]
                )
            if "duration" in result and not _valid_duration(result["duration"]):
                problems.append(
                    f"result.duration {result['duration']!r} is not an ISO 8601 duration"
                )
    if problems:
        raise StatementError(problems)


_DURATION = re.compile(
    r"P(?!$)(\d+(?:\.\d+)?Y)?(\d+(?:\.\d+)?M)?(\d+(?:\.\d+)?W)?(\d+(?:\.\d+)?D)?"
    r"(T(?=\d)(\d+(?:\.\d+)?H)?(\d+(?:\.\d+)?M)?(\d+(?:\.\d+)?S)?)?"
)


def _valid_duration(value: Any) -> bool:
    return isinstance(value, str) and _DURATION.fullmatch(value) is not None


# --------------------------------------------------------------------------- batching


def batch_statements(
    statements: Iterable[Mapping[str, Any]], max_size: int = 50
) -> list[list[Mapping[str, Any]]]:
    """Split statements into POST batches of at most ``max_size``, order preserved.

    An LRS rejects a whole batch (400) when two statements share an id, so exact duplicates are
    dropped; the same id with *different* content is a bug upstream (it would be a 409 at
    best) and raises instead of silently picking one.
    """
    if max_size < 1:
        raise ValueError(f"max_size must be at least 1, got {max_size}")
    seen: dict[str, Mapping[str, Any]] = {}
    unique: list[Mapping[str, Any]] = []
    for statement in statements:
        sid = statement.get("id")
        if not sid:
            raise StatementError(
                "every statement in a batch needs an id (deterministic ids make re-sends safe)"
            )
        sid = str(sid)
        if sid in seen:
            if seen[sid] != statement:
                raise StatementError(f"two different statements share id {sid}")
            continue
        seen[sid] = statement
        unique.append(statement)
    return [unique[i : i + max_size] for i in range(0, len(unique), max_size)]
