"""Helpers for the Oracle tests: keys, an Oracle tenant, a catalog (fixtures: oracle_fixtures)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import insert

from lmsbridge.adapters.oracle.auth import generate_keypair
from lmsbridge.adapters.oracle.mock import MockOracle
from lmsbridge.core.model import Course, Program, Publication, Tenant
from lmsbridge.core.secret import Secret
from lmsbridge.core.store import Store
from lmsbridge.core.store.schema import courses, learners, programs

ISSUER = "coursera.lmsbridge"
USER = "user.coursera"
NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)  # fixed, in the past
KEYS = generate_keypair("lmsbridge test", now=NOW - dt.timedelta(days=1))


class Sleeps:
    """Records backoff waits instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def oracle_tenant(store: Store, pod: MockOracle, name: str = "acme-oracle",
                  **options) -> Tenant:
    opts = {"issuer": ISSUER, "username": USER, "identify_by": "email", **options}
    tenant = store.tenants.add(Tenant(name=name, kind="oracle", base_url=pod.url, options=opts))
    store.tenants.set_secret(name, "private_key", Secret(KEYS.private_key_pem.decode()))
    store.tenants.set_secret(name, "certificate", Secret(KEYS.certificate_pem.decode()))
    return tenant


PROGRAM = Program("p1", "Data Science")


def course(n: int, **changes) -> Course:
    values = dict(id=f"c{n}", program_id="p1", name=f"Course {n}",
                  url=f"https://www.coursera.org/learn/c{n}", description=f"About course {n}")
    values.update(changes)
    return Course(**values)


def publications(tenant: str, courses_: list[Course]) -> list[Publication]:
    return [Publication(tenant=tenant, program=PROGRAM, course=c) for c in courses_]


def seed_catalog(store: Store, courses_: list[Course]) -> None:
    with store.engine.begin() as conn:
        conn.execute(insert(programs).values(id="p1", name="Data Science"))
        for c in courses_:
            conn.execute(insert(courses).values(program_id=c.program_id, id=c.id, name=c.name,
                                                url=c.url, description=c.description,
                                                retired=False))


def seed_learner(store: Store, learner_id: str, email: str | None = None,
                 username: str | None = None) -> None:
    with store.engine.begin() as conn:
        conn.execute(insert(learners).values(id=learner_id, email=email, username=username,
                                             name=f"Learner {learner_id}"))
