"""Catalog -> Oracle Learning: upsert provider content, deactivate what left the catalog.

Per course: GET by our id (``ProviderContentId`` = ``Publication.key``, an ADF ``q=`` lookup),
POST when absent, PATCH when what we would send differs from what we last sent (fingerprint in
``oracle_content``), nothing when unchanged. Content removed upstream is set inactive with a
deactivation date, so Oracle's "Process Learning Catalog Item Deactivations" job withdraws it.

Oracle content is a whole course: an item-level publication is reported as skipped.

A transient failure (throttled, 5xx, reset, cut-short answer) is raised, not swallowed: the
engine calls again later, and what was already written is found by its key and counted
unchanged, so the re-run costs lookups, not writes. A permanent problem with one course (a
value the mapping cannot send, a 4xx) is recorded in the report and the run goes on.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from typing import Any

import attrs

from lmsbridge.adapters.oracle import resources as r
from lmsbridge.adapters.oracle.client import OracleClient, OracleError
from lmsbridge.adapters.oracle.ledger import ContentLedger, fingerprint
from lmsbridge.adapters.oracle.mapping import (
    ORACLE_ATTRIBUTE_NAMES,
    ORACLE_STATUS_CODES,
    MappingError,
)
from lmsbridge.adapters.oracle.options import OracleOptions
from lmsbridge.core.api import ConfigError, Publication, evolve

log = logging.getLogger(__name__)

STATUS = ORACLE_ATTRIBUTE_NAMES["status"]
DEACTIVATION_DATE = ORACLE_ATTRIBUTE_NAMES["deactivation_date"]
INACTIVE = ORACLE_STATUS_CODES["inactive"]


@attrs.define
class PublishReport:
    """What one publish or retire call did, by outcome; ``failed`` maps content key -> why."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deactivated: int = 0
    skipped: int = 0
    failed: dict[str, str] = attrs.field(factory=dict)
    skipped_why: dict[str, str] = attrs.field(factory=dict)

    def summary(self) -> str:
        return (f"created={self.created} updated={self.updated} unchanged={self.unchanged} "
                f"deactivated={self.deactivated} skipped={self.skipped} failed={len(self.failed)}")


def _whole_run(err: OracleError) -> bool:
    """Throttled, down, or auth refused: every other course would fail the same way, so the
    run stops and the engine calls again later."""
    return err.transient or err.status in (401, 403)


class ContentPublisher:
    def __init__(self, options: OracleOptions, client: OracleClient, ledger: ContentLedger, *,
                 today: Callable[[], dt.date] = lambda: dt.datetime.now(dt.UTC).date()) -> None:
        self.options, self.client, self.ledger, self.today = options, client, ledger, today
        self._provider_id: str | None = None

    # ------------------------------------------------------------------ lookups

    def provider_id(self) -> str:
        """Our provider record in Oracle (created by the admin enabling the provider, step 7)."""
        if self._provider_id is None:
            found = self.client.find_one(r.PROVIDERS_PATH, r.PROVIDER_CODE,
                                         self.options.provider_code)
            if found is None:
                raise ConfigError(
                    f"tenant {self.ledger.tenant!r}: Oracle has no learning provider {self.options.provider_code!r}: enable it "
                    "with 'Configure External Providers' (Oracle's setup guide, step 7)")
            self._provider_id = str(found[r.PROVIDER_ID])
        return self._provider_id

    def find(self, key: str) -> dict[str, Any] | None:
        return self.client.find_one(r.content_path(self.provider_id()), r.PROVIDER_CONTENT_ID, key)

    # ------------------------------------------------------------------ publish

    def publish(self, publications: Sequence[Publication],
                report: PublishReport | None = None) -> tuple[list[Publication], PublishReport]:
        """Upsert every course; ``report`` (filled as it goes) survives a raised error."""
        report = report if report is not None else PublishReport()
        out: list[Publication] = []
        for pub in publications:
            if pub.item is not None:
                report.skipped += 1
                report.skipped_why[pub.key] = "Oracle takes whole courses; item content is not pushed"
                out.append(pub)
                continue
            try:
                ref = self._publish_one(pub, report)
            except MappingError as err:
                report.failed[pub.key] = str(err)
                out.append(pub)
                continue
            except OracleError as err:
                if _whole_run(err):
                    raise
                report.failed[pub.key] = str(err)
                out.append(pub)
                continue
            out.append(evolve(pub, platform_ref=ref))
        return out, report

    def _publish_one(self, pub: Publication, report: PublishReport) -> str:
        payload = {r.PROVIDER_CONTENT_ID: pub.key, **self.options.mapping.to_oracle(pub.course)}
        digest = fingerprint(payload)
        status = payload.get(STATUS, ORACLE_STATUS_CODES["active"])
        remote = self.find(pub.key)
        if remote is None:
            created = self.client.request(
                "POST", r.content_path(self.provider_id()), json=payload,
                headers={"Content-Type": r.ITEM_MEDIA_TYPE, r.UPSERT_MODE: "true"},
                ok=(200, 201)).json()
            ref = str(created[r.CONTENT_ID])
            self.ledger.record(pub.key, ref, digest, status)
            report.created += 1
            return ref
        ref = str(remote[r.CONTENT_ID])
        pushed = self.ledger.get(pub.key)
        if pushed is not None and pushed.fingerprint == digest and pushed.oracle_id == ref:
            report.unchanged += 1
            return ref
        if pushed is None and all(remote.get(k) == v for k, v in payload.items()) \
                and not remote.get(DEACTIVATION_DATE):
            # Pushed before our ledger existed (or it was lost) and still identical.
            self.ledger.record(pub.key, ref, digest, status)
            report.unchanged += 1
            return ref
        changes = {k: v for k, v in payload.items() if k != r.PROVIDER_CONTENT_ID}
        if remote.get(DEACTIVATION_DATE) and DEACTIVATION_DATE not in changes:
            changes[DEACTIVATION_DATE] = None  # back in the catalog: reactivate fully
        self._patch(ref, changes)
        self.ledger.record(pub.key, ref, digest, status)
        report.updated += 1
        return ref

    def _patch(self, ref: str, changes: dict[str, Any]) -> None:
        self.client.request("PATCH", r.content_path(self.provider_id(), ref), json=changes,
                            headers={"Content-Type": r.ITEM_MEDIA_TYPE}, ok=(200,))

    # ------------------------------------------------------------------ retire

    def retire(self, publications: Sequence[Publication],
               report: PublishReport | None = None) -> tuple[list[Publication], PublishReport]:
        """Deactivate each course; ``report`` (filled as it goes) survives a raised error."""
        report = report if report is not None else PublishReport()
        out: list[Publication] = []
        for pub in publications:
            try:
                remote = self.find(pub.key)
                if remote is None:
                    # Never pushed (or deleted in Oracle): nothing can dangle.
                    report.unchanged += 1
                    out.append(evolve(pub, retired=True))
                    continue
                ref = str(remote[r.CONTENT_ID])
                if remote.get(STATUS) == INACTIVE and remote.get(DEACTIVATION_DATE):
                    report.unchanged += 1
                else:
                    changes = {STATUS: INACTIVE, DEACTIVATION_DATE: self.today().isoformat()}
                    self._patch(ref, changes)
                    self.ledger.record(pub.key, ref, fingerprint(changes), INACTIVE)
                    report.deactivated += 1
                out.append(evolve(pub, retired=True, platform_ref=ref))
            except OracleError as err:
                if _whole_run(err):
                    raise
                report.failed[pub.key] = str(err)
                out.append(pub)
        return out, report
