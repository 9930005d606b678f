"""Every path that takes a receipt code is rate-limited before anything else, and answers a code that
matches no report the same way: same page, same status, same kind of work."""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from newsletter.runtime import Runtime
from tests.submissions import samples
from tests.submissions.conftest import CSRF, FormClient, receipt_of, report
from tests.support.servers import serve_app

WRONG = "7KQ2M-XR4PD-0B9TE-HW3NA-56CVF"  # well formed, matches nothing
MALFORMED = "HELLO"
NO_FILE = [("files", ("", b"", "application/octet-stream"))]
Path = Callable[[httpx.Client, str, str], httpx.Response]


def _get(c: httpx.Client, code: str, token: str) -> httpx.Response:
    return c.get(f"/receipt/{code}")


def _show(c: httpx.Client, code: str, token: str) -> httpx.Response:
    return c.post("/receipt", data={"csrf_token": token, "code": code, "action": "show"})


def _add(c: httpx.Client, code: str, token: str) -> httpx.Response:
    return c.post("/receipt", data={"csrf_token": token, "code": code, "action": "add", "text": "More."}, files=NO_FILE)


def _add_no_csrf(c: httpx.Client, code: str, token: str) -> httpx.Response:
    return c.post("/receipt", data={"code": code, "action": "add", "text": "More."}, files=NO_FILE)


def _add_to_path(c: httpx.Client, code: str, token: str) -> httpx.Response:
    return c.post(f"/receipt/{code}", data={"csrf_token": token, "text": "More."}, files=NO_FILE)


PATHS: dict[str, Path] = {"GET /receipt/{code}": _get, "POST /receipt show": _show, "POST /receipt add": _add,
                          "POST /receipt add without CSRF": _add_no_csrf, "POST /receipt/{code}": _add_to_path}


@pytest.fixture
def limited(make_runtime) -> Iterator[tuple[Runtime, FormClient]]:
    """A server whose per-client limit is 3 a minute (the submissions conftest raises it otherwise)."""
    rt = make_runtime(submit_rate_per_minute=3)
    with serve_app(rt) as base:
        client = FormClient(base)
        yield rt, client
        client.close()


def _token(c: FormClient) -> str:
    return CSRF.search(c.http.get("/receipt").text).group(1)  # type: ignore[union-attr]


def test_a_wrong_code_gets_one_answer_on_every_path(form_client: FormClient) -> None:
    token = _token(form_client)
    for code in (WRONG, MALFORMED):
        answers = {name: path(form_client.http, code, token) for name, path in PATHS.items()}
        for name, r in answers.items():
            assert r.status_code == 404, (name, r.status_code)
            assert "No report has this receipt code. Check it for typos and try again." in r.text, name
        pages = {re.sub(r"\s+", " ", r.text) for r in answers.values()}
        assert len(pages) == 1, f"different pages for the wrong code {code}"


@pytest.mark.parametrize("name", list(PATHS))
def test_each_path_counts_against_the_limit(name: str, limited: tuple[Runtime, FormClient]) -> None:
    _rt, client = limited
    code = receipt_of(client.submit(report()))
    token = _token(client)
    first = PATHS[name](client.http, code, token)
    assert 'id="status"' in first.text, "the first use shows the report"
    for _ in range(2):
        PATHS[name](client.http, code, token)
    # Three uses of the code by this path fill the client's bucket: every path now asks to wait
    # and shows nothing of the report, with the right code or a wrong one.
    for other_name, other in PATHS.items():
        for any_code in (code, WRONG):
            r = other(client.http, any_code, token)
            assert r.status_code == 429, (other_name, r.status_code)
            assert "Too many requests from your connection" in r.text and 'id="status"' not in r.text


def test_a_wrong_code_with_files_is_refused_before_the_files_are_read(form_client: FormClient) -> None:
    token = _token(form_client)
    big = samples.jpeg_with_gps(3000, 2000)

    def timed(files: list) -> float:
        times = []
        for _ in range(5):
            started = time.perf_counter()
            r = form_client.http.post("/receipt", data={"csrf_token": token, "code": WRONG, "action": "add",
                                                         "text": "More."}, files=files)
            times.append(time.perf_counter() - started)
            assert r.status_code == 404
        return statistics.median(times)

    without = timed(NO_FILE)
    with_file = timed([("files", ("photo.jpg", big, "image/jpeg"))])
    assert with_file < without + 0.25, (without, with_file)


def test_the_right_code_still_works_on_every_path(form_client: FormClient) -> None:
    code = receipt_of(form_client.submit(report()))
    token = _token(form_client)
    assert _get(form_client.http, code, token).status_code == 200
    assert _show(form_client.http, code, token).status_code == 200
    added = _add(form_client.http, code, token)
    assert added.status_code == 200 and "was added to the report" in added.text
    assert _add_to_path(form_client.http, code, token).status_code == 200
    assert _add_no_csrf(form_client.http, code, token).status_code == 403
