"""editions: item translations per language, the further editions' frozen snapshots, an import's
translations on the incident, and each desk account's language.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import newsletter.db

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

UTC = newsletter.db.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "item_translations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("headline", sa.String(500), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("quote", sa.Text(), nullable=False),
        sa.Column("photo_caption", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("allow_original", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTC(), nullable=False),
        sa.Column("updated_by", sa.String(320), nullable=True),
        sa.CheckConstraint("state IN ('missing', 'draft', 'done')", name=op.f("ck_item_translations_state")),
        sa.ForeignKeyConstraint(["item_id"], ["issue_items.id"], name=op.f("fk_item_translations_item_id_issue_items"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_item_translations")),
        sa.UniqueConstraint("item_id", "language", name=op.f("uq_item_translations_item_id")),
    )
    op.create_index(op.f("ix_item_translations_item_id"), "item_translations", ["item_id"])
    with op.batch_alter_table("issues") as batch:
        batch.add_column(sa.Column("edition_snapshots", sa.JSON(), nullable=True))
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("translations", sa.JSON(), nullable=True))
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("language", sa.String(16), nullable=False, server_default="en"))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("language")
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("translations")
    with op.batch_alter_table("issues") as batch:
        batch.drop_column("edition_snapshots")
    op.drop_index(op.f("ix_item_translations_item_id"), table_name="item_translations")
    op.drop_table("item_translations")
