"""``lmsbridge catalog sync``: read activated programs from the provider now."""

from __future__ import annotations

import click

from lmsbridge.core.cli.app import App, emit_json, pass_app
from lmsbridge.core.engine import catalog as engine_catalog
from lmsbridge.core.engine.scope import utcnow
from lmsbridge.core.runtime import Runtime


@click.group()
def catalog() -> None:
    """The provider's catalog of activated programs."""


@catalog.command("sync")
@click.option("--force", is_flag=True, help="Read now even if read in the last 24 hours.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@pass_app
def sync_(app: App, force: bool, as_json: bool) -> None:
    """Read the activated programs' courses and items; retire what disappeared."""
    result = engine_catalog.sync(app.store, app.registry, Runtime(app.store), utcnow,
                                 force=force)
    if as_json:
        emit_json(result)
        return
    if not result.ran:
        click.echo("catalog was read less than 24 hours ago; --force reads it now")
        return
    click.echo(f"{result.programs} program(s) read; courses added: "
               f"{', '.join(result.added_courses) or 'none'}; retired: "
               f"{', '.join(result.retired_courses + result.retired_items) or 'none'}")
    for tenant, keys in result.stale_links.items():
        click.echo(f"{tenant}: links to retired content, remove them in the LMS: "
                   f"{', '.join(keys)}")
    if result.missing_programs:
        click.echo(f"activated but not found at any provider: "
                   f"{', '.join(result.missing_programs)}", err=True)
