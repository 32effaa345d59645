"""The domain model: what lmsbridge knows about tenants, content, learners and grades.

Every class is a frozen attrs class that validates on construction; a bad value raises
:class:`~lmsbridge.core.errors.ValidationError` naming the field and the value. Secrets are
held as :class:`~lmsbridge.core.secret.Secret` and never appear in a repr.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import attrs
from attrs import field, frozen

from lmsbridge.core import keys
from lmsbridge.core import validate as v
from lmsbridge.core.errors import ValidationError


class GradeSync(enum.StrEnum):
    """How grades flow back to an LMS; exactly one per tenant (LTI allows one tool per domain)."""

    ITEM = "item"  # Option A: a link and a column per gradable item
    COURSE = "course"  # Option B: a course link; columns for its items after the first SSO
    FINAL = "final"  # one column per course link holding the final grade


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # rejected for good (e.g. 4xx); retrying would not help


class Outcome(enum.StrEnum):
    """What a platform said to one grade write."""

    DELIVERED = "delivered"
    CURRENT = "current"  # the platform already holds this or a newer value: counts as delivered
    RETRY = "retry"  # transient: throttled, 5xx, timeout
    REJECTED = "rejected"  # permanent: the write can never succeed as it is


class RunStatus(enum.StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ABANDONED = "abandoned"  # heartbeat stopped: the runner died


class MemberStatus(enum.StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    DELETED = "deleted"


@frozen
class Tenant:
    """One LMS instance or Oracle pod, served by the adapter named by ``kind``."""

    name: str = field(validator=v.slug)
    kind: str = field(validator=v.slug)
    grade_sync: GradeSync = field(default=GradeSync.ITEM, converter=v.enum_of(GradeSync))
    grade_sync_without_sso: bool = field(default=False, validator=v.boolean)
    incremental: bool = field(default=True, validator=v.boolean)
    base_url: str | None = field(default=None, validator=v.optional(v.url))
    # Adapter-specific settings (JSON-able); each adapter validates its own keys.
    options: dict[str, Any] = field(factory=dict, validator=v.json_object, hash=False)
    # The provider organisation whose programs the tenant may activate (None: not chosen yet).
    provider: str | None = field(default=None, validator=v.optional(v.slug))
    # First SSO links an LMS account to a learner of this tenant by email only when the LMS
    # manages its users' emails (institution accounts). False: link by (issuer, sub) alone.
    trust_lms_email: bool = field(default=True, validator=v.boolean)


@frozen
class Provider:
    """The content provider's account (e.g. a Coursera organisation) we read catalog and progress from."""

    name: str = field(validator=v.slug)
    kind: str = field(default="coursera", validator=v.slug)
    base_url: str | None = field(default=None, validator=v.optional(v.url))
    org_id: str | None = field(default=None, validator=v.optional(v.text))


@frozen
class PlatformRegistration:
    """The LTI 1.3 registration of our tool on a tenant's platform."""

    tenant: str = field(validator=v.slug)
    issuer: str = field(validator=v.url)
    client_id: str = field(validator=v.text)
    deployment_ids: tuple[str, ...] = field(converter=v.to_tuple, validator=v.non_empty_texts)
    auth_login_url: str = field(validator=v.url)
    auth_token_url: str = field(validator=v.url)
    jwks_url: str = field(validator=v.url)
    # D2L signs client assertions for an audience that differs from its token URL.
    token_audience: str | None = field(default=None, validator=v.optional(v.text))


@frozen
class Item:
    """A gradable (or not) piece of a course: quiz, assignment, peer review."""

    id: str = field(validator=v.text)
    course_id: str = field(validator=v.text)
    name: str = field(validator=v.text)
    gradable: bool = field(default=True, validator=v.boolean)
    max_score: float = field(default=1.0, validator=v.positive)
    retired: bool = field(default=False, validator=v.boolean)


@frozen
class Course:
    id: str = field(validator=v.text)
    program_id: str = field(validator=v.text)
    name: str = field(validator=v.text)
    url: str | None = field(default=None, validator=v.optional(v.url))
    description: str | None = None
    items: tuple[Item, ...] = field(default=(), converter=v.to_tuple)
    retired: bool = field(default=False, validator=v.boolean)


@frozen
class Program:
    """A learning program: the unit an institution activates and holds licenses for."""

    id: str = field(validator=v.text)
    name: str = field(validator=v.text)
    seats: int | None = field(default=None, validator=v.optional(v.non_negative))
    courses: tuple[Course, ...] = field(default=(), converter=v.to_tuple)


@frozen
class Learner:
    """A provider-side learner. A launch may carry no name or email (LTI allows no PII)."""

    id: str = field(validator=v.text)
    email: str | None = field(default=None, validator=v.optional(v.email))
    name: str | None = None
    username: str | None = None


@frozen
class Context:
    """An LMS course shell, with the LTI service endpoints its launches advertised."""

    tenant: str = field(validator=v.slug)
    context_id: str = field(validator=v.text)
    title: str | None = None
    lineitems_url: str | None = field(default=None, validator=v.optional(v.url))
    memberships_url: str | None = field(default=None, validator=v.optional(v.url))


@frozen
class Publication:
    """Provider content to publish on a platform: what it is, and where it goes.

    ``context_id`` is the LMS course shell (None on platforms without one, e.g. Oracle
    Learning). The adapter returns it with ``platform_ref`` set to the platform's id.
    """

    tenant: str = field(validator=v.slug)
    program: Program
    course: Course
    item: Item | None = None
    context_id: str | None = field(default=None, validator=v.optional(v.text))
    platform_ref: str | None = None
    retired: bool = field(default=False, validator=v.boolean)

    @property
    def key(self) -> str:
        """Our stable identity of the content: ``item:<id>`` or ``course:<id>``."""
        return keys.content(self.course.id, self.item.id if self.item else None)


@frozen
class GradebookColumn:
    """A gradebook column (AGS line item, Canvas assignment, D2L grade object…).

    ``key`` is ours and stable (e.g. ``item:<id>``); ``platform_ref`` is the platform's id once
    the column exists there.
    """

    tenant: str = field(validator=v.slug)
    context_id: str = field(validator=v.text)
    key: str = field(validator=v.text)
    label: str = field(validator=v.text)
    score_maximum: float = field(default=1.0, validator=v.positive)
    resource_link_id: str | None = None
    platform_ref: str | None = None


@frozen
class Grade:
    """A learner's score on an item (or a course's final grade when ``item_id`` is None)."""

    learner_id: str = field(validator=v.text)
    course_id: str = field(validator=v.text)
    score: float = field(validator=v.non_negative)
    max_score: float = field(validator=v.positive)
    updated_at: datetime = field(validator=v.aware)
    item_id: str | None = field(default=None, validator=v.optional(v.text))
    revision: int = field(default=0, validator=v.non_negative)

    def __attrs_post_init__(self) -> None:
        if self.score > self.max_score:
            raise ValidationError("Grade.score", self.score,
                                  f"must not exceed max_score {self.max_score}")


def dedupe_key(tenant: str, context_id: str, column_key: str, learner_id: str,
               revision: int) -> str:
    """The outbox identity of one grade write: the same grade revision is sent at most once."""
    return keys.dedupe(tenant, context_id, column_key, learner_id, revision)


class LearningEvent(enum.StrEnum):
    """What a learning-platform delivery reports about a learner and a course."""

    START = "start"  # the learner started the course
    COMPLETION = "completion"  # the learner completed it (with the final grade as score)


@frozen
class LearnerIdentity:
    """Who a learner is to a platform that knows people by email or user name, not LMS id."""

    id: str = field(validator=v.text)
    email: str | None = None
    username: str | None = None
    name: str | None = None


@frozen
class LearningContent:
    """The course a learning-platform delivery is about; ``url`` None when our catalog has
    none (the adapter may know it from what it published)."""

    course_id: str = field(validator=v.text)
    url: str | None = None
    title: str | None = None


@frozen
class Completion:
    """A learning-platform delivery as typed values: who, which course, which event. The
    time (``Delivery.timestamp``), ``started_at``, score and revision are the delivery's."""

    learner: LearnerIdentity
    content: LearningContent
    event: LearningEvent = field(converter=v.enum_of(LearningEvent))


@frozen
class Delivery:
    """One grade write in the outbox, addressed to a platform user in a column."""

    tenant: str = field(validator=v.slug)
    context_id: str = field(validator=v.text)
    column_key: str = field(validator=v.text)
    learner_id: str = field(validator=v.text)
    lms_user_id: str = field(validator=v.text)
    score: float = field(validator=v.non_negative)
    max_score: float = field(validator=v.positive)
    timestamp: datetime = field(validator=v.aware)
    grade_revision: int = field(default=0, validator=v.non_negative)
    column_ref: str | None = None
    # When the learner started the work (xAPI "initialized" for Oracle); None if unknown.
    started_at: datetime | None = field(default=None, validator=v.optional(v.aware))
    status: DeliveryStatus = field(default=DeliveryStatus.PENDING,
                                   converter=v.enum_of(DeliveryStatus))
    attempts: int = field(default=0, validator=v.non_negative)
    # Set for a learning platform (no columns, no LMS user ids), by the engine when it loads
    # the delivery: the learner's identity and the course, typed.
    completion: Completion | None = field(default=None, kw_only=True)
    dedupe_key: str = field(init=False)

    @dedupe_key.default
    def _dedupe(self) -> str:
        return dedupe_key(self.tenant, self.context_id, self.column_key, self.learner_id,
                          self.grade_revision)

    def __attrs_post_init__(self) -> None:
        if self.score > self.max_score:
            raise ValidationError("Delivery.score", self.score,
                                  f"must not exceed max_score {self.max_score}")


@frozen
class DeliveryResult:
    """What the adapter reports for one delivery it was asked to write."""

    dedupe_key: str = field(validator=v.text)
    outcome: Outcome = field(converter=v.enum_of(Outcome))
    detail: str = ""
    retry_after: float | None = field(default=None, validator=v.optional(v.non_negative))


@frozen
class RosterMember:
    """A member of an LMS course as the platform reports it."""

    user_id: str = field(validator=v.text)
    roles: tuple[str, ...] = field(default=(), converter=v.to_tuple, validator=v.texts)
    status: MemberStatus = field(default=MemberStatus.ACTIVE, converter=v.enum_of(MemberStatus))
    name: str | None = None
    email: str | None = None
    sourced_id: str | None = None


@frozen
class Progress:
    """A learner's progress on provider content as the provider reports it."""

    learner_id: str = field(validator=v.text)
    course_id: str = field(validator=v.text)
    updated_at: datetime = field(validator=v.aware)
    item_id: str | None = None
    email: str | None = None
    score: float | None = field(default=None, validator=v.optional(v.non_negative))
    max_score: float = field(default=1.0, validator=v.positive)
    started_at: datetime | None = field(default=None, validator=v.optional(v.aware))
    completed_at: datetime | None = field(default=None, validator=v.optional(v.aware))


def evolve(obj, **changes):
    """attrs.evolve, re-exported so callers need one import for the model."""
    return attrs.evolve(obj, **changes)
