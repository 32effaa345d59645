import click

from lmsbridge.core.cli.app import App, emit_json, pass_app, table


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@pass_app
def adapters(app: App, as_json: bool) -> None:
    """List loaded adapters, their distribution, version and capabilities."""
    loaded = sorted(app.registry.adapters.values(), key=lambda a: a.spec.name)
    if as_json:
        emit_json([{
            "name": a.spec.name, "kind": a.spec.kind, "title": a.spec.title,
            "distribution": a.distribution, "version": a.version,
            "capabilities": sorted(c.value for c in a.spec.capabilities),
            "opt_outs": {c.value: r for c, r in a.spec.opt_outs.items()},
            "not_implemented": list(a.missing_hooks),
        } for a in loaded])
        return
    table(app, "Adapters", ["name", "kind", "distribution", "version", "capabilities",
                            "not implemented yet"],
          [(a.spec.name, a.spec.kind, a.distribution, a.version,
            ", ".join(sorted(c.value for c in a.spec.capabilities)),
            ", ".join(h.removeprefix("lmsbridge_") for h in a.missing_hooks)) for a in loaded])
