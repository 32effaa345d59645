"""Retrying the provider's API: 429 and 5xx are transient; Retry-After is honoured."""

from __future__ import annotations

from collections.abc import Callable

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from lmsbridge.core.api import LmsbridgeError

# What a well-behaved client waits at most when the server names no time; a Retry-After
# larger than this is still honoured (the server knows its own quota window).
MAX_BACKOFF = 60.0


class ProviderError(LmsbridgeError):
    """The provider's API refused a request for good (bad credentials, unknown org…)."""


class TransientError(Exception):
    """Throttled, 5xx or a network failure: worth trying again, maybe after ``retry_after``."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class _WaitRetryAfter:
    """Wait what the server said, else exponential backoff with jitter."""

    def __init__(self) -> None:
        self._fallback = wait_exponential_jitter(max=MAX_BACKOFF, jitter=0.5)

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, TransientError) and exc.retry_after is not None:
            return exc.retry_after
        return self._fallback(state)


def retrying(attempts: int, sleep: Callable[[float], None]) -> Retrying:
    return Retrying(
        retry=retry_if_exception_type(TransientError),
        wait=_WaitRetryAfter(),
        stop=stop_after_attempt(attempts),
        sleep=sleep,
        reraise=True,
    )
