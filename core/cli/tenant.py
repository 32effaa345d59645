import sys

import click

from lmsbridge.core.capabilities import AdapterKind
from lmsbridge.core.cli.app import App, emit_json, pass_app, table
from lmsbridge.core.errors import ValidationError
from lmsbridge.core.model import GradeSync, Tenant
from lmsbridge.core.secret import Secret

GRADE_SYNC = click.Choice([g.value for g in GradeSync])


@click.group()
def tenant() -> None:
    """Tenants: one LMS instance or Oracle pod each."""


def _check_kind(app: App, kind: str) -> None:
    served = sorted(name for name, a in app.registry.adapters.items()
                    if a.spec.kind in (AdapterKind.LMS, AdapterKind.LEARNING))
    if kind not in served:
        raise ValidationError("--kind", kind, f"must be one of {', '.join(served)}")


@tenant.command("add")
@click.argument("name")
@click.option("--kind", required=True, help="Adapter serving it: canvas, moodle, blackboard, "
              "d2l, oracle, or a third-party adapter's name.")
@click.option("--grade-sync", type=GRADE_SYNC, default="item", show_default=True,
              help="item = Option A, course = Option B, final = final grade only.")
@click.option("--base-url", help="The LMS or pod URL, for REST calls.")
@click.option("--grade-sync-without-sso", is_flag=True,
              help="Option A: one launch per link in a course connects it for everyone.")
@click.option("--full-sync", is_flag=True, help="Re-send every grade each night "
              "(default: only new and changed grades).")
@click.option("--provider", help="The provider organisation whose programs it may activate "
              "(default: the only one registered).")
@click.option("--trust-lms-email/--no-trust-lms-email", default=True, show_default=True,
              help="Link a first SSO to a learner by the LMS's email (institution-managed "
              "emails); otherwise by the LMS account alone.")
@pass_app
def add(app: App, name: str, kind: str, grade_sync: str, base_url: str | None,
        grade_sync_without_sso: bool, full_sync: bool, provider: str | None,
        trust_lms_email: bool) -> None:
    """Add a tenant."""
    _check_kind(app, kind)
    t = Tenant(name=name, kind=kind, grade_sync=grade_sync, base_url=base_url,
               grade_sync_without_sso=grade_sync_without_sso, incremental=not full_sync,
               provider=provider or _only_provider(app), trust_lms_email=trust_lms_email)
    app.store.tenants.add(t)
    owner = f", provider {t.provider}" if t.provider else ", no provider yet"
    click.echo(f"added tenant {t.name} ({t.kind}, grade sync {t.grade_sync}{owner})")


def _only_provider(app: App) -> str | None:
    from lmsbridge.core.engine.providers import Providers

    names = [p.name for p in Providers(app.store).list()]
    if len(names) > 1:
        raise ValidationError("--provider", "", f"name one of {', '.join(names)}")
    return names[0] if names else None


@tenant.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@pass_app
def list_(app: App, as_json: bool) -> None:
    """List tenants."""
    tenants = app.store.tenants.list()
    if as_json:
        emit_json(tenants)
        return
    table(app, "Tenants", ["name", "kind", "provider", "grade sync", "without SSO",
                           "incremental", "URL"],
          [(t.name, t.kind, t.provider or "-", t.grade_sync, t.grade_sync_without_sso,
            t.incremental, t.base_url) for t in tenants])


@tenant.command()
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@pass_app
def show(app: App, name: str, as_json: bool) -> None:
    """Show a tenant with its platforms, activated programs and secret names."""
    store = app.store
    t = store.tenants.get(name)
    platforms = store.platforms.list(name)
    programs = store.programs.activated(name)
    secrets = store.tenants.secret_names(name)
    if as_json:
        emit_json({"tenant": t, "platforms": platforms, "programs": programs,
                   "secrets": secrets})
        return
    table(app, f"Tenant {t.name}", ["setting", "value"],
          [("kind", t.kind), ("provider", t.provider or "none yet"),
           ("trusts LMS emails", t.trust_lms_email), ("grade sync", t.grade_sync),
           ("grade sync without SSO", t.grade_sync_without_sso),
           ("incremental", t.incremental), ("URL", t.base_url),
           ("secrets", ", ".join(secrets) or "none")])
    table(app, "Platforms", ["issuer", "client id", "deployments", "token URL"],
          [(p.issuer, p.client_id, ", ".join(p.deployment_ids), p.auth_token_url)
           for p in platforms])
    table(app, "Activated programs", ["program", "name", "activated"],
          [(p.program_id, p.name or "(not synced yet)", p.activated_at.isoformat(" ", "seconds"))
           for p in programs])


@tenant.command("set-secret")
@click.argument("name")
@click.argument("key")
@pass_app
def set_secret(app: App, name: str, key: str) -> None:
    """Store a secret (API token, client secret) for a tenant, encrypted.

    The value is read from standard input, or prompted for without echo — never taken as an
    argument, where it would land in shell history and process lists.
    """
    store = app.store
    store.tenants.get(name)
    if sys.stdin.isatty():
        value = click.prompt(f"{key} for {name}", hide_input=True)
    else:
        value = sys.stdin.read().strip()
    if not value:
        raise ValidationError(key, "", "the secret read from standard input is empty")
    store.tenants.set_secret(name, key, Secret(value))
    click.echo(f"stored secret {key} for tenant {name}")


# --- sync settings ------------------------------------------------------------------------


@tenant.command("set")
@click.argument("name")
@click.option("--grade-sync", type=GRADE_SYNC, help="Change the grade-sync option (asks to "
              "confirm: links must be republished and learners pass SSO again).")
@click.option("--grade-sync-without-sso/--no-grade-sync-without-sso", default=None,
              help="Option A: one launch per link connects it for everyone.")
@click.option("--full-sync/--incremental", default=None,
              help="Re-send every grade nightly, or only new and changed ones.")
@click.option("--provider", help="The provider organisation it belongs to (only while no "
              "program of another provider is activated).")
@click.option("--trust-lms-email/--no-trust-lms-email", default=None,
              help="Link first SSOs by the LMS's email, or by the LMS account alone.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_app
def set_(app: App, name: str, grade_sync: str | None, grade_sync_without_sso: bool | None,
         full_sync: bool | None, provider: str | None, trust_lms_email: bool | None,
         yes: bool) -> None:
    """Change a tenant's sync settings."""
    from lmsbridge.core.engine import grade_option
    from lmsbridge.core.model import evolve

    store = app.store
    current = store.tenants.get(name)
    if all(v is None for v in (grade_sync, grade_sync_without_sso, full_sync, provider,
                               trust_lms_email)):
        raise ValidationError("tenant set", name, "give at least one setting to change")
    changes: dict = {}
    if provider is not None and provider != current.provider:
        changes["provider"] = provider
    if trust_lms_email is not None:
        changes["trust_lms_email"] = trust_lms_email
    if grade_sync_without_sso is not None:
        changes["grade_sync_without_sso"] = grade_sync_without_sso
    if full_sync is not None:
        changes["incremental"] = not full_sync
    if changes:
        store.tenants.update(evolve(current, **changes))
    if grade_sync is not None and grade_sync != current.grade_sync:
        option = GradeSync(grade_sync)
        links = grade_option.links_of_other_options(store, current, option)
        click.echo(f"Changing {name} from grade sync '{current.grade_sync}' to '{option}': "
                   f"{links} published link(s) will stop receiving grades until republished.")
        if not yes:
            click.confirm("Continue?", abort=True)
        change = grade_option.change(store, name, option)
        click.echo(f"{name}: grade sync is now '{option}'; {change.links_to_republish} link(s) "
                   f"marked as needing republishing, {change.cancelled_deliveries} pending "
                   "grade write(s) cancelled.")
        for line in change.instructions():
            click.echo(f"  - {line}")
    elif changes:
        click.echo(f"updated tenant {name}")
