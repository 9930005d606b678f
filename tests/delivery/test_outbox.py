"""Claiming outbox rows: leases, dead claimers on this host, other hosts, suppressed readers."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

from sqlalchemy import select, update

from newsletter.db import utcnow
from newsletter.delivery import outbox
from newsletter.models import Delivery, Subscriber, Suppression
from tests.delivery.helpers import add_subscribers, make_issue


def _setup(runtime, n: int = 4) -> int:
    with runtime.session() as s:
        issue = make_issue(s)
        add_subscribers(s, n)
        assert outbox.enqueue(s, issue.id) == n
        assert outbox.enqueue(s, issue.id) == 0  # idempotent: one row per (issue, subscriber)
        return issue.id


def test_claims_do_not_overlap_and_leases_expire(runtime) -> None:
    issue_id = _setup(runtime)
    lease = timedelta(minutes=10)
    with runtime.session() as s:
        first = outbox.claim(s, issue_id, "otherhost:1:aaaa", limit=3, lease=lease)
    with runtime.session() as s:
        second = outbox.claim(s, issue_id, "otherhost:2:bbbb", limit=3, lease=lease)
        third = outbox.claim(s, issue_id, "otherhost:2:bbbb", limit=3, lease=lease)
    assert len(first) == 3 and len(second) == 1 and third == []
    assert not {j.delivery_id for j in first} & {j.delivery_id for j in second}
    # The first claimer (on another machine, so its pid cannot be checked) is taken over only after its lease.
    with runtime.session() as s:
        s.execute(update(Delivery).where(Delivery.claimed_by == "otherhost:1:aaaa")
                  .values(claimed_at=utcnow() - timedelta(minutes=11)))
    with runtime.session() as s:
        again = outbox.claim(s, issue_id, "otherhost:3:cccc", limit=10, lease=lease)
    assert {j.delivery_id for j in again} == {j.delivery_id for j in first}


def test_rows_of_a_dead_process_on_this_host_are_taken_at_once(runtime) -> None:
    issue_id = _setup(runtime, 2)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    me = outbox.worker_id()
    host = me.split(":")[0]
    with runtime.session() as s:
        assert len(outbox.claim(s, issue_id, f"{host}:{dead_pid}:dead", limit=1, lease=timedelta(hours=1))) == 1
        assert len(outbox.claim(s, issue_id, me, limit=1, lease=timedelta(hours=1))) == 1
    with runtime.session() as s:
        taken = outbox.claim(s, issue_id, "otherhost:9:zzzz", limit=10, lease=timedelta(hours=1))
    # The dead process's row comes back; the live one (this test process) keeps its own.
    assert len(taken) == 1
    with runtime.session() as s:
        assert s.scalar(select(Delivery.claimed_by).where(Delivery.id == taken[0].delivery_id)) == "otherhost:9:zzzz"


def test_rows_of_readers_who_left_are_dropped_not_sent(runtime) -> None:
    issue_id = _setup(runtime, 3)
    with runtime.session() as s:
        s.execute(update(Subscriber).where(Subscriber.email == "reader0@example.org").values(state="unsubscribed"))
        s.add(Suppression(email="reader1@example.org", reason="bounced"))
    with runtime.session() as s:
        jobs = outbox.claim(s, issue_id, "h:1:x", limit=10, lease=timedelta(minutes=5))
        assert [j.email for j in jobs] == ["reader2@example.org"]
        assert outbox.drop_unsendable(s, issue_id) == 2
        assert outbox.counts(s, issue_id) == {"sending": 1}


def test_release_gives_back_unsent_claims(runtime) -> None:
    issue_id = _setup(runtime, 2)
    with runtime.session() as s:
        outbox.claim(s, issue_id, "h:1:x", limit=10, lease=timedelta(minutes=5))
        assert outbox.release(s, issue_id, "h:1:x") == 2
        assert outbox.counts(s, issue_id) == {"pending": 2}
