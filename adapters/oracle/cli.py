"""``lmsbridge oracle``: make the key pair Oracle trusts, and check a pod accepts it.

Added to the command line by the adapter's ``lmsbridge_register_commands``; core audits
``oracle keygen`` like its own admin commands.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from lmsbridge.core.api import (
    AlreadyExists,
    App,
    ConfigError,
    LmsbridgeError,
    Runtime,
    Secret,
    Tenant,
    ValidationError,
    evolve,
    pass_app,
)


class OracleCheckFailed(LmsbridgeError):
    """The pod refused us; the message says what the Oracle admin must fix."""


@click.group()
def oracle() -> None:
    """Oracle Learning: keys for JWT authentication, and a connection check."""


def _oracle_tenant(app: App, name: str) -> Tenant:
    tenant = app.store.tenants.get(name)
    if tenant.kind != "oracle":
        raise ValidationError("--tenant", name, f"is a {tenant.kind} tenant, not oracle")
    return tenant


def _write_new(path: Path, data: bytes, mode: int) -> None:
    # O_EXCL: never overwrite a key or certificate someone may still rely on.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        raise AlreadyExists(f"{path} already exists; move it away first") from None
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror}") from None
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


@oracle.command()
@click.option("--tenant", "tenant_name", required=True)
@click.option("--issuer", help="Trusted issuer to use (stored as the tenant's 'issuer').")
@click.option("--username", help="Oracle integration user, e.g. user.coursera (stored as "
              "'username').")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("."), show_default=True, help="Where to write <tenant>.cer.")
@click.option("--key-file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the private key here (mode 0600). It is always stored "
                   "encrypted as the tenant's secret.")
@click.option("--force", is_flag=True, help="Replace an existing key (Oracle refuses us until "
              "the new .cer is uploaded).")
@pass_app
def keygen(app: App, tenant_name: str, issuer: str | None, username: str | None,
           out_dir: Path, key_file: Path | None, force: bool) -> None:
    """Make the private key and the .cer the Oracle admin uploads (Oracle's setup guide, steps 8-9)."""
    from lmsbridge.adapters.oracle.auth import generate_keypair, x5t

    store = app.store
    tenant = _oracle_tenant(app, tenant_name)
    options = dict(tenant.options)
    if issuer:
        options["issuer"] = issuer
    if username:
        options["username"] = username
    for name in ("issuer", "username"):
        if not options.get(name):
            raise ConfigError(f"tenant {tenant_name!r} has no option {name!r}: pass --{name}")
    if "private_key" in store.tenants.secret_names(tenant_name) and not force:
        raise AlreadyExists(f"tenant {tenant_name!r} already has a private key; --force "
                            "replaces it (then upload the new .cer before the next sync)")
    if not out_dir.is_dir():
        raise ConfigError(f"--out {out_dir} is not a directory")
    keys = generate_keypair(options["issuer"])
    cer = out_dir / f"{tenant_name}.cer"
    written: list[Path] = []
    try:
        _write_new(cer, keys.certificate_pem, 0o644)
        written.append(cer)
        if key_file is not None:
            _write_new(key_file, keys.private_key_pem, 0o600)
            written.append(key_file)
        store.tenants.set_secret(tenant_name, "private_key",
                                 Secret(keys.private_key_pem.decode()))
        store.tenants.set_secret(tenant_name, "certificate",
                                 Secret(keys.certificate_pem.decode()))
        store.tenants.update(evolve(tenant, options=options))
    except BaseException:
        for path in written:  # nothing half-made stays behind
            path.unlink(missing_ok=True)
        raise
    click.echo(f"wrote {cer} (x5t {x5t(keys.certificate_der)})")
    if key_file is not None:
        click.echo(f"wrote {key_file} (private key, mode 0600)")
    click.echo("In Oracle (Tools > Security Console > API Authentication), enter:")
    click.echo(f"  Trusted issuer: {options['issuer']}")
    click.echo(f"  User name:      {options['username']}")
    click.echo(f"  Token type JWT; add an inbound API authentication public certificate "
               f"and upload {cer.name}.")


@oracle.command()
@click.option("--tenant", "tenant_name", required=True)
@pass_app
def check(app: App, tenant_name: str) -> None:
    """Authenticate against the pod and find our provider; say what to fix if refused."""
    from lmsbridge.adapters.oracle import resources as r
    from lmsbridge.adapters.oracle.client import OracleError
    from lmsbridge.adapters.oracle.connect import connect
    from lmsbridge.adapters.oracle.diagnose import explain

    tenant = _oracle_tenant(app, tenant_name)
    options, client = connect(tenant, Runtime(app.store, timeout=15).for_adapter("oracle"), max_attempts=2)
    try:
        provider = client.find_one(r.PROVIDERS_PATH, r.PROVIDER_CODE, options.provider_code)
    except OracleError as err:
        raise OracleCheckFailed(f"{options.base_url}: {explain(err, options)}") from None
    if provider is None:
        raise OracleCheckFailed(
            f"{options.base_url}: authenticated, but Oracle has no learning provider "
            f"{options.provider_code!r}: enable it with 'Configure External Providers' "
            "(Oracle's setup guide, step 7)")
    who = options.username if options.auth == "jwt" else f"client {options.oauth_client_id}"
    click.echo(f"ok: {options.base_url} accepts {who} ({options.auth}); provider "
               f"{options.provider_code} is {provider[r.PROVIDER_ID]}")
