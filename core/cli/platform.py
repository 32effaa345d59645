import json

import click

from lmsbridge.core.cli.app import App, emit_json, pass_app, table
from lmsbridge.core.errors import ValidationError
from lmsbridge.core.lti.setup import tool_urls
from lmsbridge.core.model import PlatformRegistration


@click.group()
def platform() -> None:
    """LTI 1.3 platform registrations."""


@platform.command("add")
@click.option("--tenant", required=True)
@click.option("--issuer", required=True, help="The platform's iss, e.g. "
              "https://canvas.instructure.com.")
@click.option("--client-id", required=True)
@click.option("--deployment-id", "deployment_ids", multiple=True, required=True,
              help="Repeatable: one per deployment of the tool.")
@click.option("--auth-login-url", required=True, help="The platform's OIDC authorization URL.")
@click.option("--auth-token-url", required=True, help="The platform's OAuth2 token URL.")
@click.option("--jwks-url", required=True, help="The platform's public key set URL.")
@click.option("--token-audience", help="Client assertion audience, when it differs from the "
              "token URL (D2L: https://api.brightspace.com/auth/token).")
@pass_app
def add(app: App, tenant: str, issuer: str, client_id: str, deployment_ids: tuple[str, ...],
        auth_login_url: str, auth_token_url: str, jwks_url: str,
        token_audience: str | None) -> None:
    """Register the platform a tenant launches us from."""
    reg = PlatformRegistration(tenant=tenant, issuer=issuer, client_id=client_id,
                               deployment_ids=deployment_ids, auth_login_url=auth_login_url,
                               auth_token_url=auth_token_url, jwks_url=jwks_url,
                               token_audience=token_audience)
    app.store.platforms.add(reg)
    click.echo(f"registered {issuer} (client {client_id}, "
               f"{len(reg.deployment_ids)} deployment(s)) for tenant {tenant}")


@platform.command("list")
@click.option("--tenant")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@pass_app
def list_(app: App, tenant: str | None, as_json: bool) -> None:
    """List platform registrations."""
    regs = app.store.platforms.list(tenant)
    if as_json:
        emit_json(regs)
        return
    table(app, "Platforms", ["tenant", "issuer", "client id", "deployments"],
          [(r.tenant, r.issuer, r.client_id, ", ".join(r.deployment_ids)) for r in regs])


@platform.command("config")
@click.argument("lms", metavar="KIND")
@click.option("--base-url", required=True, envvar="LMSBRIDGE_BASE_URL",
              help="The tool's public https URL (as served by `lmsbridge serve`).")
@click.option("--tenant", help="Name the tool after this tenant (must exist, on this LMS).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@pass_app
def config(app: App, lms: str, base_url: str, tenant: str | None, as_json: bool) -> None:
    """Print what an LMS admin pastes to register the tool (KIND: an adapter, e.g. canvas,
    moodle, blackboard, d2l)."""
    urls = tool_urls(base_url)
    kinds = app.registry.setup_adapters()
    if lms not in kinds:
        raise ValidationError("KIND", lms, f"must be one of {', '.join(kinds) or 'none'}")
    if tenant is not None:
        kind = app.store.tenants.get(tenant).kind
        if kind != lms:
            raise ValidationError("--tenant", tenant, f"is a {kind} tenant, not {lms}")
    cfg = app.registry.platform_setup(lms, urls, tenant)
    if as_json:
        emit_json(cfg.as_json())
        return
    click.echo(f"Where: {cfg.where}")
    width = max(len(label) for label, _ in cfg.fields)
    for label, value in cfg.fields:
        click.echo(f"  {label.ljust(width)}  {value}")
    if cfg.document is not None:
        click.echo(json.dumps(cfg.document, indent=2))
    for note in cfg.notes:
        click.echo(f"- {note}")
