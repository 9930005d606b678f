"""Benchmark of the feed collector (issue 3).

Serves N feeds of 50 entries each from loopback HTTP servers (a separate process, one listening
address per 127.0.0.x so the per-host limit applies as with real outlets), runs a full collect
into a fresh SQLite database, then a second pass over the unchanged feeds (all 304 Not Modified),
and compares with feedparser's parse-only time of the same bytes on one core.

    .venv/bin/python bench/collect.py            # 100 feeds
    .venv/bin/python bench/collect.py --full     # 1,000 feeds: the goal run
Goals at 1,000 feeds: first pass <= 1.0x the single-core parse-only time; second pass < 2 s;
peak memory < 500 MB.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import resource
import sys
import tempfile
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HOSTS = 8
WORDS = (
    "activist journalist blogger lawyer court police detained arrested searched summoned charged sentenced fined "
    "released hearing prosecutor investigation prison colony pre-trial detention house arrest psychiatric clinic "
    "examination protest picket rally election opposition party movement union strike workers teachers students "
    "ministry parliament law amendment bill foreign agents extremism article criminal code administrative "
    "solidarity campaign appeal petition embassy delegation European Union OSCE UN rapporteur statement "
    "hunger relatives pressure dismissal blocked website channel video post comment interview testimony"
).split()
CITIES = "Almaty Astana Shymkent Aktobe Karaganda Taraz Pavlodar Oskemen Semey Atyrau Kostanay Kyzylorda Oral Petropavl Aktau".split()


SYLLABLES = "ai gul mu rat nur as an ali bar lyk te mir lan da yer zhan na se rik bo lat ma sau le ut ep ov ba kal su yu".split()


def _name(rng: random.Random) -> str:
    """Thousands of distinct person names, so unrelated reports rarely share one (as in real news)."""
    first = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()
    last = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize() + rng.choice(["ov", "ova", "ev", "eva", "uly", "kyzy"])
    return f"{first} {last}"


def _sentence(rng: random.Random, n: int) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    return " ".join(words).capitalize() + "."


def make_feed(i: int, entries: int) -> bytes:
    rng = random.Random(i)
    items = []
    for j in range(entries):
        who = _name(rng)
        city = rng.choice(CITIES)
        title = f"{who} {rng.choice(['detained', 'summoned', 'fined', 'searched', 'charged'])} in {city}: {_sentence(rng, 5)}"
        # ~5% of entries link to a story another outlet also carries
        link = f"https://shared.example/story/{rng.randrange(2000)}" if rng.random() < 0.05 else f"https://outlet{i}.example/news/{j}"
        paras = "".join(f"<p>{escape(_sentence(rng, rng.randint(12, 25)))} <a href=\"/tag/{k}\">more</a></p>" for k in range(3))
        day = 1 + (i + j) % 28
        items.append(
            f"<item><title>{escape(title)}</title><link>{link}</link><guid isPermaLink=\"false\">o{i}-{j}</guid>"
            f"<pubDate>Mon, {day:02d} Nov 2026 {j % 24:02d}:15:00 +0500</pubDate>"
            f"<description>{escape(paras)}</description></item>"
        )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Outlet {i}</title>'
        f"<link>https://outlet{i}.example/</link><language>en</language>{''.join(items)}</channel></rss>"
    ).encode("utf-8")


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


def _serve(directory: str, port: int, ready: Any) -> None:
    """Static file servers (Last-Modified / If-Modified-Since -> 304) on 127.0.0.1..HOSTS."""
    import threading

    servers = []
    for h in range(1, HOSTS + 1):
        httpd = ThreadingHTTPServer((f"127.0.0.{h}", port), partial(_Quiet, directory=directory))
        httpd.daemon_threads = True
        httpd.request_queue_size = 256
        servers.append(httpd)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
    ready.set()
    threading.Event().wait()


def parse_only(paths: list[Path], **options: Any) -> tuple[float, int]:
    import feedparser

    total, entries = 0.0, 0
    for path in paths:
        body = path.read_bytes()
        started = time.process_time()
        d = feedparser.parse(body, response_headers={"content-type": "application/rss+xml; charset=utf-8"}, **options)
        total += time.process_time() - started
        entries += len(d.entries)
    return total, entries


def peak_mb() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feeds", type=int, default=100)
    parser.add_argument("--entries", type=int, default=50)
    parser.add_argument("--full", action="store_true", help="the goal run: 1,000 feeds")
    args = parser.parse_args()
    feeds = 1000 if args.full else args.feeds

    from newsletter.collect.service import run_collect
    from newsletter.config import load_settings
    from newsletter.db import upgrade
    from newsletter.runtime import Runtime
    from tests.support.net import free_port

    work = Path(tempfile.mkdtemp(prefix="bench-collect-"))
    feed_dir = work / "feeds"
    feed_dir.mkdir()
    paths = []
    for i in range(feeds):
        path = feed_dir / f"f{i}.xml"
        path.write_bytes(make_feed(i, args.entries))
        paths.append(path)
    size = sum(p.stat().st_size for p in paths)
    port = free_port()
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Event()
    server = ctx.Process(target=_serve, args=(str(feed_dir), port, ready), daemon=True)
    server.start()
    ready.wait(30)

    lines = ['[rules]\ninclude = ["detained", "Article 174"]\n']
    for i in range(feeds):
        host = f"127.0.0.{1 + i % HOSTS}"
        lines.append(f'[[feed]]\nname = "Outlet {i}"\nurl = "http://{host}:{port}/f{i}.xml"\n')
    (work / "sources.toml").write_text("\n".join(lines))
    db = work / "bench.sqlite3"
    settings = load_settings(
        database_url=f"sqlite:///{db}", data_dir=work / "var", sources=work / "sources.toml",
        allow_loopback_feeds=True, log_level="WARNING",
    )
    upgrade(settings)
    runtime = Runtime(settings)
    try:
        print(f"{feeds} feeds x {args.entries} entries, {size / 1e6:.1f} MB of XML, {HOSTS} loopback hosts, "
              f"{len(os.sched_getaffinity(0))} cores, concurrency {settings.fetch_concurrency}, per host {settings.fetch_per_host}")
        started = time.perf_counter()
        first = run_collect(runtime, force_all=True)
        wall1 = time.perf_counter() - started
        own, children = peak_mb()
        started = time.perf_counter()
        second = run_collect(runtime, force_all=True)
        wall2 = time.perf_counter() - started
    finally:
        runtime.close()
        server.terminate()
        server.join(5)
    base_default, n_entries = parse_only(paths)
    base_options, _ = parse_only(paths, sanitize_html=False, resolve_relative_uris=False)
    stored = first.new_incidents + first.same_link
    print(f"first pass : {wall1:6.2f} s wall, {first.fetched} fetched, {len(first.failed)} failed, "
          f"{first.new_incidents} incidents + {first.same_link} same-link sources, {first.near_duplicates} near-duplicate "
          f"candidates, {stored / wall1:,.0f} entries/s; parsing {first.parse_seconds:.2f} s CPU on {first.parse_processes or 1} process(es), storing {first.store_seconds:.2f} s")
    print(f"second pass: {wall2:6.2f} s wall, {second.not_modified} not modified, {second.fetched} fetched   (goal < 2 s)")
    print(f"peak memory: {own:6.0f} MB collector process + {children:.0f} MB largest parse worker = {own + children:.0f} MB   (goal < 500 MB)")
    print(f"baseline   : feedparser.parse of the same {n_entries} entries on one core: {base_default:.2f} s CPU "
          f"(with sanitize_html/resolve_relative_uris off, as the collector calls it: {base_options:.2f} s)")
    print(f"ratio      : first pass / single-core parse-only = {wall1 / base_default:.2f}x   (goal <= 1.0x); "
          f"vs the lighter parse = {wall1 / base_options:.2f}x")
    if first.failed:
        print("failures:", first.failed[:5])


if __name__ == "__main__":
    main()
