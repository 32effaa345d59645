"""What an adapter declares about itself: its name, kind and capabilities, as data.

Each capability is served by exactly one hook. Which capabilities are *core* depends on the
adapter's kind: the conformance suite fails an adapter missing a core capability and skips
optional ones, with the reason the adapter gave when it opted out.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

from attrs import field, frozen

from lmsbridge.core import validate as v
from lmsbridge.core.errors import ValidationError


class AdapterKind(enum.StrEnum):
    LMS = "lms"  # Moodle, Canvas, Blackboard, D2L: LTI platform + REST
    LEARNING = "learning"  # Oracle Learning: content push + xAPI completions
    PROVIDER = "provider"  # the content source: catalog and progress


class Capability(enum.StrEnum):
    GRADEBOOK_COLUMNS = "gradebook_columns"
    GRADE_WRITE = "grade_write"
    ROSTER_READ = "roster_read"
    CONTENT_PUBLISH = "content_publish"
    CONTENT_RETIRE = "content_retire"
    CATALOG_READ = "catalog_read"
    PROGRESS_READ = "progress_read"
    CONNECTION_CHECK = "connection_check"  # optional for every kind


# The hook that serves each capability; tests/test_hooks.py checks these are exactly the
# hookspecs that take a tenant or a provider, one capability each.
HOOK_OF: Mapping[Capability, str] = {
    Capability.GRADEBOOK_COLUMNS: "lmsbridge_ensure_columns",
    Capability.GRADE_WRITE: "lmsbridge_write_grades",
    Capability.ROSTER_READ: "lmsbridge_read_roster",
    Capability.CONTENT_PUBLISH: "lmsbridge_publish_content",
    Capability.CONTENT_RETIRE: "lmsbridge_retire_content",
    Capability.CATALOG_READ: "lmsbridge_read_catalog",
    Capability.PROGRESS_READ: "lmsbridge_read_progress",
    Capability.CONNECTION_CHECK: "lmsbridge_check_connection",
}

CORE: Mapping[AdapterKind, frozenset[Capability]] = {
    AdapterKind.LMS: frozenset({Capability.GRADEBOOK_COLUMNS, Capability.GRADE_WRITE,
                                Capability.ROSTER_READ, Capability.CONTENT_PUBLISH}),
    AdapterKind.LEARNING: frozenset({Capability.CONTENT_PUBLISH, Capability.CONTENT_RETIRE,
                                     Capability.GRADE_WRITE}),
    AdapterKind.PROVIDER: frozenset({Capability.CATALOG_READ, Capability.PROGRESS_READ}),
}


def _capabilities(value: object) -> frozenset[Capability]:
    items = value if isinstance(value, list | tuple | set | frozenset) else (value,)
    out = set()
    for item in items:
        try:
            out.add(Capability(item))
        except ValueError:
            allowed = ", ".join(c.value for c in Capability)
            raise ValidationError("AdapterSpec.capabilities", item,
                                  f"must be one of {allowed}") from None
    return frozenset(out)


def _opt_outs(value: object) -> Mapping[Capability, str]:
    if not isinstance(value, Mapping):
        raise ValidationError("AdapterSpec.opt_outs", value, "must be a mapping")
    out = {}
    for cap, reason in value.items():
        (capability,) = _capabilities([cap])
        if not isinstance(reason, str) or not reason.strip():
            raise ValidationError(f"AdapterSpec.opt_outs[{capability.value}]", reason,
                                  "an opt-out must give its reason")
        out[capability] = reason
    return out


@frozen
class AdapterSpec:
    """Returned by an adapter's ``lmsbridge_adapter`` hook.

    ``opt_outs`` lists core capabilities the adapter deliberately does not offer, each with
    the reason (e.g. "Moodle has no web service that creates a grade item").
    """

    name: str = field(validator=v.slug)
    kind: AdapterKind = field(converter=v.enum_of(AdapterKind))
    title: str = field(validator=v.text)
    capabilities: frozenset[Capability] = field(converter=_capabilities)
    opt_outs: Mapping[Capability, str] = field(factory=dict, converter=_opt_outs)
    # Requests in flight per tenant the platform tolerates; the engine never exceeds it.
    max_in_flight: int = field(default=4, validator=v.positive)

    def __attrs_post_init__(self) -> None:
        both = self.capabilities & set(self.opt_outs)
        if both:
            names = ", ".join(sorted(c.value for c in both))
            raise ValidationError("AdapterSpec.opt_outs", names,
                                  "cannot both declare and opt out of a capability")

    @property
    def missing_core(self) -> frozenset[Capability]:
        """Core capabilities neither declared nor opted out of: a conformance failure."""
        return CORE[self.kind] - self.capabilities - set(self.opt_outs)
