"""Fifty volunteers sending at the same moment: every report stored once, every receipt distinct."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from newsletter.models import Incident, Submission
from newsletter.runtime import Runtime
from newsletter.submissions import receipts
from tests.submissions.conftest import FormClient, receipt_of, report

N = 50


@pytest.mark.slow
def test_fifty_concurrent_submissions_are_all_stored(live_server: str, runtime: Runtime) -> None:
    clients = [FormClient(live_server) for _ in range(N)]
    tokens = [c.token() for c in clients]

    def send(i: int) -> str:
        data = report(what=f"Concurrent report number {i:02d}: a picket was dispersed.")
        r = clients[i].http.post("/submit", data={"csrf_token": tokens[i], **data},
                                 files=[("files", ("", b"", "application/octet-stream"))])
        assert r.status_code == 200, r.text[:500]
        return receipt_of(r)

    with ThreadPoolExecutor(max_workers=N) as pool:
        codes = list(pool.map(send, range(N)))
    for c in clients:
        c.close()
    assert len(set(codes)) == N
    with runtime.session() as s:
        assert s.scalar(select(func.count(Incident.id))) == N
        titles = sorted(s.scalars(select(Incident.title)))
        assert titles == sorted(f"Concurrent report number {i:02d}: a picket was dispersed." for i in range(N))
        hashes = set(s.scalars(select(Submission.receipt_hash)))
    assert hashes == {receipts.hash_code(c) for c in codes}
