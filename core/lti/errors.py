"""The one exception a rejected launch raises."""

from __future__ import annotations


class LaunchError(Exception):
    """A launch was rejected.

    ``rule`` is a stable machine name of the check that failed (for logs, metrics and tests),
    ``reason`` a sentence for humans, ``status`` the HTTP status to answer with: 401 when the
    token, its signature, issuer, audience, times, nonce or deployment are wrong, 400 when an
    LTI claim is missing or malformed, 502 when the platform's key set cannot be fetched
    (the web layer answers a launch with 401 then: a launch never gets a 5xx). Messages never carry the token, keys or secrets.
    """

    def __init__(self, rule: str, reason: str, status: int) -> None:
        super().__init__(f"{rule}: {reason}")
        self.rule = rule
        self.reason = reason
        self.status = status

    def __repr__(self) -> str:
        return f"LaunchError(rule={self.rule!r}, reason={self.reason!r}, status={self.status})"
