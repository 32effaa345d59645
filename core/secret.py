"""A value that must never be printed: API tokens, client secrets, private keys."""

from __future__ import annotations

import attrs


@attrs.frozen(repr=False)
class Secret:
    """Wraps a secret so that repr(), str() and f-strings show only a mask.

    Logging a model object or an exception that holds a Secret cannot leak it;
    code that really needs the value calls ``reveal()``.
    """

    _value: str = attrs.field(alias="value")

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)
