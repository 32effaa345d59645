"""Registered content providers, reached from a :class:`~lmsbridge.core.store.Store`: the
store's ``providers`` repository, for callers that hold the store itself."""

from __future__ import annotations

from lmsbridge.core.store import Store
from lmsbridge.core.store.providers import Providers as _Providers


class Providers(_Providers):
    def __init__(self, store: Store):
        super().__init__(store.engine, lambda: store.box)
