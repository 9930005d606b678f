"""known_entries_index: a feed's known entries found by content hash through an index.

The collector looks a fetched feed's entries up among the links that feed already brought, by guid,
link or content hash. Guid and link had indexes; the hash had none, so the lookup walked every link
of the feed: 16 ms a fetch for a feed with 20,000 links (a year or two of a busy outlet), growing
with every run. With (source_id, content_hash) each of the three lookups reads only the rows asked for.

Revision ID: 0024
Revises: 0023
"""

from __future__ import annotations

from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_incident_sources_source_content_hash", "incident_sources", ["source_id", "content_hash"])


def downgrade() -> None:
    op.drop_index("ix_incident_sources_source_content_hash", table_name="incident_sources")
