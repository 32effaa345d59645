"""Parse Rails bracket parameters (``a[b][]=1``) as Canvas does: the mock's side of forms."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

_PART = re.compile(r"\[([^\]]*)\]")


def parse(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Nest ``name[a][b]`` keys into dicts and ``name[]`` keys into lists."""
    out: dict[str, Any] = {}
    for name, value in pairs:
        head, _, rest = name.partition("[")
        keys = [head] + (_PART.findall("[" + rest) if rest else [])
        node: Any = out
        for i, key in enumerate(keys):
            last = i == len(keys) - 1
            following = None if last else keys[i + 1]
            if key == "":  # "[]": append to a list
                if last:
                    node.append(value)
                    break
                node.append({})
                node = node[-1]
                continue
            if last:
                node[key] = value
            else:
                default: Any = [] if following == "" else {}
                if not isinstance(node.get(key), type(default)):
                    node[key] = default
                node = node[key]
    return out


def truthy(value: Any) -> bool:
    return str(value).lower() in ("1", "true", "yes", "on")
