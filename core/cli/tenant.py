import sys

import click

from lmsbridge.core.capabilities import HOOK_OF, AdapterKind, Capability
from lmsbridge.core.cli.app import App, emit_json, pass_app, table
from lmsbridge.core.errors import NotFound, ValidationError
from lmsbridge.core.model import GradeSync, Tenant
from lmsbridge.core.plugins import LoadedAdapter
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


# --- connection check ---------------------------------------------------------------------


@tenant.command()
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@pass_app
def check(app: App, name: str, as_json: bool) -> int:
    """Check a tenant is ready to sync: its provider, platform registrations and activated
    programs, and that its platform accepts our credentials (exit 1: one line per problem)."""
    store = app.store
    t = store.tenants.get(name)
    loaded = app.registry.adapters.get(t.kind)
    problems, summary = _core_problems(app, t, loaded)
    if loaded is None:
        problems.append(f"adapter {t.kind!r} is not loaded, so the connection cannot be "
                        "checked (see `lmsbridge adapters`)")
    elif Capability.CONNECTION_CHECK not in loaded.spec.capabilities \
            or HOOK_OF[Capability.CONNECTION_CHECK] in loaded.missing_hooks:
        problems.append(f"adapter {t.kind!r} cannot check its connection (it does not offer "
                        f"{Capability.CONNECTION_CHECK.value})")
    else:
        problems.extend(_adapter_problems(app, t))
        summary.append(f"{loaded.spec.title} accepts our credentials")
    problems = [_without_secrets(app, t, line) for line in problems]
    if as_json:
        emit_json({"tenant": t.name, "kind": t.kind, "ok": not problems, "problems": problems})
    elif problems:
        for line in problems:
            click.echo(f"{t.name}: {line}")
    else:
        click.echo(f"ok: {t.name} ({t.kind}): {'; '.join(summary)}")
    return 1 if problems else 0


def _core_problems(app: App, t: Tenant, loaded: LoadedAdapter | None) -> tuple[list[str], list[str]]:
    """What core itself needs: a provider, a platform registration for LMS kinds,
    activated programs. Returns the problems and, for the ok line, what was found."""
    store = app.store
    problems, found = [], []
    if t.provider:  # the store only holds registered providers
        found.append(f"provider {t.provider}")
    else:
        problems.append(f"no provider: set one with `lmsbridge tenant set {t.name} "
                        "--provider NAME`")
    if loaded is not None and loaded.spec.kind == AdapterKind.LMS:
        registrations = store.platforms.list(t.name)
        if registrations:
            found.append(f"{len(registrations)} platform registration(s)")
        else:
            problems.append(f"no LTI platform registration: add one with `lmsbridge platform "
                            f"add --tenant {t.name} …` (`lmsbridge platform config {t.kind}` "
                            "says what to paste in the LMS)")
    programs = store.programs.activated(t.name)
    if programs:
        found.append(f"{len(programs)} activated program(s)")
    else:
        problems.append(f"no activated program: `lmsbridge program activate --tenant {t.name} "
                        "PROGRAM_ID…`")
    return problems, found


def _adapter_problems(app: App, t: Tenant) -> list[str]:
    """The adapter's own check; its failing is a problem too, never an ok."""
    from lmsbridge.core.audit import acting_as, error_text
    from lmsbridge.core.cli.audit import actor
    from lmsbridge.core.runtime import Runtime

    try:
        with acting_as(actor()):  # the hook's audit row names the admin
            lines = app.registry.check_connection(t, Runtime(app.store, timeout=15))
    except Exception as exc:  # a broken adapter check is reported, not a traceback
        return [f"the {t.kind} connection check failed: {error_text(exc)}"]
    if lines is None:
        return [f"the {t.kind} connection check returned nothing, not a list of lines"]
    if isinstance(lines, str):
        lines = [lines]
    return [" ".join(str(line).split()) for line in lines if str(line).strip()]


def _without_secrets(app: App, t: Tenant, line: str) -> str:
    """``line`` with any of the tenant's secret values masked: adapters keep secrets out of
    their lines, this makes sure."""
    for key in app.store.tenants.secret_names(t.name):
        try:
            value = app.store.secrets.get(f"tenant:{t.name}", key).reveal()
        except NotFound:
            continue
        for part in {value, *value.splitlines()}:
            part = part.strip()
            if len(part) >= 4 and part in line:
                line = line.replace(part, "***")
    return line
