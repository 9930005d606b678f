"""A throwaway PostgreSQL cluster for the test run, or the server named by NEWSLETTER_TEST_POSTGRES_URL."""

from __future__ import annotations

import glob
import os
import shlex
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.support.net import free_port


def _pg_bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    if not candidates:
        raise RuntimeError(
            f"PostgreSQL's {name} was not found. Install it (apt-get install postgresql) "
            "or set NEWSLETTER_TEST_POSTGRES_URL to an existing server."
        )
    return candidates[0]


@dataclass
class PgServer:
    admin_url: str  # e.g. postgresql+psycopg://postgres@127.0.0.1:5433/postgres
    datadir: Path | None = None
    as_user: str | None = None

    def url_for(self, database: str) -> str:
        return make_url(self.admin_url).set(database=database).render_as_string(hide_password=False)

    def execute(self, sql: str) -> None:
        engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(sql))
        engine.dispose()

    def restart(self) -> None:
        """A quick restart (what a failover or a minor upgrade looks like to clients): every
        connection is dropped and new ones are refused for a moment."""
        assert self.datadir is not None, "only the test's own cluster can be restarted"
        # -l again: without it the new postmaster writes to (and holds open) this call's output pipe.
        _run([_pg_bin("pg_ctl"), "-D", str(self.datadir), "-m", "fast", "-w", "-l", str(self.datadir.parent / "log"),
              "restart"], self.as_user)

    def halt(self) -> str:
        """Stop the test's own cluster (clients get "connection refused"); returns what resume() needs."""
        assert self.datadir is not None, "only the test's own cluster can be stopped"
        args = shlex.split((self.datadir / "postmaster.opts").read_text())[1:]
        keep = [a for i, a in enumerate(args) if a != "-D" and (i == 0 or args[i - 1] != "-D")]
        _run([_pg_bin("pg_ctl"), "-D", str(self.datadir), "-m", "fast", "-w", "stop"], self.as_user)
        return shlex.join(keep)

    def resume(self, opts: str) -> None:
        assert self.datadir is not None
        _run([_pg_bin("pg_ctl"), "-D", str(self.datadir), "-o", opts, "-l", str(self.datadir.parent / "log"), "-w",
              "start"], self.as_user)

    def stop(self) -> None:
        if self.datadir is None:
            return
        _run([_pg_bin("pg_ctl"), "-D", str(self.datadir), "-m", "immediate", "stop"], self.as_user, check=False)
        shutil.rmtree(self.datadir.parent, ignore_errors=True)


def _run(cmd: list[str], user: str | None, check: bool = True) -> subprocess.CompletedProcess[str]:
    if user:
        cmd = ["runuser", "-u", user, "--", *cmd]
    return subprocess.run(cmd, check=check, capture_output=True, text=True)


def start_postgres() -> PgServer:
    given = os.environ.get("NEWSLETTER_TEST_POSTGRES_URL")
    if given:
        return PgServer(admin_url=given)
    as_user = "postgres" if os.geteuid() == 0 else None
    base = Path(tempfile.mkdtemp(prefix="newsletter-pg-"))
    datadir = base / "data"
    if as_user:
        shutil.chown(base, user=as_user)
    _run([_pg_bin("initdb"), "-D", str(datadir), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8",
          "--locale=C.UTF-8"], as_user)
    port = free_port()
    opts = (f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c max_connections=200")
    result = _run([_pg_bin("pg_ctl"), "-D", str(datadir), "-o", opts, "-l", str(base / "log"), "-w", "start"],
                  as_user, check=False)
    if result.returncode != 0:
        log = (base / "log").read_text() if (base / "log").exists() else ""
        raise RuntimeError(f"PostgreSQL did not start: {result.stderr}\n{log}")
    return PgServer(admin_url=f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", datadir=datadir, as_user=as_user)
