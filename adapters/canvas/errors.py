"""What a Canvas answer means for the caller: try again later, or never."""

from __future__ import annotations

from lmsbridge.core.api import LmsbridgeError


class CanvasError(LmsbridgeError):
    """Canvas refused a request for good (4xx other than throttling and an expired token)."""

    def __init__(self, status: int, message: str):
        self.status = status
        super().__init__(f"Canvas answered {status}: {message}")


class CanvasTransient(Exception):
    """Worth trying again later: throttled, 5xx, timeout, reset, unreadable answer, 401.

    ``retry_after`` is the seconds Canvas asked for (or we derived from its rate-limit
    headers), None when it said nothing.
    """

    def __init__(self, detail: str, retry_after: float | None = None):
        self.detail, self.retry_after = detail, retry_after
        super().__init__(detail)
