"""Sync engine: outbox state, runs, platform-held grades (issue 4).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # reserved: filled by the issue 4 work


def downgrade() -> None:
    pass
