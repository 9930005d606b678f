"""Failed logins are throttled per email and per client, never locked shut, and the answers never say
whether an email is an account: same messages, same work (one argon2 verification) and same timing."""

from __future__ import annotations

import re
import statistics
import time
from datetime import datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.editorial import auth, users
from newsletter.models import AuditLog, User
from newsletter.clock import ManualClock
from newsletter.runtime import Runtime
from newsletter.web.app import create_app
from tests.editorial.conftest import EDITOR
from tests.editorial.helpers import DEFAULT_PASSWORD, csrf_token_of, make_user

START = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)
STRANGER = "nobody@example.org"
_ERROR_RE = re.compile(r'class="error"[^>]*>(.*?)<', re.S)


@pytest.fixture
def clock(runtime: Runtime) -> ManualClock:
    runtime.clock = ManualClock(START)
    return runtime.clock


def _client(runtime: Runtime, address: str) -> TestClient:
    """A browser at a given client address (the limiter's key; never stored)."""
    return TestClient(create_app(runtime), base_url="http://testserver", client=(address, 50000))


def _attempt(c: TestClient, email: str, password: str) -> tuple[int, str]:
    """(status, the message shown) for one login through the form."""
    token = csrf_token_of(c.get("/editor/login").text)
    r = c.post("/editor/login", data={"email": email, "password": password, "csrf_token": token, "next": "/editor/"},
               follow_redirects=False)
    if r.status_code == 303:
        return 303, ""
    found = _ERROR_RE.search(r.text)
    assert found, r.text[:500]
    return r.status_code, " ".join(found.group(1).split())


def test_answers_are_the_same_for_an_account_and_a_stranger(clock: ManualClock, runtime: Runtime,
                                                            editor_id: int) -> None:
    with _client(runtime, "10.0.0.1") as c:
        editor = [_attempt(c, EDITOR, "wrong password!!") for _ in range(8)]
        stranger = [_attempt(c, STRANGER, "wrong password!!") for _ in range(8)]
    assert editor == stranger
    messages = [m for _, m in editor]
    assert messages[: auth.FREE_FAILURES] == ["Wrong email or password."] * auth.FREE_FAILURES
    assert messages[auth.FREE_FAILURES] == "Too many failed logins. Wait 15 seconds and try again."
    assert all("account" not in m for m in messages)
    assert {s for s, _ in editor} == {400}


def test_throttle_asks_to_wait_then_the_right_password_passes(clock: ManualClock, runtime: Runtime,
                                                             editor_id: int, session: Session) -> None:
    with _client(runtime, "10.0.0.2") as c:
        for _ in range(auth.FREE_FAILURES):
            assert _attempt(c, EDITOR, "wrong password!!") == (400, "Wrong email or password.")
        # While waiting even the right password is refused, without saying it was right.
        assert _attempt(c, EDITOR, DEFAULT_PASSWORD) == (400, "Too many failed logins. Wait 15 seconds and try again.")
        clock.advance(10)
        assert _attempt(c, EDITOR, DEFAULT_PASSWORD)[1] == "Too many failed logins. Wait 5 seconds and try again."
        clock.advance(5)
        assert _attempt(c, EDITOR, DEFAULT_PASSWORD) == (303, "")
    user = session.get(User, editor_id)
    assert user is not None and user.failed_logins == 0 and user.locked_until is None
    actions = session.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()
    assert actions[-3:] == ["user.login_refused", "user.login_refused", "user.login"]


def test_delay_doubles_and_is_capped() -> None:
    delays = [auth.delay_after(n) for n in range(1, 30)]
    assert delays[: auth.FREE_FAILURES - 1] == [None] * (auth.FREE_FAILURES - 1)
    assert delays[auth.FREE_FAILURES - 1: auth.FREE_FAILURES + 2] == [
        timedelta(seconds=15), timedelta(seconds=30), timedelta(seconds=60)]
    assert max(d for d in delays if d) == auth.MAX_DELAY == timedelta(minutes=5)


def test_an_attackers_fifty_guesses_do_not_keep_the_editor_out(clock: ManualClock, runtime: Runtime,
                                                               editor_id: int) -> None:
    with _client(runtime, "10.6.6.6") as attacker, _client(runtime, "10.0.0.3") as editor:
        answers = []
        for _ in range(50):
            answers.append(_attempt(attacker, EDITOR, "guess password!!"))
            clock.advance(7)
        assert all(status == 400 for status, _ in answers)
        assert not any(m == "" for _, m in answers)
        # The attacker stops; at most MAX_DELAY later the real editor gets in.
        clock.advance(auth.MAX_DELAY.total_seconds())
        assert _attempt(editor, EDITOR, DEFAULT_PASSWORD) == (303, "")


def test_per_client_throttle_spans_accounts_and_forgets(clock: ManualClock, make_runtime, editor_id: int) -> None:
    rt = make_runtime(login_failures_per_minute=4)
    rt.clock = clock
    make_user(rt, "other@example.org")
    with _client(rt, "10.6.6.7") as sprayer, _client(rt, "10.0.0.4") as editor:
        for n in range(4):
            assert _attempt(sprayer, f"user{n}@example.org", "guess password!!")[1] == "Wrong email or password."
        status, message = _attempt(sprayer, "other@example.org", DEFAULT_PASSWORD)
        assert status == 400 and message.startswith("Too many failed logins. Wait ")
        # Another client is not affected, and the sprayer's bucket empties within two minutes.
        assert _attempt(editor, EDITOR, DEFAULT_PASSWORD) == (303, "")
        clock.advance(120)
        assert _attempt(sprayer, "other@example.org", DEFAULT_PASSWORD) == (303, "")


def test_a_disabled_account_answers_like_a_stranger(clock: ManualClock, runtime: Runtime, editor_id: int) -> None:
    with runtime.session() as s:
        users.update_user(s, s.get(User, editor_id), active=False, actor="cli")  # type: ignore[arg-type]
    with _client(runtime, "10.0.0.5") as c:
        disabled = [_attempt(c, EDITOR, DEFAULT_PASSWORD) for _ in range(7)]
        stranger = [_attempt(c, STRANGER, DEFAULT_PASSWORD) for _ in range(7)]
    assert disabled == stranger


def test_unlock_clears_the_throttle(clock: ManualClock, runtime: Runtime, editor_id: int, cli) -> None:
    with _client(runtime, "10.0.0.6") as c:
        for _ in range(auth.FREE_FAILURES):
            _attempt(c, EDITOR, "wrong password!!")
        assert "login throttled until" in cli("users", "list").output
        cli("users", "set", "--email", EDITOR, "--unlock")
        assert _attempt(c, EDITOR, DEFAULT_PASSWORD) == (303, "")


def _timed_ms(c: TestClient, token: str, email: str, password: str) -> float:
    started = time.perf_counter()
    r = c.post("/editor/login", data={"email": email, "password": password, "csrf_token": token},
               follow_redirects=False)
    elapsed = (time.perf_counter() - started) * 1000
    assert r.status_code == 400
    return elapsed


def test_unknown_wrong_and_throttled_take_the_same_time(clock: ManualClock, make_runtime) -> None:
    rt = make_runtime(login_failures_per_minute=10_000)
    rt.clock = clock
    editors = [f"ed{n}@example.org" for n in range(3)]
    for email in [*editors, "throttled@example.org"]:
        make_user(rt, email)
    timings: dict[str, list[float]] = {"unknown": [], "wrong password": [], "throttled": []}
    with _client(rt, "10.0.0.7") as c:
        for _ in range(auth.FREE_FAILURES):
            _attempt(c, "throttled@example.org", "wrong password!!")
        assert _attempt(c, "throttled@example.org", "x" * 12)[1].startswith("Too many failed logins.")
        token = csrf_token_of(c.get("/editor/login").text)
        _timed_ms(c, token, "warm@example.org", "warm up the app")
        # Interleaved, so that load from other processes falls on every kind alike. Each account and
        # each stranger stays under its free failures, so those are plain misses.
        for n in range(9):
            timings["wrong password"].append(_timed_ms(c, token, editors[n % 3], "wrong password!!"))
            timings["unknown"].append(_timed_ms(c, token, f"stranger{n}@example.org", "wrong password!!"))
            timings["throttled"].append(_timed_ms(c, token, "throttled@example.org", "wrong password!!"))
    medians = {kind: statistics.median(values) for kind, values in timings.items()}
    assert min(medians.values()) > 20, medians  # every answer does the argon2 work (~50-200 ms)
    assert max(medians.values()) / min(medians.values()) < 1.6, medians
