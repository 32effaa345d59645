"""Exceptions of the LTI service clients (token, AGS, NRPS, Basic Outcomes)."""

from __future__ import annotations

from lmsbridge.core.errors import LmsbridgeError
from lmsbridge.core.model import Outcome


class ServiceError(LmsbridgeError):
    """A call to a platform's LTI service (token, AGS, NRPS, Basic Outcomes) failed.

    ``status`` is the HTTP status (None when no answer came whole: timeout, refused, reset,
    cut short, too large), ``transient`` whether trying again later may succeed (429, 5xx,
    408, network trouble, an answer that cannot be read — one that may hide a refusal we
    would act on, such as "already holds a newer score"),
    ``retry_after`` the seconds the platform asked us to wait (``Retry-After``), ``error``
    the platform's machine-readable error code when it sent one (``invalid_grant``…).
    Messages name the URL and what went wrong, never a token, assertion, key or secret.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        transient: bool = False,
        retry_after: float | None = None,
        error: str | None = None,
        url: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.transient = transient
        self.retry_after = retry_after
        self.error = error
        self.url = url

    @property
    def outcome(self) -> Outcome:
        """How a grade write that failed this way is reported (RETRY or REJECTED)."""
        return Outcome.RETRY if self.transient else Outcome.REJECTED

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({str(self)!r}, status={self.status}, "
                f"transient={self.transient}, retry_after={self.retry_after})")


class TokenError(ServiceError):
    """The platform's token endpoint refused or failed a client-credentials grant."""
