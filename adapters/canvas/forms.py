"""Rails bracket form encoding, the way Canvas's API reads parameters.

``{"assignment": {"name": "Quiz", "submission_types": ["external_tool"]}}`` becomes
``assignment[name]=Quiz&assignment[submission_types][]=external_tool``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def encode(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Flatten nested mappings and lists into Rails form pairs (order kept)."""
    pairs: list[tuple[str, str]] = []
    for key, value in data.items():
        _add(pairs, str(key), value)
    return pairs


def _add(pairs: list[tuple[str, str]], name: str, value: Any) -> None:
    if isinstance(value, Mapping):
        for key, sub in value.items():
            _add(pairs, f"{name}[{key}]", sub)
    elif isinstance(value, list | tuple):
        for sub in value:
            _add(pairs, f"{name}[]", sub)
    elif isinstance(value, bool):
        pairs.append((name, "true" if value else "false"))
    elif value is not None:
        pairs.append((name, str(value)))
