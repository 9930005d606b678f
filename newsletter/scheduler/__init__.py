"""`newsletter scheduler`: runs the recurring jobs while this process holds the scheduler lease.

loop.py is the loop (why it is our own, not APScheduler's scheduler, is said there); store.py keeps
the plan of next run times. The clock, the DST-safe trigger and the lease are in the base
(newsletter.clock, newsletter.triggers, newsletter.lease) because status and /healthz read them too.
"""

from newsletter.scheduler.loop import Scheduler

__all__ = ["Scheduler"]
