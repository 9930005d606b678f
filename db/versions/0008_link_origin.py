"""link origin: every incident link says where it came from (feed, editor, volunteer, api, import).

Only feed and editor links may be published (issue 11). Existing links are classified from their
channel: a link of a feed source is a feed link; a link of the volunteer, API or import channel keeps
that channel; a link without a source (volunteers' typed links were stored that way) is an import
link on an imported incident and a volunteer link otherwise. Unknown therefore means not public: an
editor re-adds a link on the desk if it should be published.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import newsletter.db  # noqa: F401

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

ORIGINS = ("feed", "editor", "volunteer", "api", "import")

CLASSIFY = """
UPDATE incident_sources SET origin = CASE
    WHEN source_id IN (SELECT id FROM sources WHERE kind = 'feed') THEN 'feed'
    WHEN source_id IN (SELECT id FROM sources WHERE kind = 'api') THEN 'api'
    WHEN source_id IN (SELECT id FROM sources WHERE kind = 'import') THEN 'import'
    WHEN source_id IS NULL AND incident_id IN (SELECT id FROM incidents WHERE origin = 'import') THEN 'import'
    ELSE 'volunteer'
END
"""


def upgrade() -> None:
    with op.batch_alter_table("incident_sources", schema=None) as batch_op:
        batch_op.add_column(sa.Column("origin", sa.String(16), nullable=True))
    op.execute(CLASSIFY)
    with op.batch_alter_table("incident_sources", schema=None) as batch_op:
        batch_op.alter_column("origin", existing_type=sa.String(16), nullable=False)
        batch_op.create_check_constraint(
            op.f("ck_incident_sources_origin"), "origin IN (" + ", ".join(f"'{o}'" for o in ORIGINS) + ")"
        )


def downgrade() -> None:
    with op.batch_alter_table("incident_sources", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_incident_sources_origin"), type_="check")
        batch_op.drop_column("origin")
