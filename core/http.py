"""HTTP helpers every client shares: which answers are transient, Retry-After, and error
excerpts safe to log (tokens scrubbed)."""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Callable
from datetime import UTC
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


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or HTTP-date, RFC 9110);
    None when absent or unreadable. An HTTP-date is GMT even when it fails to say so."""
    value = (value or "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def retry_after(response: requests.Response, clock: Callable[[], float] = time.time) -> float | None:
    """Seconds from the response's ``Retry-After`` header, None when absent or bad."""
    return parse_retry_after(response.headers.get("Retry-After"), clock())


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
