"""Encryption at rest for secrets kept in the store (API tokens, client secrets, keys).

Fernet (from ``cryptography``) with a key from ``LMSBRIDGE_SECRET_KEY``, or else from a key
file created on first use with mode 0600. The key is never stored in the database.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from lmsbridge.core.errors import ConfigError
from lmsbridge.core.secret import Secret

KEY_ENV = "LMSBRIDGE_SECRET_KEY"


class SecretBox:
    def __init__(self, key: bytes | str):
        try:
            self._fernet = Fernet(key)
        except (ValueError, TypeError):
            raise ConfigError(f"{KEY_ENV} (or the key file) is not a valid Fernet key: "
                              "32 url-safe base64-encoded bytes") from None

    def __repr__(self) -> str:
        return "SecretBox(***)"

    @classmethod
    def from_env_or_file(cls, key_file: Path, environ: dict[str, str] | None = None) -> SecretBox:
        env = os.environ if environ is None else environ
        if env.get(KEY_ENV):
            return cls(env[KEY_ENV].encode())
        if not key_file.exists():
            key_file.parent.mkdir(parents=True, exist_ok=True)
            # O_EXCL: two processes starting at once must not each write a different key.
            try:
                fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass
            else:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(Fernet.generate_key())
        return cls(key_file.read_bytes().strip())

    def encrypt(self, secret: Secret) -> str:
        return self._fernet.encrypt(secret.reveal().encode()).decode()

    def decrypt(self, token: str, what: str) -> Secret:
        try:
            return Secret(self._fernet.decrypt(token.encode()).decode())
        except InvalidToken:
            raise ConfigError(f"cannot decrypt {what}: the secret key differs from the one it "
                              f"was stored with (check {KEY_ENV} or the key file)") from None
