"""Encrypted secrets by scope: ``tenant:<name>``, ``provider:<name>`` or ``tool``."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine, select

from lmsbridge.core.errors import NotFound
from lmsbridge.core.secret import Secret
from lmsbridge.core.secretbox import SecretBox
from lmsbridge.core.store.schema import credentials, now


class Secrets:
    def __init__(self, engine: Engine, box: Callable[[], SecretBox]):
        self.engine, self._box = engine, box

    def set(self, scope: str, name: str, value: Secret) -> None:
        ciphertext = self._box().encrypt(value)
        where = (credentials.c.scope == scope) & (credentials.c.name == name)
        with self.engine.begin() as conn:
            if conn.execute(select(credentials.c.id).where(where)).first():
                conn.execute(credentials.update().where(where)
                             .values(ciphertext=ciphertext, updated_at=now()))
            else:
                conn.execute(credentials.insert().values(scope=scope, name=name,
                                                         ciphertext=ciphertext))

    def get(self, scope: str, name: str) -> Secret:
        with self.engine.connect() as conn:
            token = conn.execute(select(credentials.c.ciphertext).where(
                (credentials.c.scope == scope) & (credentials.c.name == name))).scalar()
        if token is None:
            raise NotFound(f"{_owner(scope)} has no secret named {name!r}")
        return self._box().decrypt(token, f"secret {name!r} of {_owner(scope)}")

    def names(self, scope: str) -> list[str]:
        with self.engine.connect() as conn:
            return list(conn.execute(select(credentials.c.name).where(
                credentials.c.scope == scope).order_by(credentials.c.name)).scalars())


def _owner(scope: str) -> str:
    kind, _, name = scope.partition(":")
    return f"{kind} {name!r}" if name else kind
