"""Bounded log of the requests a mock platform answered (or hung up on)."""

from __future__ import annotations

import itertools
import threading
from collections import deque
from typing import Any

import attrs


@attrs.frozen
class LoggedRequest:
    """One request as the platform saw it.

    ``seq`` is the arrival order (never reused, not even after a reset); ``status`` is None when
    the connection was dropped without an answer; ``fault`` is the kind of the rule that fired
    (None when none did) and ``after`` says whether the route handler ran before the fault.
    """

    seq: int
    method: str
    path: str
    query: str
    status: int | None
    fault: str | None = None
    fault_id: int | None = None
    after: bool = False

    def as_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


class RequestLog:
    """Keeps the last ``size`` entries; entries are added when the answer is decided, so a
    client that got its answer (or error) always finds its request here."""

    def __init__(self, size: int = 1000) -> None:
        if size < 1:
            raise ValueError("request log size must be >= 1")
        self._lock = threading.Lock()
        self._entries: deque[LoggedRequest] = deque(maxlen=size)
        self._seq = itertools.count(1)
        self._last_seq = 0
        self._evicted = 0

    def next_seq(self) -> int:
        with self._lock:
            self._last_seq = next(self._seq)
            return self._last_seq

    def append(self, entry: LoggedRequest) -> None:
        with self._lock:
            if len(self._entries) == self._entries.maxlen:
                self._evicted += 1
            self._entries.append(entry)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._evicted = 0

    def entries(self) -> list[LoggedRequest]:
        with self._lock:
            return list(self._entries)

    def as_dict(self) -> dict[str, Any]:
        """JSON shape: ``{"seq": last arrival, "evicted": dropped for size, "requests": [...]}``."""
        with self._lock:
            return {
                "seq": self._last_seq,
                "evicted": self._evicted,
                "requests": [entry.as_dict() for entry in self._entries],
            }
