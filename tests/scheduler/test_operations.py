"""`newsletter status`, `newsletter backup` and /healthz."""

from __future__ import annotations

import json
import sqlite3
import threading
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import insert, select

from newsletter.db import utcnow
from newsletter.models import Delivery, Incident, JobRun, Source, Subscriber
from newsletter.backup import BackupError, backup_sqlite
from newsletter.lease import Lease
from tests.scheduler.helpers import UTC, add_subscribers, make_issue


def _seed_status(session) -> None:  # noqa: ANN001
    now = utcnow()
    session.add_all([
        Source(name="Court news", url="https://court.example.org/feed", error_count=4, last_error="HTTP 503\nmore",
               last_success_at=now - timedelta(days=2)),
        Source(name="Healthy feed", url="https://ok.example.org/feed", last_success_at=now - timedelta(minutes=5)),
        Incident(title="Waiting one", origin="volunteer", state="new"),
        Incident(title="Waiting two", origin="feed", state="new"),
        Incident(title="Asked", origin="volunteer", state="needs_info"),
        JobRun(job="collect", started_at=now - timedelta(minutes=3), finished_at=now, outcome="error",
               detail="OperationalError: disk I/O error\nTraceback ..."),
        JobRun(job="draft", started_at=now - timedelta(days=1), finished_at=now, outcome="ok", detail="issue 3 drafted"),
    ])
    issue = make_issue(session, scheduled_for=now - timedelta(hours=5), state="sending")
    add_subscribers(session, 3)
    subs = session.scalars(select(Subscriber.id).order_by(Subscriber.id)).all()
    session.execute(insert(Delivery), [
        {"issue_id": issue.id, "subscriber_id": subs[0], "state": "sent", "attempts": 1, "created_at": now},
        {"issue_id": issue.id, "subscriber_id": subs[1], "state": "pending", "attempts": 0, "created_at": now},
        {"issue_id": issue.id, "subscriber_id": subs[2], "state": "failed", "attempts": 5, "created_at": now},
    ])
    session.flush()


def test_status_shows_sources_triage_outbox_and_jobs(cli, session, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "220")
    _seed_status(session)
    out = cli("status").output
    assert "Scheduler: none running" in out
    assert "2 report(s) waiting for triage" in out and "1 waiting for a volunteer's answer" in out
    assert "Court news" in out and "failing" in out and "Healthy feed" in out
    assert "Outbox: 1 failed, 1 pending, 1 sent" in out
    for job in ("collect", "draft", "send", "retry", "digest", "housekeeping"):
        assert job in out
    assert "OperationalError: disk I/O error" in out
    assert "Needs attention" in out and "1 feed(s) failing for a day" in out and "job collect failed" in out


def test_status_json_and_check_exit_code(cli, session, runtime) -> None:
    result = cli("status", "--json")
    data = json.loads(result.output)
    assert data["scheduler"]["state"] == "none" and data["waiting_triage"] == 0
    assert {j["name"] for j in data["jobs"]} >= {"collect", "draft", "send", "retry", "digest"}
    assert cli("status", "--check", expect=1).exit_code == 1  # no scheduler is running
    Lease(runtime.engine, ttl=60, holder="host:1:abc").acquire(utcnow())
    assert json.loads(cli("status", "--json").output)["scheduler"]["holder"] == "host:1:abc"
    cli("status", "--check", expect=0)


def test_status_shows_next_runs_once_a_scheduler_has_declared_its_jobs(cli, runtime) -> None:
    from newsletter.clock import ManualClock
    from newsletter.scheduler import Scheduler

    sched = Scheduler(runtime, clock=ManualClock(datetime(2026, 11, 20, 8, 0, tzinfo=UTC)), inline=True)
    sched.start()
    sched._hold_lease(sched.clock.now())  # become active and declare the jobs, without running them
    sched.shutdown()
    data = json.loads(cli("status", "--json").output)
    nxt = {j["name"]: j["next_run"] for j in data["jobs"]}
    assert nxt["draft"] == "2026-11-20T09:00:00+00:00"
    assert nxt["send"] == "2026-11-20T08:00:00+00:00"


def test_jobs_list(cli, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "220")
    out = cli("jobs", "list").output
    assert "every 15 min" in out and "fri 09:00 UTC" in out and "daily 08:00 UTC" in out


@pytest.fixture
def sqlite_only(db_backend: str) -> None:
    if db_backend != "sqlite":
        pytest.skip("SQLite backups")


def test_backup_is_a_consistent_copy_while_writers_write(sqlite_only, runtime, session, tmp_path: Path) -> None:
    add_subscribers(session, 200)
    stop = threading.Event()
    written = [0]

    def writer() -> None:
        while not stop.is_set():
            with runtime.session() as s:
                s.add_all([JobRun(job="writer", outcome="ok", detail="x" * 2000) for _ in range(20)])
            written[0] += 20

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while written[0] < 200:
            threading.Event().wait(0.01)
        copies = [backup_sqlite(runtime.settings, tmp_path / f"copy{i}.sqlite3") for i in range(3)]
    finally:
        stop.set()
        thread.join()
    for copy in copies:
        with sqlite3.connect(copy) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
            runs = conn.execute("SELECT count(*) FROM job_runs").fetchone()[0]
            assert runs % 20 == 0 and runs >= 200  # whole transactions only
            assert conn.execute("SELECT count(*) FROM subscribers").fetchone()[0] == 200
        assert oct(copy.stat().st_mode & 0o777) == "0o600"
    assert not list(tmp_path.glob(".*.partial"))


def test_backup_command_default_folder_and_refusals(sqlite_only, cli, settings, tmp_path: Path) -> None:
    out = cli("backup").output
    made = list((settings.data_dir / "backups").glob("newsletter-*.sqlite3"))
    assert len(made) == 1 and str(made[0]) in out.replace("\n", "")
    target = tmp_path / "nightly.sqlite3"
    cli("backup", str(target))
    assert target.exists()
    again = cli("backup", str(target), expect=1)
    assert "already exists" in again.output
    missing = cli("backup", str(tmp_path / "no" / "such" / "dir" / "b.sqlite3"), expect=1)
    assert "does not exist" in missing.output
    folder = tmp_path / "into"
    folder.mkdir()
    cli("backup", str(folder))
    assert len(list(folder.glob("newsletter-*.sqlite3"))) == 1


def test_backup_on_postgresql_points_to_pg_dump(settings_env, monkeypatch, cli) -> None:
    monkeypatch.setenv("NEWSLETTER_DATABASE_URL", "postgresql+psycopg://news:pw@127.0.0.1:5432/newsletter")
    result = cli("backup", expect=1)
    assert "pg_dump" in result.output and "pg_restore" in result.output
    assert "pw@" not in result.output
    with pytest.raises(BackupError, match="pg_dump"):
        from newsletter.config import load_settings

        backup_sqlite(load_settings())


def test_healthz_answers_with_the_scheduler_state(live_server: str, runtime) -> None:
    first = httpx.get(f"{live_server}/healthz")
    assert first.status_code == 200 and first.json() == {"status": "ok", "scheduler": "none"}
    Lease(runtime.engine, ttl=60, holder="h:1:x").acquire(utcnow() - timedelta(minutes=10))  # renewed last 10 min ago
    stale = httpx.get(f"{live_server}/healthz")
    assert stale.status_code == 200 and stale.json()["scheduler"] == "stale"  # web nodes stay in rotation
    Lease(runtime.engine, ttl=60, holder="h:2:y").acquire(utcnow())  # another scheduler took over
    assert httpx.get(f"{live_server}/healthz").json()["scheduler"] == "active"
