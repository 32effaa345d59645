"""``lmsbridge provider``: the content provider accounts we read catalog and progress from."""

from __future__ import annotations

import sys

import click

from lmsbridge.core.capabilities import AdapterKind
from lmsbridge.core.cli.app import App, emit_json, pass_app, table
from lmsbridge.core.engine.providers import Providers
from lmsbridge.core.errors import ValidationError
from lmsbridge.core.model import Provider
from lmsbridge.core.secret import Secret


@click.group()
def provider() -> None:
    """Content providers (e.g. a Coursera for Business organisation)."""


@provider.command("add")
@click.argument("name")
@click.option("--kind", default="coursera", show_default=True)
@click.option("--base-url", help="API base URL (default: the adapter's).")
@click.option("--org-id", required=True, help="The provider's organisation id.")
@click.option("--client-id", required=True, help="OAuth2 client id.")
@pass_app
def add(app: App, name: str, kind: str, base_url: str | None, org_id: str,
        client_id: str) -> None:
    """Register a provider. The client secret is read from standard input (or prompted)."""
    providers = sorted(n for n, a in app.registry.adapters.items()
                       if a.spec.kind == AdapterKind.PROVIDER)
    if kind not in providers:
        raise ValidationError("--kind", kind, f"must be one of {', '.join(providers) or '(none)'}")
    p = Provider(name, kind, base_url, org_id)
    if sys.stdin.isatty():
        secret = click.prompt(f"client secret for {name}", hide_input=True)
    else:
        secret = sys.stdin.read().strip()
    if not secret:
        raise ValidationError("client secret", "", "the secret read from standard input is "
                                                   "empty")
    Providers(app.store).add(p, client_id, Secret(secret))
    click.echo(f"added provider {name} ({kind}, org {org_id})")


@provider.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@pass_app
def list_(app: App, as_json: bool) -> None:
    """List providers (secrets are never shown)."""
    providers = Providers(app.store).list()
    if as_json:
        emit_json(providers)
        return
    table(app, "Providers", ["name", "kind", "org", "URL"],
          [(p.name, p.kind, p.org_id, p.base_url) for p in providers])
