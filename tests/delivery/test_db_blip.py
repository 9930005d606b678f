"""A PostgreSQL restart in the middle of `newsletter send`: the command rides it out, every reader gets
exactly one copy, and the output is the usual summary (no traceback)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from newsletter.models import Delivery, Issue
from tests.delivery.faulty_relay import faulty_relay
from tests.delivery.helpers import add_subscribers, make_issue

NEWSLETTER = str(Path(sys.executable).parent / "newsletter")


def test_a_postgresql_restart_mid_send_loses_and_doubles_nothing(db_backend: str, pg_server, make_runtime) -> None:
    if db_backend != "postgresql" or pg_server is None or pg_server.datadir is None:
        pytest.skip("restarts the test's own PostgreSQL cluster")
    with faulty_relay(delay=0.01) as (url, relay):
        rt = make_runtime(smtp_url=url, send_connections=2, send_batch_size=20, db_retry_seconds=30)
        with rt.session() as s:
            issue = make_issue(s)
            emails = add_subscribers(s, 300)
        proc = subprocess.Popen([NEWSLETTER, "send", "1"], env=os.environ.copy(), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while len(relay.seen) < 60 and time.monotonic() < deadline:
            time.sleep(0.01)
        restarter = threading.Thread(target=pg_server.restart)
        restarter.start()
        restarter.join()
        seen_at_restart = len(relay.seen)
        out = proc.communicate(timeout=120)[0].decode()
        assert seen_at_restart < 300, "the send finished before the restart; the test proves nothing"
    assert proc.returncode == 0, out
    assert "Traceback" not in out and "issue is sent" in out
    assert relay.per_recipient() == Counter({e: 1 for e in emails})
    with rt.session() as s:
        assert s.scalar(select(func.count()).select_from(Delivery).where(Delivery.state == "sent")) == 300
        assert s.get(Issue, issue.id).state == "sent"
