"""The database refuses a volunteer's write (full disk, server down): the form comes back
with the words kept and a clear message, status 503, nothing logged with the text, /healthz says so.

SQLite: the app runs as `newsletter serve` in a private mount namespace on a small tmpfs, which the
test fills (dd, through nsenter) and frees again. PostgreSQL: the test cluster is stopped and
started again with pg_ctl.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from newsletter.models import Incident
from tests.submissions.conftest import FormClient, receipt_of, report
from tests.support.net import free_port, wait_for_port

NEWSLETTER = str(Path(sys.executable).parent / "newsletter")
WORDS = "Secret-words-7741: the officers came at night to the flat of a teacher in Kazan"


def _kept(html: str) -> bool:
    return WORDS in html


@pytest.fixture
def tiny_disk_server(db_backend: str, database_url: str, settings_env: dict[str, str],
                     tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes], Path]]:
    if db_backend != "sqlite":
        pytest.skip("the SQLite file on a tiny disk")
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("nsenter"):
        pytest.skip("needs root, unshare and nsenter to mount a tiny tmpfs")
    disk = tmp_path / "disk"
    disk.mkdir()
    source = database_url.removeprefix("sqlite:///")
    port = free_port()
    env = {**os.environ, **settings_env, "NEWSLETTER_DATABASE_URL": f"sqlite:///{disk}/newsletter.sqlite3",
           "NEWSLETTER_SUBMIT_RATE_PER_MINUTE": "100000"}
    script = (f"mount -t tmpfs -o size=8m tmpfs {disk} && cp {source} {disk}/newsletter.sqlite3 && "
              f"exec {NEWSLETTER} serve --host 127.0.0.1 --port {port}")
    proc = subprocess.Popen(["unshare", "-m", "sh", "-c", script], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, timeout=30)
        yield f"http://127.0.0.1:{port}", proc, disk
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def _in_namespace(proc: subprocess.Popen[bytes], command: str) -> None:
    subprocess.run(["nsenter", "-t", str(proc.pid), "-m", "sh", "-c", command], check=False, capture_output=True)


def test_a_full_sqlite_disk_gives_the_words_back_with_a_503(tiny_disk_server) -> None:
    url, proc, disk = tiny_disk_server
    client = FormClient(url)
    try:
        first = client.submit(report())
        assert first.status_code == 200 and receipt_of(first)
        assert client.http.get("/healthz").status_code == 200

        # The disk fills up (another process's logs, say): the report cannot be stored.
        _in_namespace(proc, f"dd if=/dev/zero of={disk}/filler bs=64k 2>/dev/null; sync")
        full = client.submit(report(what=WORDS + " " + "x" * 5000))
        assert full.status_code == 503
        assert _kept(full.text), "the volunteer's words were lost"
        assert "NOT saved" in full.text and "try again in a few minutes" in full.text
        health = client.http.get("/healthz")
        assert health.status_code == 503 and health.json()["status"] == "error"

        # Space again: the volunteer sends the same words once more and gets a receipt.
        _in_namespace(proc, f"rm -f {disk}/filler")
        again = client.submit(report(what=WORDS))
        assert again.status_code == 200 and receipt_of(again)
        assert client.http.get("/healthz").status_code == 200
        bad_api = httpx.post(f"{url}/api/incidents", json={}, timeout=10)
        assert bad_api.status_code in (401, 403)  # still answers, no 500
    finally:
        client.close()
    proc.send_signal(signal.SIGTERM)
    output = proc.communicate(timeout=15)[0].decode(errors="replace")
    assert "Secret-words-7741" not in output, "the report's words reached a log line"
    assert "Traceback" not in output


def test_postgresql_down_gives_the_words_back_with_a_503(db_backend: str, pg_server, form_client: FormClient,
                                                         runtime, live_server: str) -> None:
    if db_backend != "postgresql" or pg_server is None or pg_server.datadir is None:
        pytest.skip("stops the test's own PostgreSQL cluster")
    ok = form_client.submit(report())
    assert ok.status_code == 200
    token_page = form_client.token()
    opts = pg_server.halt()
    try:
        fields = {"csrf_token": token_page, **report(what=WORDS)}
        down = form_client.http.post("/submit", data=fields, files=[("files", ("", b"", "application/octet-stream"))])
        assert down.status_code == 503 and _kept(down.text)
        assert form_client.http.get("/healthz").status_code == 503
    finally:
        pg_server.resume(opts)
    again = form_client.submit(report(what=WORDS))
    assert again.status_code == 200 and receipt_of(again)
    with runtime.session() as s:
        assert s.scalar(select(func.count(Incident.id))) == 2
