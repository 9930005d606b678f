"""Feed collection: sources file -> fetch (own HTTP/1.1 client, h11) -> parse (lxml or feedparser on bytes) -> sanitise -> dedupe -> store.

Each step is a small module of its own so it can be tested and reasoned about alone:
sources (the TOML file), rules (relevance), guard (SSRF), client (HTTP/1.1 on asyncio streams),
fetcher (limits, redirects, conditional GET), parser, sanitizer, dedupe, processor (writes one
feed's result), schedule (backoff, next check), service (the run).
"""
