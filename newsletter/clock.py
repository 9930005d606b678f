"""An injectable clock. Every time-based decision of the scheduler (and the desk's session and login
throttling, through Runtime.clock) asks a Clock, so tests can move time. Part of the base: it knows no domain."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware in UTC."""

    def sleep(self, seconds: float, wake: threading.Event | None = None) -> None:
        """Wait `seconds` (or until `wake` is set)."""


class SystemClock:
    """The wall clock. Machines running schedulers need NTP: the lease compares their clocks."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def sleep(self, seconds: float, wake: threading.Event | None = None) -> None:
        if wake is None:
            time.sleep(max(seconds, 0))
        else:
            wake.wait(max(seconds, 0))


class ManualClock:
    """A clock that only moves when told to; sleeping advances it instead of waiting."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = start.astimezone(timezone.utc)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        with self._lock:
            self._now = when.astimezone(timezone.utc)

    def advance(self, seconds: float = 0, **delta: float) -> datetime:
        with self._lock:
            self._now += timedelta(seconds=seconds, **delta)
            return self._now

    def sleep(self, seconds: float, wake: threading.Event | None = None) -> None:
        self.advance(max(seconds, 0))
