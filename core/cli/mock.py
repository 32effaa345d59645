import click

from lmsbridge.core.cli.app import App, pass_app


@click.command()
@click.argument("adapter")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=0, help="0 picks a free port.")
@pass_app
def mock(app: App, adapter: str, host: str, port: int) -> None:
    """Serve an adapter's mock platform with a small seeded world (e.g. `lmsbridge mock
    canvas --port 8001`); GET /_mock/state lists its credentials and contents."""
    server = app.registry.mock_platform(adapter)
    server.seed_world()
    server.serve_forever(host, port,
                         on_ready=lambda s: click.echo(f"mock {adapter} listening on {s.url}",
                                                       err=True))
