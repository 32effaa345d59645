"""``lmsbridge sync``: the nightly job."""

from __future__ import annotations

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from lmsbridge.core.cli.app import App, emit_json, pass_app, table
from lmsbridge.core.engine.delivery import DeliveryOptions
from lmsbridge.core.engine.runner import Engine, SyncOptions, SyncReport

# The run finished but not everything was synced: a provider, catalog or tenant failed, or
# a grade did not reach its platform (cron and CI read this).
UNDELIVERED = 3


@click.command()
@click.option("--tenant", "tenants", multiple=True, help="Only this tenant (repeatable).")
@click.option("--full", is_flag=True, help="Re-send every grade, not only new and changed.")
@click.option("--dry-run", is_flag=True, help="Print the plan; write and send nothing.")
@click.option("--force-catalog", is_flag=True, help="Read the catalog even if read today.")
@click.option("--batch-size", type=click.IntRange(1, 1000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@pass_app
def sync(app: App, tenants: tuple[str, ...], full: bool, dry_run: bool, force_catalog: bool,
         batch_size: int, as_json: bool) -> int:
    """Sync catalog, progress and grades for every tenant (exit 3: something undelivered)."""
    engine = Engine(app.store, app.registry)
    options = SyncOptions(full=full, dry_run=dry_run, force_catalog=force_catalog,
                          delivery=DeliveryOptions(batch_size=batch_size))
    if as_json:
        report = engine.sync(list(tenants) or None, options)
        emit_json({"delivered_everything": report.delivered_everything,
                   "tenants": [t.as_dict() for t in report.tenants],
                   "catalog": report.catalog, "progress": report.progress,
                   "errors": report.errors})
    else:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      console=app.err, transient=True) as bars:
            tasks: dict[str, int] = {}

            def observe(tenant: str, stage: str, advance: int, total: int | None) -> None:
                if tenant not in tasks:
                    tasks[tenant] = bars.add_task(f"{tenant}: delivering", total=total)
                bars.update(tasks[tenant], advance=advance,
                            **({"total": total} if total is not None else {}))

            report = engine.sync(list(tenants) or None, options, observe)
        show(app, report)
    if not dry_run and not report.delivered_everything:
        what = ("the sync did not complete (see the errors above)" if report.errors else
                "not every grade was delivered (see the report)")
        click.echo(what, err=True)
        return UNDELIVERED
    return 0


def show(app: App, report: SyncReport) -> None:
    if report.catalog is not None and report.catalog.ran:
        c = report.catalog
        click.echo(f"catalog: {c.programs} program(s), {len(c.added_courses)} course(s) added, "
                   f"{len(c.retired_courses)} course(s) and {len(c.retired_items)} item(s) "
                   "retired" + (f"; not found upstream: {', '.join(c.missing_programs)}"
                                if c.missing_programs else ""))
    for p in report.progress:
        click.echo(f"progress from {p.provider}: {p.read} read, {p.new} new, "
                   f"{p.changed} changed")
    rows = []
    for t in report.tenants:
        oldest = "" if t.oldest_pending_hours is None else f"{t.oldest_pending_hours} h"
        if t.overdue:
            oldest += " (> 72 h!)"
        licenses = f"{t.licenses_used} / {'?' if t.licenses_free is None else t.licenses_free}"
        rows.append((t.tenant, t.status, t.columns_created, t.planned + t.resent, t.sent,
                     t.unchanged + t.current, t.failed, t.pending, t.learners_without_sso,
                     licenses, oldest))
    title = "Sync plan (dry run)" if any(t.dry_run for t in report.tenants) else "Sync"
    table(app, title, ["tenant", "status", "columns created", "planned", "sent", "unchanged",
                       "failed", "pending", "without SSO", "licenses used / free",
                       "oldest pending"], rows)
    for t in report.tenants:
        for error in t.errors:
            click.echo(f"{t.tenant}: {error}", err=True)
        for context, learners in t.without_sso.items():
            click.echo(f"{t.tenant}: in {context}, enrolled but never launched: "
                       f"{', '.join(learners)}")
        if t.stale_links:
            click.echo(f"{t.tenant}: links to retired content, remove them in the LMS: "
                       f"{', '.join(t.stale_links)}")
        if t.content:  # learning platforms (Oracle): what the content push did
            click.echo(f"{t.tenant}: content " + ", ".join(
                f"{n} {what}" for what, n in sorted(t.content.items())))
        if t.learners_without_identity:
            click.echo(f"{t.tenant}: not sent, no email or user name to identify them: "
                       f"{', '.join(t.learners_without_identity)}")
    for error in report.errors:
        click.echo(f"error: {error}", err=True)
