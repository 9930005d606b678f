"""fts_detail: a lighter SQLite full-text index (FTS5 detail=none, columnsize=0).

The triage search asks one thing of the index: which incidents contain every word of the query
(each word alone, quoted, optionally as a prefix) in any column. It never asks for phrases, NEAR,
a column, ranks or snippets. FTS5's default keeps, for every word of every incident, the column
and position it stands at, and a row of column sizes per incident for bm25 ranking: the largest
part of indexing a new incident, which is the largest part of storing a short feed entry. With
detail=none only which incidents hold a word is kept, and columnsize=0 drops the sizes; the
search finds exactly the same incidents. PostgreSQL keeps its tsvector side table.

Revision ID: 0023
Revises: 0022
"""

from __future__ import annotations

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def _summary(p: str) -> str:
    return f"CASE WHEN instr({p}.body, '>' || {p}.summary || '<') > 0 THEN '' ELSE {p}.summary END"


def _index(options: str) -> list[str]:
    """Drop and recreate the index and its triggers over migration 0022's view, then fill it."""
    return [
        "DROP TRIGGER IF EXISTS incidents_fts_au",
        "DROP TRIGGER IF EXISTS incidents_fts_ad",
        "DROP TRIGGER IF EXISTS incidents_fts_ai",
        "DROP TABLE IF EXISTS incidents_fts",
        f"""CREATE VIRTUAL TABLE incidents_fts USING fts5(
               title, summary, body, content='incidents_fts_source', content_rowid='id',
               tokenize='unicode61 remove_diacritics 0'{options})""",
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


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        return
    for statement in _index(", detail=none, columnsize=0"):
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        return
    for statement in _index(""):
        op.execute(statement)
