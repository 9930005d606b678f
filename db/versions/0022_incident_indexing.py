"""incident_indexing: lighter indexing of every new incident (the collector writes tens of thousands a run).

1. The index on incidents.content_hash goes: nothing ever looked an incident up by it (the collector
   looks up incident_sources.content_hash), and keeping that tree of random keys cost about a quarter
   of an incident's INSERT on SQLite at 50,000 incidents.

2. The SQLite full-text index skips a summary that is already word for word in the body.

A feed entry's summary is most often its body's only paragraph (`<p>text</p>` with the summary as
the text): indexing it again doubled the words the FTS5 index takes per incident, the largest part
of storing a short entry. The index now reads its rows from the view `incidents_fts_source`, which
gives an empty summary when `>summary<` occurs in the body. '<' and '>' separate words for the
unicode61 tokenizer, so every word (and every phrase) of such a summary is also a word (phrase) of
the body: searches, which match a word in any column, find exactly the same incidents. A summary an
editor wrote is not in the body and is indexed as before. The triggers index the same expression,
so 'delete' and 'rebuild' stay consistent. PostgreSQL keeps its tsvector side table (migration 0004).

Revision ID: 0022
Revises: 0021
"""

from __future__ import annotations

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def _summary(p: str) -> str:
    return f"CASE WHEN instr({p}.body, '>' || {p}.summary || '<') > 0 THEN '' ELSE {p}.summary END"


DROP_0004 = [
    "DROP TRIGGER IF EXISTS incidents_fts_au",
    "DROP TRIGGER IF EXISTS incidents_fts_ad",
    "DROP TRIGGER IF EXISTS incidents_fts_ai",
    "DROP TABLE IF EXISTS incidents_fts",
]
SQLITE_UP = [
    *DROP_0004,
    f"""CREATE VIEW incidents_fts_source AS
           SELECT i.id AS id, i.title AS title, {_summary('i')} AS summary, i.body AS body FROM incidents i""",
    """CREATE VIRTUAL TABLE incidents_fts USING fts5(
           title, summary, body, content='incidents_fts_source', content_rowid='id',
           tokenize='unicode61 remove_diacritics 0')""",
    f"""CREATE TRIGGER incidents_fts_ai AFTER INSERT ON incidents BEGIN
           INSERT INTO incidents_fts(rowid, title, summary, body) VALUES (new.id, new.title, {_summary('new')}, new.body);
       END""",
    f"""CREATE TRIGGER incidents_fts_ad AFTER DELETE ON incidents BEGIN
           INSERT INTO incidents_fts(incidents_fts, rowid, title, summary, body)
           VALUES ('delete', old.id, old.title, {_summary('old')}, old.body);
       END""",
    f"""CREATE TRIGGER incidents_fts_au AFTER UPDATE OF title, summary, body ON incidents BEGIN
           INSERT INTO incidents_fts(incidents_fts, rowid, title, summary, body)
           VALUES ('delete', old.id, old.title, {_summary('old')}, old.body);
           INSERT INTO incidents_fts(rowid, title, summary, body) VALUES (new.id, new.title, {_summary('new')}, new.body);
       END""",
    "INSERT INTO incidents_fts(incidents_fts) VALUES ('rebuild')",
]
# Back to migration 0004's index: every column as it is stored.
SQLITE_DOWN = [
    *DROP_0004,
    "DROP VIEW IF EXISTS incidents_fts_source",
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


def upgrade() -> None:
    op.drop_index("ix_incidents_content_hash", table_name="incidents")
    if op.get_bind().dialect.name == "postgresql":
        return
    for statement in SQLITE_UP:
        op.execute(statement)


def downgrade() -> None:
    op.create_index("ix_incidents_content_hash", "incidents", ["content_hash"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        return
    for statement in SQLITE_DOWN:
        op.execute(statement)
