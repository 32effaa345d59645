"""Per-tenant mapping of provider course fields onto the attributes Oracle accepts from providers.

Oracle's "External xAPI Content Provider and Oracle Learning Data Exchange Reference" lists what a
provider may send with its content push: content URL, title, summary, description, instruction
languages, expected effort, publisher, author, instructor, status, deactivation date and cover
art URL. Each has a default source among the provider's course fields; a tenant may point a
target at another field or a constant (Oracle's setup guide, step 7.5), or drop an optional
one.

Values are coerced per *target*, so an override from a different field still yields what Oracle
expects (text, absolute URL, language list, hours, status code, ISO date).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import attrs

__all__ = [
    "DEFAULT_RULES",
    "LOCKED_TARGETS",
    "ORACLE_ATTRIBUTE_NAMES",
    "ORACLE_STATUS_CODES",
    "PROVIDER_FIELDS",
    "REQUIRED_TARGETS",
    "TARGETS",
    "AttributeMapping",
    "Constant",
    "MappingError",
    "Source",
]

# ==================================================================================================
# GUESSED -- Oracle's JSON attribute names for provider content are NOT public (research notes:
# fetch them from the pod's `GET /hcmRestApi/resources/11.13.18.05/digitalLearningProviders/describe`).
# Every Oracle-side name and code lives in these two tables and nowhere else; correct them here.
ORACLE_ATTRIBUTE_NAMES: Mapping[str, str] = {
    "content_url": "ContentURL",
    "title": "Title",
    "summary": "ShortDescription",
    "description": "Description",
    "instruction_languages": "InstructionLanguages",
    "expected_effort": "ExpectedEffort",  # in hours (unit assumed)
    "publisher": "Publisher",
    "author": "Author",
    "instructor": "Instructor",
    "status": "Status",
    "deactivation_date": "DeactivationDate",
    "cover_art_url": "CoverArtURL",
}
ORACLE_STATUS_CODES: Mapping[str, str] = {"active": "ACTIVE", "inactive": "INACTIVE"}
# ==================================================================================================

#: Oracle's targets, in the order of its data exchange reference.
TARGETS: tuple[str, ...] = tuple(ORACLE_ATTRIBUTE_NAMES)
#: Without these Oracle cannot create the item; they may be re-sourced but not dropped.
REQUIRED_TARGETS = frozenset({"content_url", "title"})
#: The content URL is also the xAPI activity id completions are matched on; re-sourcing it
#: would orphan every completion already sent, so tenants cannot change it.
LOCKED_TARGETS = frozenset({"content_url"})

#: Course fields a provider adapter may supply (a course lacking one simply yields None).
PROVIDER_FIELDS: frozenset[str] = frozenset(
    {
        "id", "slug", "program_id", "name", "tagline", "description", "url", "languages",
        "workload", "effort", "partner", "instructors", "photo_url", "status", "retired",
        "deactivation_date",
    }
)  # fmt: skip


class MappingError(ValueError):
    """A mapping configuration or a course value that cannot be mapped, named precisely."""


@attrs.frozen
class Source:
    """Take the first present (non-empty) of these provider fields."""

    fields: tuple[str, ...] = attrs.field(
        converter=lambda f: (f,) if isinstance(f, str) else tuple(f)
    )

    @fields.validator
    def _check(self, _attr: Any, fields: tuple[str, ...]) -> None:
        if not fields:
            raise MappingError("a source needs at least one provider field")
        unknown = sorted(set(fields) - PROVIDER_FIELDS)
        if unknown:
            raise MappingError(
                f"unknown provider field(s) {unknown}; known: {sorted(PROVIDER_FIELDS)}"
            )


@attrs.frozen
class Constant:
    """The same value for every course (e.g. a fixed publisher name)."""

    value: Any


Rule = Source | Constant | None  # None: do not send this target

DEFAULT_RULES: Mapping[str, Rule] = {
    "content_url": Source("url"),
    "title": Source("name"),
    "summary": Source(("tagline", "description")),
    "description": Source("description"),
    "instruction_languages": Source("languages"),
    "expected_effort": Source(("effort", "workload")),
    "publisher": Source("partner"),
    "author": Source("partner"),
    "instructor": Source("instructors"),
    "status": Source(("status", "retired")),
    "deactivation_date": Source("deactivation_date"),
    "cover_art_url": Source("photo_url"),
}


# --------------------------------------------------------------------------- value coercion


def _text(value: Any) -> str | None:
    if isinstance(value, list | tuple):
        # Several partners or instructors: Oracle's fields are single strings.
        value = ", ".join(str(v).strip() for v in value if v is not None and str(v).strip())
    text = str(value).strip()
    return text or None


def _url(value: Any) -> str:
    text = str(value).strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or " " in text:
        raise ValueError(f"{text!r} is not an absolute http(s) URL")
    return text


def _languages(value: Any) -> list[str] | None:
    items = value.split(",") if isinstance(value, str) else list(value)
    codes = [str(i).strip() for i in items if i is not None and str(i).strip()]
    for code in codes:
        if not re.fullmatch(r"[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*", code):
            raise ValueError(f"{code!r} is not a language code")
    return codes or None


_EFFORT = re.compile(
    r"(\d+(?:\.\d+)?)\s*(hours?|hrs?|h|minutes?|mins?|m)\b(?!\s*(?:/|per)\s*(?:week|wk|day|month))",
    re.IGNORECASE,
)


def _hours(value: Any) -> float | None:
    """Expected effort in hours.

    Numbers are hours; timedeltas are converted; text like "Approx. 20 hours to complete" is
    parsed. Rates and ranges ("4-6 hours/week") carry no total and give None (omitted), which
    beats inventing a number.
    """
    if isinstance(value, bool):
        raise ValueError("a boolean is not an effort")
    if isinstance(value, dt.timedelta):
        hours = value.total_seconds() / 3600
    elif isinstance(value, int | float):
        hours = float(value)
    else:
        text = str(value)
        if re.search(r"\d\s*[-–]\s*\d", text) or re.search(
            r"(/|per)\s*(week|wk|day|month)", text, re.I
        ):
            return None
        matches = _EFFORT.findall(text)
        if not matches:
            return None
        hours = sum(float(n) / (1 if u.lower().startswith("h") else 60) for n, u in matches)
    if hours < 0:
        raise ValueError(f"effort {value!r} is negative")
    return round(hours, 2)


_STATUS_WORDS = {
    "active": "active", "launched": "active", "published": "active", "open": "active",
    "inactive": "inactive", "retired": "inactive", "deactivated": "inactive",
    "archived": "inactive", "deleted": "inactive", "closed": "inactive",
}  # fmt: skip


def _status(value: Any) -> str:
    if isinstance(value, bool):  # the `retired` flag
        word = "inactive" if value else "active"
    else:
        key = str(value).strip().lower()
        if key not in _STATUS_WORDS:
            raise ValueError(f"unknown status {value!r}; known: {sorted(_STATUS_WORDS)}")
        word = _STATUS_WORDS[key]
    return ORACLE_STATUS_CODES[word]


def _date(value: Any) -> str:
    if isinstance(value, dt.datetime):
        day = value.astimezone(dt.UTC).date() if value.tzinfo else value.date()
    elif isinstance(value, dt.date):
        day = value
    else:
        text = str(value).strip()
        try:
            day = dt.date.fromisoformat(text[:10])
        except ValueError:
            raise ValueError(f"{text!r} is not an ISO date") from None
    return day.isoformat()


_COERCE = {
    "content_url": _url,
    "title": _text,
    "summary": _text,
    "description": _text,
    "instruction_languages": _languages,
    "expected_effort": _hours,
    "publisher": _text,
    "author": _text,
    "instructor": _text,
    "status": _status,
    "deactivation_date": _date,
    "cover_art_url": _url,
}
assert set(_COERCE) == set(TARGETS)


def _field(course: Any, name: str) -> Any:
    """Read a field from a mapping or an attrs/plain object; absent means None."""
    if isinstance(course, Mapping):
        return course.get(name)
    return getattr(course, name, None)


def _empty(value: Any) -> bool:
    if isinstance(value, str):
        return not value.strip()
    return value is None or (isinstance(value, list | tuple | dict) and not value)


# --------------------------------------------------------------------------- the mapping


def _parse_rule(target: str, spec: Any) -> Rule:
    if spec is None or isinstance(spec, Source | Constant):
        return spec
    if isinstance(spec, str) or (isinstance(spec, list | tuple) and spec):
        return Source(spec)
    if isinstance(spec, Mapping) and len(spec) == 1:
        ((kind, value),) = spec.items()
        if kind == "source":
            return Source(value)
        if kind == "constant":
            return Constant(value)
    raise MappingError(
        f"mapping for {target!r} must be a field name, a list of field names, "
        f"{{'source': ...}}, {{'constant': ...}} or null; got {spec!r}"
    )


@attrs.frozen
class AttributeMapping:
    """One tenant's mapping: the defaults with that tenant's overrides applied."""

    rules: Mapping[str, Rule] = attrs.field(factory=lambda: dict(DEFAULT_RULES))

    @classmethod
    def from_config(cls, overrides: Mapping[str, Any] | None = None) -> AttributeMapping:
        """Build from tenant config, e.g. ``{"publisher": {"constant": "Coursera"},
        "summary": "description", "author": None}``."""
        rules = dict(DEFAULT_RULES)
        problems = []
        for target, spec in (overrides or {}).items():
            if target not in ORACLE_ATTRIBUTE_NAMES:
                problems.append(f"unknown Oracle target {target!r}; known: {list(TARGETS)}")
            elif target in LOCKED_TARGETS:
                problems.append(f"target {target!r} cannot be changed (completions match on it)")
            else:
                try:
                    rule = _parse_rule(target, spec)
                except MappingError as err:
                    problems.append(f"target {target!r}: {err}")
                    continue
                if rule is None and target in REQUIRED_TARGETS:
                    problems.append(f"target {target!r} is required and cannot be dropped")
                else:
                    rules[target] = rule
        if problems:
            raise MappingError("; ".join(problems))
        return cls(rules)

    def map_course(self, course: Any) -> dict[str, Any]:
        """Values keyed by target name; absent optional values are left out, never sent empty."""
        course_id = _field(course, "id") or "<no id>"
        out: dict[str, Any] = {}
        problems = []
        for target in TARGETS:
            rule = self.rules.get(target)
            if rule is None:
                continue
            if isinstance(rule, Constant):
                raw, origin = rule.value, "constant"
            else:
                raw, origin = None, "/".join(rule.fields)
                for name in rule.fields:
                    raw = _field(course, name)
                    if not _empty(raw):
                        break
            if _empty(raw):
                if target in REQUIRED_TARGETS:
                    problems.append(f"{target} is required but {origin} is empty")
                continue
            try:
                value = _COERCE[target](raw)
            except (ValueError, TypeError) as err:
                problems.append(f"{target} from {origin}: {err}")
                continue
            if value is not None:
                out[target] = value
            elif target in REQUIRED_TARGETS:
                problems.append(f"{target} is required but {origin} has no usable value")
        if problems:
            raise MappingError(f"course {course_id!r}: " + "; ".join(problems))
        return out

    def to_oracle(self, course: Any) -> dict[str, Any]:
        """The content payload keyed by Oracle's (guessed) JSON attribute names."""
        return {ORACLE_ATTRIBUTE_NAMES[k]: v for k, v in self.map_course(course).items()}
