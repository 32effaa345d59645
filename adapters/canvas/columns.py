"""Gradebook columns as Canvas assignments, made idempotent by ``integration_id``.

Each assignment we create carries our column key as its ``integration_id``; before creating,
the course's assignments are listed (every page) and matched on it, so a repeated or retried
call never makes a second assignment. Assignments are created published: Canvas refuses
grades for unpublished ones.
"""

from __future__ import annotations

from collections.abc import Sequence

from lmsbridge.adapters.canvas.client import CanvasClient
from lmsbridge.adapters.canvas.connect import course_path
from lmsbridge.core.api import Context, GradebookColumn, evolve


def existing(client: CanvasClient, context_id: str) -> dict[str, dict]:
    """The course's assignments by integration_id (ours only)."""
    out: dict[str, dict] = {}
    for assignment in client.pages(f"{course_path(context_id)}/assignments"):
        key = assignment.get("integration_id")
        if key and key not in out:
            out[key] = assignment
    return out


def ensure(client: CanvasClient, context: Context,
           columns: Sequence[GradebookColumn]) -> list[GradebookColumn]:
    found = existing(client, context.context_id)
    out = []
    for column in columns:
        assignment = found.get(column.key)
        if assignment is None:
            assignment = client.json("POST", f"{course_path(context.context_id)}/assignments",
                                     form={"assignment": {
                                         "name": column.label,
                                         "points_possible": column.score_maximum,
                                         "integration_id": column.key,
                                         "submission_types": ["none"],
                                         "grading_type": "points",
                                         "published": True}})
            found[column.key] = assignment
        out.append(evolve(column, platform_ref=str(assignment["id"])))
    return out
