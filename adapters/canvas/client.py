"""A small Canvas REST client: bearer token, User-Agent, Rails forms, Link paging, throttling.

Canvas throttles with a leaky bucket per token: every answer carries
``X-Rate-Limit-Remaining``; an empty bucket answers ``403 Forbidden (Rate Limit Exceeded)``
as text/plain (self-hosted and older Canvas) or ``429`` (hosted Canvas since 2025-10). Both
are transient. When the bucket runs low the client stops before Canvas refuses it, and says
how long to wait (the bucket drains at about 10 units a second).

Every answer is read to at most :data:`~lmsbridge.core.http.JSON_LIMIT` bytes. One that is
larger, cut short, or declared JSON and not parsing (a 4xx included: it may hide what Canvas
meant) is transient too.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlencode

import requests

from lmsbridge.adapters.canvas.errors import CanvasError, CanvasTransient
from lmsbridge.adapters.canvas.forms import encode
from lmsbridge.core.api import (
    JSON_LIMIT,
    Secret,
    UnreadableAnswer,
    failure,
    is_transient,
    iter_pages,
    platform_message,
    read_capped,
    retry_after,
    unreadable_json,
)

#: Below this many units left, stop and let the bucket drain (a write costs up to ~50).
LOW_WATER = 100.0
#: Canvas's bucket drains at about this many units per second.
DRAIN_PER_SECOND = 10.0
#: Canvas's largest page.
PER_PAGE = 100


def is_rate_limited(response: requests.Response) -> bool:
    if response.status_code == 429:
        return True
    return response.status_code == 403 and "rate limit exceeded" in response.text.lower()


class CanvasClient:
    """Calls under ``{base_url}/api/v1`` with a personal or developer-key token."""

    def __init__(self, base_url: str, token: Secret, session: requests.Session,
                 timeout: float):
        self.base = base_url.rstrip("/")
        self._token = token
        self.session = session
        self.timeout = timeout
        #: The last ``X-Rate-Limit-Remaining`` Canvas reported (None before any answer).
        self.remaining: float | None = None

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else f"{self.base}/api/v1{path}"

    def check_budget(self) -> None:
        """Raise CanvasTransient when the rate-limit bucket is nearly empty."""
        if self.remaining is not None and self.remaining < LOW_WATER:
            wait = (LOW_WATER - self.remaining) / DRAIN_PER_SECOND
            raise CanvasTransient(f"Canvas rate limit nearly used up ({self.remaining:g} left)",
                                  retry_after=round(wait, 1))

    def request(self, method: str, path: str, form: Mapping[str, Any] | None = None,
                params: Mapping[str, Any] | None = None) -> requests.Response:
        self.check_budget()
        url = self.url(path)
        if params:
            url += ("&" if "?" in url else "?") + urlencode(encode(params))
        headers = {"Authorization": f"Bearer {self._token.reveal()}",
                   "Accept": "application/json"}
        try:
            response = self.session.request(method, url, data=encode(form) if form else None,
                                            headers=headers, timeout=self.timeout, stream=True)
            read_capped(response, JSON_LIMIT)
        except UnreadableAnswer as exc:
            raise CanvasTransient(f"Canvas's answer to {method} {path} could not be read: "
                                  f"{failure(exc)}") from None
        except requests.Timeout:
            raise CanvasTransient(f"Canvas did not answer {method} {path} in "
                                  f"{self.timeout:g} s") from None
        except requests.ConnectionError as exc:
            raise CanvasTransient(f"connection to Canvas failed on {method} {path}: "
                                  f"{type(exc).__name__}") from None
        self._note_budget(response)
        self._raise_for(method, path, response)
        return response

    def json(self, method: str, path: str, form: Mapping[str, Any] | None = None,
             params: Mapping[str, Any] | None = None) -> Any:
        return _json(self.request(method, path, form, params), method, path)

    def pages(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[Any]:
        """Every element of a paged list, following ``Link: rel="next"`` to the last page."""
        first = self.url(path) + "?" + urlencode(encode({"per_page": PER_PAGE, **(params or {})}))
        for response in iter_pages(lambda url: self.request("GET", url), first):
            body = _json(response, "GET", path)
            if not isinstance(body, list):
                raise CanvasTransient(f"Canvas answered GET {path} with a non-list body")
            yield from body

    def _note_budget(self, response: requests.Response) -> None:
        value = response.headers.get("X-Rate-Limit-Remaining")
        if value is not None:
            try:
                self.remaining = float(value)
            except ValueError:
                pass

    def _raise_for(self, method: str, path: str, response: requests.Response) -> None:
        status = response.status_code
        if status < 400:
            return
        where = f"{method} {path}"
        if is_rate_limited(response):
            wait = retry_after(response)
            if wait is None and self.remaining is not None:
                wait = max(1.0, (LOW_WATER - self.remaining) / DRAIN_PER_SECOND)
            raise CanvasTransient(f"Canvas throttled {where} ({status})", retry_after=wait)
        if is_transient(status):
            raise CanvasTransient(f"Canvas answered {status} to {where}",
                                  retry_after=retry_after(response))
        if unreadable_json(response):
            raise CanvasTransient(f"Canvas answered {status} to {where} with a body that is "
                                  "not JSON (cut short or garbled)")
        if status == 401 and "invalid_token" in response.headers.get("WWW-Authenticate", "") \
                or status == 401 and "invalid access token" in response.text.lower():
            # An expired or rotated token: the tenant's token is the problem, not the request.
            raise CanvasTransient(f"Canvas refused the api_token on {where} (401): "
                                  f"{platform_message(response)}")
        raise CanvasError(status, f"{where}: {platform_message(response)}")


def _json(response: requests.Response, method: str, path: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise CanvasTransient(f"Canvas answered {method} {path} with unreadable JSON") from None
