"""Progress -> Oracle Learning as xAPI statements, one per learner start and per completion.

Each delivery carries a typed :class:`~lmsbridge.core.model.Completion`, filled by the engine:

- ``event`` ``completion`` is the completion of the course: a start statement and a
  completion statement are sent (Oracle opens an *In progress* enrollment, then completes
  it); ``start`` is a start only.
- the start statement's ``timestamp`` is ``started_at`` when known, else the completion time
  (a start after the completion is refused as contradictory input); the completion's is
  ``timestamp``, which Oracle stores as the completion date. ``score``/``max_score`` become
  ``result.score`` (raw, min 0, max, scaled).
- ``result.duration`` is left out on purpose: Oracle records it as the learner's *actual
  effort*, and the only duration we could derive, ``timestamp - started_at``, is elapsed
  calendar time (a course started in January and finished in June is not five months of
  effort). ``result.success`` is left out too: a Delivery carries no pass mark, so whether
  the score passed is not known here. Both are supported by :mod:`.xapi` for when it is.
- the learner is identified per the tenant's ``identify_by``: the work email (``mbox``) or the
  Oracle user name (``account`` on the pod URL) of ``completion.learner``. A learner with
  neither is ``REJECTED``, never sent half-formed.
- the content is the course's content URL, the value Oracle matches statements on:
  ``completion.content.url`` when our catalog has it, else read back from the content record
  Oracle holds for the course's key (what the publish hook pushed).

Statement ids are deterministic, so a re-send is a no-op: statements the LRS already holds
identically count as ``CURRENT``, new ones as ``DELIVERED``. A revised grade
(``grade_revision`` > 0) is a new completion statement with an id of its own: statements are
immutable, and Oracle treats a completion after a completion as a new enrollment whose score
the transcript shows, so the newer score is not lost. A *different* statement under a stored
id (e.g. a start whose time became known later) is ``CURRENT`` with a detail.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from typing import Any

import attrs

from lmsbridge.adapters.oracle import resources as r
from lmsbridge.adapters.oracle.client import OracleClient, OracleError
from lmsbridge.adapters.oracle.ledger import ContentLedger
from lmsbridge.adapters.oracle.mapping import ORACLE_ATTRIBUTE_NAMES
from lmsbridge.adapters.oracle.options import OracleOptions
from lmsbridge.adapters.oracle.publish import ContentPublisher
from lmsbridge.adapters.oracle.xapi import (
    XAPI_VERSION_HEADER,
    Score,
    StatementError,
    batch_statements,
    build_actor,
    build_completion_statement,
    build_start_statement,
)
from lmsbridge.core.api import (
    AdapterState,
    Delivery,
    DeliveryResult,
    LearningContent,
    LearningEvent,
    Outcome,
    keys,
)

log = logging.getLogger(__name__)

PLATFORM = "lmsbridge"
NEW, HELD, CONFLICT, INVALID, LATER = "new", "held", "conflict", "invalid", "later"


@attrs.define
class _Pending:
    delivery: Delivery
    statement_ids: list[str] = attrs.field(factory=list)
    problem: str | None = None
    #: Oracle could not be asked where the content is (transient): try the delivery later.
    later: OracleError | None = None


class CompletionWriter:
    def __init__(self, state: AdapterState, options: OracleOptions, client: OracleClient,
                 *, now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)) -> None:
        self.tenant, self.options, self.client = state.tenant, options, client
        self.now = now
        self._content: dict[str, tuple[str, str] | None] = {}
        self._publisher = ContentPublisher(options, client, ContentLedger(state))

    def write(self, deliveries: Sequence[Delivery]) -> list[DeliveryResult]:
        pending = [_Pending(d) for d in deliveries]
        statements: dict[str, dict[str, Any]] = {}
        superseded: dict[str, str] = {}
        # Oldest first: of two deliveries for the same enrollment, the first completion is
        # the one Oracle keeps.
        for item in sorted(pending, key=lambda p: p.delivery.timestamp):
            try:
                built = self._statements_for(item.delivery)
            except StatementError as err:
                item.problem = str(err)
                continue
            except OracleError as err:
                # Throttled, down or refusing us: send nothing more this call (as _send does,
                # everything but a 400/409 may work later).
                for rest in pending:
                    if rest.problem is None:
                        rest.later = err
                break
            for statement in built:
                sid = statement["id"]
                item.statement_ids.append(sid)
                if sid in statements and statements[sid] != statement:
                    superseded[sid] = "an earlier statement for this enrollment in the same run"
                else:
                    statements.setdefault(sid, statement)
        status: dict[str, str] = {}
        retry_after: dict[str, float | None] = {}
        errors: dict[str, str] = {}
        if not any(p.later for p in pending):
            for batch in batch_statements(statements.values(),
                                          self.options.statement_batch_size):
                halted = next((sid for sid, st in status.items() if st == LATER), None)
                if halted is None:
                    self._send(list(batch), status, retry_after, errors)
                    continue
                for statement in batch:  # throttled or down: hold the rest back too
                    sid = statement["id"]
                    status[sid], errors[sid] = LATER, errors[halted]
                    retry_after[sid] = retry_after.get(halted)
        return [self._result(p, status, retry_after, errors, superseded) for p in pending]

    # ------------------------------------------------------------------ building

    def _statements_for(self, delivery: Delivery) -> list[dict[str, Any]]:
        completion = delivery.completion
        if completion is None:
            raise StatementError(f"column_key {delivery.column_key!r} is not an Oracle course "
                                 "start or completion")
        activity_id, title = self._content_of(completion.content)
        learner = completion.learner
        actor = build_actor(learner=learner.id, identify_by=self.options.identify_by,
                            email=learner.email, username=learner.username, name=learner.name,
                            account_home_page=self.options.base_url)
        common = dict(tenant=self.tenant, learner_key=learner.id, actor=actor,
                      activity_id=activity_id, title=title, platform=PLATFORM, now=self.now())
        started = delivery.started_at or delivery.timestamp
        if started > delivery.timestamp:
            raise StatementError(f"started_at {started.isoformat()} is after the completion "
                                 f"timestamp {delivery.timestamp.isoformat()}")
        out = [build_start_statement(**common, timestamp=started)]
        if completion.event == LearningEvent.COMPLETION:
            score = Score(raw=delivery.score, min=0, max=delivery.max_score,
                          scaled=round(delivery.score / delivery.max_score, 4))
            out.append(build_completion_statement(
                **common, timestamp=delivery.timestamp, score=score,
                attempt=delivery.grade_revision or None))
        return out

    def _content_of(self, content: LearningContent) -> tuple[str, str]:
        """``(content URL, title)`` of a course: our catalog's, else Oracle's content record."""
        course_id = content.course_id
        if course_id not in self._content:
            if content.url:
                self._content[course_id] = (content.url, content.title or course_id)
            else:
                record = self._publisher.find(keys.course(course_id))
                url = record.get(ORACLE_ATTRIBUTE_NAMES["content_url"]) if record else None
                title = record.get(ORACLE_ATTRIBUTE_NAMES["title"]) if record else None
                self._content[course_id] = (str(url), str(title or course_id)) if url else None
        found = self._content[course_id]
        if found is None:
            raise StatementError(f"course {course_id!r} is neither in the catalog with a URL "
                                 "nor published to Oracle, so Oracle could not match the "
                                 "statement to content")
        return found

    # ------------------------------------------------------------------ sending

    def _post(self, statements: list[dict[str, Any]]):
        return self.client.request("POST", r.STATEMENTS_PATH, json=statements,
                                   headers=dict(XAPI_VERSION_HEADER), ok=(200, 204))

    def _send(self, batch: list[dict[str, Any]], status: dict[str, str],
              retry_after: dict[str, float | None], errors: dict[str, str]) -> None:
        ids = [s["id"] for s in batch]
        try:
            response = self._post(batch)
        except OracleError as err:
            if err.status in (400, 409) and len(batch) > 1:
                # The LRS refuses a batch as a whole; find the statement(s) at fault one by one.
                for statement in batch:
                    self._send([statement], status, retry_after, errors)
                return
            for sid in ids:
                if err.status == 409:
                    status[sid] = CONFLICT
                elif err.status == 400:
                    status[sid], errors[sid] = INVALID, str(err)
                else:  # throttled, down, or auth refused: may work later
                    status[sid], errors[sid], retry_after[sid] = LATER, str(err), err.retry_after
            return
        stored = set(response.json()) if response.status_code == 200 else set()
        for sid in ids:
            status[sid] = NEW if sid in stored else HELD

    def _result(self, item: _Pending, status: dict[str, str],
                retry_after: dict[str, float | None], errors: dict[str, str],
                superseded: dict[str, str]) -> DeliveryResult:
        key = item.delivery.dedupe_key
        if item.problem is not None:
            return DeliveryResult(key, Outcome.REJECTED, item.problem)
        if item.later is not None:
            return DeliveryResult(key, Outcome.RETRY, str(item.later), item.later.retry_after)
        states = [status.get(sid, HELD) for sid in item.statement_ids]
        later = [sid for sid in item.statement_ids if status.get(sid) == LATER]
        if later:
            waits = [retry_after[s] for s in later if retry_after.get(s) is not None]
            return DeliveryResult(key, Outcome.RETRY, errors[later[0]],
                                  max(waits) if waits else None)
        invalid = [sid for sid in item.statement_ids if status.get(sid) == INVALID]
        if invalid:
            return DeliveryResult(key, Outcome.REJECTED, errors[invalid[0]])
        notes = []
        if CONFLICT in states:
            notes.append("Oracle already holds a different statement for this enrollment "
                         "(statements are immutable)")
        if any(sid in superseded for sid in item.statement_ids):
            notes.append("superseded by " + superseded[next(
                s for s in item.statement_ids if s in superseded)])
        outcome = Outcome.DELIVERED if NEW in states else Outcome.CURRENT
        return DeliveryResult(key, outcome, "; ".join(notes))
