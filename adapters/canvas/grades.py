"""Grade writes through Canvas's bulk ``submissions/update_grades`` and Progress polling.

One request per assignment carries every learner's ``posted_grade``; Canvas answers with a
Progress object and applies the grades in a background job. We poll the Progress until it
completes. Setting a grade is idempotent (the same grade twice changes nothing), so anything
that leaves the outcome unknown — a lost answer, one cut short or garbled (a 4xx too: the
client raises CanvasTransient for it), a job we stopped watching — is RETRY.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Sequence

from lmsbridge.adapters.canvas import columns as canvas_columns
from lmsbridge.adapters.canvas.client import CanvasClient
from lmsbridge.adapters.canvas.connect import course_path
from lmsbridge.adapters.canvas.errors import CanvasError, CanvasTransient
from lmsbridge.core.api import Delivery, DeliveryResult, Outcome

#: Waits between Progress polls; after the last one the job's outcome counts as unknown.
POLL_DELAYS = (0.0, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 4.0)


def _points(value: float) -> str:
    return f"{value:.4f}".rstrip("0").rstrip(".")


def write(client: CanvasClient, context_id: str, deliveries: Sequence[Delivery],
          sleep: Callable[[float], None] = time.sleep) -> list[DeliveryResult]:
    results: dict[str, DeliveryResult] = {}
    by_column: dict[str | None, list[Delivery]] = defaultdict(list)
    for delivery in deliveries:
        by_column[delivery.column_ref].append(delivery)

    refs: dict[str, str] | None = None
    stopped: CanvasTransient | None = None
    for column_ref, batch in by_column.items():
        if stopped is not None:  # throttled: leave the rest for later, do not hammer
            _all(results, batch, Outcome.RETRY, stopped.detail, stopped.retry_after)
            continue
        try:
            if column_ref is None:
                if refs is None:
                    refs = {k: str(a["id"]) for k, a in
                            canvas_columns.existing(client, context_id).items()}
                column_ref = refs.get(batch[0].column_key)
                if column_ref is None:
                    _all(results, batch, Outcome.REJECTED,
                         f"no assignment with integration_id {batch[0].column_key!r}")
                    continue
            _write_batch(client, context_id, column_ref, batch, results, sleep)
        except CanvasTransient as exc:
            _all(results, batch, Outcome.RETRY, exc.detail, exc.retry_after)
            if exc.retry_after is not None:
                stopped = exc
        except CanvasError as exc:
            _all(results, batch, Outcome.REJECTED, str(exc))
    return [results[d.dedupe_key] for d in deliveries]


def _write_batch(client: CanvasClient, context_id: str, column_ref: str,
                 batch: list[Delivery], results: dict[str, DeliveryResult],
                 sleep: Callable[[float], None]) -> None:
    # The newest revision of a learner's grade wins within one batch.
    latest: dict[str, Delivery] = {}
    for delivery in sorted(batch, key=lambda d: (d.timestamp, d.grade_revision)):
        latest[delivery.lms_user_id] = delivery
    grade_data = {user: {"posted_grade": _points(d.score)} for user, d in latest.items()}
    progress = _progress(client.json(
        "POST", f"{course_path(context_id)}/assignments/{column_ref}/submissions/update_grades",
        form={"grade_data": grade_data}))
    state = _await(client, progress, sleep)
    if state == "completed":
        _all(results, batch, Outcome.DELIVERED)
    elif state == "failed":
        _all(results, batch, Outcome.REJECTED,
             f"Canvas grading job failed: {progress.get('message') or 'no message'}")
    else:
        _all(results, batch, Outcome.RETRY, "Canvas grading job still running")


def _await(client: CanvasClient, progress: dict, sleep: Callable[[float], None]) -> str:
    url = progress.get("url") or f"/progress/{progress['id']}"
    state = progress.get("workflow_state", "queued")
    for delay in POLL_DELAYS:
        if state in ("completed", "failed"):
            return state
        sleep(delay)
        progress.update(_progress(client.json("GET", url), url))
        state = progress.get("workflow_state", "queued")
    return state


def _progress(body: object, url: str | None = None) -> dict:
    """A Progress object, or CanvasTransient: an answer of another shape tells nothing."""
    if not isinstance(body, dict) or not (url or body.get("url") or "id" in body):
        raise CanvasTransient("Canvas answered update_grades without a Progress object")
    return body


def _all(results: dict[str, DeliveryResult], batch: Sequence[Delivery], outcome: Outcome,
         detail: str = "", retry_after: float | None = None) -> None:
    for delivery in batch:
        results[delivery.dedupe_key] = DeliveryResult(delivery.dedupe_key, outcome, detail,
                                                      retry_after)
