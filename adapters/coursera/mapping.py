"""The provider's JSON (programs, contents, enrollment reports) as lmsbridge's model."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from lmsbridge.core.api import Course, Item, Program, Progress


def from_ms(value: int | float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value / 1000, UTC)


def to_ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def program(element: dict[str, Any], contents: Iterable[dict[str, Any]]) -> Program:
    pid = str(element["id"])
    courses = [course(pid, c) for c in contents if c.get("contentType", "Course") == "Course"]
    return Program(pid, element.get("name") or pid, element.get("seats"), courses)


def course(program_id: str, element: dict[str, Any]) -> Course:
    cid = str(element["contentId"])
    items = [Item(str(i["id"]), cid, i.get("name") or str(i["id"]),
                  gradable=bool(i.get("gradable", True)),
                  max_score=float(i.get("maxScore") or 1.0))
             for i in element.get("items") or ()]
    return Course(cid, program_id, element.get("name") or cid, url=element.get("url"),
                  description=element.get("description"), items=items)


def progress(record: dict[str, Any], since: datetime | None) -> Iterator[Progress]:
    """An enrollment report as one Progress per item grade, plus the course's final grade."""
    learner, course_id = str(record["userId"]), str(record["contentId"])
    email = record.get("email")
    started = from_ms(record.get("enrolledAt"))
    completed = from_ms(record.get("completedAt"))
    for grade in record.get("itemGrades") or ():
        updated = from_ms(grade["updatedAt"])
        if since is not None and updated < since or grade.get("score") is None:
            continue
        yield Progress(learner, course_id, updated, item_id=str(grade["itemId"]), email=email,
                       score=float(grade["score"]), max_score=float(grade.get("maxScore") or 1),
                       started_at=started)
    if record.get("grade") is not None:
        yield Progress(learner, course_id, from_ms(record["lastActivityAt"]), email=email,
                       score=float(record["grade"]), max_score=1.0, started_at=started,
                       completed_at=completed)
