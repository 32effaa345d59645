"""Oracle Learning content.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
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


def downgrade() -> None:
    op.drop_table("oracle_content")
