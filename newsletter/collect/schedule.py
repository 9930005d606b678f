"""When to check a feed next: the poll interval, exponential backoff on errors, and Retry-After."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

MAX_BACKOFF = 24 * 3600
MAX_RETRY_AFTER = 7 * 24 * 3600


def backoff_seconds(poll_interval: int, error_count: int) -> int:
    """Poll interval doubled per consecutive error (1x, 2x, 4x, ...), capped at a day."""
    if error_count <= 0:
        return poll_interval
    return int(min(poll_interval * 2 ** min(error_count - 1, 16), max(MAX_BACKOFF, poll_interval)))


def parse_retry_after(value: str | None, now: datetime) -> int | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date); None if absent or invalid."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(int(value), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0, min(int((when - now).total_seconds()), MAX_RETRY_AFTER))


def next_check(now: datetime, poll_interval: int, error_count: int, retry_after: int | None = None) -> datetime:
    delay = backoff_seconds(poll_interval, error_count)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return now + timedelta(seconds=delay)
