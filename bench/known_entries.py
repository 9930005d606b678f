"""Benchmark of the collector's known-entries lookup on a feed with a long history (issue 18).

Every fetched feed's entries are looked up among the links that feed already brought (by guid, link
or content hash). Builds a SQLite database at the head revision with one feed holding N links
(default 20,000: a year or two of a busy outlet), then times the lookup of a fetched feed of 50
entries (10 known, 40 new) through the real code (`collect.processor._known_in_feed`), and, as the
baseline, the single statement it replaced (`source_id = ? AND (hash IN … OR guid IN … OR link IN …)`),
which SQLite answers by walking every link of the feed.

    .venv/bin/python bench/known_entries.py            # 20,000 links
    .venv/bin/python bench/known_entries.py --links 100000
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import bindparam, or_, select  # noqa: E402

from newsletter.collect import processor  # noqa: E402
from newsletter.collect.dedupe import Identity  # noqa: E402
from newsletter.config import load_settings  # noqa: E402
from newsletter.db import upgrade  # noqa: E402
from newsletter.incidents import NewIncident, NewLink, create_incidents  # noqa: E402
from newsletter.models import IncidentSource, Source  # noqa: E402
from newsletter.runtime import Runtime  # noqa: E402

FORMER = (
    select(IncidentSource.id, IncidentSource.incident_id, IncidentSource.guid, IncidentSource.canonical_url,
           IncidentSource.content_hash)
    .where(IncidentSource.source_id == bindparam("source_id"),
           or_(IncidentSource.content_hash.in_(bindparam("hashes", expanding=True)),
               IncidentSource.guid.in_(bindparam("guids", expanding=True)),
               IncidentSource.canonical_url.in_(bindparam("links", expanding=True))))
)


def _ident(n: int) -> Identity:
    return Identity(guid=f"https://outlet.example/?p={n}", link=f"https://outlet.example/news/{n}",
                    content_hash=hashlib.sha256(str(n).encode()).hexdigest())


def _median_ms(run, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--links", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-known-") as tmp:
        settings = load_settings(database_url=f"sqlite:///{tmp}/bench.sqlite3", data_dir=Path(tmp) / "var",
                                 log_level="WARNING")
        upgrade(settings)
        runtime = Runtime(settings)
        now = datetime.now(timezone.utc)
        with runtime.session() as session:
            source = Source(kind="feed", name="Outlet", url="https://outlet.example/feed.xml", enabled=True)
            other = Source(kind="feed", name="Other", url="https://other.example/feed.xml", enabled=True)
            session.add_all([source, other])
            session.flush()
            source_id, other_id = source.id, other.id
            for start in range(0, args.links, 2_000):
                batch = range(start, min(start + 2_000, args.links))
                create_incidents(session, [NewIncident("feed", {"title": f"Entry {n}"}, links=[
                    NewLink("feed", url=_ident(n).link, guid=_ident(n).guid, content_hash=_ident(n).content_hash,
                            source_id=source_id if n % 10 else other_id)]) for n in batch], now=now)
        fetched = [_ident(n) for n in range(args.links - 10, args.links + 40)]  # 10 known, 40 new
        params = {"source_id": source_id, "hashes": [i.content_hash for i in fetched],
                  "guids": [i.guid for i in fetched], "links": [i.link for i in fetched]}
        with runtime.session() as session:
            known = processor._known_in_feed(session, source_id, fetched)
            former = session.execute(FORMER, params).all()
            now_ms = _median_ms(lambda: processor._known_in_feed(session, source_id, fetched), args.repeat)
            former_ms = _median_ms(lambda: session.execute(FORMER, params).all(), args.repeat)
        runtime.close()
    print(f"one feed with {args.links:,} links (a tenth of them another feed's), a fetch of 50 entries (10 known)")
    print(f"found      : {len({r.id for r in known.values()})} known links now, {len(former)} with the former statement")
    print(f"lookup     : {now_ms:.3f} ms median of {args.repeat} (the former statement: {former_ms:.3f} ms, "
          f"{former_ms / now_ms:.0f}x slower)")


if __name__ == "__main__":
    main()
