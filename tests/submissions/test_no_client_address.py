"""After a run of the real server process, the client's address is nowhere: database, logs, stored files."""

from __future__ import annotations

import base64
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import MetaData, create_engine, select

from newsletter.config import load_settings
from newsletter.runtime import Runtime
from newsletter.submissions.tokens import create_token
from tests.submissions import samples
from tests.submissions.conftest import CSRF, RECEIPT, report
from tests.support.net import free_port, wait_for_port

CLIENT_IP = "127.0.0.77"  # a loopback address of our own, distinctive enough to search for


def _database_text(url: str, data_dir: Path) -> bytes:
    """Every row of every table as text, plus the raw SQLite files when the database is SQLite."""
    engine = create_engine(url)
    meta = MetaData()
    meta.reflect(engine)
    chunks = []
    with engine.connect() as conn:
        for table in meta.sorted_tables:
            for row in conn.execute(select(table)):
                chunks.append(repr(tuple(row)).encode())
    engine.dispose()
    if url.startswith("sqlite"):
        db = Path(url.removeprefix("sqlite:///"))
        for path in db.parent.glob(db.name + "*"):
            chunks.append(path.read_bytes())
    return b"\n".join(chunks)


@pytest.mark.slow
def test_client_address_is_never_stored_or_logged(settings_env: dict[str, str], tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSLETTER_LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("NEWSLETTER_SUBMIT_RATE_PER_MINUTE", "6")
    rt = Runtime(load_settings())
    rt.migrate()
    with rt.session() as s:
        _t, api_token = create_token(s, name="bot", actor="cli")
    rt.close()
    port = free_port()
    log_path = tmp_path / "server.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen([str(Path(sys.executable).parent / "newsletter"), "serve", "--host", "127.0.0.1",
                                   "--port", str(port)], stdout=log, stderr=subprocess.STDOUT, env=os.environ.copy())
        try:
            wait_for_port(port, timeout=30)
            transport = httpx.HTTPTransport(local_address=CLIENT_IP)
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", transport=transport, timeout=30) as http:
                page = http.get("/submit")
                token = CSRF.search(page.text).group(1)
                files = [("files", ("IMG_1.jpg", samples.jpeg_with_gps(), "image/jpeg"))]
                ok = http.post("/submit", data={"csrf_token": token, **report()}, files=files)
                code = RECEIPT.search(ok.text).group(1)
                assert http.post("/submit", data={"csrf_token": token, **report(kind="")},
                                 files=files).status_code == 400
                assert http.post("/submit", data={"csrf_token": "bad", **report()}).status_code == 403
                assert http.get(f"/receipt/{code}").status_code == 200
                assert http.get("/receipt/AAAAA-AAAAA-AAAAA-AAAAA-AAAAA").status_code == 404
                assert http.post(f"/receipt/{code}", data={"csrf_token": token, "text": "More."},
                                 files=[("files", ("", b"", "application/octet-stream"))]).status_code == 200
                body = {"what": "A report from the partner bot.", "kind": "other", "consent": "count_only",
                        "attachments": [{"filename": "p.jpg",
                                         "content_base64": base64.b64encode(samples.jpeg_with_gps()).decode()}]}
                headers = {"Authorization": f"Bearer {api_token}"}
                assert http.post("/api/incidents", json=body, headers=headers).status_code == 201
                assert http.post("/api/incidents", json={}, headers=headers).status_code == 422
                statuses = [http.post("/submit", data={"csrf_token": token, **report()}).status_code
                            for _ in range(8)]
                assert 429 in statuses, "the rate limiter saw the client"
                http.get("/nonexistent")
        finally:
            server.terminate()
            server.wait(timeout=20)
    logs = log_path.read_bytes()
    assert b"volunteer report stored" in logs, "the log is captured (DEBUG level)"
    packed = socket.inet_aton(CLIENT_IP)
    needles = [CLIENT_IP.encode(), packed, CLIENT_IP.encode("utf-16-le")]
    haystacks = {"logs": logs, "database": _database_text(settings_env["NEWSLETTER_DATABASE_URL"], tmp_path)}
    data_dir = Path(settings_env["NEWSLETTER_DATA_DIR"])
    stored = [p for p in data_dir.rglob("*") if p.is_file()]
    assert any(p.parent.name == "attachments" for p in stored)
    for path in stored:
        haystacks[str(path)] = path.read_bytes()
    for name, content in haystacks.items():
        for needle in needles:
            assert needle not in content, f"client address found in {name}"
    assert not re.search(rb"127\.0\.0\.77", logs)
    for leaked in (samples.CAMERA.encode(), samples.SECRET_NAME.encode()):
        assert leaked not in logs, "attachment metadata reached the logs"
