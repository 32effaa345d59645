"""Build the client for a tenant: options, secrets and the auth method it chose."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable

from lmsbridge.adapters.oracle.auth import JwtMinter
from lmsbridge.adapters.oracle.client import JwtAuth, OAuthClientCredentials, OracleClient
from lmsbridge.adapters.oracle.options import OracleOptions
from lmsbridge.core.api import ConfigError, NotFound, Runtime, Secret, Tenant


def _secret(runtime: Runtime, tenant: Tenant, name: str, hint: str) -> Secret:
    try:
        return runtime.secret(tenant, name)
    except NotFound:
        raise ConfigError(f"tenant {tenant.name!r} has no secret {name!r}: {hint}") from None


# Loading an RSA key costs ~30 ms (cryptography validates it) and each hook call connects
# anew, so minters are kept per tenant; the key's fingerprint is part of the identity, so a
# new key from `oracle keygen` takes effect at once.
_MINTERS: dict[tuple, JwtMinter] = {}
_MINTERS_LOCK = threading.Lock()
_MINTERS_MAX = 256


def _minter(tenant: Tenant, options: OracleOptions, key: Secret, cert: Secret,
            clock: Callable[[], float]) -> JwtMinter:
    fingerprint = hashlib.sha256(f"{key.reveal()}\0{cert.reveal()}".encode()).hexdigest()
    identity = (tenant.name, options.issuer, options.username, fingerprint, clock)
    with _MINTERS_LOCK:
        minter = _MINTERS.get(identity)
        if minter is None:
            try:
                minter = JwtMinter(issuer=options.issuer or "", username=options.username,
                                   private_key_pem=key, certificate=cert.reveal().encode(),
                                   clock=clock)
            except ValueError as err:  # messages from auth never carry key material
                raise ConfigError(f"tenant {tenant.name!r}: {err}") from None
            if len(_MINTERS) >= _MINTERS_MAX:
                _MINTERS.clear()
            _MINTERS[identity] = minter
        return minter


def connect(tenant: Tenant, runtime: Runtime, *, sleep: Callable[[float], None] = time.sleep,
            clock: Callable[[], float] = time.time,
            max_attempts: int = 5) -> tuple[OracleOptions, OracleClient]:
    """Validated options and a ready client (no request is made yet).

    The hooks pass ``max_attempts=1``: the engine owns retries and their timing (a hook
    reports RETRY with the platform's delay instead of sleeping); the CLI and direct callers
    keep the client's own backoff.
    """
    options = OracleOptions.from_tenant(tenant)
    session = runtime.session()
    if options.auth == "jwt":
        hint = f"run `lmsbridge oracle keygen --tenant {tenant.name}`"
        key = _secret(runtime, tenant, "private_key", hint)
        cert = _secret(runtime, tenant, "certificate", hint)
        auth = JwtAuth(_minter(tenant, options, key, cert, clock))
    else:
        secret = _secret(runtime, tenant, "oauth_client_secret",
                         f"run `lmsbridge tenant set-secret {tenant.name} oauth_client_secret`")
        auth = OAuthClientCredentials(
            token_url=options.oauth_token_url or "", client_id=options.oauth_client_id or "",
            client_secret=secret, scope=options.oauth_scope, session=session,
            timeout=runtime.timeout, clock=clock)
    client = OracleClient(options.base_url, auth, session, timeout=runtime.timeout,
                          sleep=sleep, clock=clock, max_attempts=max_attempts)
    return options, client
