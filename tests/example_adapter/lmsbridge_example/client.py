"""Talking to Example LMS: bearer token, cursor paging, and what each answer means."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import requests


def retry_after(response: requests.Response) -> float | None:
    """Seconds from a ``Retry-After`` header (this platform only sends seconds)."""
    value = response.headers.get("Retry-After", "")
    return float(value) if value.isdigit() else None


class Transient(Exception):
    """Worth trying again later; ``retry_after`` is the seconds the platform asked for."""

    def __init__(self, detail: str, retry_after: float | None = None):
        super().__init__(detail)
        self.detail, self.retry_after = detail, retry_after


class Refused(Exception):
    """The platform refused the request for good (``status`` says why)."""

    def __init__(self, status: int, detail: str):
        super().__init__(f"Example LMS answered {status}: {detail}")
        self.status = status


class ExampleClient:
    def __init__(self, base_url: str, token: str, session: requests.Session, timeout: float):
        self.base, self.timeout, self.session = base_url.rstrip("/"), timeout, session
        session.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, body: dict | None = None) -> Any:
        url = path if path.startswith("http") else f"{self.base}/api{path}"
        try:
            response = self.session.request(method, url, json=body, timeout=self.timeout)
        except requests.RequestException as exc:  # timeout, reset, refused
            raise Transient(f"{method} {path}: {type(exc).__name__}") from None
        status = response.status_code
        if status == 503 and "X-Backoff" in response.headers:  # the platform's throttle
            raise Transient("throttled", float(response.headers["X-Backoff"]))
        if status in (401, 429) or status >= 500:  # 401: an expired token, renewed later
            raise Transient(f"{method} {path}: {status}", retry_after(response))
        try:
            data = response.json()
        except ValueError:
            raise Transient(f"{method} {path}: unreadable answer") from None
        if status >= 400:
            raise Refused(status, str(data.get("error", "")))
        return data

    def pages(self, path: str) -> Iterator[dict]:
        url: str | None = f"{self.base}/api{path}?limit=100"
        while url:
            page = self.call("GET", url)
            yield from page["items"]
            url = page["next"]
