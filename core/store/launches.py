"""What a resource-link launch records: the launch row and the LMS context it came from.

Every method is one step of the launch's transaction (the caller's connection).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from attrs import frozen
from sqlalchemy import Connection, Engine, select, update

from lmsbridge.core.store.schema import contexts, launches, tenants


@frozen
class LaunchTenant:
    """What a launch needs of its tenant."""

    id: int
    grade_sync: str
    trust_lms_email: bool


class Launches:
    def __init__(self, engine: Engine):
        self.engine = engine

    @staticmethod
    def tenant(conn: Connection, name: str) -> LaunchTenant:
        """The tenant named ``name``; it exists (its registration matched the launch)."""
        row = conn.execute(select(tenants.c.id, tenants.c.grade_sync, tenants.c.trust_lms_email)
                           .where(tenants.c.name == name)).one()
        return LaunchTenant(row.id, row.grade_sync, row.trust_lms_email)

    @staticmethod
    def upsert_context(conn: Connection, tenant_id: int, context_id: str, *,
                       title: str | None, lineitems_url: str | None = None,
                       memberships_url: str | None = None) -> None:
        """Create or update the tenant's context ``context_id``. The title is always written;
        an endpoint given as None keeps the one stored (a launch of a role without AGS or
        NRPS access omits them), a given one replaces it."""
        values = {"title": title}
        if lineitems_url is not None:
            values["lineitems_url"] = lineitems_url
        if memberships_url is not None:
            values["memberships_url"] = memberships_url
        key = (contexts.c.tenant_id == tenant_id) & (contexts.c.context_id == context_id)
        if conn.execute(update(contexts).where(key).values(**values)).rowcount == 0:
            conn.execute(contexts.insert().values(tenant_id=tenant_id, context_id=context_id,
                                                  **values))

    @staticmethod
    def record(conn: Connection, tenant_id: int, *, context_id: str | None,
               resource_link_id: str, issuer: str, sub: str, learner_id: str,
               program_id: str, course_id: str | None, item_id: str | None,
               roles: Sequence[str], launched_at: datetime) -> None:
        conn.execute(launches.insert().values(
            tenant_id=tenant_id, context_id=context_id, resource_link_id=resource_link_id,
            issuer=issuer, sub=sub, learner_id=learner_id, program_id=program_id,
            course_id=course_id, item_id=item_id, roles=json.dumps(list(roles)),
            launched_at=launched_at))
