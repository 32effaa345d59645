"""Tenant isolation: tenants belong to a provider, programs record theirs, learners their tenant.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tenants") as batch:
        batch.add_column(sa.Column("provider_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("trust_lms_email", sa.Boolean(), nullable=False,
                                   server_default=sa.true()))
        batch.create_foreign_key(op.f("fk_tenants_provider_id_providers"), "providers",
                                 ["provider_id"], ["id"], ondelete="RESTRICT")
        batch.create_index(op.f("ix_tenants_provider_id"), ["provider_id"])
    with op.batch_alter_table("programs") as batch:
        batch.add_column(sa.Column("provider_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_programs_provider_id_providers"), "providers",
                                 ["provider_id"], ["id"], ondelete="SET NULL")
    with op.batch_alter_table("learners") as batch:
        batch.add_column(sa.Column("tenant_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_learners_tenant_id_tenants"), "tenants",
                                 ["tenant_id"], ["id"])
        batch.create_index(op.f("ix_learners_tenant_id"), ["tenant_id"])
    # Existing data: with a single provider, every tenant and program is its; a learner
    # belongs to the tenant that linked it first.
    op.execute("UPDATE tenants SET provider_id = (SELECT min(id) FROM providers) "
               "WHERE (SELECT count(*) FROM providers) = 1")
    op.execute("UPDATE programs SET provider_id = (SELECT min(id) FROM providers) "
               "WHERE (SELECT count(*) FROM providers) = 1")
    op.execute("UPDATE learners SET tenant_id = (SELECT a.tenant_id FROM account_links a "
               "WHERE a.learner_id = learners.id ORDER BY a.linked_at, a.id LIMIT 1)")


def downgrade() -> None:
    with op.batch_alter_table("learners") as batch:
        batch.drop_index(op.f("ix_learners_tenant_id"))
        batch.drop_constraint(op.f("fk_learners_tenant_id_tenants"), type_="foreignkey")
        batch.drop_column("tenant_id")
    with op.batch_alter_table("programs") as batch:
        batch.drop_constraint(op.f("fk_programs_provider_id_providers"), type_="foreignkey")
        batch.drop_column("provider_id")
    with op.batch_alter_table("tenants") as batch:
        batch.drop_index(op.f("ix_tenants_provider_id"))
        batch.drop_constraint(op.f("fk_tenants_provider_id_providers"), type_="foreignkey")
        batch.drop_column("trust_lms_email")
        batch.drop_column("provider_id")
