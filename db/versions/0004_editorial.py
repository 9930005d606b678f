"""editorial: full-text index over incidents (title, summary, body) for the triage search, and an
index on incident_sections.section_id for the triage filter by section.

SQLite: an external-content FTS5 table `incidents_fts` kept in sync by triggers.
PostgreSQL: a side table `incidents_fts(incident_id, document tsvector)` with a GIN index, kept in
sync by a trigger. Both use no stemming ('simple' / unicode61), because reports arrive in several
languages; the search matches word prefixes instead. Tables named incidents_fts* are not models
(newsletter.db.UNMODELLED_PREFIXES), so the models-vs-migrations check ignores them.

Revision ID: 0004
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op

import newsletter.db  # noqa: F401

revision = "0004"
down_revision = "0002"
branch_labels = None
depends_on = None

SQLITE_UP = [
    """CREATE VIRTUAL TABLE incidents_fts USING fts5(
           title, summary, body, content='incidents', content_rowid='id',
           tokenize='unicode61 remove_diacritics 0')""",
    """CREATE TRIGGER incidents_fts_ai AFTER INSERT ON incidents BEGIN
           INSERT INTO incidents_fts(rowid, title, summary, body) VALUES (new.id, new.title, new.summary, new.body);
       END""",
    """CREATE TRIGGER incidents_fts_ad AFTER DELETE ON incidents BEGIN
           INSERT INTO incidents_fts(incidents_fts, rowid, title, summary, body)
           VALUES ('delete', old.id, old.title, old.summary, old.body);
       END""",
    """CREATE TRIGGER incidents_fts_au AFTER UPDATE OF title, summary, body ON incidents BEGIN
           INSERT INTO incidents_fts(incidents_fts, rowid, title, summary, body)
           VALUES ('delete', old.id, old.title, old.summary, old.body);
           INSERT INTO incidents_fts(rowid, title, summary, body) VALUES (new.id, new.title, new.summary, new.body);
       END""",
    "INSERT INTO incidents_fts(incidents_fts) VALUES ('rebuild')",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS incidents_fts_au",
    "DROP TRIGGER IF EXISTS incidents_fts_ad",
    "DROP TRIGGER IF EXISTS incidents_fts_ai",
    "DROP TABLE IF EXISTS incidents_fts",
]

PG_DOCUMENT = ("to_tsvector('simple'::regconfig, coalesce({p}.title, '') || ' ' || coalesce({p}.summary, '') "
               "|| ' ' || coalesce({p}.body, ''))")
PG_UP = [
    """CREATE TABLE incidents_fts (
           incident_id integer PRIMARY KEY REFERENCES incidents(id) ON DELETE CASCADE,
           document tsvector NOT NULL)""",
    "CREATE INDEX incidents_fts_document ON incidents_fts USING gin (document)",
    f"""CREATE FUNCTION incidents_fts_sync() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO incidents_fts (incident_id, document) VALUES (NEW.id, {PG_DOCUMENT.format(p='NEW')})
            ON CONFLICT (incident_id) DO UPDATE SET document = EXCLUDED.document;
            RETURN NULL;
        END $$""",
    """CREATE TRIGGER incidents_fts_sync AFTER INSERT OR UPDATE OF title, summary, body ON incidents
       FOR EACH ROW EXECUTE FUNCTION incidents_fts_sync()""",
    f"INSERT INTO incidents_fts (incident_id, document) SELECT i.id, {PG_DOCUMENT.format(p='i')} FROM incidents i",
]
PG_DOWN = [
    "DROP TRIGGER IF EXISTS incidents_fts_sync ON incidents",
    "DROP FUNCTION IF EXISTS incidents_fts_sync()",
    "DROP TABLE IF EXISTS incidents_fts",
]


def upgrade() -> None:
    op.create_index("ix_incident_sections_section_id", "incident_sections", ["section_id"])
    statements = PG_UP if op.get_bind().dialect.name == "postgresql" else SQLITE_UP
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    statements = PG_DOWN if op.get_bind().dialect.name == "postgresql" else SQLITE_DOWN
    for statement in statements:
        op.execute(statement)
    op.drop_index("ix_incident_sections_section_id", table_name="incident_sections")
