"""The tool's own signing keys: kept encrypted in the store, published as a JWKS, rotated.

The newest key signs. ``rotate()`` adds a new key and gives the older ones a grace period
during which they stay published (platforms cache our JWKS); after it they are retired.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from attrs import frozen
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jwt
from joserfc.jwk import RSAKey

from lmsbridge.core.lti.jwks import public_jwk
from lmsbridge.core.secret import Secret
from lmsbridge.core.store import Store
from lmsbridge.core.store.tool_keys import StoredKey

DEFAULT_GRACE = timedelta(days=7)


def _utcnow() -> datetime:
    return datetime.now(UTC)


@frozen(repr=False)
class SigningKey:
    kid: str
    private_key: rsa.RSAPrivateKey

    def __repr__(self) -> str:
        return f"SigningKey(kid={self.kid!r})"


class ToolKeyring:
    def __init__(self, store: Store, clock: Callable[[], datetime] = _utcnow):
        self.store, self.clock = store, clock

    def current(self) -> SigningKey:
        """The key that signs now; the first call on an empty store makes one."""
        row = self.store.tool_keys.signing()
        if row is None:
            return self._create()
        return self._load(row)

    def rotate(self, grace: timedelta = DEFAULT_GRACE) -> SigningKey:
        """Start signing with a new key; older keys stay published for ``grace``."""
        self.store.tool_keys.retire_signing(self.clock() + grace)
        return self._create()

    def retire_expired(self) -> list[str]:
        """Delete keys past their grace period; returns their kids."""
        return self.store.tool_keys.delete_retired(self.clock())

    def jwks(self) -> dict[str, Any]:
        """Every key still published: the signing one and those in their grace period."""
        rows = self.store.tool_keys.public_keys()
        moment = self.clock()
        live = [(jwk, retire) for jwk, retire in rows if retire is None or retire > moment]
        # The signing key first, then the others, newest retirement first.
        live.sort(key=lambda r: (r[1] is not None, -(r[1].timestamp() if r[1] else 0)))
        return {"keys": [json.loads(jwk) for jwk, _ in live]}

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
        self.store.tool_keys.add(kid, self.store.box.encrypt(Secret(pem)),
                                 json.dumps(public_jwk(kid, key)), self.clock())
        return SigningKey(kid, key)

    def _load(self, row: StoredKey) -> SigningKey:
        pem = self.store.box.decrypt(row.private_key, f"tool key {row.kid!r}").reveal()
        return SigningKey(row.kid, serialization.load_pem_private_key(pem.encode(), None))
