"""delivery retry: when a row's temporary failures began, and a one-row table for a write probe.

`deliveries.first_failed_at` anchors the retry horizon (NEWSLETTER_SEND_RETRY_HOURS): a row with
temporary failures stays retryable until that moment plus the horizon, however many attempts it
took. `health_probe` holds one row that /healthz updates, so a database that can be read but no
longer written (full disk, read-only file) is reported instead of looking healthy.

Revision ID: 0011
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import newsletter.db

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("first_failed_at", newsletter.db.UTCDateTime(), nullable=True))
    op.create_table(
        "health_probe",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("checked_at", newsletter.db.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_health_probe")),
    )
    op.execute("INSERT INTO health_probe (id, checked_at) VALUES (1, NULL)")


def downgrade() -> None:
    op.drop_table("health_probe")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("first_failed_at")
