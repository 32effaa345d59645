"""What we last pushed to a tenant's Oracle content, kept in the adapter's own state
(``runtime.state(tenant)``), one entry per content key (``Publication.key``)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import attrs

from lmsbridge.core.api import AdapterState


def fingerprint(payload: Mapping[str, Any]) -> str:
    """Stable digest of a content payload: key order and whitespace never count as a change."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


@attrs.frozen
class Pushed:
    content_key: str
    oracle_id: str
    fingerprint: str
    status: str
    pushed_at: datetime


class ContentLedger:
    def __init__(self, state: AdapterState) -> None:
        self.state = state

    @property
    def tenant(self) -> str:
        return self.state.tenant

    def get(self, content_key: str) -> Pushed | None:
        value = self.state.get(content_key)
        if value is None:
            return None
        return Pushed(content_key, value["oracle_id"], value["fingerprint"], value["status"],
                      datetime.fromisoformat(value["pushed_at"]))

    def record(self, content_key: str, oracle_id: str, digest: str, status: str) -> None:
        """Upsert after Oracle acknowledged the write (never before: state follows the write)."""
        self.state.put(content_key, {"oracle_id": oracle_id, "fingerprint": digest,
                                     "status": status,
                                     "pushed_at": datetime.now(UTC).isoformat()})
