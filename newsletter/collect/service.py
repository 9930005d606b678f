"""The collect run: sync the sources file, fetch due feeds, parse them on all cores, store, report.

Three things overlap: fetching (asyncio in a background thread), parsing (a process pool when
there are many feeds) and storing (this thread, one short transaction per batch of feeds, so the
SQLite write lock is never held for long and volunteers' submissions are not blocked).
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from sqlalchemy import Row, func, or_, select, update
from sqlalchemy.orm import Session

from newsletter.collect.dedupe import NearDuplicateIndex
from newsletter.collect.fetcher import Fetcher, FetchRequest, FetchResult
from newsletter.collect.outcome import CollectReport, FeedOutcome
from newsletter.collect.parser import ParsedFeed, parse_feed
from newsletter.collect.processor import record_failure, store_result, store_unchanged
from newsletter.collect.rules import FeedRules, GlobalRules
from newsletter.collect.sources import SourcesFileError, SyncedSources, parse_interval, sync_sources
from newsletter.config import Settings
from newsletter.db import DatabaseUnavailable, is_transient, retry_transient, utcnow
from newsletter.models import Source
from newsletter.nearmatch import recent_index
from newsletter.runtime import Runtime

__all__ = ["run_collect", "sync_sources", "sync_file", "CollectReport", "FeedOutcome", "SourcesFileError", "due_sources"]

log = logging.getLogger(__name__)
POOL_MIN_FEEDS = 8  # below this, starting worker processes costs more than it saves
BATCH = 50
GATHER_SECONDS = 0.05  # how long a batch waits for more fetched feeds before it is stored
# Feeds fetched (and parsed) but not stored yet. Parsing outruns storing; without a bound the parsed
# entries of a whole run would wait in memory (the collector process grew by ~100 MB at 1,000 feeds).
MAX_PENDING = 4 * BATCH
NEAR_WINDOW = timedelta(days=14)
CLAIM_LEASE = timedelta(minutes=15)
Progress = Callable[[int, int, FeedOutcome], None]


@dataclass(frozen=True)
class _Job:
    request: FetchRequest
    rules: FeedRules
    language: str | None
    max_entries: int


def due_sources(session: Session, *, force_all: bool = False, claim: bool = False) -> list[Row[Any]]:
    """Feeds to fetch now (plain rows of the sources table). With `claim`, their next check moves a
    lease ahead, so that a collector running at the same time (the scheduler and a manual `newsletter
    collect`) skips them; the run sets the real next check when it stores the result, a crashed run's
    feeds come back after the lease. Plain rows and one UPDATE: no ORM object per feed."""
    now = utcnow()
    table = Source.__table__
    query = select(table).where(table.c.kind == "feed", table.c.enabled.is_(True), table.c.url.is_not(None))
    if not force_all:
        query = query.where(or_(table.c.next_check_at.is_(None), table.c.next_check_at <= now))
    if claim and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    sources = list(session.execute(query.order_by(table.c.id)))
    if claim and sources:
        session.execute(update(table).where(table.c.id.in_([s.id for s in sources])).values(next_check_at=now + CLAIM_LEASE))
    return sources


def sync_file(runtime: Runtime, path: Path) -> SyncedSources:
    """Sync the sources file in its own transaction (raises SourcesFileError if unreadable)."""
    interval = parse_interval(runtime.settings.default_poll_interval)
    with runtime.session() as session:
        return sync_sources(session, path, default_interval=interval)


def run_collect(
    runtime: Runtime, *, force_all: bool = False, sources_file: Path | None = None, progress: Progress | None = None
) -> CollectReport:
    """Fetch every due (or, with force_all, every enabled) feed once; never raises for a feed's faults."""
    started = time.perf_counter()
    report = CollectReport()
    rules = GlobalRules()
    path = sources_file or runtime.settings.sources
    budget = runtime.settings.db_retry_seconds
    if sources_file is not None or path.exists():
        try:
            synced = retry_transient(lambda: sync_file(runtime, path), budget=budget)
            rules = synced.rules
            report.sources_errors.extend(synced.errors)
        except SourcesFileError as exc:
            report.sources_errors.append(str(exc))

    def claim() -> list[_Job]:
        with runtime.session() as session:
            report.feeds_total = session.scalar(
                select(func.count()).select_from(Source).where(Source.kind == "feed", Source.enabled.is_(True))
            ) or 0
            return [
                _Job(
                    FetchRequest(s.id, s.name, s.moved_to or s.url or "", s.etag, s.last_modified),
                    FeedRules(tuple(s.keywords or ()), tuple(s.exclude_keywords or ()), s.default_section, rules),
                    s.language,
                    s.max_entries or runtime.settings.collect_max_entries,
                )
                for s in due_sources(session, force_all=force_all, claim=True)
            ]

    jobs = retry_transient(claim, budget=budget)
    report.feeds_due = len(jobs)
    if jobs:
        run = _Run(runtime, jobs, report, progress)
        try:
            run.execute()
        except BaseException:
            release_claims(runtime, [j.request.source_id for j in jobs if j.request.source_id not in run.stored])
            raise
    report.elapsed = time.perf_counter() - started
    return report


def release_claims(runtime: Runtime, source_ids: list[int]) -> None:
    """Make feeds this run claimed but never stored due again at once, so a rerun right after a failure
    fetches them instead of saying "no feed is due"; if the database is still gone, the lease frees them."""
    if not source_ids:
        return

    def release() -> None:
        with runtime.session() as session:
            session.execute(update(Source).where(Source.id.in_(source_ids)).values(next_check_at=utcnow())
                            .execution_options(synchronize_session=False))

    try:
        retry_transient(release, budget=runtime.settings.db_retry_seconds)
    except DatabaseUnavailable:
        log.warning("could not release %d claimed feed(s); they come back after the claim lease", len(source_ids))


def _workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


class _Run:
    def __init__(self, runtime: Runtime, jobs: list[_Job], report: CollectReport, progress: Progress | None) -> None:
        self.runtime = runtime
        self.jobs = jobs
        self._order = {job.request.source_id: i for i, job in enumerate(jobs)}
        self.report = report
        self.progress = progress
        self.results: queue.Queue[tuple[FetchResult, ParsedFeed | None] | None] = queue.Queue()
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self.near: NearDuplicateIndex | None = None
        self.stored: set[int] = set()  # feeds whose result is committed
        self._loop: asyncio.AbstractEventLoop | None = None
        self._room: asyncio.Semaphore | None = None  # MAX_PENDING places for fetched, unstored feeds
        self._parse_pool: Executor | None = None

    def execute(self) -> None:
        thread = threading.Thread(target=self._pipeline, name="collect-fetch", daemon=True)
        thread.start()
        try:
            self._consume()
        finally:
            self.stop.set()
            self._free(len(self.jobs))  # fetches still waiting for room see the stop and end
            thread.join(timeout=self.runtime.settings.fetch_timeout + 10)
        if self.error is not None:
            raise self.error

    # ---- background thread: fetch and parse
    def _pipeline(self) -> None:
        try:
            asyncio.run(self._fetch_all())
        except BaseException as exc:  # surfaced in the main thread
            self.error = exc
        finally:
            self.results.put(None)

    def _executor(self) -> Executor:
        """Made for the first feed that has something to parse: a run where every feed is unchanged
        (most cron runs) starts no worker processes, and no resource-tracker process either."""
        if self._parse_pool is None:
            workers = _workers()
            if len(self.jobs) >= POOL_MIN_FEEDS and workers > 1:
                self.report.parse_processes = workers
                self._parse_pool = ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"))
            else:
                self._parse_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="collect-parse")
        return self._parse_pool

    async def _fetch_all(self) -> None:
        settings: Settings = self.runtime.settings
        loop = asyncio.get_running_loop()
        room = asyncio.Semaphore(MAX_PENDING)
        self._loop, self._room = loop, room
        try:
            async with Fetcher(settings) as fetcher:

                async def one(job: _Job) -> None:
                    if self.stop.is_set():
                        return
                    await room.acquire()  # freed by the storing thread (_free)
                    if self.stop.is_set():
                        return
                    result = await fetcher.fetch(job.request)
                    parsed = None
                    if result.status == "ok":
                        try:
                            parsed = await loop.run_in_executor(
                                self._executor(), parse_feed, result.body, result.headers,
                                result.final_url or job.request.url, job.rules, job.language, job.max_entries,
                            )
                        except Exception as exc:  # a crashed worker process is this feed's failure
                            parsed = ParsedFeed(error=f"parser failed: {type(exc).__name__}: {exc}"[:500])
                        result.body = b""
                        self.report.parse_seconds += parsed.seconds
                        self.report.plain_feeds += parsed.plain
                    self.results.put((result, parsed))

                await asyncio.gather(*(one(job) for job in self.jobs))
        finally:
            if self._parse_pool is not None:
                self._parse_pool.shutdown(wait=True, cancel_futures=True)

    def _free(self, count: int) -> None:
        """Give `count` places back to the fetching side (from this thread, into its event loop)."""
        loop, room = self._loop, self._room
        if loop is None or room is None or count <= 0:
            return

        def release() -> None:
            for _ in range(count):
                room.release()

        try:
            loop.call_soon_threadsafe(release)
        except RuntimeError:  # the fetching loop has ended
            pass

    # ---- this thread: store
    def _consume(self) -> None:
        done = 0
        total = len(self.jobs)
        finished = False
        while not finished:
            item = self.results.get()
            batch = []
            # Unchanged feeds (304) arrive faster than one at a time but slower than a batch at once: wait a
            # moment for more, so 1,000 of them cost a few transactions rather than one per handful of feeds.
            deadline = time.monotonic() + GATHER_SECONDS
            while item is not None:
                batch.append(item)
                if len(batch) >= BATCH:
                    break
                try:
                    item = self.results.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
            else:
                finished = True
            if not batch:
                continue
            # in the order of the sources file, not of arrival: a story two feeds of a batch carry is
            # credited to the same feed run after run (the first becomes the incident, the other its source)
            batch.sort(key=lambda pair: self._order.get(pair[0].request.source_id, 0))
            started, cpu = time.perf_counter(), time.thread_time()
            outcomes = self._store_retrying(batch)
            self.stored.update(r.request.source_id for r, _ in batch)
            self._free(len(batch))
            self.report.store_seconds += time.perf_counter() - started
            self.report.store_cpu_seconds += time.thread_time() - cpu
            for outcome in outcomes:
                done += 1
                self.report.outcomes.append(outcome)
                if outcome.status in ("failed", "gone"):
                    log.info("feed %r failed: %s", outcome.name, outcome.error)
                if self.progress is not None:
                    self.progress(done, total, outcome)

    def _store_retrying(self, batch: list[tuple[FetchResult, ParsedFeed | None]]) -> list[FeedOutcome]:
        """One batch in one transaction, run again after a lost connection (a database restart)."""
        def attempt() -> list[FeedOutcome]:
            try:
                return self._store(batch)
            except Exception:
                self.near = None  # it may hold incidents of the rolled-back transaction
                raise

        return retry_transient(attempt, budget=self.runtime.settings.db_retry_seconds)

    def _store(self, batch: list[tuple[FetchResult, ParsedFeed | None]]) -> list[FeedOutcome]:
        now = utcnow()
        outcomes = []
        with self.runtime.session() as session:
            if self.near is None and any(p is not None and p.entries for _, p in batch):
                self.near = _load_near_index(session)
            unchanged = [r for r, _ in batch if r.status == "not_modified"]
            outcomes.extend(store_unchanged(session, unchanged, now=now))
            batch = [(r, p) for r, p in batch if r.status != "not_modified"]
            ids = [r.request.source_id for r, _ in batch]
            sources = {s.id: s for s in session.scalars(select(Source).where(Source.id.in_(ids)))} if ids else {}
            # deleted while we fetched: skipped
            fetched = [(r, p, sources[r.request.source_id]) for r, p in batch if r.request.source_id in sources]
            if not fetched:
                return outcomes
            try:
                # The whole batch in one savepoint and one flush: a savepoint and a flush per feed cost
                # about as much as storing its entries. A feed's database error is rare; then the batch
                # is rolled back and stored again feed by feed, which loses only the failing feed.
                with session.begin_nested(), session.no_autoflush:
                    stored = [store_result(session, source, result, parsed, now=now, near=self.near)
                              for result, parsed, source in fetched]
                    session.flush()
            except Exception as exc:
                if is_transient(exc):
                    raise  # the whole batch is retried on a new connection
                # the index may hold incidents that were rolled back: rebuild it from the database
                self.near = _load_near_index(session) if self.near is not None else None
                stored = self._store_each(session, fetched, now)
            outcomes.extend(stored)
        return outcomes

    def _store_each(self, session: Session, fetched: list[tuple[FetchResult, ParsedFeed | None, Source]],
                    now: datetime) -> list[FeedOutcome]:
        """Store feed by feed, each in its own savepoint: a feed whose entries the database refuses
        is recorded as failed, the others are stored."""
        outcomes = []
        for result, parsed, source in fetched:
            if parsed is None or not parsed.entries:
                # only the feed's health changes: no savepoint needed (they cost a flush and two statements each)
                outcomes.append(store_result(session, source, result, parsed, now=now, near=self.near))
                continue
            try:
                with session.begin_nested():
                    outcomes.append(store_result(session, source, result, parsed, now=now, near=self.near))
            except Exception as exc:
                if is_transient(exc):
                    raise  # the whole batch is retried on a new connection
                log.exception("storing feed %r failed", source.name)
                # the index holds this feed's rolled-back incidents: rebuilt from the database
                self.near = _load_near_index(session) if self.near is not None else None
                error = f"could not store entries: {type(exc).__name__}: {exc}"[:500]
                with session.begin_nested():
                    failed = session.get(Source, result.request.source_id)
                    assert failed is not None
                    record_failure(failed, error, now)
                outcomes.append(FeedOutcome(failed.id, failed.name, "failed", error=error))
        return outcomes


def _load_near_index(session: Session) -> NearDuplicateIndex:
    """Recent incidents of every origin (volunteer reports too) that new entries are compared with."""
    return recent_index(session, since=utcnow() - NEAR_WINDOW)
