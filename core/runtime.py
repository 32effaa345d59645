"""What an adapter may use while it serves a hook: its own state, secrets, tool keys and HTTP.

Passed to every hook that takes a tenant or provider as ``runtime``; an implementation that
needs none of it simply leaves the argument out of its signature. The store is core's: an
adapter keeps what it must remember in :meth:`Runtime.state`, never in our tables.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import requests
from attrs import define, field

from lmsbridge.core import __version__
from lmsbridge.core.lti.keys import ToolKeyring
from lmsbridge.core.lti.token import TokenService
from lmsbridge.core.model import PlatformRegistration, Provider, Tenant
from lmsbridge.core.secret import Secret
from lmsbridge.core.store import Store

USER_AGENT = f"lmsbridge/{__version__} (+https://pypi.org/project/lmsbridge/)"


class AdapterState:
    """One adapter's key → JSON-able value ledger for one tenant (``runtime.state(tenant)``).

    Values are anything :func:`json.dumps` takes (datetimes are stored as ISO text). Another
    adapter, or the same adapter for another tenant, never sees these keys.
    """

    def __init__(self, store: Store, adapter: str, tenant: str) -> None:
        self._repo, self.adapter, self.tenant = store.adapter_state, adapter, tenant

    def get(self, key: str, default: Any = None) -> Any:
        value = self._repo.get(self.adapter, self.tenant, key)
        return default if value is None else value

    def put(self, key: str, value: Any) -> None:
        self._repo.put(self.adapter, self.tenant, key, value)

    def delete(self, key: str) -> bool:
        """Forget ``key``; whether it was there."""
        return self._repo.delete(self.adapter, self.tenant, key)

    def items(self, prefix: str | None = None) -> Iterator[tuple[str, Any]]:
        """``(key, value)`` pairs, by key, those starting with ``prefix`` when given."""
        return self._repo.items(self.adapter, self.tenant, prefix)


class _Shared:
    """What a runtime and its adapter-bound copies share: keys, tokens, the bound copies."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.keyring: ToolKeyring | None = None
        self.tokens: TokenService | None = None
        self.bound: dict[str, Runtime] = {}


@define(slots=False)
class Runtime:
    _store: Store
    # Seconds to wait for a platform; the engine's retry policy handles what times out.
    timeout: float = field(default=30.0)
    # The adapter this runtime serves; the Registry binds it before each hook call.
    adapter: str | None = field(default=None, kw_only=True)
    _shared: _Shared = field(factory=_Shared, kw_only=True, repr=False, eq=False)

    def for_adapter(self, adapter: str) -> Runtime:
        """This runtime bound to ``adapter`` (one copy per adapter, sharing keys and tokens)."""
        if self.adapter == adapter:
            return self
        with self._shared.lock:
            bound = self._shared.bound.get(adapter)
            if bound is None:
                bound = self._shared.bound[adapter] = Runtime(
                    self._store, self.timeout, adapter=adapter, shared=self._shared)
        return bound

    def state(self, tenant: Tenant | str) -> AdapterState:
        """The calling adapter's own ledger for ``tenant``."""
        if self.adapter is None:
            raise RuntimeError("this runtime is bound to no adapter; hooks get a bound one")
        name = tenant.name if isinstance(tenant, Tenant) else tenant
        return AdapterState(self._store, self.adapter, name)

    @property
    def keyring(self) -> ToolKeyring:
        with self._shared.lock:
            if self._shared.keyring is None:
                self._shared.keyring = ToolKeyring(self._store)
            return self._shared.keyring

    @property
    def tokens(self) -> TokenService:
        """LTI Advantage access tokens, cached per (registration, scopes) for this runtime."""
        keyring = self.keyring
        with self._shared.lock:
            if self._shared.tokens is None:
                self._shared.tokens = TokenService(keyring, self.session(),
                                                   timeout=self.timeout)
            return self._shared.tokens

    def session(self) -> requests.Session:
        """A requests session for one adapter call; Canvas refuses calls without User-Agent."""
        session = requests.Session()
        session.headers["User-Agent"] = USER_AGENT
        return session

    def secret(self, owner: Tenant | Provider, name: str) -> Secret:
        kind = "tenant" if isinstance(owner, Tenant) else "provider"
        return self._store.secrets.get(f"{kind}:{owner.name}", name)

    def registrations(self, tenant: Tenant) -> list[PlatformRegistration]:
        return self._store.platforms.list(tenant.name)
