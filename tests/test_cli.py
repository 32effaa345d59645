"""The CLI as a user meets it: one-line errors, exit codes, JSON output, nothing half-written."""

import json
import subprocess
import sys

import pytest

from lmsbridge.adapters.coursera.mock import MockCoursera
from lmsbridge.core.cli import main

PLATFORM = ["platform", "add", "--tenant", "uni-a", "--issuer", "https://canvas.instructure.com",
            "--client-id", "10", "--deployment-id", "d1", "--deployment-id", "d2",
            "--auth-login-url", "https://sso.test/auth", "--auth-token-url",
            "https://sso.test/token", "--jwks-url", "https://sso.test/jwks"]


@pytest.fixture
def run(capsys, empty_db_url):
    def run(*args: str, stdin: str | None = None):
        if stdin is not None:
            import io
            sys.stdin = io.StringIO(stdin)
        code = main(["--db", empty_db_url, *args])
        out, err = capsys.readouterr()
        return code, out, err

    yield run
    sys.stdin = sys.__stdin__


def test_commands_need_a_migrated_database(run, tmp_path):
    code, out, err = run("tenant", "list")
    assert code == 1
    assert err.startswith("error: ") and "lmsbridge db upgrade" in err
    assert err.count("\n") == 1


def test_missing_sqlite_file_is_not_created(tmp_path, capsys):
    assert main(["--db", f"sqlite:///{tmp_path / 'new.db'}", "tenant", "list"]) == 1
    assert not (tmp_path / "new.db").exists()


@pytest.fixture
def provider():
    with MockCoursera(org_id="org-1", client_id="cid", client_secret="s3cret") as mock:
        for pid in ("prog-1", "prog-2"):
            mock.add_program(pid, f"Program {pid}", seats=3)
        yield mock


def add_provider(run, mock, name="main"):
    assert run("provider", "add", name, "--base-url", mock.url, "--org-id", "org-1",
               "--client-id", "cid", stdin="s3cret")[0] == 0


def test_tenant_platform_program_flow(run, provider):
    assert run("db", "upgrade")[0] == 0
    assert "already at revision" in run("db", "upgrade")[1]
    add_provider(run, provider)
    code, out, _ = run("tenant", "add", "uni-a", "--kind", "canvas", "--grade-sync", "course")
    assert code == 0 and "added tenant uni-a" in out and "provider main" in out
    assert run(*PLATFORM)[0] == 0
    assert run("program", "activate", "--tenant", "uni-a", "prog-1", "prog-2")[0] == 0
    assert run("tenant", "set-secret", "uni-a", "api_token", stdin="tok-secret\n")[0] == 0

    (tenant,) = json.loads(run("tenant", "list", "--json")[1])
    assert tenant == {"name": "uni-a", "kind": "canvas", "grade_sync": "course",
                      "grade_sync_without_sso": False, "incremental": True, "base_url": None,
                      "options": {}, "provider": "main", "trust_lms_email": True}
    shown = json.loads(run("tenant", "show", "uni-a", "--json")[1])
    assert shown["platforms"][0]["deployment_ids"] == ["d1", "d2"]
    assert [p["program_id"] for p in shown["programs"]] == ["prog-1", "prog-2"]
    assert shown["secrets"] == ["api_token"]
    code, out, err = run("tenant", "show", "uni-a")
    assert "tok-secret" not in out + err and "api_token" in out
    assert json.loads(run("platform", "list", "--json")[1])[0]["tenant"] == "uni-a"
    assert "prog-2" in run("program", "list", "--tenant", "uni-a")[1]
    (seats, _) = json.loads(run("program", "list", "--tenant", "uni-a", "--json")[1])
    assert (seats["seats"], seats["seats_used"], seats["seats_free"]) == (3, 0, 3)


def test_program_activate_takes_only_the_providers_programs(run, provider):
    run("db", "upgrade")
    add_provider(run, provider)
    run("tenant", "add", "uni-a", "--kind", "canvas")
    code, _, err = run("program", "activate", "--tenant", "uni-a", "prog-1", "prog-9")
    assert code == 1 and err == "error: provider 'main' has no program prog-9 (see the " \
        "provider's program list)\n"
    assert json.loads(run("program", "list", "--tenant", "uni-a", "--json")[1]) == []
    assert run("program", "activate", "--tenant", "uni-a", "prog-1")[0] == 0
    assert run("program", "activate", "--tenant", "uni-a", "prog-1")[1] == \
        "already active: prog-1 for uni-a\n"


def test_a_tenant_without_provider_cannot_activate(run):
    run("db", "upgrade")
    run("tenant", "add", "uni-a", "--kind", "canvas")
    code, _, err = run("program", "activate", "--tenant", "uni-a", "prog-1")
    assert code == 1 and "belongs to no provider" in err and err.count("\n") == 1


def test_two_providers_need_a_choice_and_programs_stay_with_theirs(run, provider):
    run("db", "upgrade")
    add_provider(run, provider, "main")
    with MockCoursera(org_id="org-1", client_id="cid", client_secret="s3cret") as other:
        other.add_program("prog-x", "Other org's program")
        add_provider(run, other, "other")
        code, _, err = run("tenant", "add", "uni-a", "--kind", "canvas")
        assert code == 1 and "--provider" in err and "main, other" in err
        assert run("tenant", "add", "uni-a", "--kind", "canvas", "--provider", "main")[0] == 0
        assert run("tenant", "add", "uni-b", "--kind", "canvas", "--provider", "other")[0] == 0
        assert run("program", "activate", "--tenant", "uni-b", "prog-x")[0] == 0
        code, _, err = run("program", "activate", "--tenant", "uni-a", "prog-x")
        assert code == 1 and "has no program prog-x" in err
        assert run("program", "activate", "--tenant", "uni-a", "prog-1")[0] == 0
        code, _, err = run("tenant", "set", "uni-a", "--provider", "other")
        assert code == 1 and "program 'prog-1' of another provider" in err


@pytest.mark.parametrize("args, message", [
    (["tenant", "add", "uni-a", "--kind", "canvass"],
     "error: --kind: must be one of blackboard, canvas, d2l, lti, moodle, oracle (got 'canvass')"),
    (["tenant", "add", "Uni A", "--kind", "canvas"], "error: Tenant.name: "),
    (["tenant", "add", "uni-b", "--kind", "canvas", "--base-url", "canvas.uni"],
     "error: Tenant.base_url: must be an http(s) URL (got 'canvas.uni')"),
    (["tenant", "show", "ghost"], "error: no tenant named 'ghost'"),
    (["program", "activate", "--tenant", "ghost", "p1"], "error: no tenant named 'ghost'"),
    ([*PLATFORM[:-1], "not-a-url"], "error: PlatformRegistration.jwks_url"),
])
def test_bad_input_is_one_clear_line(run, args, message):
    run("db", "upgrade")
    run("tenant", "add", "uni-a", "--kind", "canvas")
    code, out, err = run(*args)
    assert code == 1
    assert err.startswith(message) and err.count("\n") == 1 and "Traceback" not in err


def test_conflicting_platform_leaves_nothing_behind(run):
    run("db", "upgrade")
    run("tenant", "add", "uni-a", "--kind", "canvas")
    run("tenant", "add", "uni-b", "--kind", "canvas")
    run(*PLATFORM)
    code, _, err = run(*[("uni-b" if a == "uni-a" else a) for a in PLATFORM])
    assert code == 1 and "already registered to tenant 'uni-a'" in err
    assert json.loads(run("platform", "list", "--tenant", "uni-b", "--json")[1]) == []


def test_empty_secret_is_refused(run):
    run("db", "upgrade")
    run("tenant", "add", "uni-a", "--kind", "canvas")
    code, _, err = run("tenant", "set-secret", "uni-a", "api_token", stdin="")
    assert code == 1 and "empty" in err
    assert json.loads(run("tenant", "show", "uni-a", "--json")[1])["secrets"] == []


def test_adapters_json_lists_builtins(run):
    code, out, _ = run("adapters", "--json")
    adapters = {a["name"]: a for a in json.loads(out)}
    assert set(adapters) == {"moodle", "canvas", "blackboard", "d2l", "oracle", "coursera", "lti"}
    for a in adapters.values():
        assert {"name", "distribution", "version", "capabilities"} <= set(a)
        assert a["distribution"] == "lmsbridge" and a["capabilities"]
    assert "content_publish" in adapters["moodle"]["opt_outs"]


def test_unreachable_postgres_is_one_line(capsys):
    code = main(["--db", "postgresql://nobody@127.0.0.1:1/none", "tenant", "list"])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("error: database: ") and err.count("\n") == 1


def test_json_logs_are_one_object_per_line(capsys):
    import logging

    from lmsbridge.core import logs

    logs.setup("json", "DEBUG")
    logging.getLogger("lmsbridge.engine").info("delivered %d grades", 3,
                                               extra={"tenant": "uni-a"})
    line = capsys.readouterr().err.strip()
    record = json.loads(line)
    assert record["message"] == "delivered 3 grades" and record["tenant"] == "uni-a"
    assert record["level"] == "INFO" and record["logger"] == "lmsbridge.engine"
    assert record["ts"].endswith("+00:00")
    logs.setup("text", "WARNING")


def test_console_script_exits_non_zero_without_traceback(tmp_path):
    exe = [sys.executable, "-m", "lmsbridge.core"]
    version = subprocess.run([*exe, "--version"], capture_output=True, text=True)
    assert version.returncode == 0 and "lmsbridge, version" in version.stdout
    proc = subprocess.run([*exe, "--db", f"sqlite:///{tmp_path}/x.db", "tenant", "show", "x"],
                          capture_output=True, text=True)
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: no database at") and "Traceback" not in proc.stderr
    usage = subprocess.run([*exe, "tenant", "add"], capture_output=True, text=True)
    assert usage.returncode == 2 and "Missing argument 'NAME'" in usage.stderr


def test_every_registered_command_loads_under_its_own_name():
    import click

    from lmsbridge.core.cli import COMMANDS, cli

    ctx = click.Context(cli)
    names = cli.list_commands(ctx)
    assert len(names) == len(COMMANDS) + 1  # core's, and the Oracle adapter's `oracle`
    assert "oracle" in names
    for name in names:
        command = cli.get_command(ctx, name)
        assert command is not None and command.name == name, name


def test_a_command_imports_only_its_own_module(tmp_path):
    # The nightly `sync` must not pay for the web tool, the mocks or the demo.
    code = ("import sys; from lmsbridge.core.cli import main; main(['--version'])\n"
            "print(sorted(m for m in sys.modules if m.startswith('lmsbridge.core.cli.')))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=tmp_path)
    assert "lmsbridge.core.cli.demo" not in proc.stdout
    assert "lmsbridge.core.cli.serve" not in proc.stdout


def test_core_commands_do_not_load_the_adapters(tmp_path):
    # Adapters' commands are looked up only for a name core does not have, or --help.
    code = ("import sys; from lmsbridge.core.cli import main; main(['db', '--help'])\n"
            "print(any(m.startswith('lmsbridge.adapters.') for m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=tmp_path)
    assert proc.stdout.strip().endswith("False"), proc.stdout + proc.stderr
