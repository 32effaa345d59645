import click

from lmsbridge.core.cli.app import App, pass_app


@click.group()
def db() -> None:
    """The database schema."""


@db.command()
@pass_app
def upgrade(app: App) -> None:
    """Create or migrate the schema to this version of lmsbridge."""
    store = app.raw_store
    before = store.revision()
    store.upgrade()
    after = store.revision()
    if before == after:
        click.echo(f"{app.safe_url}: already at revision {after}")
    else:
        click.echo(f"{app.safe_url}: upgraded {before or 'empty'} -> {after}")
