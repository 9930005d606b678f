"""feed max_entries: a per-feed override of NEWSLETTER_COLLECT_MAX_ENTRIES from sources.toml.

Revision ID: 0012
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import newsletter.db  # noqa: F401

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.add_column(sa.Column("max_entries", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("max_entries")
