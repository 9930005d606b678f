"""issue item text format: "plain" (every item written so far: paragraphs split on blank lines, rendered
exactly as before) or "markdown" (an editor's text from now on, rendered to sanitised HTML when frozen).

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import newsletter.db  # noqa: F401

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("issue_items") as batch:
        batch.add_column(sa.Column("text_format", sa.String(length=16), nullable=False, server_default="plain"))


def downgrade() -> None:
    with op.batch_alter_table("issue_items") as batch:
        batch.drop_column("text_format")
