"""/subscribe and /unsubscribe (by email) answer a subscriber and a stranger identically and at once,
even with a slow relay: the mail leaves after the response, capped per address and per client."""

from __future__ import annotations

import asyncio
import re
import statistics
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller

from newsletter.runtime import Runtime
from tests.delivery.helpers import add_subscribers
from tests.support.net import free_port
from tests.support.servers import SmtpSink, serve_app

RELAY_DELAY = 1.0  # seconds the relay takes per message, like a distant provider on a bad day


class SlowSink(SmtpSink):
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd API
        await asyncio.sleep(RELAY_DELAY)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def slow_smtp() -> Iterator[SlowSink]:
    port = free_port()
    sink = SlowSink("127.0.0.1", port)
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    yield sink
    controller.stop()


def _site(rt: Runtime) -> Any:
    """The app under uvicorn and a client that opens a new connection per request, so one request's
    background mail never delays the next request's answer."""
    class Site:
        def __enter__(self) -> httpx.Client:
            self._server = serve_app(rt)
            base = self._server.__enter__()
            self._client = httpx.Client(base_url=base, timeout=10, limits=httpx.Limits(max_keepalive_connections=0))
            return self._client

        def __exit__(self, *exc: Any) -> None:
            self._client.close()
            self._server.__exit__(*exc)

    return Site()


def _csrf(client: httpx.Client, path: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text).group(1)  # type: ignore[union-attr]


def _post(client: httpx.Client, path: str, email: str, token: str) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    r = client.post(path, data={"email": email, "csrf_token": token})
    return (time.perf_counter() - started) * 1000, r


def _comparable(r: httpx.Response) -> tuple[int, tuple[tuple[str, str], ...], str]:
    headers = tuple(sorted((k, v) for k, v in r.headers.items() if k != "date"))
    return r.status_code, headers, r.text


def _wait_for(smtp: SmtpSink, count: int, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while len(smtp.messages) < count and time.monotonic() < deadline:
        time.sleep(0.05)


@pytest.mark.parametrize("path", ["/subscribe", "/unsubscribe"])
def test_subscriber_and_stranger_get_the_same_answer_at_once(path: str, make_runtime, slow_smtp: SlowSink) -> None:
    rt = make_runtime(smtp_url=slow_smtp.url)
    with rt.session() as s:
        add_subscribers(s, 1)  # reader0@example.org, confirmed
    with _site(rt) as client:
        token = _csrf(client, path)
        _post(client, path, "warmup@example.org", token)
        known, strangers = [], []
        for n in range(5):
            known.append(_post(client, path, "reader0@example.org", token))
            strangers.append(_post(client, path, f"stranger{n}@example.org", token))
        known_ms = statistics.median(t for t, _ in known)
        stranger_ms = statistics.median(t for t, _ in strangers)
        bodies = {_comparable(r) for _, r in known + strangers}
    assert len(bodies) == 1, "same status, headers and page for a subscriber and a stranger"
    status, headers, text = bodies.pop()
    assert status == 200 and "Check your inbox" in text and "set-cookie" not in dict(headers)
    # The relay alone takes 1,000 ms a message; the answers take ~10 ms on an idle machine and
    # ~100 ms on one shared by six test runs, hence the margins.
    assert known_ms < 300 and stranger_ms < 300, (known_ms, stranger_ms)
    assert abs(known_ms - stranger_ms) < 100, (known_ms, stranger_ms)
    # The mail still goes out, after the answer: one confirmation per stranger (and the warm-up), or
    # the subscriber's unsubscribe links (at most the hourly cap).
    expected = 6 if path == "/subscribe" else 3
    _wait_for(slow_smtp, expected)
    assert len(slow_smtp.messages) == expected


def test_eight_posts_for_one_address_send_at_most_three_mails(make_runtime, slow_smtp: SlowSink) -> None:
    from newsletter.clock import ManualClock
    from newsletter.db import utcnow

    rt = make_runtime(smtp_url=slow_smtp.url)
    rt.clock = ManualClock(utcnow())
    assert rt.settings.mails_per_address_per_hour == 3
    with rt.session() as s:
        add_subscribers(s, 1)
    with _site(rt) as client:
        token = _csrf(client, "/unsubscribe")
        answers = {_post(client, "/unsubscribe", "reader0@example.org", token)[1].status_code for _ in range(8)}
        assert answers == {200}
        _wait_for(slow_smtp, 3)
        time.sleep(2 * RELAY_DELAY)  # the five others would have arrived by now
        assert len(slow_smtp.messages) == 3
        assert {m.rcpt_tos[0] for m in slow_smtp.messages} == {"reader0@example.org"}
        # An hour later the reader can ask again.
        rt.clock.advance(hours=2)
        _post(client, "/unsubscribe", "reader0@example.org", token)
        _wait_for(slow_smtp, 4)
        assert len(slow_smtp.messages) == 4


def test_the_cap_per_address_is_a_setting(make_runtime, smtp) -> None:
    rt = make_runtime(smtp_url=smtp.url, mails_per_address_per_hour=1)
    with rt.session() as s:
        add_subscribers(s, 2)
    with _site(rt) as client:
        token = _csrf(client, "/unsubscribe")
        for email in ["reader0@example.org", "reader0@example.org", "reader1@example.org"]:
            assert _post(client, "/unsubscribe", email, token)[1].status_code == 200
        _wait_for(smtp, 2)
        time.sleep(1)
        assert sorted(m.rcpt_tos[0] for m in smtp.messages) == ["reader0@example.org", "reader1@example.org"]


@pytest.mark.parametrize("path", ["/subscribe", "/unsubscribe"])
def test_one_client_posting_too_often_is_asked_to_wait(path: str, make_runtime, smtp) -> None:
    rt = make_runtime(smtp_url=smtp.url, submit_rate_per_minute=4)
    with rt.session() as s:
        add_subscribers(s, 1)
    with _site(rt) as client:
        token = _csrf(client, path)
        statuses = [_post(client, path, f"someone{n}@example.org", token)[1].status_code for n in range(4)]
        assert statuses == [200] * 4
        known = _post(client, path, "reader0@example.org", token)[1]
        stranger = _post(client, path, "stranger@example.org", token)[1]
    assert known.status_code == stranger.status_code == 429
    assert "Too many requests from your connection" in known.text
    # The wait counts down with the clock, not with who is asked: the two pages are the same but
    # for that number, which may have ticked by one between the two requests.
    waits = [int(re.search(r"Wait (\d+) seconds", r.text).group(1)) for r in (known, stranger)]
    assert abs(waits[0] - waits[1]) <= 1
    assert re.sub(r"Wait \d+ seconds", "Wait N seconds", known.text) == re.sub(r"Wait \d+ seconds", "Wait N seconds",
                                                                               stranger.text)


def test_rolled_back_or_refused_requests_send_nothing(make_runtime, smtp) -> None:
    rt = make_runtime(smtp_url=smtp.url)
    with _site(rt) as client:
        token = _csrf(client, "/subscribe")
        assert client.post("/subscribe", data={"email": "not an address", "csrf_token": token}).status_code == 422
        assert client.post("/subscribe", data={"email": "a@example.org", "csrf_token": "forged"}).status_code == 403
    time.sleep(0.5)
    assert smtp.messages == []
