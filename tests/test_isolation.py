"""Tenant isolation: a launch through one institution's LMS never reaches a learner, a seat
or the grades of another, whatever email it claims; seats are counted per program over every
tenant that shares it. Driven over the Flask test client with signed id_tokens."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from lti_web_fixtures import ISS, JwksServer, add_catalog, launch_claims, setup_tenant, sign
from lti_web_fixtures import login as oidc_login
from sqlalchemy import func, select

from lmsbridge.core.engine.providers import Providers
from lmsbridge.core.engine.report import licenses_in_use
from lmsbridge.core.errors import ValidationError
from lmsbridge.core.lti.jwks import JwksCache
from lmsbridge.core.model import Program, Progress, Provider, evolve
from lmsbridge.core.secret import Secret
from lmsbridge.core.store import grade_options
from lmsbridge.core.store.grades import resolve
from lmsbridge.core.store.schema import (
    account_links,
    grades,
    launches,
    learners,
    licenses,
    published_links,
)
from lmsbridge.core.web import create_app

ISS_B = "https://lms.other-university.edu"
VICTIM = "grace@other-university.edu"
AT = datetime(2026, 11, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def jwks_server():
    server = JwksServer().start()
    yield server
    server.stop()


def two_tenants(store, jwks_url: str, *, same_provider: bool = False,
                a_programs=("prog-1",), b_programs=("prog-1",), seats=None):
    """uni-a on ISS and uni-b on ISS_B, each with its provider organisation."""
    add_catalog(store, seats=seats)
    providers = Providers(store)
    for name in ("coursera-a",) if same_provider else ("coursera-a", "coursera-b"):
        providers.add(Provider(name, org_id=name), "cid", Secret("s"))
    setup_tenant(store, jwks_url, tenant="uni-a", activate=())
    setup_tenant(store, jwks_url, tenant="uni-b", issuer=ISS_B, activate=())
    for tenant, provider, programs in (
            ("uni-a", "coursera-a", a_programs),
            ("uni-b", "coursera-a" if same_provider else "coursera-b", b_programs)):
        store.tenants.update(evolve(store.tenants.get(tenant), provider=provider))
        for pid in programs:
            store.programs.activate(tenant, pid)


@pytest.fixture
def client(store):
    return create_app(store, jwks=JwksCache(), secret_key="k").test_client()


def sso(client, *, iss=ISS, sub="user-1", email="ada@example.edu", program="prog-1",
        course="c1", context="ctx-1"):
    _, state, nonce = oidc_login(client, iss=iss, login_hint=sub)
    token = sign(launch_claims(nonce, iss=iss, sub=sub, email=email, **{
        "https://purl.imsglobal.org/spec/lti/claim/custom": {
            "provider_program_id": program, "provider_course_id": course},
        "https://purl.imsglobal.org/spec/lti/claim/context": {"id": context}}))
    return client.post("/lti/launch", data={"id_token": token, "state": state})


def learner_of(store, iss: str, sub: str) -> str:
    with store.engine.connect() as conn:
        return conn.execute(select(account_links.c.learner_id).where(
            account_links.c.issuer == iss, account_links.c.sub == sub)).scalar_one()


def cells_for(store, tenant: str) -> list:
    t = store.tenants.get(tenant)
    with store.engine.connect() as conn:
        return conn.execute(grade_options.cells(t, store.tenants.id_of(conn, t.name))).all()


def publish_course_link(store, tenant: str, context="ctx-1") -> None:
    with store.engine.begin() as conn:
        conn.execute(published_links.insert().values(
            tenant_id=store.tenants.id_of(conn, tenant), context_id=context,
            resource_link_id="rl-1", program_id="prog-1", course_id="c1", item_id=None,
            grade_sync="course"))


def give_grade(store, learner_id: str, course="c1", item="q1", score=0.9) -> None:
    with store.engine.begin() as conn:
        conn.execute(grades.insert().values(learner_id=learner_id, course_id=course,
                                            item_id=item, score=score, max_score=1.0,
                                            revision=1, updated_at=AT))


def count(store, table) -> int:
    with store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar()


def test_an_email_claimed_through_another_institution_never_links_its_learner(
        store, jwks_server, client):
    two_tenants(store, jwks_server.url + "/jwks")
    publish_course_link(store, "uni-a")
    publish_course_link(store, "uni-b")
    assert sso(client, iss=ISS_B, sub="grace", email=VICTIM).status_code == 302
    victim = learner_of(store, ISS_B, "grace")
    give_grade(store, victim)

    # uni-a's user sets their LMS email to uni-b's learner and signs in.
    assert sso(client, iss=ISS, sub="mallory", email=VICTIM.upper()).status_code == 302
    intruder = learner_of(store, ISS, "mallory")
    assert intruder != victim
    with store.engine.connect() as conn:
        (row,) = conn.execute(select(learners).where(learners.c.id == intruder)).all()
    assert row.tenant_id == store_tenant_id(store, "uni-a")
    # uni-a's gradebook never receives uni-b's learner's grade; uni-b's still does.
    assert [c.learner_id for c in cells_for(store, "uni-a")] == []
    assert [c.learner_id for c in cells_for(store, "uni-b")] == [victim]


def store_tenant_id(store, name: str) -> int:
    with store.engine.connect() as conn:
        return store.tenants.id_of(conn, name)


def test_a_provider_learner_is_claimable_only_where_their_program_is_activated(
        store, jwks_server, client):
    two_tenants(store, jwks_server.url + "/jwks", same_provider=True,
                a_programs=("prog-2",), b_programs=("prog-1",))
    with store.engine.begin() as conn:
        conn.execute(learners.insert().values(id="coursera-7", email=VICTIM, created_at=AT))
    give_grade(store, "coursera-7")
    assert sso(client, iss=ISS, sub="mallory", email=VICTIM, program="prog-2",
               course="w1").status_code == 302
    assert learner_of(store, ISS, "mallory") != "coursera-7"
    assert sso(client, iss=ISS_B, sub="grace", email=VICTIM).status_code == 302
    assert learner_of(store, ISS_B, "grace") == "coursera-7"


def test_a_second_account_claiming_a_linked_email_is_refused_not_taken_over(
        store, jwks_server, client):
    two_tenants(store, jwks_server.url + "/jwks")
    assert sso(client, sub="ada").status_code == 302
    before = {t.name: count(store, t) for t in (learners, account_links, launches, licenses)}
    resp = sso(client, sub="ada-impostor")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 409 and "account_conflict" in body
    assert "Account already linked" in body and "No license left" not in body
    assert "already linked to another LMS account" in body
    assert {t.name: count(store, t) for t in (learners, account_links, launches,
                                              licenses)} == before
    (record,) = store.audit_trail("uni-a", hook="sso.account_conflict")
    assert (record.outcome, record.detail["sub"]) == ("refused", "ada-impostor")
    assert record.detail["learner_id"] == learner_of(store, ISS, "ada")
    assert sso(client, sub="ada").status_code == 302  # the owner is unaffected


def test_a_tenant_that_does_not_trust_lms_emails_links_by_account_only(
        store, jwks_server, client):
    two_tenants(store, jwks_server.url + "/jwks")
    with store.engine.begin() as conn:
        conn.execute(learners.insert().values(id="coursera-7", email="ada@example.edu",
                                              created_at=AT))
    give_grade(store, "coursera-7")
    store.tenants.update(evolve(store.tenants.get("uni-a"), trust_lms_email=False))
    assert sso(client, sub="ada").status_code == 302
    assert sso(client, sub="ada-2").status_code == 302  # no email match, so no conflict either
    linked = {learner_of(store, ISS, "ada"), learner_of(store, ISS, "ada-2")}
    assert "coursera-7" not in linked and len(linked) == 2
    with store.engine.connect() as conn:
        emails = conn.execute(select(learners.c.email).where(learners.c.id.in_(linked)))
        assert set(emails.scalars()) == {None}


def test_provider_progress_never_follows_an_email_claimed_through_another_institution(
        store, jwks_server, client):
    two_tenants(store, jwks_server.url + "/jwks", same_provider=True,
                a_programs=("prog-2",), b_programs=("prog-1",))
    assert sso(client, iss=ISS, sub="mallory", email=VICTIM, program="prog-2",
               course="w1").status_code == 302
    intruder = learner_of(store, ISS, "mallory")
    reported = [Progress("coursera-7", "c1", AT, email=VICTIM, score=1.0)]
    provider = Providers(store).get("coursera-a")
    with store.engine.begin() as conn:
        assert resolve(conn, reported, provider) == {"coursera-7": "coursera-7"}
    give_grade(store, "coursera-7")
    # The learner's own institution (prog-1 activated) does get them linked by email.
    assert sso(client, iss=ISS_B, sub="grace", email="Grace@Other-University.edu",
               context="ctx-2").status_code == 302
    grace = learner_of(store, ISS_B, "grace")
    assert grace == "coursera-7" and grace != intruder


def test_progress_with_an_email_held_in_two_institutions_links_to_neither(
        store, jwks_server, client):
    two_tenants(store, jwks_server.url + "/jwks", same_provider=True)
    assert sso(client, iss=ISS, sub="x", email=VICTIM).status_code == 302
    assert sso(client, iss=ISS_B, sub="y", email=VICTIM).status_code == 302
    reported = [Progress("coursera-7", "c1", AT, email=VICTIM, score=1.0)]
    with store.engine.begin() as conn:
        mapped = resolve(conn, reported, Providers(store).get("coursera-a"))
    assert mapped == {"coursera-7": "coursera-7"}


def test_seats_are_the_programs_and_every_tenant_counts_them_the_same(
        store, jwks_server, client):
    two_tenants(store, jwks_server.url + "/jwks", same_provider=True, seats=3)
    for sub in ("a1", "a2"):
        assert sso(client, sub=sub, email=f"{sub}@a.edu").status_code == 302
    assert sso(client, iss=ISS_B, sub="b1", email="b1@b.edu").status_code == 302
    resp = sso(client, iss=ISS_B, sub="b2", email="b2@b.edu")
    assert resp.status_code == 409 and "no_seat_left" in resp.get_data(as_text=True)
    assert licenses_in_use(store, "uni-a") == (2, 0)
    assert licenses_in_use(store, "uni-b") == (1, 0)
    (usage,) = store.programs.seat_usage("uni-b")
    assert (usage.seats, usage.used, usage.tenant_used, usage.free) == (3, 3, 1, 0)


def test_a_program_of_another_provider_cannot_be_activated(store, jwks_server):
    two_tenants(store, jwks_server.url + "/jwks", a_programs=(), b_programs=())
    store.programs.remember("coursera-b", Program("prog-1", "Data Science"))
    with pytest.raises(ValidationError, match="belongs to provider 'coursera-b'"):
        store.programs.activate("uni-a", "prog-1")
    assert store.programs.activate("uni-b", "prog-1") is True



def test_the_migration_gives_existing_tenants_their_provider_and_learners_their_tenant(
        empty_db_url):
    from sqlalchemy import text

    from lmsbridge.core.store import Store, database

    store = Store.open(empty_db_url)
    database.upgrade(store.engine, "0007")
    with store.engine.begin() as conn:  # the tables as 0007 has them: plain SQL
        for sql in (
                "INSERT INTO providers (id, name, kind) VALUES (1, 'coursera', 'coursera')",
                "INSERT INTO tenants (id, name, kind, grade_sync, grade_sync_without_sso, "
                "incremental, options, created_at) VALUES (1, 'uni-a', 'canvas', 'item', "
                "false, true, '{}', CURRENT_TIMESTAMP)",
                "INSERT INTO learners (id, created_at) VALUES ('lti-1', CURRENT_TIMESTAMP), "
                "('coursera-2', CURRENT_TIMESTAMP)",
                "INSERT INTO account_links (tenant_id, issuer, sub, learner_id, linked_at) "
                "VALUES (1, 'https://lms', 's', 'lti-1', CURRENT_TIMESTAMP)"):
            conn.execute(text(sql))
    store.upgrade()
    assert store.tenants.get("uni-a").provider == "coursera"
    assert store.tenants.get("uni-a").trust_lms_email is True
    with store.engine.connect() as conn:
        owners = dict(conn.execute(select(learners.c.id, learners.c.tenant_id)).all())
    assert owners == {"lti-1": 1, "coursera-2": None}
    # SQLite rebuilds tenants to add its columns: rows referencing it survive.
    assert count(store, account_links) == 1
    store.dispose()
