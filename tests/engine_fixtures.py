"""Stand-ins for the engine tests: a toy gradebook platform over real HTTP, an adapter for
it, and helpers that record launches as the LTI tool would (the tables are the contract).

The toy platform is deliberately small: columns matched by key, scores refused unless newer
(like AGS), a member list, and a gate that holds a score request until the test lets go —
how the SIGKILL test stops a runner at a point it controls, without sleeping.
"""

from __future__ import annotations

import itertools
import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import attrs
import requests
from flask import Flask, Response, jsonify, request
from sqlalchemy import select

from lmsbridge.conformance.mock import MockServer
from lmsbridge.core import AdapterKind, AdapterSpec, Capability, hookimpl
from lmsbridge.core.model import DeliveryResult, Outcome, RosterMember, Tenant
from lmsbridge.core.plugins import PluginSource, Registry
from lmsbridge.core.store import Store
from lmsbridge.core.store.schema import (
    account_links,
    contexts,
    courses,
    items,
    launches,
    learners,
    programs,
    published_links,
)

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
LEARNER_ROLE = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"


class ToyGradebook(MockServer):
    name: ClassVar[str] = "toy"

    def reset(self) -> None:
        super().reset()
        self.columns: dict[tuple[str, str], str] = {}
        self.scores: dict[tuple[str, str, str], tuple[float, str]] = {}
        self.applied: list[tuple[str, str, str, float]] = []
        self.members: dict[str, list[dict[str, Any]]] = {}
        self.score_requests = 0
        self.in_flight = self.max_in_flight = 0
        self._ids = itertools.count(1)
        self.hold_after: int | None = None
        self.held = threading.Event()
        self.release = threading.Event()

    def state(self) -> dict[str, Any]:
        data = super().state()
        data.update(applied=[list(a) for a in self.applied], columns=len(self.columns),
                    max_in_flight=self.max_in_flight, score_requests=self.score_requests)
        return data

    def routes(self, app: Flask) -> None:
        app.post("/ctx/<ctx>/columns")(self._column)
        app.post("/ctx/<ctx>/columns/<ref>/scores")(self._score)
        app.get("/ctx/<ctx>/members")(self._members)

    def _column(self, ctx: str) -> Response:
        body = request.get_json()
        with self.lock:
            ref = self.columns.get((ctx, body["key"]))
            if ref is None:
                ref = self.columns[(ctx, body["key"])] = f"col-{next(self._ids)}"
        return jsonify(id=ref)

    def _score(self, ctx: str, ref: str) -> Response | tuple[Response, int]:
        body = request.get_json()
        with self.lock:
            self.score_requests += 1
            hold = self.hold_after is not None and len(self.applied) >= self.hold_after
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if hold:
                self.held.set()
                self.release.wait(30)
                return jsonify(error="held and dropped"), 503  # never applied
            with self.lock:
                cell = (ctx, ref, body["userId"])
                had = self.scores.get(cell)
                if had is not None and had[1] >= body["timestamp"]:
                    return jsonify(error="score is not newer than the one held"), 409
                self.scores[cell] = (body["scoreGiven"], body["timestamp"])
                self.applied.append((*cell, body["scoreGiven"]))
            return jsonify(ok=True)
        finally:
            with self.lock:
                self.in_flight -= 1

    def _members(self, ctx: str) -> Response:
        with self.lock:
            return jsonify(members=self.members.get(ctx, []))

    def _control_app(self) -> Flask:
        control = super()._control_app()

        @control.post("/_mock/hold")
        def hold() -> Response:
            with self.lock:
                self.hold_after = int(request.get_json()["after"])
            return jsonify(ok=True)

        @control.get("/_mock/wait_held")
        def wait_held() -> tuple[Response, int]:
            return (jsonify(held=True), 200) if self.held.wait(30) else (jsonify(held=False),
                                                                         408)

        @control.post("/_mock/release")
        def release() -> Response:
            with self.lock:
                self.hold_after = None
            self.release.set()
            return jsonify(ok=True)

        return control


class ToyAdapter:
    """An LMS adapter speaking the toy gradebook's API."""

    def __init__(self, max_in_flight: int = 4, name: str = "toy"):
        self.max_in_flight, self.name = max_in_flight, name

    @hookimpl
    def lmsbridge_adapter(self) -> AdapterSpec:
        return AdapterSpec(self.name, AdapterKind.LMS, "Toy gradebook",
                           [Capability.GRADEBOOK_COLUMNS, Capability.GRADE_WRITE,
                            Capability.ROSTER_READ],
                           opt_outs={Capability.CONTENT_PUBLISH: "published by deep linking"},
                           max_in_flight=self.max_in_flight)

    @hookimpl
    def lmsbridge_ensure_columns(self, tenant, context, columns, runtime):
        session = runtime.session()
        out = []
        for c in columns:
            r = session.post(f"{tenant.base_url}/ctx/{context.context_id}/columns",
                             json={"key": c.key, "label": c.label}, timeout=10)
            r.raise_for_status()
            out.append(attrs.evolve(c, platform_ref=r.json()["id"]))
        return out

    @hookimpl
    def lmsbridge_write_grades(self, tenant, context, deliveries, runtime):
        session = runtime.session()
        results = []
        for d in deliveries:
            try:
                r = session.post(
                    f"{tenant.base_url}/ctx/{context.context_id}/columns/{d.column_ref}/scores",
                    json={"userId": d.lms_user_id, "scoreGiven": d.score,
                          "scoreMaximum": d.max_score, "timestamp": d.timestamp.isoformat()},
                    timeout=10)
            except requests.ConnectionError as exc:
                results.append(DeliveryResult(d.dedupe_key, Outcome.RETRY, str(exc)[:100]))
                continue
            if r.status_code == 200:
                outcome = Outcome.DELIVERED
            elif r.status_code == 409:
                outcome = Outcome.CURRENT
            elif r.status_code == 429 or r.status_code >= 500:
                outcome = Outcome.RETRY
            else:
                outcome = Outcome.REJECTED
            after = r.headers.get("Retry-After")
            results.append(DeliveryResult(d.dedupe_key, outcome, f"HTTP {r.status_code}",
                                          float(after) if after else None))
        return results

    @hookimpl
    def lmsbridge_read_roster(self, tenant, context, runtime):
        r = runtime.session().get(f"{tenant.base_url}/ctx/{context.context_id}/members",
                                  timeout=10)
        r.raise_for_status()
        return [RosterMember(m["user_id"], m["roles"], email=m.get("email"))
                for m in r.json()["members"]]


def registry(*plugins: object, coursera: bool = True) -> Registry:
    import lmsbridge.adapters.coursera as coursera_module
    sources = [PluginSource(p.name, "toy-dist", "1", (lambda p=p: p)) for p in plugins]
    if coursera:
        sources.insert(0, PluginSource("coursera", "lmsbridge", "0", lambda: coursera_module))
    return Registry.load(sources)


# --- recording what the LTI tool and the provider would have stored ---------------------


def add_catalog(store: Store, program: str, course: str, item_ids: list[str],
                seats: int | None = 100) -> None:
    with store.engine.begin() as conn:
        if not conn.execute(select(programs.c.id).where(programs.c.id == program)).first():
            conn.execute(programs.insert().values(id=program, name=f"Program {program}",
                                                  seats=seats))
        conn.execute(courses.insert().values(program_id=program, id=course,
                                             name=f"Course {course}"))
        for iid in item_ids:
            conn.execute(items.insert().values(course_id=course, id=iid, name=f"Quiz {iid}",
                                               max_score=1.0))


def publish(store: Store, tenant: Tenant, context: str, link: str, program: str, course: str,
            item: str | None = None, grade_sync: str | None = None) -> None:
    with store.engine.begin() as conn:
        tid = store.tenants.id_of(conn, tenant.name)
        if not conn.execute(select(contexts.c.id).where(contexts.c.tenant_id == tid,
                                                        contexts.c.context_id == context)
                            ).first():
            conn.execute(contexts.insert().values(tenant_id=tid, context_id=context,
                                                  title=f"Shell {context}"))
        conn.execute(published_links.insert().values(
            tenant_id=tid, context_id=context, resource_link_id=link, program_id=program,
            course_id=course, item_id=item, grade_sync=grade_sync or tenant.grade_sync.value))


def launch(store: Store, tenant: Tenant, learner: str, context: str, link: str,
           program: str, course: str | None = None, item: str | None = None,
           issuer: str = "https://lms.test") -> None:
    sub = f"sub-{learner}"
    with store.engine.begin() as conn:
        tid = store.tenants.id_of(conn, tenant.name)
        if not conn.execute(select(learners.c.id).where(learners.c.id == learner)).first():
            conn.execute(learners.insert().values(id=learner))
        if not conn.execute(select(account_links.c.id).where(
                account_links.c.tenant_id == tid, account_links.c.sub == sub)).first():
            conn.execute(account_links.insert().values(tenant_id=tid, issuer=issuer, sub=sub,
                                                       learner_id=learner))
        conn.execute(launches.insert().values(
            tenant_id=tid, context_id=context, resource_link_id=link, issuer=issuer, sub=sub,
            learner_id=learner, program_id=program, course_id=course, item_id=item,
            roles=json.dumps([LEARNER_ROLE])))


def set_grade(store: Store, learner: str, course: str, item: str | None, score: float,
              at: datetime = T0) -> None:
    """Store a grade as progress ingestion would: a changed score gets a new revision."""
    from lmsbridge.core.engine.progress import IngestResult, store_batch
    from lmsbridge.core.model import Progress
    store_batch(store, [Progress(learner, course, at, item_id=item, score=score)],
                IngestResult("test"))


class Clock:
    """A settable clock: tests move time, never wait for it."""

    def __init__(self, start: datetime = T0 + timedelta(hours=1)):
        self.at = start

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)
