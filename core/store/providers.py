"""Registered content providers (the ``providers`` table; secrets in ``provider:<name>``)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError

from lmsbridge.core.errors import AlreadyExists, NotFound
from lmsbridge.core.model import Provider
from lmsbridge.core.secret import Secret
from lmsbridge.core.secretbox import SecretBox
from lmsbridge.core.store.schema import credentials, providers


class Providers:
    def __init__(self, engine: Engine, box: Callable[[], SecretBox]):
        self.engine, self._box = engine, box

    def add(self, provider: Provider, client_id: str, client_secret: Secret) -> Provider:
        """Register a provider with its API credentials; all or nothing."""
        scope = f"provider:{provider.name}"
        box = self._box()
        try:
            with self.engine.begin() as conn:
                conn.execute(providers.insert().values(
                    name=provider.name, kind=provider.kind, base_url=provider.base_url,
                    org_id=provider.org_id))
                conn.execute(credentials.delete().where(credentials.c.scope == scope))
                conn.execute(credentials.insert(), [
                    {"scope": scope, "name": "client_id",
                     "ciphertext": box.encrypt(Secret(client_id))},
                    {"scope": scope, "name": "client_secret",
                     "ciphertext": box.encrypt(client_secret)}])
        except IntegrityError:
            raise AlreadyExists(f"provider {provider.name!r} already exists") from None
        return provider

    def get(self, name: str) -> Provider:
        with self.engine.connect() as conn:
            row = conn.execute(select(providers).where(providers.c.name == name)).first()
        if row is None:
            raise NotFound(f"no provider named {name!r} (see `lmsbridge provider list`)")
        return Provider(row.name, row.kind, row.base_url, row.org_id)

    def list(self) -> list[Provider]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(providers).order_by(providers.c.name)).all()
        return [Provider(r.name, r.kind, r.base_url, r.org_id) for r in rows]
