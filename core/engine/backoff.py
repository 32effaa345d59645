"""How long a delivery waits before its next attempt."""

from __future__ import annotations

BASE = 2.0  # seconds before the first retry
CAP = 15 * 60.0  # a platform down for hours is retried every 15 minutes, not less often


def retry_delay(attempts: int, retry_after: float | None) -> float:
    """The platform's Retry-After when it gave one (never less), else exponential backoff."""
    backoff = min(CAP, BASE * 2 ** max(0, attempts - 1))
    return retry_after if retry_after is not None else backoff
