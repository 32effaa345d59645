"""The tool's signing keys as stored: the private half encrypted (by the caller, with the
store's box), the public JWK as JSON, and when a key stops being published.

A key with no ``retire_after`` signs (the newest such one); a key with one stays published
until then. ``lmsbridge.core.lti.keys.ToolKeyring`` makes, rotates and uses them.
"""

from __future__ import annotations

from datetime import datetime

from attrs import frozen
from sqlalchemy import Engine, delete, select, update

from lmsbridge.core.store.schema import tool_keys


@frozen(repr=False)
class StoredKey:
    kid: str
    private_key: str  # ciphertext
    public_jwk: str  # JSON
    created_at: datetime
    retire_after: datetime | None

    def __repr__(self) -> str:
        return f"StoredKey(kid={self.kid!r})"


@frozen
class KeyInfo:
    """A key without its halves, for listings."""

    kid: str
    created_at: datetime
    retire_after: datetime | None


def _stored(row) -> StoredKey:
    return StoredKey(row.kid, row.private_key, row.public_jwk, row.created_at, row.retire_after)


class ToolKeys:
    def __init__(self, engine: Engine):
        self.engine = engine

    def signing(self) -> StoredKey | None:
        """The newest key without a retirement time; None when there is none."""
        with self.engine.connect() as conn:
            row = conn.execute(select(tool_keys).where(tool_keys.c.retire_after.is_(None))
                               .order_by(tool_keys.c.created_at.desc())).first()
        return None if row is None else _stored(row)

    def add(self, kid: str, private_key: str, public_jwk: str, created_at: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(tool_keys.insert().values(kid=kid, private_key=private_key,
                                                   public_jwk=public_jwk,
                                                   created_at=created_at))

    def retire_signing(self, retire_after: datetime) -> None:
        """Every key without a retirement time gets ``retire_after``."""
        with self.engine.begin() as conn:
            conn.execute(update(tool_keys).where(tool_keys.c.retire_after.is_(None))
                         .values(retire_after=retire_after))

    def delete_retired(self, moment: datetime) -> list[str]:
        """Delete the keys whose retirement time is at or before ``moment``; their kids."""
        with self.engine.begin() as conn:
            expired = (tool_keys.c.retire_after.is_not(None)
                       & (tool_keys.c.retire_after <= moment))
            kids = list(conn.execute(select(tool_keys.c.kid).where(expired)).scalars())
            conn.execute(delete(tool_keys).where(expired))
        return kids

    def public_keys(self) -> list[tuple[str, datetime | None]]:
        """(public JWK JSON, retire_after) of every stored key."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(tool_keys.c.public_jwk, tool_keys.c.retire_after)).all()
        return [(r.public_jwk, r.retire_after) for r in rows]

    def list(self) -> list[KeyInfo]:
        """Every key, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(tool_keys.c.kid, tool_keys.c.created_at,
                                       tool_keys.c.retire_after)
                                .order_by(tool_keys.c.created_at)).all()
        return [KeyInfo(r.kid, r.created_at, r.retire_after) for r in rows]
