"""issues: persons-of-concern summary toggle, editable preheader, and editor exclusions per issue.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import newsletter.db  # noqa: F401

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("issues", schema=None) as batch_op:
        batch_op.add_column(sa.Column("show_persons_summary", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("preheader", sa.String(length=300), server_default="", nullable=False))
        batch_op.add_column(sa.Column("excluded_incident_ids", sa.JSON(), server_default=sa.text("'[]'"), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("issues", schema=None) as batch_op:
        batch_op.drop_column("excluded_incident_ids")
        batch_op.drop_column("preheader")
        batch_op.drop_column("show_persons_summary")
