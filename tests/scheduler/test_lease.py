"""Only one scheduler is active; a waiting one takes over when the holder stops renewing."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from newsletter.flows import jobs
from newsletter.clock import ManualClock
from newsletter.lease import Lease, current
from newsletter.scheduler import Scheduler
from tests.scheduler.helpers import UTC, Recorder, runs, spec

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def test_lease_is_exclusive_renewable_and_taken_over_after_expiry(runtime) -> None:
    a = Lease(runtime.engine, ttl=30, holder="a")
    b = Lease(runtime.engine, ttl=30, holder="b")
    assert a.acquire(T0) is True
    assert b.acquire(T0 + timedelta(seconds=1)) is False
    assert a.renew(T0 + timedelta(seconds=20)) is True  # now valid until T0+50s
    assert b.acquire(T0 + timedelta(seconds=45)) is False
    assert b.acquire(T0 + timedelta(seconds=51)) is True  # a stopped renewing: taken over
    assert a.renew(T0 + timedelta(seconds=52)) is False  # a learns it lost the lease
    info = current(runtime.engine)
    assert info is not None and info.holder == "b"
    b.release()
    assert current(runtime.engine) is None
    assert a.acquire(T0 + timedelta(seconds=53)) is True  # free again at once after a clean stop


def test_concurrent_acquisitions_have_exactly_one_winner(runtime) -> None:
    leases = [Lease(runtime.engine, ttl=30, holder=f"p{i}") for i in range(8)]
    results: list[bool] = []
    barrier = threading.Barrier(len(leases))

    def race(lease: Lease) -> None:
        barrier.wait()
        results.append(lease.acquire(T0))

    threads = [threading.Thread(target=race, args=(lease,)) for lease in leases]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 7 + [True]


def test_only_the_lease_holder_runs_jobs_and_the_other_takes_over(make_runtime, session) -> None:
    rt_a, rt_b = make_runtime(), make_runtime()
    body = Recorder()
    registry = {"tick": spec("tick", body, jobs.every(1))}
    clock = ManualClock(T0)
    a = Scheduler(rt_a, clock=clock, inline=True, lease_seconds=90, registry=registry, holder="a")
    b = Scheduler(rt_b, clock=clock, inline=True, lease_seconds=90, registry=registry, holder="b")
    a.start()
    b.start()
    for _ in range(5):  # both loop for five minutes; b only ever waits
        a.tick()
        b.tick()
        clock.advance(minutes=1)
    assert (a.active, b.active) == (True, False)
    assert len(body.calls) == 5
    # a dies (no more ticks, no release). b takes over once the lease has run out, and runs the
    # polling job at once; nothing ran in between.
    # a last renewed at T0+4min, so its lease runs until T0+5min30s.
    clock.advance(seconds=25)
    b.tick()
    assert b.active is False and len(body.calls) == 5
    clock.advance(seconds=10)
    b.tick()
    assert b.active is True
    assert len(body.calls) == 6 and body.calls[-1] == clock.now()
    # a comes back from a long pause: it finds its lease gone and runs nothing.
    a.tick()
    assert a.active is False and len(body.calls) == 6
    assert len(runs(session, "tick")) == 6
    a.shutdown()
    b.shutdown()
    assert current(rt_a.engine) is None
