"""An in-process adapter implementing every hook, recording the calls it gets."""

from __future__ import annotations

from datetime import UTC, datetime

import attrs

from lmsbridge.core import AdapterKind, AdapterSpec, Capability, hookimpl
from lmsbridge.core.model import (
    Course,
    DeliveryResult,
    Item,
    Outcome,
    Program,
    Progress,
    RosterMember,
)
from lmsbridge.core.plugins import PluginSource


class ToyAdapter:
    def __init__(self, name: str, kind: AdapterKind = AdapterKind.LMS):
        self.name, self.kind, self.calls = name, kind, []

    @hookimpl
    def lmsbridge_adapter(self):
        return AdapterSpec(self.name, self.kind, f"Toy {self.name}", list(Capability))

    @hookimpl
    def lmsbridge_mock_platform(self):
        self.calls.append(("mock_platform",))
        return f"mock of {self.name}"

    @hookimpl
    def lmsbridge_ensure_columns(self, tenant, context, columns):
        self.calls.append(("ensure_columns", tenant.name, context.context_id))
        return [attrs.evolve(c, platform_ref=f"{self.name}-{c.key}") for c in columns]

    @hookimpl
    def lmsbridge_write_grades(self, tenant, context, deliveries):
        self.calls.append(("write_grades", tenant.name, len(deliveries)))
        return [DeliveryResult(d.dedupe_key, Outcome.DELIVERED) for d in deliveries]

    @hookimpl
    def lmsbridge_read_roster(self, tenant, context):
        self.calls.append(("read_roster", tenant.name))
        return iter([RosterMember("u1", ["Learner"], email="a@uni.test")])

    @hookimpl
    def lmsbridge_publish_content(self, tenant, context, publications):
        self.calls.append(("publish_content", tenant.name))
        return [attrs.evolve(p, platform_ref=f"ref-{p.key}") for p in publications]

    @hookimpl
    def lmsbridge_retire_content(self, tenant, context, publications):
        self.calls.append(("retire_content", tenant.name))
        return [attrs.evolve(p, retired=True) for p in publications]

    @hookimpl
    def lmsbridge_read_catalog(self, provider, program_ids):
        self.calls.append(("read_catalog", provider.name, tuple(program_ids)))
        return [
            Program(
                pid,
                f"Program {pid}",
                10,
                [Course("c1", pid, "Course 1", items=[Item("i1", "c1", "Quiz")])],
            )
            for pid in program_ids
        ]

    @hookimpl
    def lmsbridge_read_progress(self, provider, since):
        self.calls.append(("read_progress", provider.name, since))
        return [Progress("l1", "c1", datetime(2026, 11, 1, tzinfo=UTC), score=0.5)]


def source(
    plugin: object, name: str | None = None, distribution: str = "toy-dist", version: str = "1.0"
) -> PluginSource:
    return PluginSource(
        name or getattr(plugin, "name", "toy"), distribution, version, lambda: plugin
    )
