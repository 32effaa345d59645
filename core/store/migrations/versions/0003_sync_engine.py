"""Sync engine: what platforms hold, one runner per tenant, outbox cell index.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_RUNNING = sa.text("status = 'running'")


def upgrade() -> None:
    op.create_table(
        "held_grades",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("context_id", sa.String(length=255), nullable=False),
        sa.Column("column_key", sa.String(length=255), nullable=False),
        sa.Column("learner_id", sa.String(length=255), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("max_score", sa.Float(), nullable=False),
        sa.Column("grade_revision", sa.Integer(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE",
                                name=op.f("fk_held_grades_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_held_grades")),
        sa.UniqueConstraint("tenant_id", "context_id", "column_key", "learner_id",
                            name=op.f("uq_held_grades_tenant_id_context_id_column_key_"
                                      "learner_id")),
    )
    with op.batch_alter_table("sync_runs") as batch:
        batch.add_column(sa.Column("owner", sa.Text(), nullable=True))
    op.create_index("uq_sync_runs_running", "sync_runs", ["tenant_id"], unique=True,
                    sqlite_where=_RUNNING, postgresql_where=_RUNNING)
    op.create_index("ix_deliveries_cell", "deliveries",
                    ["tenant_id", "context_id", "column_key", "learner_id"])


def downgrade() -> None:
    op.drop_index("ix_deliveries_cell", table_name="deliveries")
    op.drop_index("uq_sync_runs_running", table_name="sync_runs")
    with op.batch_alter_table("sync_runs") as batch:
        batch.drop_column("owner")
    op.drop_table("held_grades")
