"""layout: the lead story, sub-heads and paragraph items, the editor's note, and related incidents.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("issue_items") as batch:
        batch.add_column(sa.Column("lead", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("subhead", sa.String(200), nullable=False, server_default=""))
        batch.add_column(sa.Column("paragraph", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("issues") as batch:
        batch.add_column(sa.Column("editors_note", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("editors_note_signature", sa.String(200), nullable=False, server_default=""))
    op.create_table(
        "incident_relations",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("related_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"],
                                name=op.f("fk_incident_relations_incident_id_incidents"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["related_id"], ["incidents.id"],
                                name=op.f("fk_incident_relations_related_id_incidents"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("incident_id", "related_id", name=op.f("pk_incident_relations")),
    )


def downgrade() -> None:
    op.drop_table("incident_relations")
    with op.batch_alter_table("issues") as batch:
        batch.drop_column("editors_note_signature")
        batch.drop_column("editors_note")
    with op.batch_alter_table("issue_items") as batch:
        batch.drop_column("paragraph")
        batch.drop_column("subhead")
        batch.drop_column("lead")
