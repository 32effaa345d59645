"""Audit trail: who acted and non-secret detail per row; admin actions have no adapter.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("actor", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("detail", sa.Text(), nullable=True))
        batch.alter_column("adapter", existing_type=sa.String(length=63), nullable=True)
        batch.create_index("ix_audit_log_owner_at", ["owner", "at"], unique=False)


def downgrade() -> None:
    # Admin-action rows have no adapter; the old schema requires one.
    op.execute("UPDATE audit_log SET adapter = '' WHERE adapter IS NULL")
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_index("ix_audit_log_owner_at")
        batch.alter_column("adapter", existing_type=sa.String(length=63), nullable=False)
        batch.drop_column("detail")
        batch.drop_column("actor")
