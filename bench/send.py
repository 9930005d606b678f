"""Benchmark: send one realistic issue (25 items, seed 001's sections) to N confirmed subscribers.

Ours: `run_send` (outbox rows in SQLite, claim in batches, several aiosmtplib connections, a
group-committed `sent` per message) against a fast loopback sink: Postfix's `smtp-sink` when
installed (Debian package postfix), else aiosmtpd in another process. Baseline: a plain smtplib
loop sending the same messages one by one (the email package builds each message, one SMTP
connection, no bookkeeping). Each side runs in its own process so that peak memory (max RSS) is its own.

    .venv/bin/python bench/send.py                 # 2,000 subscribers
    .venv/bin/python bench/send.py --full          # 10,000 subscribers (the issue's figure)
    .venv/bin/python bench/send.py --dkim          # sign every message (2048-bit RSA key)
    .venv/bin/python bench/send.py --sink aiosmtpd # force the Python sink
    .venv/bin/python bench/send.py --editions 2    # an en,ru issue, half the readers in each language
    .venv/bin/python bench/send.py --db postgresql --senders 2   # one sender process against two
                                                   # on the same outbox (a throwaway PostgreSQL cluster)

Goal (issue 7): >= 1,000 msg/s without DKIM on a 2-core machine and >= 5x the baseline; with
`--editions 2` (issues 13 and 18) the same 1,000 msg/s end to end with `--full`.

`--editions N` is the real path, nothing per message in the harness: NEWSLETTER_LANGUAGES names the
editions (so every message carries its "Change language" link), the issue's further editions are
frozen with their words in Cyrillic letters (the bytes a Russian edition has), the readers'
languages take turns, and run_send renders each edition once and sends each reader theirs. The
figures include preparing the send (enqueue of N rows, rendering). The line "message size" shows
what one message of each edition weighs and how its parts are encoded: the bytes are what a
second, non-Latin edition costs per message (the socket, the sink's and the kernel's share of the
two cores), so that line explains most of a gap between one edition and two.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from newsletter.models import Issue
    from newsletter.runtime import Runtime

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOAL_RATE = 1000.0
BENCH_FURTHER = ("ru", "kk", "de", "fr", "uk")
GOAL_RATIO = 5.0
SECRET = "bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"


def cpu_seconds() -> float:
    """User + system CPU of this process: what the work costs, whatever else shares the machine."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"sink did not start on port {port}")


AIOSMTPD_SINK = """
import sys, time
from aiosmtpd.controller import Controller
class H:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"
c = Controller(H(), hostname="127.0.0.1", port=int(sys.argv[1]))
c.start()
while True:
    time.sleep(3600)
"""


def start_sink(kind: str) -> tuple[subprocess.Popen[bytes], int, str]:
    port = free_port()
    binary = shutil.which("smtp-sink") or ("/usr/sbin/smtp-sink" if Path("/usr/sbin/smtp-sink").exists() else None)
    if kind in ("auto", "smtp-sink") and binary:
        user = ["-u", "nobody"] if os.geteuid() == 0 else []
        proc = subprocess.Popen([binary, *user, f"127.0.0.1:{port}", "1024"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        name = "postfix smtp-sink"
    else:
        if kind == "smtp-sink":
            raise SystemExit("smtp-sink not found (apt-get install postfix)")
        proc = subprocess.Popen([sys.executable, "-c", AIOSMTPD_SINK, str(port)])
        name = "aiosmtpd (separate process)"
    wait_port(port)
    return proc, port, name


def environment(tmp: Path, port: int, args: argparse.Namespace) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}
    env.update({
        "NEWSLETTER_DATABASE_URL": args.database_url or f"sqlite:///{tmp / 'bench.sqlite3'}",
        "BENCH_DATABASE_URL": args.database_url or "",
        "NEWSLETTER_DATA_DIR": str(tmp / "var"),
        "NEWSLETTER_ISSUES_DIR": str(tmp / "issues"),
        "NEWSLETTER_SECRET_KEY": SECRET,
        "NEWSLETTER_SMTP_URL": f"smtp://127.0.0.1:{port}",
        "NEWSLETTER_FROM": "Monitoring Newsletter <news@example.org>",
        "NEWSLETTER_BASE_URL": "https://news.example.org",
        "NEWSLETTER_SEND_CONNECTIONS": str(args.connections),
        "NEWSLETTER_MESSAGES_PER_CONNECTION": "1000",
        "NEWSLETTER_SEND_BATCH_SIZE": "500",
        "NEWSLETTER_LOG_LEVEL": "WARNING",
    })
    if args.dkim:
        key = tmp / "dkim.pem"
        subprocess.run(["openssl", "genrsa", "-traditional", "-out", str(key), "2048"], check=True, capture_output=True)
        env.update({"NEWSLETTER_DKIM_KEY_FILE": str(key), "NEWSLETTER_DKIM_SELECTOR": "bench",
                    "NEWSLETTER_DKIM_DOMAIN": "example.org"})
    return env


def prepare(n: int, editions: int = 1) -> None:
    """Migrate, add an approved issue with a frozen 25-item snapshot and n confirmed subscribers.

    With `editions` > 1 the issue has that many editions (en, ru, kk, ...) frozen, and the readers'
    languages take turns, so each edition goes to its share."""
    from datetime import date

    from sqlalchemy import insert

    from newsletter.db import utcnow
    from newsletter.delivery.tokens import new_subscriber_token
    from newsletter.models import Issue, Subscriber
    from newsletter.runtime import Runtime
    from tests.render.builders import make_edition, make_snapshot

    rt = Runtime()
    rt.migrate()
    with rt.session() as s:
        snap = make_snapshot(25, base_url="https://news.example.org")
        languages = ["en", *BENCH_FURTHER[: editions - 1]]
        further = {lang: make_edition(snap, lang) for lang in languages[1:]}
        s.add(Issue(number=3, period="2026-W47", period_start=date(2026, 11, 16), period_end=date(2026, 11, 22),
                    title=snap["issue"]["title"] or "Issue 3", state="approved", approved_at=utcnow(), snapshot=snap,
                    edition_snapshots=further or None))
        now = utcnow()
        s.execute(insert(Subscriber), [
            {"email": f"reader{i}@example.org", "state": "confirmed", "language": languages[i % len(languages)],
             "token": new_subscriber_token(),
             "consent_source": "bench", "consent_at": now, "confirmed_at": now, "bounce_count": 0,
             "created_at": now, "updated_at": now} for i in range(n)])


def child_ours() -> dict[str, Any]:
    from newsletter.flows.send import run_send
    from newsletter.models import Issue
    from newsletter.runtime import Runtime

    rt = Runtime()
    with rt.session() as s:
        issue = s.get(Issue, 1)
    cpu0, start, wall0 = cpu_seconds(), time.perf_counter(), time.time()
    report = run_send(rt, issue)
    total = time.perf_counter() - start
    return {"sent": report.sent, "seconds": total, "send_seconds": report.elapsed, "cpu": cpu_seconds() - cpu0,
            "started": wall0, "ended": time.time(), "sizes": message_sizes(rt, issue)}


def message_sizes(rt: Runtime, issue: Issue) -> dict[str, str]:
    """Per edition, after the timed run: the bytes of one message on the wire and its parts' encodings."""
    from email import message_from_bytes

    from newsletter.delivery.message import MessageFactory, Recipient
    from newsletter.flows.send import rendered_editions
    from newsletter.issues.editions import default_language

    with rt.session() as s:
        current = s.merge(issue)
        default, (email, further) = default_language(current, rt.settings), rendered_editions(
            current.snapshot, current.edition_snapshots, rt.settings)
    sizes = {}
    for lang, rendered in {default: email, **further}.items():
        wire = MessageFactory(rendered, rt.settings).build_wire(Recipient("reader@example.org", None, "t" * 43), "<1@x>")
        encodings = sorted({str(p["Content-Transfer-Encoding"]) for p in message_from_bytes(wire).get_payload()})
        sizes[lang] = f"{len(wire) / 1000:.0f} KB ({', '.join(encodings)})"
    return sizes


def child_baseline() -> dict[str, float]:
    import smtplib
    from email.message import EmailMessage
    from urllib.parse import urlsplit

    from sqlalchemy import select

    from newsletter.models import Issue, Subscriber
    from newsletter.render import render_email
    from newsletter.runtime import Runtime

    rt = Runtime()
    settings = rt.settings
    with rt.session() as s:
        snapshot = s.get(Issue, 1).snapshot
        readers = s.execute(select(Subscriber.email, Subscriber.token).where(Subscriber.state == "confirmed")).all()
    cpu0, start = cpu_seconds(), time.perf_counter()
    rendered = render_email(snapshot, settings)
    url = urlsplit(settings.smtp_url)
    sent = 0
    with smtplib.SMTP(url.hostname, url.port) as smtp:
        for email, token in readers:
            link = f"{settings.base_url}/unsubscribe/{token}"
            msg = EmailMessage()
            msg["From"] = settings.from_address
            msg["To"] = email
            msg["Subject"] = rendered.subject
            msg["List-Unsubscribe"] = f"<{link}>"
            msg.set_content(rendered.text.replace("%%UNSUBSCRIBE_URL%%", link))
            msg.add_alternative(rendered.html.replace("%%UNSUBSCRIBE_URL%%", link), subtype="html")
            smtp.send_message(msg)
            sent += 1
    return {"sent": sent, "seconds": time.perf_counter() - start, "cpu": cpu_seconds() - cpu0}


def run_child(mode: str, env: dict[str, str]) -> dict[str, float]:
    return run_children(mode, env, 1)[0]


def run_children(mode: str, env: dict[str, str], count: int) -> list[dict[str, float]]:
    """`count` child processes at once (several senders on one outbox), each one's figures."""
    procs = [subprocess.Popen([sys.executable, __file__, "--child", mode], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(count)]
    results = []
    for proc in procs:
        out, err = proc.communicate()
        if proc.returncode != 0:
            raise SystemExit(f"{mode} failed:\n{err[-3000:]}")
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def senders_on_postgresql(args: argparse.Namespace, n: int, port: int) -> list[tuple[int, float, float]]:
    """One sender process, then `args.senders`, each on a fresh copy of the same prepared outbox;
    returns (senders, messages sent, seconds from the first start to the last end)."""
    from tests.support.pg import start_postgres

    server = start_postgres()
    results = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-send-") as tmp_name:
            tmp = Path(tmp_name)
            server.execute("CREATE DATABASE bench_pristine")
            args.database_url = server.url_for("bench_pristine")
            run_child("prepare", environment(tmp, port, args) | {"BENCH_N": str(n)})
            for run, senders in enumerate(sorted({1, args.senders})):
                server.execute(f"CREATE DATABASE bench_run{run} TEMPLATE bench_pristine")
                args.database_url = server.url_for(f"bench_run{run}")
                figures = run_children("ours", environment(tmp, port, args), senders)
                window = max(f["ended"] for f in figures) - min(f["started"] for f in figures)
                results.append((senders, sum(f["sent"] for f in figures), window))
    finally:
        server.stop()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="10,000 subscribers")
    parser.add_argument("-n", type=int, default=None, help="number of subscribers (default 2,000; --full 10,000)")
    parser.add_argument("--connections", type=int, default=16, help="NEWSLETTER_SEND_CONNECTIONS (default 16)")
    parser.add_argument("--dkim", action="store_true", help="DKIM-sign every message")
    parser.add_argument("--sink", choices=["auto", "smtp-sink", "aiosmtpd"], default="auto")
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite",
                        help="postgresql: a throwaway cluster (Debian's postgresql), needed for --senders")
    parser.add_argument("--senders", type=int, default=1,
                        help="with --db postgresql: also run this many sender processes on one outbox")
    parser.add_argument("--editions", type=int, default=1,
                        help="the issue in this many editions (en, ru, ...), readers' languages taking turns")
    parser.add_argument("--child", choices=["prepare", "ours", "baseline"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.database_url = os.environ.get("BENCH_DATABASE_URL")
    if args.child:
        result: dict[str, float] = {}
        if args.child == "prepare":
            prepare(int(os.environ["BENCH_N"]), int(os.environ.get("BENCH_EDITIONS", "1")))
        else:
            result = child_ours() if args.child == "ours" else child_baseline()
        result["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return

    n = args.n or (10_000 if args.full else 2_000)
    if args.db == "postgresql":
        sink, port, sink_name = start_sink(args.sink)
        try:
            runs = senders_on_postgresql(args, n, port)
        finally:
            sink.send_signal(signal.SIGTERM)
            sink.wait(timeout=10)
        print(f"send benchmark on PostgreSQL: {n:,} subscribers, 25-item issue, sink: {sink_name}, "
              f"{args.connections} connections per sender, DKIM {'on' if args.dkim else 'off'}, {os.cpu_count()} CPUs")
        single = runs[0][1] / runs[0][2]
        for senders, sent, seconds in runs:
            print(f"  {senders} sender process{'es' if senders > 1 else ''} on one outbox: {sent:,.0f} sent in "
                  f"{seconds:.2f}s = {sent / seconds:,.0f} msg/s ({sent / seconds / single:.2f}x one sender)")
            if sent != n:
                print(f"  WRONG: {sent:,.0f} messages reported for {n:,} subscribers")
        print(f"  machine load average {os.getloadavg()[0]:.1f}")
        return
    sink, port, sink_name = start_sink(args.sink)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-send-") as tmp_name:
            tmp = Path(tmp_name)
            env = environment(tmp, port, args) | {"BENCH_N": str(n), "BENCH_EDITIONS": str(args.editions)}
            if args.editions > 1:  # the real setting: every message then carries its "Change language" link
                env["NEWSLETTER_LANGUAGES"] = ",".join(["en", *BENCH_FURTHER[: args.editions - 1]])
            db = tmp / "bench.sqlite3"
            run_child("prepare", env)
            pristine = tmp / "pristine.sqlite3"
            shutil.copyfile(db, pristine)
            ours = run_child("ours", env)
            for suffix in ("-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
            shutil.copyfile(pristine, db)
            base = run_child("baseline", env)
    finally:
        sink.send_signal(signal.SIGTERM)
        sink.wait(timeout=10)

    rate = ours["sent"] / ours["seconds"]
    send_rate = ours["sent"] / ours["send_seconds"]
    base_rate = base["sent"] / base["seconds"]
    ratio = rate / base_rate
    print(f"send benchmark: {n:,} subscribers, 25-item issue"
          + (f" in {args.editions} editions (readers' languages taking turns; the baseline sends the default one)"
             if args.editions > 1 else "")
          + f", sink: {sink_name}, {args.connections} connections, DKIM {'on' if args.dkim else 'off'}, {os.cpu_count()} CPUs")
    print(f"  ours     (run_send, outbox, aiosmtplib): {ours['sent']:>6,.0f} sent in {ours['seconds']:.2f}s = "
          f"{rate:,.0f} msg/s end to end ({send_rate:,.0f} msg/s in the send loop), peak RSS {ours['max_rss_mb']:.0f} MB")
    print("  message size: " + "; ".join(f"{lang} {size}" for lang, size in ours.get("sizes", {}).items()))
    print(f"  baseline (plain smtplib loop, one by one): {base['sent']:>6,.0f} sent in {base['seconds']:.2f}s = "
          f"{base_rate:,.0f} msg/s, peak RSS {base['max_rss_mb']:.0f} MB")
    print(f"  CPU per message: ours {ours['cpu'] / ours['sent'] * 1000:.2f} ms "
          f"(= {ours['sent'] / ours['cpu']:,.0f} msg per CPU-second), baseline {base['cpu'] / base['sent'] * 1000:.2f} ms "
          f"(= {base['sent'] / base['cpu']:,.0f}); ratio {base['cpu'] / base['sent'] / (ours['cpu'] / ours['sent']):.1f}x; "
          f"machine load average {os.getloadavg()[0]:.1f}")
    print(f"  ratio {ratio:.1f}x the baseline (goal >= {GOAL_RATIO:.0f}x); "
          f"{'meets' if rate >= GOAL_RATE else 'MISSES'} the {GOAL_RATE:,.0f} msg/s goal"
          + (" (the rate goal is for DKIM off)" if args.dkim else ""))


if __name__ == "__main__":
    main()
