import click

from lmsbridge.core.cli.app import App, emit_json, pass_app, table


@click.group()
def program() -> None:
    """Program activation: which provider programs a tenant may publish."""


@program.command()
@click.option("--tenant", required=True)
@click.argument("program_ids", nargs=-1, required=True)
@pass_app
def activate(app: App, tenant: str, program_ids: tuple[str, ...]) -> None:
    """Activate programs for a tenant; their courses appear after the next catalog sync."""
    for pid in program_ids:
        new = app.store.programs.activate(tenant, pid)
        click.echo(f"{'activated' if new else 'already active:'} {pid} for {tenant}")


@program.command()
@click.option("--tenant", required=True)
@click.argument("program_ids", nargs=-1, required=True)
@pass_app
def deactivate(app: App, tenant: str, program_ids: tuple[str, ...]) -> None:
    """Deactivate programs: no new publishing; existing links stay."""
    for pid in program_ids:
        app.store.programs.deactivate(tenant, pid)
        click.echo(f"deactivated {pid} for {tenant}")


@program.command("list")
@click.option("--tenant", required=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@pass_app
def list_(app: App, tenant: str, as_json: bool) -> None:
    """List a tenant's activated programs."""
    activations = app.store.programs.activated(tenant)
    if as_json:
        emit_json(activations)
        return
    table(app, f"Programs activated for {tenant}", ["program", "name", "activated"],
          [(a.program_id, a.name or "(not synced yet)", a.activated_at.isoformat(" ", "seconds"))
           for a in activations])
