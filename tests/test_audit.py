"""The audit trail: one ``audit_log`` row per hook call and per admin command, no secrets."""

import getpass
import io
import logging
import sys
from collections.abc import Iterator

import click
import pytest
from alembic import command
from engine_fixtures import LEARNER_ROLE, Clock, ToyAdapter, ToyGradebook, launch, publish, registry
from sqlalchemy import func, select

from lmsbridge.adapters.coursera.mock import MockCoursera
from lmsbridge.core import hookimpl
from lmsbridge.core.audit import AuditRecord
from lmsbridge.core.cli import cli, main
from lmsbridge.core.cli.app import App
from lmsbridge.core.cli.audit import ACTIONS, READ_ONLY
from lmsbridge.core.config import Settings
from lmsbridge.core.engine.providers import Providers
from lmsbridge.core.engine.runner import Engine, SyncOptions
from lmsbridge.core.model import Provider, RosterMember, Tenant
from lmsbridge.core.secret import Secret
from lmsbridge.core.store import Store, database
from lmsbridge.core.store.schema import audit_log

PROVIDER_SECRET = "prov-secret-7f3a9c"
TOKEN = "tok-secret-b81d42"


@pytest.fixture
def provider_mock():
    with MockCoursera(org_id="org-1", client_id="cid", client_secret=PROVIDER_SECRET) as mock:
        mock.add_program("p1", "Data Science", seats=3)
        mock.add_course("p1", "c1", "Python")
        mock.add_item("c1", "q1", "Quiz 1")
        yield mock


@pytest.fixture
def gradebook():
    with ToyGradebook() as server:
        yield server


@pytest.fixture
def world(store, provider_mock, gradebook):
    """A provider and a toy-gradebook tenant where one learner launched one item link."""
    Providers(store).add(Provider("coursera-main", "coursera", provider_mock.url, "org-1"),
                         "cid", Secret(PROVIDER_SECRET))
    store.tenants.add(Tenant("uni", "toy", "item", base_url=gradebook.url))
    store.tenants.set_secret("uni", "api_token", Secret(TOKEN))
    store.programs.activate("uni", "p1")
    t = store.tenants.get("uni")
    publish(store, t, "ctx", "l-q1", "p1", "c1", "q1")
    launch(store, t, "ann", "ctx", "l-q1", "p1", "c1", "q1")
    gradebook.members["ctx"] = [{"user_id": "sub-ann", "roles": [LEARNER_ROLE]}]
    provider_mock.set_progress("ann", "c1", item_id="q1", score=1.0)
    return store


@pytest.fixture
def logged() -> Iterator[list[str]]:
    """Every ``lmsbridge`` log line at DEBUG, whatever logging setup other tests left."""
    lines: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())  # type: ignore[method-assign]
    logger = logging.getLogger("lmsbridge")
    saved = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield lines
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved)


def all_cells(store: Store) -> str:
    with store.engine.connect() as conn:
        return "\n".join(" ".join(str(v) for v in row)
                         for row in conn.execute(select(audit_log)).all())


def hook_rows(store: Store) -> list[tuple]:
    return sorted((r.owner, r.adapter, r.hook, r.outcome, r.actor)
                  for r in store.audit_trail(limit=1000))


def nightly(store: Store, *adapters: object) -> Engine:
    return Engine(store, registry(*(adapters or (ToyAdapter(),))), now=Clock())


# --- hook calls --------------------------------------------------------------------------


def test_a_nightly_run_leaves_one_row_per_hook_call(world, gradebook, logged):
    result = nightly(world).sync(options=SyncOptions(force_catalog=True))
    assert result.delivered_everything and len(gradebook.applied) == 1
    assert hook_rows(world) == [
        ("coursera-main", "coursera", "lmsbridge_read_catalog", "ok", "engine"),
        ("coursera-main", "coursera", "lmsbridge_read_progress", "ok", "engine"),
        ("uni", "toy", "lmsbridge_ensure_columns", "ok", "engine"),
        ("uni", "toy", "lmsbridge_read_roster", "ok", "engine"),
        ("uni", "toy", "lmsbridge_write_grades", "ok", "engine"),
    ]
    by_hook = {r.hook: r for r in world.audit_trail("uni")}
    assert by_hook["lmsbridge_write_grades"].detail == {
        "context": "ctx", "deliveries": 1, "outcomes": {"delivered": 1}}
    assert by_hook["lmsbridge_read_roster"].detail == {"context": "ctx", "read": 1}
    assert by_hook["lmsbridge_ensure_columns"].detail == {
        "context": "ctx", "columns": 1, "returned": 1}
    (progress,) = world.audit_trail("coursera-main", hook="lmsbridge_read_progress")
    assert progress.detail == {"since": None, "read": 1} and progress.duration_ms > 0
    assert all(r.at is not None and r.error is None for r in world.audit_trail())
    assert PROVIDER_SECRET not in all_cells(world) and TOKEN not in all_cells(world)
    assert not any(PROVIDER_SECRET in line or TOKEN in line for line in logged)


def test_an_unchanged_second_run_adds_only_its_own_calls(world):
    engine = nightly(world)
    engine.sync(options=SyncOptions(force_catalog=True))
    first = len(world.audit_trail(limit=1000))
    Engine(world, engine.registry, now=Clock()).sync()  # same registry: the sink once
    # No catalog (read today), progress and roster again, no columns, nothing to write.
    added = sorted(r.hook for r in world.audit_trail(limit=1000)[:-first])
    assert added == ["lmsbridge_read_progress", "lmsbridge_read_roster"]
    assert engine.registry.audit.sinks == [world.record_audit]


def test_a_failing_hook_leaves_an_error_row(world, gradebook):
    gradebook.faults.add("status", status=503, path="/members$", times=None)
    report = nightly(world).sync().tenants[0]
    assert any("roster of ctx" in e for e in report.errors)
    (roster,) = world.audit_trail("uni", hook="lmsbridge_read_roster")
    assert roster.outcome == "error" and roster.error.startswith("HTTPError: 503")
    assert "\n" not in roster.error
    assert world.audit_trail("uni", hook="lmsbridge_write_grades")[0].outcome == "ok"


class StreamingToy(ToyAdapter):
    """Reads its roster lazily: the HTTP request happens when the caller iterates."""

    @hookimpl
    def lmsbridge_read_roster(self, tenant, context, runtime):
        r = runtime.session().get(f"{tenant.base_url}/ctx/{context.context_id}/members",
                                  timeout=10)
        r.raise_for_status()
        for m in r.json()["members"]:
            yield RosterMember(m["user_id"], m["roles"])


def test_a_hook_stream_is_recorded_when_it_ends(world, gradebook):
    nightly(world, StreamingToy()).sync()
    (ok,) = world.audit_trail("uni", hook="lmsbridge_read_roster")
    assert (ok.outcome, ok.detail) == ("ok", {"context": "ctx", "read": 1})
    gradebook.faults.add("status", status=503, path="/members$", times=None)
    nightly(world, StreamingToy()).sync()
    failed, _ = world.audit_trail("uni", hook="lmsbridge_read_roster")
    assert failed.outcome == "error" and failed.error.startswith("HTTPError: 503")


def test_a_stream_dropped_unread_is_recorded_once():
    records: list[AuditRecord] = []
    reg = registry(StreamingToy(), coursera=False)
    reg.audit.attach(records.append)

    class Runtime:  # never asked: the generator does not start
        pass

    reg.read_roster(Tenant("uni", "toy"), None, Runtime())
    ((hook, outcome, detail),) = [(r.hook, r.outcome, r.detail) for r in records]
    assert (hook, outcome) == ("lmsbridge_read_roster", "ok")
    assert detail == {"context": None, "read": 0, "stopped_early": True}


def test_a_failing_sink_never_fails_the_hook_call(world, gradebook, logged):
    engine = nightly(world)

    def broken(record):
        raise RuntimeError(f"disk full\nwhile writing {record.hook}")

    engine.registry.audit.sinks.insert(0, broken)
    result = engine.sync(options=SyncOptions(force_catalog=True))
    assert result.delivered_everything and len(gradebook.applied) == 1
    assert len(world.audit_trail()) == 5  # the store's sink still wrote every row
    warnings = [line for line in logged if line.startswith("audit sink failed")]
    assert len(warnings) == 5
    assert "RuntimeError: disk full" in warnings[0] and "while writing" not in warnings[0]


def test_sqlite_audit_writes_never_wait_out_the_busy_timeout(tmp_path, provider_mock,
                                                             gradebook):
    # Several tenants delivering at once, each hook call committing its own audit row:
    # if an audit write ever ran inside another open write transaction on the same file,
    # SQLite would wait out its 10 s busy timeout and the row would be missing.
    store = Store.open(f"sqlite:///{tmp_path / 'a.db'}", key_file=tmp_path / "k")
    store.upgrade()
    Providers(store).add(Provider("coursera-main", "coursera", provider_mock.url, "org-1"),
                         "cid", Secret(PROVIDER_SECRET))
    for n in range(4):
        name = f"uni-{n}"
        store.tenants.add(Tenant(name, "toy", "item", base_url=gradebook.url))
        store.programs.activate(name, "p1")
        t = store.tenants.get(name)
        for ctx in ("a", "b", "c"):
            publish(store, t, ctx, f"l-{ctx}", "p1", "c1", "q1")
            launch(store, t, "ann", ctx, f"l-{ctx}", "p1", "c1", "q1")
    provider_mock.set_progress("ann", "c1", item_id="q1", score=1.0)
    result = nightly(store).sync(options=SyncOptions(force_catalog=True))
    assert result.delivered_everything
    with store.engine.connect() as conn:
        counts = dict(conn.execute(select(audit_log.c.hook, func.count())
                                   .group_by(audit_log.c.hook)).all())
    assert counts["lmsbridge_write_grades"] == 4 * 3
    assert counts["lmsbridge_ensure_columns"] == counts["lmsbridge_read_roster"] == 4 * 3
    assert {r.outcome for r in store.audit_trail(limit=1000)} == {"ok"}
    store.dispose()


# --- admin commands ----------------------------------------------------------------------

PLATFORM = ["platform", "add", "--tenant", "uni-a", "--issuer", "https://canvas.instructure.com",
            "--client-id", "10", "--deployment-id", "d1", "--deployment-id", "d2",
            "--auth-login-url", "https://sso.test/auth", "--auth-token-url",
            "https://sso.test/token", "--jwks-url", "https://sso.test/jwks"]


@pytest.fixture
def run(capsys, empty_db_url):
    seen: list[str] = []

    def run(*args: str, stdin: str | None = None):
        if stdin is not None:
            sys.stdin = io.StringIO(stdin)
        code = main(["--db", empty_db_url, "--log-level", "DEBUG", *args])
        out, err = capsys.readouterr()
        seen.append(out + err)
        return code, out, err

    run.url, run.seen = empty_db_url, seen
    yield run
    sys.stdin = sys.__stdin__


COMMANDS = [
    (("db", "upgrade"), None, "db.upgrade", "tool"),
    (("provider", "add", "coursera-main", "--org-id", "ORG", "--client-id", "CID",
      "--base-url", "http://127.0.0.1:9"),  # nothing listens: a hook call fails fast
     PROVIDER_SECRET + "\n", "provider.add", "coursera-main"),
    (("tenant", "add", "uni-a", "--kind", "canvas", "--grade-sync", "course"), None,
     "tenant.add", "uni-a"),
    (("tenant", "add", "uni-a", "--kind", "canvas"), None, "tenant.add", "uni-a"),
    (("tenant", "set-secret", "uni-a", "api_token"), TOKEN + "\n", "tenant.set-secret",
     "uni-a"),
    (("tenant", "set-secret", "nobody", "api_token"), TOKEN + "\n", "tenant.set-secret",
     "nobody"),
    (("tenant", "set", "uni-a", "--full-sync"), None, "tenant.set", "uni-a"),
    (tuple(PLATFORM), None, "platform.add", "uni-a"),
    (("program", "activate", "--tenant", "uni-a", "p1", "p2"), None, "program.activate",
     "uni-a"),
    (("program", "deactivate", "--tenant", "uni-a", "p2"), None, "program.deactivate",
     "uni-a"),
    (("license", "release", "--tenant", "uni-a", "--program", "p1", "--learner", "ann"), None,
     "license.release", "uni-a"),
    (("keys", "rotate", "--grace", "2"), None, "keys.rotate", "tool"),
    (("keys", "retire"), None, "keys.retire", "tool"),
    (("oracle", "keygen", "--tenant", "uni-a", "--issuer", "iss", "--username", "u"), None,
     "oracle.keygen", "uni-a"),
]


def test_every_admin_command_leaves_its_row_and_no_secret(run):
    codes = []
    for args, stdin, _, _ in COMMANDS:
        code, _, err = run(*args, stdin=stdin)
        codes.append((code, err.strip().splitlines()[-1] if code else None))
    assert codes[0][0] == codes[1][0] == codes[2][0] == codes[4][0] == 0
    assert codes[3][0] == codes[5][0] == 1  # a duplicate tenant, an unknown one

    store = Store.open(run.url)
    trail = list(reversed(store.audit_trail(limit=100)))
    rows = [r for r in trail if r.adapter is None]
    assert [(r.hook, r.owner) for r in rows] == [(a, o) for _, _, a, o in COMMANDS]
    who = f"cli:{getpass.getuser()}"
    # Hook calls an admin command makes (if any) are that admin's too.
    assert {r.actor for r in trail} == {who}
    for row, (code, message) in zip(rows, codes, strict=True):
        assert row.duration_ms > 0
        if code == 0:
            assert (row.outcome, row.error) == ("ok", None), row
        else:  # the row says what the user was told
            assert row.outcome == "error" and message.endswith(row.error.split(": ", 1)[1])
    assert rows[2].detail == {"kind": "canvas", "grade_sync": "course", "full_sync": False,
                              "grade_sync_without_sso": False}
    assert rows[4].detail == {"key": "api_token"}
    assert rows[7].detail == {"issuer": "https://canvas.instructure.com", "client_id": "10",
                              "deployment_ids": ["d1", "d2"]}
    assert rows[8].detail == {"program_ids": ["p1", "p2"]}
    assert rows[11].detail == {"grace": 2.0}
    assert "secret" not in rows[1].detail and rows[1].detail["org_id"] == "ORG"

    assert store.tenants.secret_names("uni-a") == ["api_token"]  # it was stored
    cells = all_cells(store)
    assert PROVIDER_SECRET not in cells and TOKEN not in cells
    assert not any(PROVIDER_SECRET in s or TOKEN in s for s in run.seen)
    store.dispose()


def test_audit_command_lists_rows_newest_first(run):
    import json
    run("db", "upgrade")
    run("tenant", "add", "uni-a", "--kind", "canvas")
    run("tenant", "add", "uni-b", "--kind", "moodle")
    code, out, _ = run("audit", "--json")
    assert code == 0
    assert [(r["hook"], r["owner"]) for r in json.loads(out)] == [
        ("tenant.add", "uni-b"), ("tenant.add", "uni-a"), ("db.upgrade", "tool")]
    code, out, _ = run("audit", "--tenant", "uni-a", "--json")
    assert [r["owner"] for r in json.loads(out)] == ["uni-a"]
    code, out, _ = run("audit", "--limit", "1")
    assert code == 0 and "uni-b" in out and "uni-a" not in out


def test_a_command_without_a_database_creates_none(tmp_path, capsys):
    assert main(["--db", f"sqlite:///{tmp_path / 'new.db'}", "tenant", "add", "x",
                 "--kind", "canvas"]) == 1
    assert not (tmp_path / "new.db").exists()
    assert capsys.readouterr().err.count("\n") == 1  # the one-line error, no audit warning


# Commands that change no lmsbridge state, or whose changes the hook rows already cover.
NOT_ACTIONS = READ_ONLY


def _leaves(group: click.Group, prefix: str = "") -> Iterator[tuple[str, click.Command]]:
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        path = f"{prefix}{name}"
        if isinstance(command, click.Group):
            yield from _leaves(command, f"{path} ")
        else:
            yield path, command


def test_every_state_changing_command_is_audited():
    leaves = dict(_leaves(cli))
    unclassified = set(leaves) - set(ACTIONS) - NOT_ACTIONS
    assert not unclassified, f"add to cli.audit.ACTIONS or NOT_ACTIONS: {unclassified}"
    assert set(ACTIONS) <= set(leaves)  # no stale entry
    for path in ACTIONS:
        assert getattr(leaves[path].callback, "audited", False), path
        params = {p.name for p in leaves[path].params}
        action = ACTIONS[path]
        assert action.owner is None or action.owner in params, path
        assert {d for d in action.detail if d != "provider"} <= params, path


# --- wiring and schema -------------------------------------------------------------------


def test_the_cli_attaches_the_store_whichever_it_opens_first(tmp_path):
    url = f"sqlite:///{tmp_path / 'c.db'}"
    Store.open(url).upgrade()
    for first in ("store", "registry"):
        app = App(Settings(database_url=url, secret_key_file=tmp_path / "k"))
        getattr(app, first)
        assert app.registry.audit.sinks == [app.store.record_audit]


def test_downgrade_keeps_admin_rows(store):
    store.record_audit(AuditRecord("tool", None, "keys.rotate", 1.0, "ok", actor="cli:x",
                                   detail={"grace": 7}))
    store.record_audit(AuditRecord("uni", "toy", "lmsbridge_read_roster", 2.0, "ok"))
    command.downgrade(database._alembic_config(store.engine), "0006")
    try:
        with store.engine.connect() as conn:
            rows = sorted(tuple(r) for r in conn.execute(
                select(audit_log.c.hook, audit_log.c.adapter)).all())
    finally:
        store.upgrade()
    assert rows == [("keys.rotate", ""), ("lmsbridge_read_roster", "toy")]
    (admin, _) = sorted(store.audit_trail(), key=lambda r: r.hook)
    assert admin.actor == "" and admin.detail == {}
