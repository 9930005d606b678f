"""corrections: dated notes on items of published issues, and their notice outbox.

`corrections` is a layer beside the frozen snapshot (which never changes); `correction_notices`
holds one row per (correction, subscriber) with the same life as a delivery, so a correction email
reaches each recipient of the corrected issue once, also across a crash.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import newsletter.db

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

UTC = newsletter.db.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("headline", sa.String(500), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("filed_at", UTC(), nullable=False),
        sa.Column("filed_by_id", sa.Integer(), nullable=True),
        sa.Column("filed_by", sa.String(200), nullable=False),
        sa.Column("notify_requested_at", UTC(), nullable=True),
        sa.ForeignKeyConstraint(["issue_id"], ["issues.id"], name=op.f("fk_corrections_issue_id_issues"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], name=op.f("fk_corrections_incident_id_incidents"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["filed_by_id"], ["users.id"], name=op.f("fk_corrections_filed_by_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corrections")),
    )
    op.create_index("ix_corrections_issue_id", "corrections", ["issue_id"])
    op.create_index(op.f("ix_corrections_filed_at"), "corrections", ["filed_at"])
    op.create_table(
        "correction_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("correction_id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTC(), nullable=True),
        sa.Column("claimed_by", sa.String(200), nullable=True),
        sa.Column("claimed_at", UTC(), nullable=True),
        sa.Column("message_id", sa.String(300), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", UTC(), nullable=True),
        sa.Column("first_failed_at", UTC(), nullable=True),
        sa.Column("created_at", UTC(), nullable=False),
        sa.CheckConstraint("state IN ('pending', 'sending', 'sent', 'failed', 'bounced')",
                           name=op.f("ck_correction_notices_state")),
        sa.ForeignKeyConstraint(["correction_id"], ["corrections.id"],
                                name=op.f("fk_correction_notices_correction_id_corrections"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["subscriber_id"], ["subscribers.id"],
                                name=op.f("fk_correction_notices_subscriber_id_subscribers"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_correction_notices")),
        sa.UniqueConstraint("correction_id", "subscriber_id", name=op.f("uq_correction_notices_correction_id")),
    )
    op.create_index("ix_correction_notices_correction_state", "correction_notices", ["correction_id", "state"])
    op.create_index(op.f("ix_correction_notices_subscriber_id"), "correction_notices", ["subscriber_id"])


def downgrade() -> None:
    op.drop_table("correction_notices")
    op.drop_table("corrections")
