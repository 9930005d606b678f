"""Engine, session factory and declarative Base. Jobs and commands use session_scope()."""

from __future__ import annotations

import re

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import JSON, DateTime, MetaData, column, create_engine, event, table, text, update
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from newsletter.config import PROJECT_ROOT, Settings, SettingsError, redact_url

T = TypeVar("T")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both SQLite (which drops tzinfo) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use newsletter.db.utcnow() or an aware datetime")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)

    def bind_processor(self, dialect: Any) -> Callable[[Any], Any] | None:
        """The usual conversion, remembering the last value: a batch insert binds the same `now` as
        created_at and updated_at of every row (tens of thousands a collect run), and converting and
        formatting it each time was a tenth of storing a feed entry. Keyed by identity, and the key is
        held, so a value's id cannot be reused while it is remembered; datetimes are immutable."""
        convert = super().bind_processor(dialect)
        if convert is None:  # pragma: no cover - every dialect here has one
            return None
        last: list[tuple[Any, Any]] = [(None, None)]

        def process(value: Any) -> Any:
            memo = last[0]  # one read: another thread may replace it, never half of it
            if value is memo[0]:
                return memo[1]
            result = convert(value)
            last[0] = (value, result)
            return result

        return process


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[str]: JSON}


# Tables that exist in the database but not as models: the scheduler's plan (newsletter.triggers), full-text indexes.
UNMODELLED_PREFIXES = ("apscheduler_", "incidents_fts")


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Alembic filter: leave tables that are not SQLAlchemy models out of autogenerate comparisons."""
    if type_ == "table" and name and name.startswith(UNMODELLED_PREFIXES):
        return False
    return True


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _sqlite_begin(conn: Any) -> None:
    options = conn.get_execution_options()
    if options.get("isolation_level") == "AUTOCOMMIT":
        return
    conn.exec_driver_sql(f"BEGIN {options.get('sqlite_begin', 'IMMEDIATE')}")


# A connection attempt to an unreachable PostgreSQL server gives up after this many seconds.
PG_CONNECT_TIMEOUT = 10


def resolve_url(url: str) -> str:
    """Make a relative SQLite path absolute so commands work from any cwd.

    Only the default `db/` folder is created: any other missing folder is most likely a typo, and
    creating it would silently start a new, empty database beside the real one.
    """
    u = make_url(url)
    if u.get_backend_name() == "sqlite" and u.database and u.database != ":memory:":
        path = Path(u.database)
        if not path.is_absolute():
            path = Path.cwd() / path
        if not path.parent.is_dir():
            if path.parent != Path.cwd() / "db":
                raise SettingsError(
                    f"NEWSLETTER_DATABASE_URL: the folder {path.parent} does not exist (database file {path.name}); "
                    "check the path for a typo, or create the folder first if a new database is meant")
            path.parent.mkdir(parents=True, exist_ok=True)
        u = u.set(database=str(path))
    return u.render_as_string(hide_password=False)


# Fragments of driver messages that mean "the server or file could not be reached", not a failing query.
_CONNECT_FAILURES = ("connection failed", "could not connect", "connection refused", "connection to server",
                     "could not translate host name", "failed to resolve host", "name or service not known",
                     "timeout expired", "no route to host", "network is unreachable",
                     "unable to open database file")


def unreachable_message(url: str, exc: BaseException) -> str | None:
    """One or two lines naming the host and port (or file) and what to check; None when not a connect failure."""
    text = str(getattr(exc, "orig", None) or exc)
    if not any(fragment in text.lower() for fragment in _CONNECT_FAILURES):
        return None
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        return (f"cannot open the SQLite database {u.database}: {text.splitlines()[0]}\n"
                "check that the folder exists and that this user may read and write it (NEWSLETTER_DATABASE_URL)")
    host, port = u.host or "localhost (Unix socket)", u.port or 5432
    reason = next((line.strip() for line in text.splitlines() if line.strip()), "no answer")
    reason = reason.rsplit(" failed: ", 1)[-1] if " failed: " in reason else reason
    if reason.startswith("FATAL:"):  # the server answered and said no: credentials or database name
        return (f"the PostgreSQL server at {host}:{port} refused the connection: {' '.join(reason.split())}\n"
                f"check the user, password and database name in NEWSLETTER_DATABASE_URL ({redact_url(url)})")
    return (f"cannot reach the PostgreSQL server at {host}:{port} (database {u.database or '?'}): {reason}\n"
            "check that PostgreSQL runs there and listens on that address, that a firewall lets this machine "
            f"through, and the host and port in NEWSLETTER_DATABASE_URL ({redact_url(url)})")


def make_engine(settings: Settings | str, **kwargs: Any) -> Engine:
    url = resolve_url(settings if isinstance(settings, str) else settings.database_url)
    # A database error's message must never carry the statement's values (a report's words, a
    # name, a receipt hash) into a log line or a traceback.
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        # Let SQLAlchemy, not pysqlite, open transactions, and take the write lock at BEGIN so
        # concurrent writers queue on busy_timeout instead of failing with "database is locked".
        # A connection can ask for another mode with execution_options(sqlite_begin="DEFERRED").
        event.listen(engine, "connect", lambda conn, _r: setattr(conn, "isolation_level", None))
        event.listen(engine, "begin", _sqlite_begin)
        # A many-row INSERT runs as multi-row INSERT ... VALUES statements (as SQLAlchemy already does
        # on PostgreSQL), not one statement per row: each statement makes FTS5 write its pending terms
        # to disk, which made indexing a row cost more than the rest of its INSERT (the collector).
        engine.dialect.use_insertmanyvalues_wo_returning = True
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    if "connect_timeout" not in make_url(url).query:
        kwargs.setdefault("connect_args", {"connect_timeout": PG_CONNECT_TIMEOUT})
    return create_engine(url, **kwargs)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


MIGRATION_LOCK_KEY = 0x6E6C7472  # "nltr": any constant the application's other locks do not use


def alembic_config(settings: Settings | str) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "db"))
    url = resolve_url(settings if isinstance(settings, str) else settings.database_url)
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


_REVISION_LINE = re.compile(r"""^(down_revision|revision)\s*(?::[^=]*)?=\s*(?:None|["']([0-9A-Za-z_]+)["'])\s*$""", re.MULTILINE)


def _single_head() -> str | None:
    """The one head revision of db/versions, read from the files; None if there is not exactly one or a
    file is written in a way this reader does not know (alembic then decides)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (PROJECT_ROOT / "db" / "versions").glob("*.py"):
        found = dict((m.group(1), m.group(2)) for m in _REVISION_LINE.finditer(path.read_text(encoding="utf-8")))
        if not found.get("revision") or "down_revision" not in found:
            return None
        revisions.add(found["revision"])  # type: ignore[arg-type]
        if found["down_revision"]:
            parents.add(found["down_revision"])  # type: ignore[arg-type]
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _at_head(url: str) -> bool:
    """Whether the database already is at the single head: then upgrade need not import and run alembic
    (about a third of a second of CPU that every `newsletter collect` from cron paid)."""
    from sqlalchemy import pool, text

    head = _single_head()
    if head is None:
        return False
    engine = make_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            versions = [row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))]
    except Exception:  # no table yet, or the database is unreachable: alembic decides and reports
        return False
    finally:
        engine.dispose()
    return versions == [head]


def upgrade(settings: Settings | str, revision: str = "head") -> None:
    """Apply migrations; serve, demo and `newsletter db upgrade` call this."""
    cfg_url = resolve_url(settings if isinstance(settings, str) else settings.database_url)
    if revision == "head" and _at_head(cfg_url):
        return
    from alembic import command
    from sqlalchemy import pool, text

    cfg = alembic_config(settings)
    url = cfg.get_main_option("sqlalchemy.url").replace("%%", "%")
    if not url.startswith("postgresql"):
        _upgrade_sqlite(cfg, url, revision)
        return
    # serve and scheduler both migrate on start: on PostgreSQL an advisory lock lets one go first.
    engine = make_engine(url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        conn.commit()
        try:
            command.upgrade(cfg, revision)
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
            conn.commit()
    engine.dispose()


def _upgrade_sqlite(cfg: Any, url: str, revision: str) -> None:
    """Serialise concurrent upgrades of one SQLite file with a lock file beside it."""
    import fcntl

    from alembic import command

    database = make_url(url).database
    if not database or database == ":memory:":
        command.upgrade(cfg, revision)
        return
    with open(f"{database}.migrate-lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            command.upgrade(cfg, revision)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


# ---------------------------------------------------------------- riding out a database blip


class DatabaseUnavailable(Exception):
    """The database stayed unreachable for longer than the retry budget; the message says how long."""


def is_transient(exc: BaseException) -> bool:
    """A lost or refused connection (a restart, a failover), as opposed to a bad statement or data.

    SQLAlchemy flags disconnects on DBAPIError.connection_invalidated; a refused *new* connection
    while PostgreSQL restarts arrives as an OperationalError without that flag, so the driver's
    wording is checked too. SQLite's "database is locked" is left to busy_timeout.
    """
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

    if not isinstance(exc, (OperationalError, InterfaceError)):
        return False
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    text = str(exc.orig if getattr(exc, "orig", None) is not None else exc).lower()
    return any(marker in text for marker in TRANSIENT_MARKERS)


TRANSIENT_MARKERS = (
    "connection refused", "server closed the connection", "terminating connection", "connection reset",
    "could not connect", "the database system is starting up", "the database system is shutting down",
    "connection is closed", "connection already closed", "ssl connection has been closed", "broken pipe",
    "connection timed out", "no connection to the server", "consuming input failed",
    "the database system is in recovery mode", "cannot connect now",
)


def retry_transient(fn: Callable[[], T], *, budget: float, what: str = "the database",
                    sleep: Callable[[float], None] = time.sleep) -> T:
    """Run fn(), retrying a transient connection error with growing pauses for up to `budget` seconds.

    fn must be one whole transaction (it opens its own session), so running it again is safe.
    After the budget, DatabaseUnavailable carries one line for the operator instead of a traceback.
    """
    deadline = time.monotonic() + budget
    delay = 0.1
    while True:
        try:
            return fn()
        except Exception as exc:
            if not is_transient(exc):
                raise
            if time.monotonic() + delay > deadline:
                reason = str(getattr(exc, "orig", exc) or type(exc).__name__).strip().splitlines()[0]
                raise DatabaseUnavailable(f"{what} is unreachable (gave up after {budget:g}s): {reason}") from None
            sleep(delay)
            delay = min(delay * 2, 2.0)


MAX_ROW_ID = 2**63 - 1  # SQLite's INTEGER and PostgreSQL's bigint; a larger number names no row


def get_row(session: Session, model: type[T], ident: int) -> T | None:
    """The row a page's path names (/editor/incidents/<id>), or None.

    Routes and commands never use the session's query API (tests/test_no_sql_in_routes.py); this is the
    one lookup they may ask for, to answer 404 before handing the row to a service. A number no key can
    hold is None too: SQLite cannot even bind it (a 500 instead of the 404).
    """
    if not 0 < ident <= MAX_ROW_ID:
        return None
    return session.get(model, ident)


# health_probe (models.HealthProbe) as a bare table: db.py sits below models.py in the layers.
_HEALTH_PROBE = table("health_probe", column("id"), column("checked_at", UTCDateTime()))


def probe_read(engine: Engine) -> None:
    """Raise unless the database answers a query (/healthz: the node cannot reach it)."""
    with engine.connect() as conn:
        conn.execution_options(sqlite_begin="DEFERRED").execute(text("SELECT 1"))


def probe_write(engine: Engine) -> None:
    """Raise unless the database commits a write: a full disk or a read-only file still answers reads,
    but would refuse every volunteer's report."""
    with engine.begin() as conn:
        conn.execute(update(_HEALTH_PROBE).where(_HEALTH_PROBE.c.id == 1).values(checked_at=utcnow()))
