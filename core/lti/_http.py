"""Small HTTP helpers shared by the LTI service clients: Retry-After, safe error excerpts."""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Callable
from typing import Any

import requests

#: Statuses worth trying again later; every 5xx is too.
TRANSIENT_STATUSES = frozenset({408, 425, 429})

# Anything that looks like a JWT or a bearer token must never reach a log or a report, even
# when a platform echoes what we sent it.
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.?[A-Za-z0-9_-]*")
_BEARER = re.compile(r"(?i)(bearer\s+)\S+")
_EXCERPT = 300


def is_transient(status: int) -> bool:
    return status >= 500 or status in TRANSIENT_STATUSES


def retry_after(response: requests.Response, clock: Callable[[], float] = time.time) -> float | None:
    """Seconds from ``Retry-After`` (delta-seconds or HTTP-date), None when absent or bad."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - clock())


def redact(text: str) -> str:
    return _BEARER.sub(r"\1***", _JWT.sub("***", text))


def platform_message(response: requests.Response) -> str:
    """The platform's own words about an error, shortened and scrubbed of tokens.

    Understands the usual JSON shapes (``error_description``, ``message``, ``error``,
    Canvas's ``errors``), else takes the start of the text body.
    """
    text = ""
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        text = _message_of(body)
    if not text:
        text = response.text or ""
        if "<html" in text[:200].lower():
            text = re.sub(r"<[^>]*>", " ", text)
    text = " ".join(redact(text).split())
    return text[:_EXCERPT] + ("…" if len(text) > _EXCERPT else "")


def _message_of(body: dict[str, Any]) -> str:
    for key in ("error_description", "message", "detail", "error"):
        value = body.get(key)
        if isinstance(value, str) and value:
            if key == "error" and isinstance(body.get("error_description"), str):
                continue
            return value
    errors = body.get("errors")
    if isinstance(errors, dict):
        return _message_of(errors)
    if isinstance(errors, list) and errors:
        first = errors[0]
        if isinstance(first, dict):
            return _message_of(first)
        if isinstance(first, str):
            return first
    return ""
