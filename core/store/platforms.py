"""LTI platform registrations and their deployments."""

from __future__ import annotations

from sqlalchemy import Engine, select

from lmsbridge.core.errors import AlreadyExists, NotFound
from lmsbridge.core.model import PlatformRegistration
from lmsbridge.core.store.schema import deployments, platforms, tenants
from lmsbridge.core.store.tenants import Tenants


class Platforms:
    def __init__(self, engine: Engine, tenants_repo: Tenants):
        self.engine, self._tenants = engine, tenants_repo

    def add(self, reg: PlatformRegistration) -> PlatformRegistration:
        """Register a platform; every check happens before the first write (all or nothing)."""
        with self.engine.begin() as conn:
            tid = self._tenants.id_of(conn, reg.tenant)
            if conn.execute(select(platforms.c.id).where(
                    (platforms.c.tenant_id == tid) & (platforms.c.issuer == reg.issuer)
                    & (platforms.c.client_id == reg.client_id))).first():
                raise AlreadyExists(f"tenant {reg.tenant!r} already has a registration for "
                                    f"issuer {reg.issuer!r} and client id {reg.client_id!r}")
            taken = conn.execute(
                select(deployments.c.deployment_id, tenants.c.name)
                .join(platforms, platforms.c.id == deployments.c.platform_id)
                .join(tenants, tenants.c.id == platforms.c.tenant_id)
                .where((deployments.c.issuer == reg.issuer)
                       & (deployments.c.client_id == reg.client_id)
                       & deployments.c.deployment_id.in_(reg.deployment_ids))).first()
            if taken:
                raise AlreadyExists(f"deployment id {taken.deployment_id!r} of issuer "
                                    f"{reg.issuer!r} is already registered to tenant "
                                    f"{taken.name!r}")
            pid = conn.execute(platforms.insert().values(
                tenant_id=tid, issuer=reg.issuer, client_id=reg.client_id,
                auth_login_url=reg.auth_login_url, auth_token_url=reg.auth_token_url,
                jwks_url=reg.jwks_url, token_audience=reg.token_audience,
            )).inserted_primary_key[0]
            conn.execute(deployments.insert(), [
                dict(platform_id=pid, issuer=reg.issuer, client_id=reg.client_id,
                     deployment_id=d) for d in dict.fromkeys(reg.deployment_ids)])
        return reg

    def list(self, tenant: str | None = None) -> list[PlatformRegistration]:
        query = (select(platforms, tenants.c.name.label("tenant"))
                 .join(tenants, tenants.c.id == platforms.c.tenant_id)
                 .order_by(tenants.c.name, platforms.c.id))
        if tenant is not None:
            query = query.where(tenants.c.name == tenant)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
            deps: dict[int, list[str]] = {}
            for d in conn.execute(select(deployments).order_by(deployments.c.id)):
                deps.setdefault(d.platform_id, []).append(d.deployment_id)
        return [_registration(r, deps.get(r.id, [])) for r in rows]

    def find(self, issuer: str, client_id: str | None = None,
             deployment_id: str | None = None) -> PlatformRegistration:
        """The registration a launch belongs to.

        (issuer, client_id) identifies it, unless several tenants share them (Canvas
        inherited keys); then the deployment id decides. Ambiguity is an error, not a guess.
        """
        matches = [r for r in self.list() if r.issuer == issuer
                   and (client_id is None or r.client_id == client_id)]
        if deployment_id is not None and len(matches) > 1:
            matches = [r for r in matches if deployment_id in r.deployment_ids]
        if not matches:
            raise NotFound(f"no platform registered for issuer {issuer!r}"
                           + (f" and client id {client_id!r}" if client_id else ""))
        if len(matches) > 1:
            raise NotFound(f"issuer {issuer!r} matches {len(matches)} registrations; "
                           "the request must name its client id and deployment id")
        return matches[0]


def _registration(row, deployment_ids: list[str]) -> PlatformRegistration:
    return PlatformRegistration(
        tenant=row.tenant, issuer=row.issuer, client_id=row.client_id,
        deployment_ids=tuple(deployment_ids), auth_login_url=row.auth_login_url,
        auth_token_url=row.auth_token_url, jwks_url=row.jwks_url,
        token_audience=row.token_audience)
