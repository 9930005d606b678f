"""A consistent copy of the SQLite database, taken with SQLite's online backup API while others write.

PostgreSQL has its own tools (pg_dump, or continuous archiving); this refuses and says so.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy.engine import make_url

from newsletter.config import Settings
from newsletter.db import resolve_url

PAGES_PER_STEP = 1024  # copy in steps so writers are only paused briefly


class BackupError(Exception):
    """The backup cannot be made; the message says why and what to do instead."""


def database_path(settings: Settings) -> Path:
    if not settings.is_sqlite:
        url = make_url(settings.database_url)
        raise BackupError(
            "the database is PostgreSQL: back it up with pg_dump, e.g. "
            f"`pg_dump --format=custom --file=newsletter-$(date +%F).dump {url.database or 'newsletter'}` "
            "(restore with pg_restore), or use the server's continuous archiving"
        )
    database = make_url(resolve_url(settings.database_url)).database
    if not database or database == ":memory:":
        raise BackupError("the SQLite database is in memory; there is nothing on disk to back up")
    path = Path(database)
    if not path.exists():
        raise BackupError(f"the SQLite database {path} does not exist (run `newsletter db upgrade` first)")
    return path


def default_destination(settings: Settings, now: datetime | None = None) -> Path:
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    return settings.data_dir / "backups" / f"newsletter-{stamp}.sqlite3"


def backup_sqlite(settings: Settings, dest: Path | None = None) -> Path:
    """Copy the database to `dest` (a file, or a folder to put a dated file in); returns the file written.

    The copy is written next to its destination and renamed into place only once complete and
    checked, so a failed or interrupted backup never leaves a truncated file under the final name.
    """
    source = database_path(settings)
    target = dest if dest is not None else default_destination(settings)
    if target.is_dir():
        target = target / default_destination(settings).name
    if target.exists():
        raise BackupError(f"{target} already exists; choose another name (backups are never overwritten)")
    if target.resolve() == source.resolve():
        raise BackupError("the backup cannot replace the database itself")
    if dest is None:
        target.parent.mkdir(parents=True, exist_ok=True)
    elif not target.parent.is_dir():
        raise BackupError(f"folder {target.parent} does not exist")
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        src = sqlite3.connect(source, timeout=30)
        try:
            dst = sqlite3.connect(partial)
            try:
                src.backup(dst, pages=PAGES_PER_STEP)
                dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
                problems = dst.execute("PRAGMA integrity_check").fetchall()
                if problems != [("ok",)]:
                    raise BackupError(f"the copy failed its integrity check: {problems[:3]}")
            finally:
                dst.close()
        finally:
            src.close()
        os.chmod(partial, 0o600)  # it holds volunteers' reports and editors' password hashes
        os.replace(partial, target)
    except sqlite3.Error as exc:
        raise BackupError(f"backup of {source} failed: {exc}") from exc
    finally:
        partial.unlink(missing_ok=True)
    return target
