"""Parse workers' CPU per short entry: parse_feed on bench/collect.py's short feeds, in this process.

    .venv/bin/python bench/parse.py            # 300 feeds x 50 short entries

No network, no database: only the work a parse worker does per entry (reading, sanitising, plain
text, hashing, relevance, words). Prints the best of 5 passes and the sum over 10-feed chunks of each
chunk's best of 15 passes, which a busy machine disturbs less; compare old and new code back to back.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import collect  # noqa: E402  (the feeds of the collector's benchmark)

from newsletter.collect.parser import parse_feed  # noqa: E402
from newsletter.collect.rules import FeedRules, GlobalRules  # noqa: E402

RULES = FeedRules(rules=GlobalRules(include=("detained", "Article 174")))
HEADERS = {"content-type": "application/rss+xml"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    feeds = [(collect.make_feed(i, 50, True), f"https://outlet{i}.example/rss") for i in range(args.feeds)]
    entries = sum(len(parse_feed(body, HEADERS, url, RULES).entries) for body, url in feeds)  # warm-up
    chunks = [feeds[k:k + 10] for k in range(0, len(feeds), 10)]
    minima = [float("inf")] * len(chunks)
    best = float("inf")
    for rnd in range(args.rounds):
        total = 0.0
        for c, chunk in enumerate(chunks):
            started = time.process_time()
            for body, url in chunk:
                parse_feed(body, HEADERS, url, RULES)
            spent = time.process_time() - started
            total += spent
            minima[c] = min(minima[c], spent)
        if rnd < 5:
            best = min(best, total)
    print(f"{len(feeds)} feeds, {entries} short entries, parse_feed in one process")
    print(f"best of 5 passes        : {best / entries * 1e6:.1f} us/entry")
    print(f"chunk minima of {args.rounds:<2} rounds: {sum(minima) / entries * 1e6:.1f} us/entry")


if __name__ == "__main__":
    main()
