"""Program activation checked with the provider: a tenant activates only programs its own
provider organisation has, so an unknown or foreign id never becomes an activation."""

from __future__ import annotations

from collections.abc import Sequence

from lmsbridge.core.engine.providers import Providers
from lmsbridge.core.errors import ConfigError, NotFound
from lmsbridge.core.plugins import Registry
from lmsbridge.core.runtime import Runtime
from lmsbridge.core.store import Store


def activate(store: Store, registry: Registry, runtime: Runtime, tenant: str,
             program_ids: Sequence[str]) -> list[tuple[str, bool]]:
    """Activate every id or none; ``(program_id, newly_activated)`` for each.

    Ids the tenant's provider was not seen to have are asked of it first; one it does not
    have is refused with NotFound naming it, and nothing is activated.
    """
    owner = store.tenants.get(tenant)
    if owner.provider is None:
        raise ConfigError(f"tenant {tenant!r} belongs to no provider: register one with "
                          f"`lmsbridge provider add`, then `lmsbridge tenant set {tenant} "
                          "--provider NAME`")
    provider = Providers(store).get(owner.provider)
    wanted = list(dict.fromkeys(program_ids))
    unknown = sorted(set(wanted) - store.programs.known(provider.name, wanted))
    if unknown:
        try:
            found = {p.id: p for p in registry.read_catalog(provider, unknown, runtime)
                     if p.id in unknown}
        except Exception as exc:  # the provider's answer decides; without it, refuse
            raise ConfigError(f"could not ask provider {provider.name!r} about program(s) "
                              f"{', '.join(unknown)}: {type(exc).__name__}: {exc}") from None
        missing = [pid for pid in unknown if pid not in found]
        if missing:
            raise NotFound(f"provider {provider.name!r} has no program {', '.join(missing)} "
                           "(see the provider's program list)")
        for program in found.values():
            store.programs.remember(provider.name, program)
    for pid in wanted:  # refuses a program of another provider before anything is written
        store.programs.check_activation(tenant, pid)
    return [(pid, store.programs.activate(tenant, pid)) for pid in wanted]
