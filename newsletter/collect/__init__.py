"""Feed collection: sources file -> fetch (httpx) -> parse (feedparser on bytes) -> sanitise -> dedupe -> store.

Each step is a small module of its own so it can be tested and reasoned about alone:
sources (the TOML file), rules (relevance), guard (SSRF), fetcher, parser, sanitizer,
dedupe, processor (writes one feed's result), schedule (backoff, next check), service (the run).
"""
