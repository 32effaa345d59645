"""What a mock platform offers the conformance suite, besides being a running MockServer.

The suite seeds a mock through these methods and reads back what the platform holds, so it
can check what an adapter did without trusting the adapter's own answers. Every method is
optional: a capability's tests call only the ones they need, and a mock that lacks one
fails those tests with a message naming it. See docs/adapters.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from attrs import field, frozen

from lmsbridge.core import validate as v

if TYPE_CHECKING:
    from lmsbridge.conformance.mock import FaultSet
    from lmsbridge.core.model import Context, Program, Progress, Provider, Tenant
    from lmsbridge.core.store import Store

#: Role names are LIS context roles; adapters report them as full URIs (see RosterMember).
LIS_ROLE = "http://purl.imsglobal.org/vocab/lis/v2/membership#"


@frozen
class SeedMember:
    """A person to enrol in a seeded context. ``roles`` are LIS short names (``Learner``,
    ``Instructor``, ``TeachingAssistant``, ``ContentDeveloper``, ``Mentor``)."""

    user_id: str = field(validator=v.text)
    name: str = field(validator=v.text)
    email: str | None = None
    roles: tuple[str, ...] = field(default=("Learner",), converter=v.to_tuple)


@frozen
class HeldColumn:
    """A gradebook column as the platform holds it. ``key`` is our identity as the platform
    stored it (AGS ``resourceId``/``tag``, Canvas ``integration_id``…), None if it kept none."""

    platform_ref: str
    label: str
    score_maximum: float
    key: str | None = None


@frozen
class HeldGrade:
    """The score the platform holds for one user in one column (or published content).

    ``changes`` counts the writes that changed the held value: a re-send of the same score
    must leave it as it was, so a grade delivered exactly once shows ``changes == 1``.
    """

    column_ref: str
    user_id: str
    score: float
    max_score: float
    changes: int = 1


@frozen
class HeldContent:
    """Published content as the platform holds it.

    ``content_key`` is which of our contents (``Publication.key``) the link launches, as the
    platform would resolve it (e.g. from the launch URL); ``url`` is where it points.
    """

    platform_ref: str
    title: str
    url: str
    content_key: str | None
    retired: bool = False


class SuitePlatform(Protocol):
    """The seeding and read-back protocol of a mock platform (all methods optional).

    The suite sets ``max_page_size`` before seeding, so lists come back in several pages;
    a mock must cap every page it serves at it (while honouring smaller client requests).
    """

    url: str
    faults: FaultSet
    max_page_size: int
    #: True when the platform gives members' email on roster reads.
    roster_has_email: bool
    #: True when the platform takes only whole courses as content (Oracle Learning): the suite
    #: publishes courses instead of a course's items, and grades are course completions keyed
    #: by the course's ``Publication.key``.
    whole_courses: bool

    def connect(self, store: Store, name: str) -> Tenant | Provider:
        """Record a tenant (LMS/learning) or provider named ``name`` in ``store`` whose
        adapter talks to this mock: base URL, options, secrets, LTI registration. Return it."""

    def seed_context(self, context_id: str, members: Sequence[SeedMember]) -> Context | None:
        """Create a course shell with these members, and return the Context an adapter is
        given (with the LTI service URLs a launch would carry). Platforms without course
        shells (Oracle) register the users and return None."""

    def held_columns(self, context_id: str | None) -> list[HeldColumn]: ...

    def held_grades(self, context_id: str | None) -> list[HeldGrade]: ...

    def held_content(self, context_id: str | None) -> list[HeldContent]: ...

    def seed_catalog(self, programs: Sequence[Program]) -> None:
        """Provider mocks: serve these programs (with courses and items) from now on."""

    def seed_progress(self, progress: Sequence[Progress]) -> None:
        """Provider mocks: serve these learner progress records from now on."""
