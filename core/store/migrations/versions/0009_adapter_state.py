"""Adapter state: one namespaced ledger per adapter and tenant; Oracle's content rows move in.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# Oracle's ledger value: what oracle_content held per row, as JSON text (pushed_at ISO 8601).
_ORACLE_VALUE = {
    "sqlite": "json_object('oracle_id', oracle_id, 'fingerprint', fingerprint, "
              "'status', status, 'pushed_at', strftime('%Y-%m-%dT%H:%M:%f+00:00', pushed_at))",
    "postgresql": "json_build_object('oracle_id', oracle_id, 'fingerprint', fingerprint, "
                  "'status', status, 'pushed_at', "
                  "to_char(pushed_at AT TIME ZONE 'UTC', "
                  "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"'))::text",
}


def upgrade() -> None:
    op.create_table(
        "adapter_state",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("adapter", sa.String(length=63), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE",
                                name=op.f("fk_adapter_state_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_adapter_state")),
        sa.UniqueConstraint("adapter", "tenant_id", "key",
                            name=op.f("uq_adapter_state_adapter_tenant_id_key")),
    )
    value = _ORACLE_VALUE[op.get_bind().dialect.name]
    op.execute("INSERT INTO adapter_state (adapter, tenant_id, key, value, updated_at) "
               f"SELECT 'oracle', tenant_id, content_key, {value}, pushed_at "
               "FROM oracle_content")
    op.drop_table("oracle_content")


def downgrade() -> None:
    op.create_table(
        "oracle_content",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("content_key", sa.String(length=255), nullable=False),
        sa.Column("oracle_id", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("pushed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE",
                                name=op.f("fk_oracle_content_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oracle_content")),
        sa.UniqueConstraint("tenant_id", "content_key",
                            name=op.f("uq_oracle_content_tenant_id_content_key")),
    )
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT tenant_id, key, value, updated_at FROM adapter_state "
                                "WHERE adapter = 'oracle'")).all()
    content = sa.table("oracle_content", sa.column("tenant_id"), sa.column("content_key"),
                       sa.column("oracle_id"), sa.column("fingerprint"), sa.column("status"),
                       sa.column("pushed_at"))
    for tenant_id, key, raw, updated_at in rows:
        value = json.loads(raw)
        bind.execute(content.insert().values(
            tenant_id=tenant_id, content_key=key, oracle_id=value["oracle_id"],
            fingerprint=value["fingerprint"], status=value["status"], pushed_at=updated_at))
    op.drop_table("adapter_state")
