import click

from lmsbridge.core.cli.app import App, emit_json, pass_app, table, to_jsonable


@click.group()
def program() -> None:
    """Program activation: which provider programs a tenant may publish."""


@program.command()
@click.option("--tenant", required=True)
@click.argument("program_ids", nargs=-1, required=True)
@pass_app
def activate(app: App, tenant: str, program_ids: tuple[str, ...]) -> None:
    """Activate programs of the tenant's provider; their courses appear after the next
    catalog sync. Ids are checked with the provider first: one it lacks activates nothing."""
    from lmsbridge.core.engine.activation import activate as activate_programs
    from lmsbridge.core.runtime import Runtime

    done = activate_programs(app.store, app.registry, Runtime(app.store, timeout=15), tenant,
                             program_ids)
    for pid, new in done:
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
    """List a tenant's activated programs with their seats (shared by every tenant)."""
    activations = app.store.programs.activated(tenant)
    seats = {u.program_id: u for u in app.store.programs.seat_usage(tenant)}
    if as_json:
        emit_json([{**to_jsonable(a), "seats": seats[a.program_id].seats,
                    "seats_used": seats[a.program_id].used,
                    "seats_used_by_tenant": seats[a.program_id].tenant_used,
                    "seats_free": seats[a.program_id].free} for a in activations])
        return
    table(app, f"Programs activated for {tenant}",
          ["program", "name", "activated", "seats", "used (this tenant)", "free"],
          [(a.program_id, a.name or "(not synced yet)", a.activated_at.isoformat(" ", "seconds"),
            _or_unlimited(seats[a.program_id].seats),
            f"{seats[a.program_id].used} ({seats[a.program_id].tenant_used})",
            _or_unlimited(seats[a.program_id].free)) for a in activations])


def _or_unlimited(n: int | None) -> str:
    return "unlimited" if n is None else str(n)
