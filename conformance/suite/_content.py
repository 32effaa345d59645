"""Content the content tests publish: one course link and item links."""

from __future__ import annotations

from lmsbridge.core.model import Course, Item, Program, Publication


def whole_courses(platform: object) -> bool:
    """True when the platform takes whole courses only (its mock's ``whole_courses``)."""
    return bool(getattr(platform, "whole_courses", False))


def publications(tenant: str, context_id: str | None, items: int = 2, *,
                 whole_courses: bool = False) -> list[Publication]:
    """A course and its items; with ``whole_courses`` (Oracle Learning takes no quizzes), as
    many courses of their own instead of the items."""
    program = Program("prog-c", "Program C")
    course = Course("course-c", "prog-c", "Data Science 101",
                    url="https://provider.example/learn/course-c",
                    items=[Item(f"quiz-{n}", "course-c", f"Quiz {n}", max_score=10)
                           for n in range(1, items + 1)])
    pubs = [Publication(tenant, program, course, None, context_id=context_id)]
    if whole_courses:
        pubs += [Publication(tenant, program,
                             Course(f"course-c{n}", "prog-c", f"Data Science {100 + n}",
                                    url=f"https://provider.example/learn/course-c{n}"),
                             None, context_id=context_id)
                 for n in range(1, items + 1)]
    else:
        pubs += [Publication(tenant, program, course, item, context_id=context_id)
                 for item in course.items]
    return pubs


def title_of(publication: Publication) -> str:
    return publication.item.name if publication.item else publication.course.name
