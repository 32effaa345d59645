"""`lmsbridge oracle keygen` and `oracle check` as an admin meets them, against the mock pod."""

from __future__ import annotations

import stat

import pytest
from oracle_helpers import USER

from lmsbridge.adapters.oracle.auth import certificate_x5t
from lmsbridge.adapters.oracle.mock import MockOracle
from lmsbridge.core.cli import main

pytest_plugins = ["oracle_fixtures"]

ISSUER = "coursera.acme"


@pytest.fixture
def run(capsys, empty_db_url):
    def run(*args: str):
        code = main(["--db", empty_db_url, *args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def bare_pod():
    with MockOracle() as mock:
        yield mock


@pytest.fixture
def keyed(run, bare_pod, tmp_path):
    """A tenant that has run keygen; returns the .cer bytes."""
    run("db", "upgrade")
    assert run("tenant", "add", "acme", "--kind", "oracle", "--base-url", bare_pod.url)[0] == 0
    code, out, err = run("oracle", "keygen", "--tenant", "acme", "--issuer", ISSUER,
                         "--username", USER, "--out", str(tmp_path),
                         "--key-file", str(tmp_path / "acme.key"))
    assert code == 0, err
    return out, (tmp_path / "acme.cer").read_bytes()


def test_keygen_writes_the_certificate_and_tells_the_admin_what_to_enter(keyed, tmp_path):
    out, cer = keyed
    assert f"Trusted issuer: {ISSUER}" in out and f"User name:      {USER}" in out
    assert certificate_x5t(cer) in out
    key_file = tmp_path / "acme.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert "PRIVATE KEY" in key_file.read_text() and "PRIVATE KEY" not in out


def test_check_passes_once_oracle_is_set_up_like_the_seed_says(run, keyed, bare_pod):
    _, cer = keyed
    bare_pod.trust(ISSUER, cer)
    bare_pod.add_user(USER)
    code, out, err = run("oracle", "check", "--tenant", "acme")
    assert code == 0, err
    assert out.startswith("ok: ") and "COURSERA" in out


@pytest.mark.parametrize(("setup", "words"), [
    (lambda pod, cer: pod.add_user(USER), "certificate not uploaded"),
    (lambda pod, cer: (pod.trust("Coursera", cer), pod.add_user(USER)), "issuer mismatch"),
    (lambda pod, cer: (pod.trust(ISSUER, cer), pod.add_user(USER, ["ORA_OTHER"])),
     "missing role"),
    (lambda pod, cer: pod.trust(ISSUER, cer), f"user {USER!r} does not exist"),
], ids=["no-certificate", "issuer-mismatch", "missing-role", "no-user"])
def test_check_says_what_failed_in_the_seeds_words(run, keyed, bare_pod, setup, words):
    _, cer = keyed
    setup(bare_pod, cer)
    code, out, err = run("oracle", "check", "--tenant", "acme")
    assert code == 1 and words in err
    assert err.startswith("error: ") and err.count("\n") == 1


def test_keygen_refuses_to_replace_a_key_without_force(run, keyed, tmp_path):
    code, _, err = run("oracle", "keygen", "--tenant", "acme", "--out", str(tmp_path / "x"))
    assert code == 1 and "--force" in err


def test_keygen_force_replaces_the_key(run, keyed, tmp_path):
    (tmp_path / "new").mkdir()
    code, out, _ = run("oracle", "keygen", "--tenant", "acme", "--force",
                       "--out", str(tmp_path / "new"))
    assert code == 0
    assert (tmp_path / "new" / "acme.cer").read_bytes() != keyed[1]


@pytest.mark.parametrize(("args", "message"), [
    (["--tenant", "nope"], "no tenant named 'nope'"),
    (["--tenant", "canv"], "not oracle"),
    (["--tenant", "bare"], "no option 'issuer': pass --issuer"),
])
def test_keygen_bad_input_is_one_line_and_writes_nothing(run, tmp_path, args, message):
    run("db", "upgrade")
    run("tenant", "add", "canv", "--kind", "canvas")
    run("tenant", "add", "bare", "--kind", "oracle", "--base-url", "https://pod.example")
    code, _, err = run("oracle", "keygen", *args)
    assert code == 1 and message in err and err.count("\n") == 1
    assert not list(tmp_path.glob("*.cer"))


def test_check_on_an_unconfigured_tenant_names_the_missing_option(run):
    run("db", "upgrade")
    run("tenant", "add", "bare", "--kind", "oracle", "--base-url", "https://pod.example")
    code, _, err = run("oracle", "check", "--tenant", "bare")
    assert code == 1 and "option 'issuer' is required" in err
