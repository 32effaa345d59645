from datetime import timedelta

import click

from lmsbridge.core.cli.app import App, emit_json, pass_app, table
from lmsbridge.core.lti.keys import ToolKeyring


@click.group()
def keys() -> None:
    """The tool's signing keys (published at /.well-known/jwks.json)."""


@keys.command()
@click.option("--grace", type=click.FloatRange(0, 365), default=7.0, show_default=True,
              help="Days the old key stays published after it stops signing.")
@pass_app
def rotate(app: App, grace: float) -> None:
    """Sign with a new key; keep the old one published for a grace period."""
    new = ToolKeyring(app.store).rotate(timedelta(days=grace))
    click.echo(f"now signing with key {new.kid}; older keys stay published for {grace:g} days")


@keys.command()
@pass_app
def retire(app: App) -> None:
    """Delete keys whose grace period is over."""
    kids = ToolKeyring(app.store).retire_expired()
    click.echo(f"retired {len(kids)} key(s)" + (f": {', '.join(kids)}" if kids else ""))


@keys.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def list_(app: App, as_json: bool) -> None:
    """List keys (kid, created, retire after); never the private halves."""
    rows = app.store.tool_keys.list()
    data = [{"kid": r.kid, "created_at": r.created_at, "retire_after": r.retire_after,
             "signing": r.retire_after is None} for r in rows]
    if as_json:
        emit_json(data)
        return
    table(app, "Tool keys", ["kid", "created", "retire after", "signing"],
          [(d["kid"], d["created_at"], d["retire_after"], "yes" if d["signing"] else "")
           for d in data])
