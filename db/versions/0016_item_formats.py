"""item formats: an incident's format (news, testimony, statement, timeline), its quote, timeline lines
and photo, and the published photo copies (media).

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import newsletter.db

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

UTC = newsletter.db.UTCDateTime
FORMATS = ("news", "testimony", "statement", "timeline")


def upgrade() -> None:
    op.create_table(
        "media",
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_media")),
    )
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("format", sa.String(16), nullable=False, server_default="news"))
        batch.add_column(sa.Column("quote", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("timeline", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("photo", sa.JSON(), nullable=True))
    if op.get_bind().dialect.name != "sqlite":
        # SQLite would rebuild the whole incidents table for a new CHECK, and dropping the old table
        # cascades to its links and persons; there the service's validation (ITEM_FORMATS) is the check.
        op.create_check_constraint(op.f("ck_incidents_format"), "incidents",
                                   "format IN (" + ", ".join(f"'{f}'" for f in FORMATS) + ")")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f("ck_incidents_format"), "incidents", type_="check")
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("photo")
        batch.drop_column("timeline")
        batch.drop_column("quote")
        batch.drop_column("format")
    op.drop_table("media")
