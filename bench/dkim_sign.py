"""Benchmark: DKIM-signing one real issue mail, ours (OpenSSL RSA over dkimpy's canonicalisation)
against dkimpy's own `dkim.sign` (pure-Python RSA) on the same messages, in one process.

Both sides sign the same 2048-bit key and the same per-recipient messages, so the ratio holds on
a noisy machine; the absolute rate is the ceiling signing puts on a single sending core.

    .venv/bin/python bench/dkim_sign.py               # 300 messages
    .venv/bin/python bench/dkim_sign.py --full        # 2,000 messages

Goal (issue 18): signed sending >= 300 msg/s on 2 cores, which needs signing well under
3 ms of one core a message (bench/send.py --dkim measures the whole send).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true")
    parser.add_argument("-n", type=int)
    args = parser.parse_args()
    count = args.n or (2000 if args.full else 300)

    import dkim

    from newsletter.config import load_settings
    from newsletter.delivery.message import SIGNED_HEADERS, MessageFactory, Recipient
    from newsletter.render import render_email
    from tests.delivery.helpers import snapshot

    tmp = Path(tempfile.mkdtemp(prefix="bench-dkim-"))
    key = tmp / "dkim.pem"
    subprocess.run(["openssl", "genrsa", "-traditional", "-out", str(key), "2048"], check=True, capture_output=True)
    os.environ.update(NEWSLETTER_SECRET_KEY="bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
                      NEWSLETTER_DATABASE_URL=f"sqlite:///{tmp}/db.sqlite3", NEWSLETTER_FROM="News <news@example.org>")
    settings = load_settings()
    rendered = render_email(snapshot(), settings)
    unsigned = MessageFactory(rendered, settings)
    messages = [unsigned.build(Recipient(f"r{i}@example.org", None, f"{i:043d}"), f"<{i}@example.org>")
                for i in range(count)]
    os.environ.update(NEWSLETTER_DKIM_KEY_FILE=str(key), NEWSLETTER_DKIM_SELECTOR="bench",
                      NEWSLETTER_DKIM_DOMAIN="example.org")
    signer = MessageFactory(rendered, load_settings())._signer
    assert signer is not None
    pem = key.read_bytes()

    started = time.process_time()
    for raw in messages:
        signer.sign(raw, SIGNED_HEADERS)
    ours = (time.process_time() - started) / count

    sample = messages[: max(20, count // 10)]  # dkimpy is slow: a tenth of the messages is plenty
    started = time.process_time()
    for raw in sample:
        dkim.sign(raw, b"bench", b"example.org", pem, canonicalize=(b"relaxed", b"simple"),
                  include_headers=list(SIGNED_HEADERS))
    theirs = (time.process_time() - started) / len(sample)

    size = sum(map(len, messages)) / count / 1024
    print(f"DKIM signing, {count} messages of {size:.1f} KB, 2048-bit RSA, relaxed/simple, CPU time per message:")
    print(f"  ours (OpenSSL RSA, dkimpy canonicalisation): {ours * 1000:.2f} ms  -> {1 / ours:,.0f} msg/s per core")
    print(f"  baseline dkimpy dkim.sign (pure-Python RSA): {theirs * 1000:.2f} ms  -> {1 / theirs:,.0f} msg/s per core")
    print(f"  ratio: {theirs / ours:.1f}x faster")


if __name__ == "__main__":
    main()
