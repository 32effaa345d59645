"""LTI tool: launches, OIDC state, licenses.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "launches",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("context_id", sa.String(length=255), nullable=True),
        sa.Column("resource_link_id", sa.String(length=255), nullable=False),
        sa.Column("issuer", sa.Text(), nullable=False),
        sa.Column("sub", sa.String(length=255), nullable=False),
        sa.Column("learner_id", sa.String(length=255), nullable=False),
        sa.Column("program_id", sa.String(length=255), nullable=False),
        sa.Column("course_id", sa.String(length=255), nullable=True),
        sa.Column("item_id", sa.String(length=255), nullable=True),
        sa.Column("roles", sa.Text(), nullable=False),
        sa.Column("launched_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["learner_id"], ["learners.id"],
                                name=op.f("fk_launches_learner_id_learners")),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE",
                                name=op.f("fk_launches_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_launches")),
    )
    op.create_index("ix_launches_link", "launches",
                    ["tenant_id", "context_id", "resource_link_id"])
    op.create_index("ix_launches_learner", "launches", ["tenant_id", "learner_id"])
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("url", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.drop_column("url")
    op.drop_index("ix_launches_learner", table_name="launches")
    op.drop_index("ix_launches_link", table_name="launches")
    op.drop_table("launches")
