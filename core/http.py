"""HTTP helpers every client shares: bounded reads of a platform's answer, which answers are
transient, Retry-After, and error excerpts safe to log (tokens scrubbed).

Every answer from a platform is read with :func:`read_capped` from a request sent with
``stream=True``::

    response = session.post(url, data=body, timeout=30, stream=True)
    read_capped(response, POX_LIMIT)    # AnswerTooLarge / UnreadableAnswer, else the bytes
    response.json()                     # the body read above
"""

from __future__ import annotations

import email.utils
import json
import re
import time
from collections.abc import Callable
from datetime import UTC
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests

#: Statuses worth trying again later; every 5xx is too.
TRANSIENT_STATUSES = frozenset({408, 425, 429})

# The most we read of one answer, by kind: far above what a working platform sends (a POX
# envelope ~1 KB, a key set a few KB, a token answer under 4 KB), low enough that a runaway
# answer costs little memory. JSON gets 16 MiB because Moodle answers NRPS with the whole
# roster in one page unless asked to page (~400 bytes a member: ~40 000 members).
POX_LIMIT = 256 * 1024
JWKS_LIMIT = 1024 * 1024
TOKEN_LIMIT = 64 * 1024
JSON_LIMIT = 16 * 1024 * 1024

_CHUNK = 64 * 1024

# Anything that looks like a JWT or a bearer token must never reach a log or a report, even
# when a platform echoes what we sent it.
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.?[A-Za-z0-9_-]*")
_BEARER = re.compile(r"(?i)(bearer\s+)\S+")
_EXCERPT = 300


class UnreadableAnswer(requests.RequestException):
    """The platform's answer could not be read whole: cut short, reset mid-body, or larger than
    we accept. A RequestException, so a client treats it like an answer lost on the way
    (transient: a write is RETRY). ``problem`` says what went wrong without the URL; the
    message names the URL too, never the body."""

    def __init__(self, url: str, problem: str) -> None:
        super().__init__(f"the answer from {url} {problem}")
        self.url = url
        self.problem = problem


class AnswerTooLarge(UnreadableAnswer):
    """The answer is larger than ``limit`` bytes (by its Content-Length or by what came)."""

    def __init__(self, url: str, limit: int) -> None:
        super().__init__(url, f"is larger than {limit} bytes")
        self.limit = limit


def read_capped(response: requests.Response, limit: int) -> bytes:
    """The body of ``response`` (sent with ``stream=True``), at most ``limit`` bytes of it.

    A Content-Length above ``limit`` is refused before any of the body is read; otherwise the
    body is read in chunks and refused as soon as it passes ``limit``. Either way the
    connection is closed, so the platform stops sending. A body cut short (fewer bytes than
    its Content-Length, a reset mid-body, a timeout) raises UnreadableAnswer. The body is kept
    on the response: ``.content``, ``.text`` and ``.json()`` read it afterwards.
    """
    url = _where(response.url)
    declared = (response.headers.get("Content-Length") or "").strip()
    if declared.isdigit() and int(declared) > limit:
        response.close()
        raise AnswerTooLarge(url, limit)
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_content(_CHUNK):
            size += len(chunk)
            if size > limit:
                break
            chunks.append(chunk)
    except requests.RequestException as exc:  # urllib3's IncompleteRead, reset, timeout, …
        response.close()
        raise UnreadableAnswer(url, f"was cut short ({type(exc).__name__})") from None
    if size > limit:
        response.close()
        raise AnswerTooLarge(url, limit)
    body = b"".join(chunks)
    # Where requests keeps a body it read itself: .content/.text/.json() use it from now on.
    response._content = body
    response._content_consumed = True
    return body


def failure(exc: requests.RequestException) -> str:
    """What went wrong with a request, safe to log: an unreadable answer's problem, else the
    exception's type (requests' own messages can carry whole URLs)."""
    if isinstance(exc, UnreadableAnswer):
        return f"the answer {exc.problem}"
    return type(exc).__name__


def unreadable_json(response: requests.Response) -> bool:
    """True when the answer declares JSON (``application/json``, ``…+json``) but its body,
    read already, does not parse: cut short or garbled on the way. An empty body is not."""
    kind = (response.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if kind != "application/json" and not kind.endswith("+json"):
        return False
    body = response.content or b""
    if not body.strip():
        return False
    try:
        json.loads(body)
    except ValueError:  # UnicodeDecodeError included
        return True
    return False


def _where(url: str | None) -> str:
    """A URL fit for a message: without user info, tokens scrubbed."""
    parts = urlsplit(url or "")
    netloc = parts.netloc.rpartition("@")[2]
    return redact(urlunsplit(parts._replace(netloc=netloc, fragment="")))


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
