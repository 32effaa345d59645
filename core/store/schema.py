"""The tables. All sync state lives here; Alembic migrations in ``migrations/`` create them.

Times are stored as UTC and always come back timezone-aware (SQLite keeps no zone).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.types import TypeDecorator

metadata = MetaData(naming_convention={
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})


class UTCDateTime(TypeDecorator):
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r} cannot be stored; give it a time zone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=UTC)


def now() -> datetime:
    return datetime.now(UTC)


def _id() -> Column:
    return Column("id", Integer, primary_key=True, autoincrement=True)


def _tenant_fk() -> Column:
    return Column("tenant_id", Integer, ForeignKey("tenants.id", ondelete="CASCADE"),
                  nullable=False)


tenants = Table(
    "tenants", metadata, _id(),
    Column("name", String(63), nullable=False, unique=True),
    Column("kind", String(63), nullable=False),
    Column("grade_sync", String(16), nullable=False),
    Column("grade_sync_without_sso", Boolean, nullable=False, default=False),
    Column("incremental", Boolean, nullable=False, default=True),
    Column("base_url", Text),
    Column("options", Text, nullable=False, default="{}"),  # JSON: adapter-specific settings
    Column("created_at", UTCDateTime, nullable=False, default=now),
)

# Encrypted at rest (Fernet); the key never lives in the database. ``scope`` names the
# owner: "tenant:<name>", "provider:<name>" or "tool".
credentials = Table(
    "credentials", metadata, _id(),
    Column("scope", String(127), nullable=False),
    Column("name", String(63), nullable=False),
    Column("ciphertext", Text, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False, default=now),
    UniqueConstraint("scope", "name"),
)

platforms = Table(
    "platforms", metadata, _id(), _tenant_fk(),
    Column("issuer", Text, nullable=False),
    Column("client_id", Text, nullable=False),
    Column("auth_login_url", Text, nullable=False),
    Column("auth_token_url", Text, nullable=False),
    Column("jwks_url", Text, nullable=False),
    Column("token_audience", Text),
    UniqueConstraint("tenant_id", "issuer", "client_id"),
)

# Canvas and Blackboard use one issuer for every customer (and Canvas inherited keys share a
# client_id), so only (issuer, client_id, deployment_id) tells tenants apart: unique here.
deployments = Table(
    "deployments", metadata, _id(),
    Column("platform_id", Integer, ForeignKey("platforms.id", ondelete="CASCADE"),
           nullable=False),
    Column("issuer", Text, nullable=False),
    Column("client_id", Text, nullable=False),
    Column("deployment_id", Text, nullable=False),
    UniqueConstraint("issuer", "client_id", "deployment_id"),
)

providers = Table(
    "providers", metadata, _id(),
    Column("name", String(63), nullable=False, unique=True),
    Column("kind", String(63), nullable=False),
    Column("base_url", Text),
    Column("org_id", Text),
)

# Which provider programs a tenant may publish: programs are activated per LMS instance.
activations = Table(
    "activations", metadata, _id(), _tenant_fk(),
    Column("program_id", Text, nullable=False),
    Column("activated_at", UTCDateTime, nullable=False, default=now),
    UniqueConstraint("tenant_id", "program_id"),
)

programs = Table(
    "programs", metadata,
    Column("id", String(255), primary_key=True),
    Column("name", Text, nullable=False),
    Column("seats", Integer),
    Column("synced_at", UTCDateTime),
)

courses = Table(
    "courses", metadata,
    Column("program_id", String(255), primary_key=True),
    Column("id", String(255), primary_key=True),
    Column("name", Text, nullable=False),
    Column("url", Text),
    Column("description", Text),
    Column("retired", Boolean, nullable=False, default=False),
    Column("synced_at", UTCDateTime),
)

items = Table(
    "items", metadata,
    Column("course_id", String(255), primary_key=True),
    Column("id", String(255), primary_key=True),
    Column("name", Text, nullable=False),
    Column("gradable", Boolean, nullable=False, default=True),
    Column("max_score", Float, nullable=False, default=1.0),
    Column("retired", Boolean, nullable=False, default=False),
)

learners = Table(
    "learners", metadata,
    Column("id", String(255), primary_key=True),
    Column("email", String(320), index=True),
    Column("name", Text),
    Column("username", Text),
    Column("created_at", UTCDateTime, nullable=False, default=now),
)

account_links = Table(
    "account_links", metadata, _id(), _tenant_fk(),
    Column("issuer", Text, nullable=False),
    Column("sub", String(255), nullable=False),
    Column("learner_id", String(255), ForeignKey("learners.id"), nullable=False),
    Column("linked_at", UTCDateTime, nullable=False, default=now),
    UniqueConstraint("tenant_id", "issuer", "sub"),
)

licenses = Table(
    "licenses", metadata, _id(), _tenant_fk(),
    Column("program_id", String(255), nullable=False),
    Column("learner_id", String(255), ForeignKey("learners.id"), nullable=False),
    Column("taken_at", UTCDateTime, nullable=False),
    Column("released_at", UTCDateTime),
)
# At most one seat in use per learner and program.
Index("uq_licenses_active", licenses.c.tenant_id, licenses.c.program_id, licenses.c.learner_id,
      unique=True, sqlite_where=licenses.c.released_at.is_(None),
      postgresql_where=licenses.c.released_at.is_(None))

contexts = Table(
    "contexts", metadata, _id(), _tenant_fk(),
    Column("context_id", String(255), nullable=False),
    Column("title", Text),
    Column("lineitems_url", Text),
    Column("memberships_url", Text),
    UniqueConstraint("tenant_id", "context_id"),
)

published_links = Table(
    "published_links", metadata, _id(), _tenant_fk(),
    Column("context_id", String(255), nullable=False),
    Column("resource_link_id", String(255), nullable=False),
    Column("program_id", String(255), nullable=False),
    Column("course_id", String(255), nullable=False),
    Column("item_id", String(255)),
    Column("grade_sync", String(16), nullable=False),
    Column("needs_republish", Boolean, nullable=False, default=False),
    Column("retired", Boolean, nullable=False, default=False),
    Column("platform_ref", Text),
    UniqueConstraint("tenant_id", "context_id", "resource_link_id"),
)

gradebook_columns = Table(
    "gradebook_columns", metadata, _id(), _tenant_fk(),
    Column("context_id", String(255), nullable=False),
    Column("key", String(255), nullable=False),
    Column("label", Text, nullable=False),
    Column("score_maximum", Float, nullable=False),
    Column("resource_link_id", String(255)),
    Column("platform_ref", Text),
    UniqueConstraint("tenant_id", "context_id", "key"),
)

# item_id '' is the course's final grade: NULLs would not be equal in the unique key.
grades = Table(
    "grades", metadata, _id(),
    Column("learner_id", String(255), nullable=False),
    Column("course_id", String(255), nullable=False),
    Column("item_id", String(255), nullable=False, default=""),
    Column("score", Float, nullable=False),
    Column("max_score", Float, nullable=False),
    Column("revision", Integer, nullable=False, default=0),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("learner_id", "course_id", "item_id"),
)

# The outbox: written in the planning transaction; a dedupe key makes a grade revision
# deliverable at most once.
deliveries = Table(
    "deliveries", metadata, _id(), _tenant_fk(),
    Column("dedupe_key", String(64), nullable=False, unique=True),
    Column("context_id", String(255), nullable=False),
    Column("column_key", String(255), nullable=False),
    Column("learner_id", String(255), nullable=False),
    Column("lms_user_id", String(255), nullable=False),
    Column("score", Float, nullable=False),
    Column("max_score", Float, nullable=False),
    Column("grade_revision", Integer, nullable=False),
    Column("timestamp", UTCDateTime, nullable=False),
    Column("status", String(16), nullable=False, default="pending"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime),
    Column("last_error", Text),
    Column("created_at", UTCDateTime, nullable=False, default=now),
    Column("delivered_at", UTCDateTime),
    Index("ix_deliveries_pending", "tenant_id", "status", "next_attempt_at"),
)

sync_runs = Table(
    "sync_runs", metadata, _id(), _tenant_fk(),
    Column("status", String(16), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("heartbeat_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("summary", Text),
)

watermarks = Table(
    "watermarks", metadata,
    Column("name", String(255), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False, default=now),
)

nonces = Table(
    "nonces", metadata,
    Column("value", String(255), primary_key=True),
    Column("expires_at", UTCDateTime, nullable=False, index=True),
)

tool_keys = Table(
    "tool_keys", metadata,
    Column("kid", String(64), primary_key=True),
    Column("private_key", Text, nullable=False),  # encrypted, like credentials
    Column("public_jwk", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False, default=now),
    Column("retire_after", UTCDateTime),
)

# One row per audited hook call or admin action (migration 0007 added actor, detail, the
# index, and made adapter nullable). ``owner``: the tenant or provider name, or "tool" for
# tool-wide actions. ``hook``: the hook name or the action ("tenant.add"). ``adapter``: the
# adapter that ran the hook; None for admin actions. ``actor``: "engine", "cli:<os user>"
# or "lti:<issuer>#<sub>". ``detail``: JSON of non-secret specifics. Never holds a secret.
audit_log = Table(
    "audit_log", metadata, _id(),
    Column("at", UTCDateTime, nullable=False, default=now),
    Column("owner", String(63), nullable=False),
    Column("adapter", String(63)),
    Column("hook", String(63), nullable=False),
    Column("duration_ms", Float, nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("error", Text),
    Column("actor", String(255)),
    Column("detail", Text),
    Index("ix_audit_log_owner_at", "owner", "at"),
)

# Tables added by later work go in their own section below, each with its own Alembic
# revision (0002 LTI tool, 0003 sync engine, 0004 conformance/Canvas, 0005 Oracle), so work
# done in parallel never forks the migration history.

# --- LTI tool (migration 0002) ------------------------------------------------------------

# Every successful resource-link launch: who (issuer + sub -> learner) opened which link in
# which context, pointing at which content. Grade planning reads it (Option A needs the
# learner to have launched the item's link; "grade sync without SSO" needs anyone to have).
launches = Table(
    "launches", metadata, _id(), _tenant_fk(),
    Column("context_id", String(255)),  # None: the launch came with no context claim
    Column("resource_link_id", String(255), nullable=False),
    Column("issuer", Text, nullable=False),
    Column("sub", String(255), nullable=False),
    Column("learner_id", String(255), ForeignKey("learners.id"), nullable=False),
    Column("program_id", String(255), nullable=False),
    Column("course_id", String(255)),
    Column("item_id", String(255)),
    Column("roles", Text, nullable=False, default="[]"),  # JSON list, as the platform sent
    Column("launched_at", UTCDateTime, nullable=False, default=now),
    Index("ix_launches_link", "tenant_id", "context_id", "resource_link_id"),
    Index("ix_launches_learner", "tenant_id", "learner_id"),
)

# Where an item opens on the provider's site (Option A launches redirect there); filled by
# the catalog sync, None until then (the launch falls back to the course URL).
items.append_column(Column("url", Text))

# --- sync engine (migration 0003) ---------------------------------------------------------

# What each platform now holds, per gradebook cell, as of its last confirmed delivery:
# incremental planning sends a grade only when its revision is newer than this.
held_grades = Table(
    "held_grades", metadata, _id(), _tenant_fk(),
    Column("context_id", String(255), nullable=False),
    Column("column_key", String(255), nullable=False),
    Column("learner_id", String(255), nullable=False),
    Column("score", Float, nullable=False),
    Column("max_score", Float, nullable=False),
    Column("grade_revision", Integer, nullable=False),
    Column("delivered_at", UTCDateTime, nullable=False),
    UniqueConstraint("tenant_id", "context_id", "column_key", "learner_id"),
)

# Who runs a sync run ("host:pid"), so a runner killed on this host is seen as gone at once.
sync_runs.append_column(Column("owner", Text))
# One runner per tenant: a second "running" row for the tenant cannot be inserted, on SQLite
# and PostgreSQL alike.
Index("uq_sync_runs_running", sync_runs.c.tenant_id, unique=True,
      sqlite_where=sync_runs.c.status == "running",
      postgresql_where=sync_runs.c.status == "running")
# Planning supersedes an older pending write of the same gradebook cell.
Index("ix_deliveries_cell", deliveries.c.tenant_id, deliveries.c.context_id,
      deliveries.c.column_key, deliveries.c.learner_id)


# --- conformance / Canvas (migration 0004) ------------------------------------------------

# --- Oracle Learning (migration 0005) -----------------------------------------------------

# ``oracle_content`` (created here) moved into ``adapter_state`` in migration 0009.

# --- learning platforms (migration 0006) --------------------------------------------------

# When a learner started and completed a course, as the provider reported it: a learning
# platform (Oracle) is told about starts and completions, not only scores. Kept apart from
# ``grades`` because a start carries no score.
course_progress = Table(
    "course_progress", metadata, _id(),
    Column("learner_id", String(255), nullable=False),
    Column("course_id", String(255), nullable=False),
    Column("started_at", UTCDateTime),
    Column("completed_at", UTCDateTime),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("learner_id", "course_id"),
)
# When the learner started the work a delivery reports (Delivery.started_at); None for LMSs.
deliveries.append_column(Column("started_at", UTCDateTime))

# --- tenant isolation (migration 0008) ----------------------------------------------------

# A tenant belongs to one provider organisation and activates only its programs; a program
# records the provider that supplied it at catalog sync.
tenants.append_column(Column("provider_id", Integer,
                             ForeignKey("providers.id", ondelete="RESTRICT"), index=True))
tenants.append_column(Column("trust_lms_email", Boolean, nullable=False, default=True,
                             server_default=true()))
programs.append_column(Column("provider_id", Integer,
                              ForeignKey("providers.id", ondelete="SET NULL")))
# The tenant whose SSO created or first linked the learner; None for a learner the provider
# reported whom no SSO has claimed yet. First SSO never links a learner of another tenant.
learners.append_column(Column("tenant_id", Integer, ForeignKey("tenants.id"), index=True))

# --- adapter state (migration 0009) -------------------------------------------------------

# What an adapter keeps between calls, per adapter and tenant: ``key`` is the adapter's own
# (Oracle: a content key such as "course:<id>"), ``value`` JSON text. Adapters reach it only
# through ``Runtime.state(tenant)``, never this table.
adapter_state = Table(
    "adapter_state", metadata, _id(),
    Column("adapter", String(63), nullable=False),
    _tenant_fk(),
    Column("key", String(255), nullable=False),
    Column("value", Text, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False, default=now),
    UniqueConstraint("adapter", "tenant_id", "key"),
)
