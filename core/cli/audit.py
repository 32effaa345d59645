"""Admin actions in the audit trail, and ``lmsbridge audit`` to read it.

Every state-changing command is listed in :data:`ACTIONS` with the parameter naming its
tenant (or provider) and the parameters worth keeping as detail; :func:`instrument` wraps
those commands when the CLI loads them, so a command module needs no audit code. Each run
writes one ``audit_log`` row: the action, owner ("tool" for tool-wide actions), who
("cli:<os user>"), duration, outcome ("ok", or "error" with the one-line message) and the
listed parameters; hook calls the command makes are recorded as the same user's, except in
engine runs (``sync``, ``catalog sync``). Only listed parameters are kept: secrets are read from standard input
inside the commands and are never parameters.
"""

from __future__ import annotations

import functools
import getpass
import logging
import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import click
from attrs import frozen

from lmsbridge.core.audit import AuditRecord, acting_as, error_text
from lmsbridge.core.cli.app import App, emit_json, pass_app, table

log = logging.getLogger("lmsbridge.audit")
TOOL = "tool"  # the owner of tool-wide actions


@frozen
class Action:
    name: str
    owner: str | None = None  # the parameter naming the tenant or provider; None: "tool"
    detail: tuple[str, ...] = ()
    engine: bool = False  # an engine run: its hook calls are the engine's, not the admin's


# "command path" -> what its audit row holds.
ACTIONS: dict[str, Action] = {a.name.replace(".", " "): a for a in [
    Action("db.upgrade"),
    Action("tenant.add", "name", ("kind", "grade_sync", "base_url", "grade_sync_without_sso",
                                  "full_sync", "provider")),
    Action("tenant.set", "name", ("grade_sync", "grade_sync_without_sso", "full_sync",
                                  "provider")),
    Action("tenant.set-secret", "name", ("key",)),  # the secret's name, never its value
    Action("platform.add", "tenant", ("issuer", "client_id", "deployment_ids",
                                      "token_audience")),
    Action("program.activate", "tenant", ("program_ids",)),
    Action("program.deactivate", "tenant", ("program_ids",)),
    Action("cartridge", "tenant", ("program_id", "course_id", "output")),  # a package written
    Action("provider.add", "name", ("kind", "base_url", "org_id")),
    Action("license.release", "tenant", ("program_id", "learner_id", "email")),
    Action("keys.rotate", None, ("grace",)),
    Action("keys.retire"),
    Action("oracle.keygen", "tenant_name", ("issuer", "username", "force")),
    Action("catalog.sync", None, ("force",), engine=True),
    Action("sync", None, ("tenants", "full", "dry_run", "force_catalog"), engine=True),
]}

# Commands that change no lmsbridge state, or whose changes their hook rows already cover;
# every command is in ACTIONS or here.
READ_ONLY = frozenset({
    "adapters", "audit", "conformance", "mock",
    "demo",  # a throwaway database of its own
    "serve",  # the web tool
    "platform config", "platform list", "tenant list", "tenant show", "program list",
    "provider list", "keys list", "oracle check",
    "tenant check",  # its hook call has its own row, by the admin
})


def actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no login name and no passwd entry (some containers)
        return "cli:unknown"


def instrument(command: click.Command, path: str) -> click.Command:
    """Wrap the callbacks of ``command`` (and its subcommands) listed in :data:`ACTIONS`."""
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            instrument(sub, f"{path} {name}")
    elif (action := ACTIONS.get(path)) is not None and command.callback is not None \
            and not getattr(command.callback, "audited", False):
        command.callback = _audited(action, command.callback)
    return command


def _audited(action: Action, callback: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(callback)
    def run(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            with nullcontext() if action.engine else acting_as(actor()):
                result = callback(*args, **kwargs)
        except click.exceptions.Exit as exc:
            _record(action, kwargs, start, None if exc.exit_code == 0 else f"exit {exc.exit_code}")
            raise
        except click.exceptions.Abort:
            _record(action, kwargs, start, "aborted")
            raise
        except Exception as exc:
            _record(action, kwargs, start, error_text(exc))
            raise
        _record(action, kwargs, start, None)
        return result

    run.audited = True  # type: ignore[attr-defined]
    return run


def _record(action: Action, params: dict[str, Any], start: float, error: str | None) -> None:
    duration_ms = (time.perf_counter() - start) * 1000
    owner = (str(params.get(action.owner) or TOOL) if action.owner else TOOL)[:63]
    detail = {name: _plain(params[name]) for name in action.detail
              if params.get(name) not in (None, (), [])}
    record = AuditRecord(owner, None, action.name, duration_ms, "error" if error else "ok",
                         error, actor(), detail)
    app = click.get_current_context().find_object(App)
    try:
        store = app.store  # type: ignore[union-attr]
    except Exception as exc:  # no usable database (the error the user already sees)
        log.debug("%s not recorded: %s", action.name, error_text(exc))
        return
    try:
        store.record_audit(record)
    except Exception as exc:  # recording must never change the command's outcome
        log.warning("audit trail: %s on %s not recorded: %s", action.name, owner,
                    error_text(exc))


def _plain(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


@click.command()
@click.option("--tenant", help="Only rows of this tenant (or provider, or 'tool').")
@click.option("--action", "hook", metavar="NAME",
              help="Only this hook or action, e.g. lmsbridge_write_grades or tenant.add.")
@click.option("--limit", type=click.IntRange(1, 10000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@pass_app
def audit(app: App, tenant: str | None, hook: str | None, limit: int, as_json: bool) -> None:
    """The audit trail, newest first: hook calls and admin actions."""
    rows = app.store.audit_trail(tenant, hook=hook, limit=limit)
    if as_json:
        emit_json(rows)
        return
    table(app, "Audit trail", ["at", "tenant", "hook / action", "adapter", "who", "outcome",
                               "ms", "detail"],
          [(r.at.isoformat(" ", "seconds") if r.at else "", r.owner, r.hook, r.adapter,
            r.actor, r.outcome, f"{r.duration_ms:.0f}",
            r.error or ", ".join(f"{k}={v}" for k, v in r.detail.items()))
           for r in rows])
