"""The tool's own signing keys: kept encrypted in the store, published as a JWKS, rotated.

The newest key signs. ``rotate()`` adds a new key and gives the older ones a grace period
during which they stay published (platforms cache our JWKS); after it they are retired.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from attrs import frozen
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jwt
from joserfc.jwk import RSAKey
from sqlalchemy import delete, select, update

from lmsbridge.core.lti.jwks import public_jwk
from lmsbridge.core.secret import Secret
from lmsbridge.core.store import Store
from lmsbridge.core.store.schema import now, tool_keys

DEFAULT_GRACE = timedelta(days=7)


@frozen(repr=False)
class SigningKey:
    kid: str
    private_key: rsa.RSAPrivateKey

    def __repr__(self) -> str:
        return f"SigningKey(kid={self.kid!r})"


class ToolKeyring:
    def __init__(self, store: Store, clock: Callable[[], datetime] = now):
        self.store, self.clock = store, clock

    def current(self) -> SigningKey:
        """The key that signs now; the first call on an empty store makes one."""
        with self.store.engine.connect() as conn:
            row = conn.execute(select(tool_keys).where(tool_keys.c.retire_after.is_(None))
                               .order_by(tool_keys.c.created_at.desc())).first()
        if row is None:
            return self._create()
        return self._load(row)

    def rotate(self, grace: timedelta = DEFAULT_GRACE) -> SigningKey:
        """Start signing with a new key; older keys stay published for ``grace``."""
        with self.store.engine.begin() as conn:
            conn.execute(update(tool_keys).where(tool_keys.c.retire_after.is_(None))
                         .values(retire_after=self.clock() + grace))
        return self._create()

    def retire_expired(self) -> list[str]:
        """Delete keys past their grace period; returns their kids."""
        with self.store.engine.begin() as conn:
            expired = (tool_keys.c.retire_after.is_not(None)
                       & (tool_keys.c.retire_after <= self.clock()))
            kids = list(conn.execute(select(tool_keys.c.kid).where(expired)).scalars())
            conn.execute(delete(tool_keys).where(expired))
        return kids

    def jwks(self) -> dict[str, Any]:
        """Every key still published: the signing one and those in their grace period."""
        with self.store.engine.connect() as conn:
            rows = conn.execute(select(tool_keys.c.public_jwk, tool_keys.c.retire_after)).all()
        moment = self.clock()
        live = [r for r in rows if r.retire_after is None or r.retire_after > moment]
        # The signing key first, then the others, newest retirement first.
        live.sort(key=lambda r: (r.retire_after is not None,
                                 -(r.retire_after.timestamp() if r.retire_after else 0)))
        return {"keys": [json.loads(r.public_jwk) for r in live]}

    def sign(self, claims: dict[str, Any], headers: dict[str, Any] | None = None) -> str:
        """An RS256 JWT signed with the current key, its ``kid`` in the header."""
        key = self.current()
        header = {"alg": "RS256", "typ": "JWT", **(headers or {}), "kid": key.kid}
        return jwt.encode(header, claims, RSAKey.import_key(key.private_key))

    def _create(self) -> SigningKey:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        kid = secrets.token_urlsafe(12)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
        with self.store.engine.begin() as conn:
            conn.execute(tool_keys.insert().values(
                kid=kid, private_key=self.store.box.encrypt(Secret(pem)),
                public_jwk=json.dumps(public_jwk(kid, key)), created_at=self.clock()))
        return SigningKey(kid, key)

    def _load(self, row) -> SigningKey:
        pem = self.store.box.decrypt(row.private_key, f"tool key {row.kid!r}").reveal()
        return SigningKey(row.kid, serialization.load_pem_private_key(pem.encode(), None))
