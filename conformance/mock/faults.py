"""Fault rules for mock platforms: what goes wrong, on which requests, and how often.

A rule is configuration (kind, match, firing policy) plus live counters. Rules are evaluated in
the order they were added; the first one that decides to fire handles the request, and later
rules do not see it (they neither count it nor draw a random number for it).
"""

from __future__ import annotations

import itertools
import random
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import attrs

#: Every kind of fault a mock platform can inject.
FAULT_KINDS = ("status", "slow", "reset", "malformed_json", "expired_token", "throttle")

# Kinds that may run the route handler first (``after=True``): the platform applies the
# request, then the answer is lost or wrong. Auth and throttle checks happen before a real
# platform does any work, so they are always "before".
_AFTER_KINDS = frozenset({"status", "reset", "slow", "malformed_json"})
_RETRY_AFTER_KINDS = frozenset({"status", "throttle"})

# Options a caller may set; id and counters belong to the FaultSet.
OPTION_NAMES = (
    "kind", "method", "path", "status", "retry_after", "delay",
    "times", "rate", "seed", "skip", "after",
)


# Default of ``times``: resolved to 1 or None (no limit) once ``rate`` is known.
_UNSET: Any = object()


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@attrs.define(eq=False)
class FaultRule:
    """One fault rule. Build it with :meth:`FaultSet.add`; do not change options afterwards.

    - ``kind``: one of :data:`FAULT_KINDS`.
    - ``method``: HTTP method to match (any when None); ``path``: regex searched in the URL
      path, without the query (any when None). Anchor it (``^...$``) to be exact.
    - ``status`` (kind ``status`` only, 400-599) and ``retry_after`` (``status``/``throttle``:
      seconds as int, or an HTTP-date string) shape the answer.
    - ``delay``: seconds to wait before the fault takes effect (kind ``slow``: before the
      normal answer). With ``after=True`` the wait comes after the handler ran.
    - Firing: the first ``skip`` matching requests pass; then the rule fires on every match
      (or with probability ``rate``, drawn from ``random.Random(seed)`` owned by this rule),
      at most ``times`` times (``None``: no limit). ``times`` not given means 1 for a rule
      without ``rate`` and no limit for a rule with one.
    - ``after``: run the route handler (state changes), then fail the answer.
    """

    kind: str
    method: str | None = None
    path: str | None = None
    status: int | None = None
    retry_after: int | str | None = None
    delay: float = 0.0
    times: int | None = attrs.field(default=_UNSET)
    rate: float | None = None
    seed: int = 0
    skip: int = 0
    after: bool = False
    id: int = 0
    seen: int = attrs.field(default=0, init=False)
    fired: int = attrs.field(default=0, init=False)
    _pattern: re.Pattern[str] | None = attrs.field(default=None, init=False, repr=False)
    _rng: random.Random = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        _validate(self)
        if self.method is not None:
            self.method = self.method.upper()
        if self.times is _UNSET:
            self.times = None if self.rate is not None else 1
        self._pattern = re.compile(self.path) if self.path is not None else None
        self._rng = random.Random(self.seed)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FaultRule:
        """Build a rule from JSON-like options; unknown keys are an error, not ignored."""
        if not isinstance(data, Mapping):
            raise ValueError("a fault rule must be a JSON object")
        unknown = sorted(set(data) - set(OPTION_NAMES))
        if unknown:
            raise ValueError(
                f"unknown fault option(s) {', '.join(unknown)}; "
                f"allowed: {', '.join(OPTION_NAMES)}"
            )
        if "kind" not in data:
            raise ValueError(f"fault rule needs 'kind', one of {', '.join(FAULT_KINDS)}")
        return cls(**data)

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.fired >= self.times

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method != method.upper():
            return False
        return self._pattern is None or self._pattern.search(path) is not None

    def _decide(self) -> bool:
        """Count a matching request and say whether the rule fires on it (caller holds lock)."""
        if self.exhausted:
            return False
        self.seen += 1
        if self.seen <= self.skip:
            return False
        if self.rate is not None and self._rng.random() >= self.rate:
            return False
        self.fired += 1
        return True

    def as_dict(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in OPTION_NAMES}
        data.update(id=self.id, seen=self.seen, fired=self.fired, exhausted=self.exhausted)
        return data


def _validate(rule: FaultRule) -> None:
    """Raise ValueError naming the first bad option; messages reach HTTP clients as-is."""
    kind = rule.kind
    if kind not in FAULT_KINDS:
        raise ValueError(f"unknown fault kind {kind!r}; expected one of {', '.join(FAULT_KINDS)}")
    if rule.method is not None and (not isinstance(rule.method, str) or not rule.method):
        raise ValueError("method must be a non-empty string or null (any method)")
    if rule.path is not None:
        if not isinstance(rule.path, str):
            raise ValueError("path must be a regular expression string or null (any path)")
        try:
            re.compile(rule.path)
        except re.error as exc:
            raise ValueError(f"path is not a valid regular expression: {exc}") from None
    if kind == "status":
        if not _is_int(rule.status) or not 400 <= rule.status <= 599:
            raise ValueError("kind 'status' needs status, an integer from 400 to 599")
    elif rule.status is not None:
        raise ValueError(f"status applies only to kind 'status', not {kind!r}")
    if rule.retry_after is not None:
        if kind not in _RETRY_AFTER_KINDS:
            raise ValueError("retry_after applies only to kinds 'status' and 'throttle'")
        if not (_is_int(rule.retry_after) and rule.retry_after >= 0) and not (
            isinstance(rule.retry_after, str) and rule.retry_after
        ):
            raise ValueError("retry_after must be whole seconds >= 0 or an HTTP-date string")
    if not _is_number(rule.delay) or rule.delay < 0:
        raise ValueError("delay must be a number of seconds >= 0")
    if kind == "slow" and rule.delay <= 0:
        raise ValueError("kind 'slow' needs delay, a number of seconds > 0")
    if rule.times is not None and rule.times is not _UNSET and (
        not _is_int(rule.times) or rule.times < 1
    ):
        raise ValueError("times must be an integer >= 1, or null for no limit")
    if rule.rate is not None and (not _is_number(rule.rate) or not 0 < rule.rate <= 1):
        raise ValueError("rate must be a number in (0, 1] or null")
    if not _is_int(rule.seed):
        raise ValueError("seed must be an integer")
    if not _is_int(rule.skip) or rule.skip < 0:
        raise ValueError("skip must be an integer >= 0")
    if not isinstance(rule.after, bool):
        raise ValueError("after must be true or false")
    if rule.after and kind not in _AFTER_KINDS:
        raise ValueError(
            f"after=true is not possible for kind {kind!r}; "
            f"only for {', '.join(sorted(_AFTER_KINDS))}"
        )


class FaultSet:
    """Thread-safe ordered collection of fault rules for one mock server."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._ids = itertools.count(1)

    def add(self, kind: str, **options: Any) -> FaultRule:
        """Add a rule (see :class:`FaultRule` for options); returns it with live counters."""
        return self.extend([{"kind": kind, **options}])[0]

    def extend(self, specs: Iterable[Mapping[str, Any]]) -> list[FaultRule]:
        """Add several rules, all or none: one invalid spec rejects the whole batch."""
        specs = list(specs)
        with self._lock:
            rules = [FaultRule.from_dict(spec) for spec in specs]
            for rule in rules:
                rule.id = next(self._ids)
            self._rules.extend(rules)
        return rules

    def remove(self, rule_id: int) -> bool:
        with self._lock:
            before = len(self._rules)
            self._rules = [rule for rule in self._rules if rule.id != rule_id]
            return len(self._rules) != before

    def clear(self) -> None:
        with self._lock:
            self._rules = []

    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def as_list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [rule.as_dict() for rule in self._rules]

    def __iter__(self) -> Iterator[FaultRule]:
        return iter(self.rules())

    def __len__(self) -> int:
        with self._lock:
            return len(self._rules)

    def match(self, method: str, path: str) -> FaultRule | None:
        """Return the rule that fires for this request, counting it, or None."""
        with self._lock:
            for rule in self._rules:
                if rule.matches(method, path) and rule._decide():
                    return rule
        return None
