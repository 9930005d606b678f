"""Rate limiting that never keeps a client address, not even in memory, and nothing on disk.

Each client is counted under an HMAC of its address with a random key that lives for one minute
window; at the next window the key and the counters are thrown away, so an address cannot be
recovered from the limiter's state, nor linked across windows. The limit is approximately sliding:
the previous window's count is weighted by how much of it still overlaps the last 60 seconds.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable

WINDOW_SECONDS = 60.0
MAX_KEYS = 100_000  # beyond this many clients in one window, the oldest counts are forgotten


class _Window:
    __slots__ = ("start", "key", "counts")

    def __init__(self, start: float) -> None:
        self.start = start
        self.key = secrets.token_bytes(32)
        self.counts: dict[bytes, int] = {}

    def digest(self, client: str) -> bytes:
        return hmac.new(self.key, client.encode("utf-8", "replace"), hashlib.sha256).digest()[:16]


class RateLimiter:
    """At most `per_minute` hits per client in any 60 seconds (approximately)."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic, *,
                 window: float = WINDOW_SECONDS) -> None:
        self.per_minute = per_minute  # hits allowed per window (a minute unless `window` says otherwise)
        self.window = window
        self._clock = clock
        self._lock = threading.Lock()
        now = clock()
        self._current = _Window(now - now % window)
        self._previous: _Window | None = None

    def hit(self, client: str) -> float | None:
        """Count one request; return None when allowed, or the seconds to wait when over the limit."""
        return self._check(client, count=True)

    def blocked(self, client: str) -> float | None:
        """Like hit() but counts nothing: for limits on failures, checked before the attempt."""
        return self._check(client, count=False)

    def _check(self, client: str, *, count: bool) -> float | None:
        with self._lock:
            now = self._clock()
            self._rotate(now)
            current_key = self._current.digest(client)
            current = self._current.counts.get(current_key, 0)
            previous = 0
            if self._previous is not None:
                previous = self._previous.counts.get(self._previous.digest(client), 0)
            elapsed = now - self._current.start
            weight = max(0.0, 1.0 - elapsed / self.window)
            if current + previous * weight >= self.per_minute:
                return max(1.0, self.window - elapsed)
            if not count:
                return None
            if len(self._current.counts) >= MAX_KEYS:
                self._current.counts.pop(next(iter(self._current.counts)))
            self._current.counts[current_key] = current + 1
            return None

    def _rotate(self, now: float) -> None:
        start = now - now % self.window
        if start == self._current.start:
            return
        self._previous = self._current if start - self._current.start <= self.window else None
        self._current = _Window(start)
