import click

from lmsbridge.core.cli.app import App, pass_app
from lmsbridge.core.lti.tool_urls import ToolUrls, parse_allowed_hosts


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--base-url", envvar="LMSBRIDGE_BASE_URL", metavar="URL",
              help="The tool's public URL as LMSs reach it (env LMSBRIDGE_BASE_URL); "
                   "default: the URL each request came in on, for allowed hosts only.")
@click.option("--allowed-hosts", envvar="LMSBRIDGE_ALLOWED_HOSTS", metavar="HOST[,HOST…]",
              help="Hosts requests may name in their Host header, comma-separated, a port "
                   "optional (env LMSBRIDGE_ALLOWED_HOSTS); default: any with --base-url, "
                   "else loopback only.")
@click.option("--leeway", type=click.FloatRange(0, 600), envvar="LMSBRIDGE_LTI_LEEWAY",
              default=60.0, show_default=True, help="Seconds of clock skew allowed on id_tokens.")
@pass_app
def serve(app: App, host: str, port: int, base_url: str | None, allowed_hosts: str | None,
          leeway: float) -> None:
    """Serve the LTI tool (login, launch, JWKS, content picker). For production run it under
    gunicorn: gunicorn 'lmsbridge.core.web:create_app()'."""
    from werkzeug.serving import run_simple

    from lmsbridge.core.web import create_app
    from lmsbridge.core.web.app import web_store

    if base_url is not None:
        try:
            ToolUrls(base_url)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--base-url") from None
    try:
        parse_allowed_hosts(allowed_hosts)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--allowed-hosts") from None
    app.store  # noqa: B018 - refuses a missing or unmigrated database, naming the fix
    # Web requests wait less for a lock than CLI commands do (a 503 then, not a hang).
    store = web_store(app.settings.database_url, app.settings.secret_key_file)
    wsgi = create_app(store, base_url=base_url, leeway=leeway, allowed_hosts=allowed_hosts)
    click.echo(f"LTI tool on http://{host}:{port} (login /lti/login, launch /lti/launch, "
               "JWKS /.well-known/jwks.json)")
    run_simple(host, port, wsgi, threaded=True)
