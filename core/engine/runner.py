"""The nightly sync: catalog (when due), progress, then every tenant concurrently.

Per tenant: take the run lock, read rosters, create missing columns, plan into the outbox,
drain it, record the run; a learning platform (Oracle) instead gets the catalog as content and
progress as starts and completions (:mod:`.learning`). A tenant that fails (platform down,
adapter bug) is reported and never stops the others.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from attrs import define, field

from lmsbridge.core.engine import (
    catalog,
    columns,
    delivery,
    learning,
    planning,
    progress,
    roster,
)
from lmsbridge.core.engine.report import TenantReport, licenses_in_use
from lmsbridge.core.engine.runs import Heartbeat, Runs, TenantBusy
from lmsbridge.core.engine.scope import TenantScope, utcnow
from lmsbridge.core.model import RunStatus, Tenant
from lmsbridge.core.plugins import Registry
from lmsbridge.core.runtime import Runtime
from lmsbridge.core.store import Store, grade_options

# (tenant, stage, advance, total): drives progress bars; total None means "unknown yet".
Observer = Callable[[str, str, int, int | None], None]


@define
class SyncOptions:
    full: bool = False
    dry_run: bool = False
    force_catalog: bool = False
    max_tenants: int = 4
    read_roster: bool = True
    delivery: delivery.DeliveryOptions = field(factory=delivery.DeliveryOptions)
    heartbeat_every: float = 30.0


@define
class SyncReport:
    tenants: list[TenantReport] = field(factory=list)
    catalog: catalog.CatalogResult | None = None
    progress: list[progress.IngestResult] = field(factory=list)
    errors: list[str] = field(factory=list)

    @property
    def delivered_everything(self) -> bool:
        return not self.errors and all(t.delivered_everything for t in self.tenants)


class Engine:
    def __init__(self, store: Store, registry: Registry, *, runtime: Runtime | None = None,
                 now: Callable[[], datetime] = utcnow, sleep: Callable[[float], None] = time.sleep,
                 runs: Runs | None = None):
        self.store, self.registry = store, registry
        registry.audit.attach(store.record_audit)  # one audit_log row per hook call
        self.runtime = runtime or Runtime(store)
        self.now, self.sleep = now, sleep
        self.runs = runs or Runs(store, now)
        # tenant -> content keys the last catalog sync retired (counted in tenant reports)
        # and links to retired content it left on the platform (listed in them)
        self._retired: dict[str, list[str]] = {}
        self._stale: dict[str, list[str]] = {}

    def sync(self, tenant_names: list[str] | None = None, options: SyncOptions | None = None,
             observe: Observer | None = None) -> SyncReport:
        options = options or SyncOptions()
        report = SyncReport()
        tenants = ([self.store.tenants.get(n) for n in tenant_names] if tenant_names
                   else self.store.tenants.list())
        if not options.dry_run:
            self._read_provider(report, options)
        with ThreadPoolExecutor(max_workers=max(1, options.max_tenants),
                                thread_name_prefix="tenant") as pool:
            report.tenants = list(pool.map(lambda t: self.sync_tenant(t, options, observe),
                                           tenants))
        return report

    def _read_provider(self, report: SyncReport, options: SyncOptions) -> None:
        self._retired, self._stale = {}, {}
        try:
            report.catalog = catalog.sync(self.store, self.registry, self.runtime, self.now,
                                          force=options.force_catalog)
        except Exception as exc:  # stale catalog: grades still go out
            report.errors.append(f"catalog: {type(exc).__name__}: {exc}")
        else:
            report.errors.extend(f"catalog: {e}" for e in report.catalog.errors)
            self._retired = report.catalog.retired_links
            self._stale = report.catalog.stale_links
        for provider in self.store.providers.list():
            try:
                report.progress.append(progress.ingest(self.store, self.registry,
                                                       self.runtime, provider))
            except Exception as exc:
                report.errors.append(f"progress from {provider.name}: "
                                     f"{type(exc).__name__}: {exc}")

    def bind(self, tenant: Tenant) -> TenantScope:
        return TenantScope.bind(self.store, tenant, registry=self.registry,
                                runtime=self.runtime, now=self.now)

    def sync_tenant(self, tenant: Tenant, options: SyncOptions,
                    observe: Observer | None = None) -> TenantReport:
        report = TenantReport(tenant.name, dry_run=options.dry_run)
        notify = observe or (lambda *_: None)
        scope = self.bind(tenant)
        if options.dry_run:
            return self._dry_run(scope, options, report)
        try:
            run_id = self.runs.start(scope.ref)
        except TenantBusy as exc:
            report.status, report.errors = "busy", [str(exc)]
            return report
        status = RunStatus.FAILED
        try:
            with Heartbeat(self.runs, run_id, options.heartbeat_every):
                self._work(scope, options, report, notify)
            status = RunStatus.SUCCEEDED
        except Exception as exc:
            report.errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            self._conclude(scope, report)
            if status == RunStatus.SUCCEEDED and report.status != "ok":
                status = RunStatus.FAILED
            self.runs.finish(run_id, status, _summary(report))
        return report

    def _work(self, scope: TenantScope, options: SyncOptions, report: TenantReport,
              notify: Observer) -> None:
        report.stale_links = list(self._stale.get(scope.name, []))
        if learning.is_learning(self.registry, scope.tenant):
            self._learning(scope, options, report)
            self._deliver(scope, options, report, notify, shells=False)
            return
        if options.read_roster:
            checked = roster.check(scope)
            report.without_sso = checked.without_sso
            report.learners_without_sso = checked.without_sso_count
            report.errors.extend(checked.errors)
        made = columns.ensure(scope)
        report.columns_wanted, report.columns_created = len(made.wanted), made.created
        report.errors.extend(made.errors)
        plan = planning.plan(scope, full=options.full)
        report.planned, report.resent, report.unchanged = (plan.planned, plan.resent,
                                                           plan.unchanged)
        self._deliver(scope, options, report, notify, shells=True)

    def _learning(self, scope: TenantScope, options: SyncOptions,
                  report: TenantReport) -> None:
        """Content first (statements name it), then starts and completions into the outbox."""
        tenant = scope.tenant
        pushed = learning.publish(self.store, self.registry, self.runtime, tenant)
        report.errors.extend(pushed.errors)
        # Retirements the catalog sync could not hand over (platform down) are retried here.
        retired = catalog.CatalogResult()
        catalog.retire_links(self.store, self.registry, self.runtime, retired, scope.id)
        report.errors.extend(retired.errors)
        report.stale_links.extend(retired.stale_links.get(tenant.name, []))
        deactivated = (self._retired.get(tenant.name, [])
                       + retired.retired_links.get(tenant.name, []))
        report.content = {**pushed.counts, "deactivated": len(deactivated)}
        report.learners_without_identity = learning.without_identity(self.store, tenant)
        plan = planning.plan(scope, full=options.full, cells_of=learning.cells)
        report.planned, report.resent, report.unchanged = (plan.planned, plan.resent,
                                                           plan.unchanged)

    def _deliver(self, scope: TenantScope, options: SyncOptions, report: TenantReport,
                 notify: Observer, *, shells: bool) -> None:
        pending, _, _ = self.store.outbox.undelivered(scope.ref)
        notify(scope.name, "deliver", 0, pending)
        counts = delivery.drain(scope, self.sleep, options.delivery,
                                lambda n: notify(scope.name, "deliver", n, None),
                                shells=shells)
        report.sent, report.current = counts.sent, counts.current
        report.waiting_for_column = counts.waiting_for_column
        report.requeued, report.dropped = counts.requeued, counts.dropped

    def _conclude(self, scope: TenantScope, report: TenantReport) -> None:
        pending, failed, oldest = self.store.outbox.undelivered(scope.ref)
        report.pending, report.failed = pending, failed
        report.set_oldest(oldest, self.now())
        report.licenses_used, report.licenses_free = licenses_in_use(self.store, scope.name)
        if report.errors and report.status == "ok":
            report.status = "error"
        if report.status == "ok" and (pending or failed):
            report.status = "undelivered"

    def _dry_run(self, scope: TenantScope, options: SyncOptions,
                 report: TenantReport) -> TenantReport:
        learns = learning.is_learning(self.registry, scope.tenant)
        if learns:
            report.learners_without_identity = learning.without_identity(self.store,
                                                                         scope.tenant)
        else:
            report.columns_wanted = len(columns.needed(scope))
        plan = planning.plan(scope, full=options.full, dry_run=True,
                             cells_of=learning.cells if learns else grade_options.cells)
        report.planned, report.resent, report.unchanged = (plan.planned, plan.resent,
                                                           plan.unchanged)
        report.sample = plan.sample
        pending, failed, oldest = self.store.outbox.undelivered(scope.ref)
        report.pending, report.failed = pending, failed
        report.set_oldest(oldest, self.now())
        report.licenses_used, report.licenses_free = licenses_in_use(self.store, scope.name)
        return report


def _summary(report: TenantReport) -> dict[str, Any]:
    keep = ("status", "columns_created", "planned", "resent", "sent", "current", "unchanged",
            "failed", "pending", "learners_without_sso", "content")
    return {k: getattr(report, k) for k in keep}
