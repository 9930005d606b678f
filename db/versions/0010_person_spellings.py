"""person spellings: a person's name in other scripts and transliterations, protected like the name.

Revision ID: 0010
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import newsletter.db

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "person_spellings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("spelling", sa.String(length=300), nullable=False),
        sa.Column("created_at", newsletter.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], name=op.f("fk_person_spellings_person_id_persons"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_spellings")),
        sa.UniqueConstraint("person_id", "spelling", name=op.f("uq_person_spellings_person_id")),
    )
    with op.batch_alter_table("person_spellings") as batch:
        batch.create_index(batch.f("ix_person_spellings_person_id"), ["person_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("person_spellings") as batch:
        batch.drop_index(batch.f("ix_person_spellings_person_id"))
    op.drop_table("person_spellings")
