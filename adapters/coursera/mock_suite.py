"""The conformance suite's seeding protocol for the mock provider API.

:class:`CourseraSuitePlatform` is a base of
:class:`~lmsbridge.adapters.coursera.mock.MockCoursera`: ``connect`` registers a provider
pointing at the mock (its client secret in the store's secrets, scope ``provider:<name>``),
``seed_catalog`` and ``seed_progress`` go through the mock's own add-program/course/item and
progress methods, as the provider's staff and learners would.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from lmsbridge.adapters.coursera.mapping import to_ms
from lmsbridge.core.api import Program, Progress, Provider, Providers, Secret

if TYPE_CHECKING:
    from lmsbridge.core.api import Store


class CourseraSuitePlatform:
    """Mixin for :class:`MockCoursera`: uses its credentials (``org_id``, ``client_id``,
    ``client_secret``), ``url``, ``lock``, ``courses`` and seeding methods."""

    #: The largest page the mock serves; the suite lowers it to make reads page.
    max_page_size = 100
    roster_has_email = False  # a provider has no rosters

    def connect(self, store: Store, name: str) -> Provider:
        provider = Provider(name, "coursera", base_url=self.url, org_id=self.org_id)
        return Providers(store).add(provider, self.client_id, Secret(self.client_secret))

    def seed_catalog(self, programs: Sequence[Program]) -> None:
        for program in programs:
            self.add_program(program.id, program.name, program.seats)
            for course in program.courses:
                self.add_course(program.id, course.id, course.name, course.description)
                for item in course.items:
                    self.add_item(course.id, item.id, item.name, item.gradable,
                                  item.max_score)

    def seed_progress(self, progress: Sequence[Progress]) -> None:
        """Each record as the learner's activity at its ``updated_at``; courses not in the
        catalog are made, outside any program (as content a learner took on their own)."""
        for record in progress:
            self._ensure_course(record.course_id)
            self.set_progress(record.learner_id, record.course_id, item_id=record.item_id,
                              score=record.score, max_score=record.max_score,
                              email=record.email, completed=record.completed_at is not None,
                              at_ms=to_ms(record.updated_at))

    def _ensure_course(self, course_id: str) -> None:
        with self.lock:
            self.courses.setdefault(course_id, {
                "id": course_id, "items": [], "name": course_id, "description": None,
                "url": f"https://www.coursera.org/learn/{course_id}"})
