"""duplicate_checks: reports whose near-duplicates are still to be looked for.

A volunteer's form or a partner's API call stores its report with a row here instead of scoring it
inside the request; the `duplicates` job (or the desk, when an editor opens it) scores the waiting
reports in one batch and deletes their rows in the same transaction as the pairs it proposes.

Revision ID: 0019
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import newsletter.db

revision = "0019"
down_revision = "0017"
branch_labels = None
depends_on = None

UTC = newsletter.db.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "duplicate_checks",
        sa.Column("incident_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("queued_at", UTC(), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], name=op.f("fk_duplicate_checks_incident_id_incidents"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("incident_id", name=op.f("pk_duplicate_checks")),
    )


def downgrade() -> None:
    op.drop_table("duplicate_checks")
