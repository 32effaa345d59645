"""What the roster check reads: the course shells a tenant published into and who of their
members already came through SSO."""

from __future__ import annotations

from sqlalchemy import Engine, select

from lmsbridge.core.store.grade_options.common import is_bound
from lmsbridge.core.store.schema import account_links, launches, published_links


class Roster:
    def __init__(self, engine: Engine):
        self.engine = engine

    def published_contexts(self, tenant_id: int) -> list[str]:
        """Contexts holding a link not retired whose platform id is known, sorted."""
        pl = published_links
        with self.engine.connect() as conn:
            return sorted(set(conn.execute(select(pl.c.context_id).where(
                pl.c.tenant_id == tenant_id, pl.c.retired.is_(False), is_bound())).scalars()))

    def known_users(self, tenant_id: int) -> set[str]:
        """Platform user ids (``sub``) with an account link or a launch in the tenant."""
        with self.engine.connect() as conn:
            known = set(conn.execute(select(account_links.c.sub).where(
                account_links.c.tenant_id == tenant_id)).scalars())
            known |= set(conn.execute(select(launches.c.sub).where(
                launches.c.tenant_id == tenant_id)).scalars())
        return known
