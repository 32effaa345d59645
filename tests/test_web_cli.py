"""lmsbridge keys / license release, end to end through the CLI."""

from __future__ import annotations

from datetime import UTC, datetime

from lti_web_fixtures import add_catalog, setup_tenant
from sqlalchemy import select

from lmsbridge.core.cli import main
from lmsbridge.core.lti.keys import ToolKeyring
from lmsbridge.core.store import Store
from lmsbridge.core.store.schema import learners, licenses


def _store(tmp_path) -> tuple[Store, str]:
    url = f"sqlite:///{tmp_path / 'lmsbridge.db'}"
    assert main(["--db", url, "db", "upgrade"]) == 0
    return Store.open(url, tmp_path / "lmsbridge.key"), url


def test_keys_rotate_keeps_the_old_key_published_then_retire_drops_it(tmp_path, capsys):
    store, url = _store(tmp_path)
    first = ToolKeyring(store).current().kid
    assert main(["--db", url, "keys", "rotate", "--grace", "0"]) == 0
    kids = [k["kid"] for k in ToolKeyring(store).jwks()["keys"]]
    assert kids and kids[0] != first  # the new key signs; a zero grace already hides the old
    assert main(["--db", url, "keys", "retire"]) == 0
    assert first in capsys.readouterr().out
    assert main(["--db", url, "keys", "list", "--json"]) == 0
    listed = capsys.readouterr().out
    assert first not in listed and "PRIVATE" not in listed


def test_license_release_frees_a_seat_by_email(tmp_path, capsys):
    store, url = _store(tmp_path)
    setup_tenant(store, "https://lms.example.edu/jwks")
    add_catalog(store, seats=1)
    with store.engine.begin() as conn:
        conn.execute(learners.insert().values(id="l1", email="ada@example.edu"))
        conn.execute(licenses.insert().values(tenant_id=1, program_id="prog-1", learner_id="l1",
                                              taken_at=datetime.now(UTC)))
    assert main(["--db", url, "license", "release", "--tenant", "uni-a", "--program", "prog-1",
                 "--email", "ADA@example.edu"]) == 0
    with store.engine.connect() as conn:
        assert conn.execute(select(licenses.c.released_at)).scalar() is not None
    # Releasing again names what is wrong, in one line.
    assert main(["--db", url, "license", "release", "--tenant", "uni-a", "--program", "prog-1",
                 "--learner", "l1"]) == 1
    err = capsys.readouterr().err
    assert "holds no license" in err and len(err.strip().splitlines()) == 1
