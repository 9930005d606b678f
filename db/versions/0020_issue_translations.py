"""issue_translations: an issue's own texts (title, intro, preheader, editor's note and signature) in each
further edition's language, with the translator's state and the editor's leave to publish the original.

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import newsletter.db

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

UTC = newsletter.db.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "issue_translations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("intro", sa.Text(), nullable=False),
        sa.Column("preheader", sa.String(300), nullable=False),
        sa.Column("editors_note", sa.Text(), nullable=False),
        sa.Column("editors_note_signature", sa.String(200), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("allow_original", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTC(), nullable=False),
        sa.Column("updated_by", sa.String(320), nullable=True),
        sa.CheckConstraint("state IN ('missing', 'draft', 'done')", name=op.f("ck_issue_translations_state")),
        sa.ForeignKeyConstraint(["issue_id"], ["issues.id"], name=op.f("fk_issue_translations_issue_id_issues"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issue_translations")),
        sa.UniqueConstraint("issue_id", "language", name=op.f("uq_issue_translations_issue_id")),
    )
    op.create_index(op.f("ix_issue_translations_issue_id"), "issue_translations", ["issue_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_issue_translations_issue_id"), table_name="issue_translations")
    op.drop_table("issue_translations")
