"""Program licenses (seats): taken by a learner's first SSO into a program, freed by an admin.

``programs.seats`` bounds the licenses in use for a program (None: unlimited). Taking one is
a single INSERT … SELECT guarded by the seat count, so two launches racing for the last seat
cannot both win: SQLite runs the statement under its write lock, and on PostgreSQL the
program row is locked first, which serialises takers of the same program.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, Engine, and_, exists, func, literal, or_, select, update

from lmsbridge.core.errors import LmsbridgeError, NotFound
from lmsbridge.core.store.schema import UTCDateTime, learners, licenses, programs
from lmsbridge.core.store.tenants import Tenants


class NoSeatLeft(LmsbridgeError):
    """Every license of the program is in use."""

    def __init__(self, program_id: str, seats: int):
        self.program_id, self.seats = program_id, seats
        super().__init__(f"all {seats} licenses of program {program_id!r} are in use")


def _active(tenant_id: int, program_id: str, learner_id: str):
    return and_(licenses.c.tenant_id == tenant_id, licenses.c.program_id == program_id,
                licenses.c.learner_id == learner_id, licenses.c.released_at.is_(None))


class Licenses:
    def __init__(self, engine: Engine, tenants_repo: Tenants):
        self.engine, self._tenants = engine, tenants_repo

    @staticmethod
    def take(conn: Connection, tenant_id: int, program_id: str, learner_id: str,
             now: datetime) -> bool:
        """Give ``learner_id`` a license (True), or find they already hold one (False).

        Raises NoSeatLeft. Runs inside the caller's transaction.
        """
        if conn.dialect.name == "postgresql":
            conn.execute(select(programs.c.id).where(programs.c.id == program_id)
                         .with_for_update())
        in_use = (select(func.count()).select_from(licenses)
                  .where(licenses.c.program_id == program_id, licenses.c.released_at.is_(None))
                  .scalar_subquery())
        seats = select(programs.c.seats).where(programs.c.id == program_id).scalar_subquery()
        row = select(literal(tenant_id), literal(program_id), literal(learner_id),
                     literal(now, UTCDateTime)).where(
            ~exists().where(_active(tenant_id, program_id, learner_id)),
            or_(seats.is_(None), in_use < seats))
        # RETURNING, not rowcount: drivers disagree on rowcount for INSERT … SELECT.
        taken = conn.execute(licenses.insert().from_select(
            ["tenant_id", "program_id", "learner_id", "taken_at"], row)
            .returning(licenses.c.id)).first()
        if taken is not None:
            return True
        if conn.execute(select(licenses.c.id).where(
                _active(tenant_id, program_id, learner_id))).first():
            return False
        total = conn.execute(select(programs.c.seats)
                             .where(programs.c.id == program_id)).scalar()
        raise NoSeatLeft(program_id, total or 0)

    def release(self, tenant: str, program_id: str, *, learner_id: str | None = None,
                email: str | None = None, now: datetime) -> str:
        """Free the license a learner (by id, or by email) holds in a program, in its own
        transaction, so another learner can take it.

        Returns the learner id. Raises NotFound naming what did not match.
        """
        with self.engine.begin() as conn:
            tid = self._tenants.id_of(conn, tenant)
            if learner_id is None:
                ids = list(conn.execute(select(learners.c.id).where(
                    func.lower(learners.c.email) == (email or "").lower())).scalars())
                if not ids:
                    raise NotFound(f"no learner with email {email!r}")
                holders = list(conn.execute(select(licenses.c.learner_id).where(
                    licenses.c.tenant_id == tid, licenses.c.program_id == program_id,
                    licenses.c.released_at.is_(None), licenses.c.learner_id.in_(ids)))
                    .scalars())
                if len(holders) > 1:
                    raise NotFound(f"several learners with email {email!r} hold a license; "
                                   "name one with --learner")
                learner_id = holders[0] if holders else ids[0]
            freed = conn.execute(update(licenses).where(_active(tid, program_id, learner_id))
                                 .values(released_at=now)).rowcount
            if not freed:
                raise NotFound(f"learner {learner_id!r} holds no license for program "
                               f"{program_id!r} in tenant {tenant!r}")
        return learner_id
