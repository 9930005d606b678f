"""correction_translations: a correction's words in each further edition's language.

A correction is written in one language (corrections.language, the default edition's); readers of a
further edition see its translation from here when there is one, else the original with a short note.

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import newsletter.db

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

UTC = newsletter.db.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "correction_translations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("correction_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("updated_at", UTC(), nullable=False),
        sa.Column("updated_by", sa.String(320), nullable=True),
        sa.ForeignKeyConstraint(["correction_id"], ["corrections.id"],
                                name=op.f("fk_correction_translations_correction_id_corrections"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_correction_translations")),
        sa.UniqueConstraint("correction_id", "language", name=op.f("uq_correction_translations_correction_id")),
    )


def downgrade() -> None:
    op.drop_table("correction_translations")
