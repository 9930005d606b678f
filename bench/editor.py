"""Benchmark of the editors' desk (issue 5): the triage list and full-text search at volume.

Generates N incidents (with a feed source link, sections, keywords, states spread like a real
backlog) into a fresh SQLite file and a throwaway PostgreSQL cluster, then times through the real
code (`newsletter.editorial.search.triage_page`, which also counts matches for paging) and through
the real app over HTTP (in-process client, logged-in editor, rendered page):

  * the triage queue's first page (state=new, newest first, 50 rows),
  * a full-text search for a common word, a rare word and two words together,
  * a filtered view (source + keyword + city).

    .venv/bin/python bench/editor.py             # 10,000 incidents, SQLite and PostgreSQL
    .venv/bin/python bench/editor.py --full      # 100,000 incidents: the goal run
    .venv/bin/python bench/editor.py --db sqlite # one backend only
Goal: p95 under 50 ms for each query on both backends; the ratio p95 / 50 ms is printed.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select  # noqa: E402

GOAL_MS = 50.0
WORDS = (
    "activist journalist blogger lawyer court police detained arrested searched summoned charged sentenced fined "
    "released hearing prosecutor investigation prison colony detention house arrest psychiatric clinic examination "
    "protest picket rally election opposition party movement union strike workers teachers students ministry "
    "parliament law amendment bill agents extremism article criminal code administrative solidarity campaign "
    "appeal petition embassy delegation rapporteur statement hunger relatives pressure dismissal blocked website "
    "channel video post comment interview testimony"
).split()
RARE = "zhanaozen"
CITIES = ("Almaty", "Nur-Sultan", "Shymkent", "Oral", "Aktobe", "Atyrau", "Taraz", "Pavlodar", "Semey",
          "Kostanay", "Petropavl", "Aktau", "Kyzylorda", "Karaganda", "Turkistan")
KEYWORDS = ("detained", "Article 174", "psychiatric", "searched", "fined", "extremism")
STATES = ("new",) * 30 + ("accepted",) * 25 + ("rejected",) * 25 + ("published",) * 15 + ("duplicate",) * 5


def generate(runtime, n: int, seed: int = 7) -> None:  # type: ignore[no-untyped-def]
    """Bulk-insert n incidents (Core inserts, so the FTS triggers do their real work)."""
    from newsletter.models import Incident, IncidentSource, Section, Source, incident_sections

    rnd = random.Random(seed)
    start = datetime(2025, 1, 1, tzinfo=timezone.utc)
    span = int((datetime(2026, 11, 20, tzinfo=timezone.utc) - start).total_seconds())
    with runtime.session() as s:
        sources = [Source(name=f"Feed {i}", url=f"https://feed{i}.example.org/rss") for i in range(40)]
        s.add_all(sources)
        s.flush()
        source_ids = [src.id for src in sources]
        section_ids = list(s.scalars(select(Section.id)))
    batch = 5000
    next_id = 1
    for offset in range(0, n, batch):
        rows, links, tags = [], [], []
        for _ in range(min(batch, n - offset)):
            title = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(6, 10))).capitalize()
            summary = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(20, 40)))
            if rnd.random() < 0.001:
                summary += f" {RARE}"
            created = start + timedelta(seconds=rnd.randrange(span))
            rows.append({
                "id": next_id, "title": title, "summary": summary, "body": f"<p>{summary}</p>",
                "state": rnd.choice(STATES), "origin": "feed" if rnd.random() < 0.9 else "volunteer",
                "publication": "public", "date_precision": "day", "location_precision": "city",
                "city": rnd.choice(CITIES), "occurred_on": (created - timedelta(days=rnd.randint(0, 5))).date(),
                "matched_keywords": rnd.sample(KEYWORDS, rnd.randint(0, 2)), "relevant": rnd.random() > 0.05,
                "created_at": created, "updated_at": created,
            })
            url = f"https://news.example.org/{next_id}"
            links.append({"incident_id": next_id, "source_id": rnd.choice(source_ids), "url": url,
                          "canonical_url": url, "created_at": created, "origin": "feed"})
            if rnd.random() < 0.6:
                tags.append({"incident_id": next_id, "section_id": rnd.choice(section_ids)})
            next_id += 1
        with runtime.session() as s:
            s.execute(insert(Incident), rows)
            s.execute(insert(IncidentSource), links)
            if tags:
                s.execute(insert(incident_sections), tags)
    with runtime.engine.connect() as conn:
        if runtime.settings.is_sqlite:
            conn.exec_driver_sql("ANALYZE")
        else:
            conn.exec_driver_sql("SELECT setval(pg_get_serial_sequence('incidents', 'id'), (SELECT max(id) FROM incidents))")
            conn.exec_driver_sql("ANALYZE")
        conn.commit()


def timed(fn: Callable[[], object], runs: int) -> tuple[float, float, object]:
    fn()  # warm-up: caches, prepared plans
    samples = []
    result: object = None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, int(round(0.95 * len(samples))) - 1)]
    return statistics.median(samples), p95, result


def run_backend(name: str, database_url: str, n: int, runs: int) -> list[tuple[str, str, float, float, str]]:
    from fastapi.testclient import TestClient

    from newsletter.config import load_settings
    from newsletter.db import upgrade
    from newsletter.editorial import search
    from newsletter.models import Source
    from newsletter.runtime import Runtime
    from newsletter.web.app import create_app
    from tests.editorial.helpers import login, make_user

    data = Path(tempfile.mkdtemp(prefix="bench-editor-"))
    settings = load_settings(database_url=database_url, data_dir=data, secret_key="b" * 40)
    upgrade(settings)
    runtime = Runtime(settings)
    t0 = time.perf_counter()
    generate(runtime, n)
    print(f"[{name}] generated {n:,} incidents in {time.perf_counter() - t0:.1f} s", flush=True)
    with runtime.session() as s:
        source_id = s.scalar(select(Source.id).order_by(Source.id).limit(1))

    queries = {
        "triage first page": {},
        "search common word": {"q": "detained"},
        "search rare word": {"q": RARE},
        "search two words": {"q": "psychiatric clinic"},
        "filter source+keyword+city": {"source": str(source_id), "keyword": "Article 174", "city": "Oral",
                                       "state": "all"},
    }
    results = []
    for label, params in queries.items():
        filters, errors = search.parse_filters(params)
        assert not errors, errors

        def service_call() -> object:
            with runtime.sessions() as s:
                return search.triage_page(s, filters)

        p50, p95, page = timed(service_call, runs)
        results.append((name, f"{label} (service)", p50, p95, f"{len(page.items)} rows shown, {page.total_label}"))  # type: ignore[attr-defined]

    make_user(runtime, "bench@example.org", role="editor")
    with TestClient(create_app(runtime)) as client:
        login(client, "", "bench@example.org")
        for label, params in (("triage first page", {}), ("search common word", {"q": "detained"})):
            def http_call() -> object:
                response = client.get("/editor/triage", params=params)
                assert response.status_code == 200
                return response

            p50, p95, _ = timed(http_call, runs)
            results.append((name, f"{label} (HTTP page)", p50, p95, ""))
    runtime.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="100,000 incidents (default 10,000)")
    parser.add_argument("--incidents", type=int, help="override the number of incidents")
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    n = args.incidents or (100_000 if args.full else 10_000)
    os.environ.pop("NEWSLETTER_CONFIG", None)
    rows: list[tuple[str, str, float, float, str]] = []
    if args.db in ("sqlite", "both"):
        path = Path(tempfile.mkdtemp(prefix="bench-editor-db-")) / "bench.sqlite3"
        rows += run_backend("sqlite", f"sqlite:///{path}", n, args.runs)
    if args.db in ("postgresql", "both"):
        from tests.support.pg import start_postgres

        server = start_postgres()
        try:
            server.execute("CREATE DATABASE bench_editor")
            rows += run_backend("postgresql", server.url_for("bench_editor"), n, args.runs)
        finally:
            server.stop()
    print(f"\n{n:,} incidents, {args.runs} runs each; goal p95 < {GOAL_MS:.0f} ms (ratio = p95 / goal)")
    print(f"{'backend':<11} {'query':<40} {'p50 ms':>8} {'p95 ms':>8} {'ratio':>6}  result")
    for backend, label, p50, p95, note in rows:
        print(f"{backend:<11} {label:<40} {p50:8.1f} {p95:8.1f} {p95 / GOAL_MS:6.2f}  {note}")
    worst = max(p95 for *_x, p95, _n in rows)
    print(f"\nworst p95 {worst:.1f} ms -> {'meets' if worst < GOAL_MS else 'misses'} the {GOAL_MS:.0f} ms goal")


if __name__ == "__main__":
    main()
