"""What an adapter may use while it serves a hook: the store, secrets, tool keys and HTTP.

Passed to every hook that takes a tenant or provider as ``runtime``; an implementation that
needs none of it simply leaves the argument out of its signature.
"""

from __future__ import annotations

from functools import cached_property

import requests
from attrs import define, field

from lmsbridge.core import __version__
from lmsbridge.core.lti.keys import ToolKeyring
from lmsbridge.core.lti.token import TokenService
from lmsbridge.core.model import PlatformRegistration, Provider, Tenant
from lmsbridge.core.secret import Secret
from lmsbridge.core.store import Store

USER_AGENT = f"lmsbridge/{__version__} (+https://pypi.org/project/lmsbridge/)"


@define(slots=False)
class Runtime:
    store: Store
    # Seconds to wait for a platform; the engine's retry policy handles what times out.
    timeout: float = field(default=30.0)

    @cached_property
    def keyring(self) -> ToolKeyring:
        return ToolKeyring(self.store)

    @cached_property
    def tokens(self) -> TokenService:
        """LTI Advantage access tokens, cached per (registration, scopes) for this runtime."""
        return TokenService(self.keyring, self.session(), timeout=self.timeout)

    def session(self) -> requests.Session:
        """A requests session for one adapter call; Canvas refuses calls without User-Agent."""
        session = requests.Session()
        session.headers["User-Agent"] = USER_AGENT
        return session

    def secret(self, owner: Tenant | Provider, name: str) -> Secret:
        kind = "tenant" if isinstance(owner, Tenant) else "provider"
        return self.store.secrets.get(f"{kind}:{owner.name}", name)

    def registrations(self, tenant: Tenant) -> list[PlatformRegistration]:
        return self.store.platforms.list(tenant.name)
