"""attrs validators and converters whose errors name the field and the value.

A bad value must be fixable from the message alone: ``Tenant.grade_sync: must be one of
item, course, final (got 'B')``.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

import attrs

from lmsbridge.core.errors import ValidationError

E = TypeVar("E", bound=enum.Enum)
Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]

SLUG = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _name(inst: object, attr: attrs.Attribute) -> str:
    return f"{type(inst).__name__}.{attr.name}"


def check(predicate: Callable[[Any], bool], reason: str) -> Validator:
    def validator(inst: object, attr: attrs.Attribute, value: Any) -> None:
        if not predicate(value):
            raise ValidationError(_name(inst, attr), value, reason)

    return validator


def optional(validator: Validator) -> Validator:
    def wrapped(inst: object, attr: attrs.Attribute, value: Any) -> None:
        if value is not None:
            validator(inst, attr, value)

    return wrapped


def _is_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


slug = check(lambda v: isinstance(v, str) and bool(SLUG.match(v)),
             "must be lowercase letters, digits, '.', '_' or '-', starting with a letter or digit")
text = check(lambda v: isinstance(v, str) and v.strip() != "", "must be a non-empty string")
url = check(_is_url, "must be an http(s) URL")
email = check(lambda v: isinstance(v, str) and bool(EMAIL.match(v)), "must be an email address")
aware = check(lambda v: isinstance(v, datetime) and v.utcoffset() is not None,
              "must be a datetime with a time zone")
non_negative = check(lambda v: isinstance(v, int | float) and not isinstance(v, bool) and v >= 0,
                     "must be a number >= 0")
positive = check(lambda v: isinstance(v, int | float) and not isinstance(v, bool) and v > 0,
                 "must be a number > 0")
boolean = check(lambda v: isinstance(v, bool), "must be true or false")
texts = check(lambda v: isinstance(v, tuple) and all(isinstance(x, str) and x.strip() for x in v),
              "must be a list of non-empty strings")
non_empty_texts = check(lambda v: isinstance(v, tuple) and len(v) > 0
                        and all(isinstance(x, str) and x.strip() for x in v),
                        "must be a non-empty list of non-empty strings")


def enum_of(enum_type: type[E]) -> attrs.Converter:
    """Convert a string to ``enum_type``; on failure name the field and the allowed values."""

    def convert(value: Any, inst: object, field: attrs.Attribute) -> E:
        try:
            return enum_type(value)
        except ValueError:
            allowed = ", ".join(str(m.value) for m in enum_type)
            raise ValidationError(_name(inst, field), value, f"must be one of {allowed}") from None

    return attrs.Converter(convert, takes_self=True, takes_field=True)


def to_tuple(value: Any) -> Any:
    """Lists from JSON/CLI become tuples so frozen objects stay hashable."""
    return tuple(value) if isinstance(value, list | set | frozenset) else value


def _json_object(value: Any) -> bool:
    import json

    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        return False
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


json_object = check(_json_object, "must be a mapping of names to JSON values")
