"""The demo's Oracle Learning pod: a learning tenant next to the three LMSs.

The consortium the three institutions belong to runs an Oracle Learning pod that records the
learning of everyone in the program, known by work email. Oracle has no course shells,
launches or gradebook: the nightly sync pushes the program's courses as content and sends
xAPI statements (a start per started course, a completion with the final grade per completed
one; see :mod:`lmsbridge.core.engine.learning`). What the pod received is read back from its
own ``/_mock/state``, like the LMSs' scores, never from our database or the sync report.
"""

from __future__ import annotations

from typing import Any

import requests
from attrs import frozen

from lmsbridge.core.hookspecs import MockPlatform
from lmsbridge.core.model import Tenant, evolve
from lmsbridge.core.store import Store

TENANT = "consortium"
TITLE = "Tri-Campus Consortium"
# Read from the pod as any Oracle client sees it: xAPI verbs, Oracle's REST paths and keys.
STARTED = "http://adlnet.gov/expapi/verbs/initialized"
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
CONTENT_ID = "ContentId"
PROVIDERS_PATH = "/hcmRestApi/resources/11.13.18.05/digitalLearningProviders"
STATEMENTS_PATH = "/hcmRestApi/learningRecordStore/xapi/statements"
_WRITES = ("POST", "PATCH", "PUT")


def connect(pod: MockPlatform, store: Store) -> Tenant:
    """Register the tenant as Oracle's setup guide leaves it. The pod's own ``connect``
    (the conformance suite's seeding) makes the key pair, has the pod trust its certificate
    for our issuer and adds the integration user with the provider duty; it identifies
    learners by Oracle user name, which the demo's learners lack, so switch to work email
    (what the setup guide's step 3 offers too)."""
    tenant = pod.connect(store, TENANT)
    return store.tenants.update(evolve(tenant, provider="coursera",
                                       options={**tenant.options, "identify_by": "email"}))


@frozen
class PodState:
    """What the pod holds at one moment, from ``GET /_mock/state``."""

    content: dict[str, dict[str, Any]]  # ContentId -> the content record
    statements: dict[str, str]  # statement id -> verb id
    requests: list[dict[str, Any]]  # the request log (method, path, seq, status, ...)
    seq: int  # the last request's arrival number: where the next window starts


def snapshot(pod_url: str) -> PodState:
    state = requests.get(pod_url + "/_mock/state", timeout=10).json()
    return PodState({str(c[CONTENT_ID]): c for c in state["content"]},
                    {s["id"]: s["verb"]["id"] for s in state["statements"]},
                    state["requests"], state["seq"])


def figures(before: PodState, after: PodState) -> dict[str, int]:
    """What happened between two snapshots. Content counts compare the records themselves
    (a PATCH that changed nothing would still count as a write, below); statements are the
    ones the LRS newly stored, so a re-sent identical statement (a no-op for an LRS) is not
    counted as sent, but its request is."""
    created = [c for c in after.content if c not in before.content]
    updated = [c for c in after.content
               if c in before.content and after.content[c] != before.content[c]]
    new = [verb for sid, verb in after.statements.items() if sid not in before.statements]
    # Requests since ``before`` by arrival number, so a log that dropped old entries still
    # counts this window right.
    window = [q for q in after.requests if q["seq"] > before.seq and q["method"] in _WRITES]
    statement_posts = sum(1 for q in window if q["path"] == STATEMENTS_PATH)
    return {"content_created": len(created), "content_updated": len(updated),
            "content_unchanged": len(after.content) - len(created) - len(updated),
            "content_writes": sum(1 for q in window if q["path"].startswith(PROVIDERS_PATH)),
            "statements": len(new), "starts": new.count(STARTED),
            "completions": new.count(COMPLETED), "statement_requests": statement_posts}


def row(tenant: str, f: dict[str, int]) -> tuple[Any, ...]:
    return (tenant, f["content_created"], f["content_updated"], f["content_unchanged"],
            f["content_writes"], f["starts"], f["completions"], f["statement_requests"])


HEADERS = ["tenant", "content created", "updated", "unchanged", "content writes",
           "starts stored", "completions stored", "statement POSTs"]
