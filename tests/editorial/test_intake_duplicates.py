"""Duplicates of every origin: a volunteer's form, a partner's API call and an import file are scored
against recent incidents of any origin, and the desk merges the pairs they form (issue #15, item 4).

A form or API report is stored with a "duplicates pending" mark and scored later, in a batch, by the
`duplicates` job or when an editor opens the desk: never inside the volunteer's POST."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from newsletter.flows.intake import score_pending
from newsletter.flows.jobs import run_by_hand
from newsletter.models import DuplicateCandidate, DuplicateCheck, Incident, JobRun
from newsletter.runtime import Runtime
from newsletter.submissions.tokens import create_token
from tests.editorial.helpers import csrf_token_of
from tests.submissions.conftest import FormClient, report
from tests.support.net import free_port, wait_for_port

DETENTION = ("Police detained the activist Marat Zhylanbayev in Oral on 18 November after a single picket "
             "against the war; the court gave him fifteen days of administrative arrest.")
REWORDED = ("Activist Marat Zhylanbayev was detained by police in Oral on 18 November after his single picket "
            "against the war, and a court sentenced him to fifteen days of administrative arrest.")
OTHER = ("Tax inspectors raided the office of an independent newspaper in Almaty and seized accounting "
         "records and two servers.")


@pytest.fixture
def form(live_server: str) -> Iterator[FormClient]:
    client = FormClient(live_server)
    yield client
    client.close()


@pytest.fixture
def api(live_server: str, runtime: Runtime) -> Iterator[httpx.Client]:
    with runtime.session() as s:
        _token, plaintext = create_token(s, name="Partner", actor="cli")
    with httpx.Client(base_url=live_server, headers={"Authorization": f"Bearer {plaintext}"}, timeout=30) as c:
        yield c


def _volunteer(form: FormClient, what: str) -> None:
    r = form.submit(report(what=what, kind="detention", city="Oral", country="Kazakhstan",
                           **{"persons-0-name": "Marat Zhylanbayev"}))
    assert r.status_code == 200 and 'id="receipt-code"' in r.text, r.text[:2000]


def _pairs(runtime: Runtime) -> list[tuple[str, str, str]]:
    """Open candidates as (new incident's origin, earlier one's origin, state)."""
    with runtime.session() as s:
        return [(c.incident.origin, c.other.origin, c.state)
                for c in s.scalars(select(DuplicateCandidate).order_by(DuplicateCandidate.id))]


def _pending(runtime: Runtime) -> list[int]:
    with runtime.session() as s:
        return list(s.scalars(select(DuplicateCheck.incident_id).order_by(DuplicateCheck.incident_id)))


def test_two_volunteer_reports_of_one_detention_are_offered_by_the_job_and_a_different_one_is_not(
        form: FormClient, runtime: Runtime, cli: Any) -> None:
    _volunteer(form, DETENTION)
    _volunteer(form, OTHER)
    _volunteer(form, REWORDED)
    assert _pairs(runtime) == [], "no scoring inside the volunteer's POST"
    assert len(_pending(runtime)) == 3
    out = cli("jobs", "run", "duplicates").output
    assert "3 report(s) compared" in out and "1 duplicate pair(s)" in out, out
    assert _pairs(runtime) == [("volunteer", "volunteer", "open")]
    assert _pending(runtime) == []
    with runtime.session() as s:
        pair = s.scalars(select(DuplicateCandidate)).one()
        assert "Oral" in pair.other.body and pair.method == "words"
        assert pair.incident.id > pair.other.id  # the later report points at the earlier one
        run = s.scalars(select(JobRun).where(JobRun.job == "duplicates")).one()
        assert run.outcome == "ok"
    again = cli("jobs", "run", "duplicates").output  # nothing is scored twice
    assert "no report waits" in again, again
    assert len(_pairs(runtime)) == 1


def test_form_then_api_report_are_offered_when_the_desk_opens_the_triage_list(
        form: FormClient, api: httpx.Client, runtime: Runtime, editor_client: TestClient) -> None:
    _volunteer(form, DETENTION)
    r = api.post("/api/incidents", json={"what": REWORDED, "kind": "detention", "consent": "names", "city": "Oral",
                                         "country": "Kazakhstan", "occurred_on": "2026-11-18", "date_precision": "day",
                                         "persons": [{"name": "Marat Zhylanbayev", "role": "activist"}]})
    assert r.status_code == 201, r.text
    unrelated = api.post("/api/incidents", json={"what": OTHER, "kind": "search", "consent": "names"})
    assert unrelated.status_code == 201, unrelated.text
    assert _pairs(runtime) == [] and len(_pending(runtime)) == 3
    page = editor_client.get("/editor/triage")  # no scheduler running: the desk scores what waits
    assert page.status_code == 200
    assert _pairs(runtime) == [("volunteer", "volunteer", "open")]
    assert _pending(runtime) == []


@pytest.mark.parametrize("path", ["/editor/duplicates", "/editor/incidents/1"])
def test_the_duplicates_page_and_an_incident_page_score_what_waits(
        form: FormClient, editor_client: TestClient, runtime: Runtime, path: str) -> None:
    _volunteer(form, DETENTION)
    _volunteer(form, REWORDED)
    assert _pairs(runtime) == []
    page = editor_client.get(path)
    assert page.status_code == 200
    assert _pairs(runtime) == [("volunteer", "volunteer", "open")] and _pending(runtime) == []
    if path == "/editor/duplicates":
        with runtime.session() as s:
            pair_id = s.scalars(select(DuplicateCandidate.id)).one()
        assert f'id="pair-{pair_id}"' in page.text  # shown on the very page that scored it


def test_batches_score_each_report_once_and_every_pair_points_to_the_earlier_report(
        form: FormClient, runtime: Runtime) -> None:
    for what in (DETENTION, REWORDED, DETENTION + " He was released on 3 December."):
        _volunteer(form, what)
    done = []
    for _ in range(3):
        with runtime.session() as s:
            done.append(score_pending(s, batch=2))
    assert [d.reports for d in done] == [2, 1, 0]
    with runtime.session() as s:
        pairs = s.execute(select(DuplicateCandidate.incident_id, DuplicateCandidate.other_id)).all()
        ids = sorted(s.scalars(select(Incident.id)))
    assert sorted(pairs) == [(ids[1], ids[0]), (ids[2], ids[0]), (ids[2], ids[1])]
    assert sum(d.pairs for d in done) == 3


def test_the_mark_survives_a_killed_server_and_the_next_run_scores_it(
        settings_env: dict[str, str], runtime: Runtime, tmp_path: Path, cli: Any) -> None:
    """A server killed (SIGKILL) right after storing two reports: both marks are there, and the job
    scores them; no log line of the server or the job carries a report's words."""
    runtime.migrate()
    port = free_port()
    log_path = tmp_path / "server.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen([str(Path(sys.executable).parent / "newsletter"), "serve", "--host", "127.0.0.1",
                                   "--port", str(port)], stdout=log, stderr=subprocess.STDOUT, env=os.environ.copy())
        try:
            wait_for_port(port, timeout=30)
            client = FormClient(f"http://127.0.0.1:{port}")
            _volunteer(client, DETENTION)
            _volunteer(client, REWORDED)
            client.close()
        finally:
            server.send_signal(signal.SIGKILL)
            server.wait(timeout=20)
    assert len(_pending(runtime)) == 2 and _pairs(runtime) == []
    out = cli("jobs", "run", "duplicates").output
    assert _pairs(runtime) == [("volunteer", "volunteer", "open")] and _pending(runtime) == []
    logs = log_path.read_text(errors="replace") + out
    for words in ("Zhylanbayev", "picket", "administrative arrest"):
        assert words not in logs


def test_the_job_logs_no_words_of_a_report(form: FormClient, runtime: Runtime,
                                           caplog: pytest.LogCaptureFixture) -> None:
    _volunteer(form, DETENTION)
    _volunteer(form, REWORDED)
    with caplog.at_level(logging.DEBUG):
        result = run_by_hand(runtime, "duplicates")
    assert result.outcome == "ok" and "1 duplicate pair(s)" in result.detail
    assert "job duplicates ok" in caplog.text
    for words in ("Zhylanbayev", "picket", "Oral"):
        assert words not in caplog.text and words not in result.detail


def _record(title: str, summary: str, url: str) -> dict[str, Any]:
    return {"title": title, "summary": summary, "body": "", "kind": "detention", "occurred_on": "2026-11-18",
            "date_precision": "day", "country": "Kazakhstan", "city": "Oral", "language": "en", "sections": [],
            "persons": [], "publication": "internal", "sources": [url], "state": "new", "links": []}


def test_imported_incidents_are_offered_against_volunteer_reports_and_each_other(
        form: FormClient, cli: Any, runtime: Runtime, tmp_path: Path) -> None:
    _volunteer(form, DETENTION)
    path = tmp_path / "in.json"
    path.write_text(json.dumps([
        _record("Activist Marat Zhylanbayev detained in Oral after picket", REWORDED, "https://example.org/a"),
        _record("Newspaper office raided by tax inspectors", OTHER, "https://example.org/b"),
    ]), encoding="utf-8")
    cli("import", "incidents", str(path))
    assert _pairs(runtime) == [("import", "volunteer", "open")]
    cli("import", "incidents", str(path))  # a re-import creates nothing and proposes nothing again
    assert len(_pairs(runtime)) == 1


def test_the_desk_merges_two_volunteer_reports(form: FormClient, editor_client: TestClient, runtime: Runtime) -> None:
    _volunteer(form, DETENTION)
    _volunteer(form, REWORDED)
    run_by_hand(runtime, "duplicates")
    with runtime.session() as s:
        pair = s.scalars(select(DuplicateCandidate)).one()
        pair_id, new_id, first_id = pair.id, pair.incident_id, pair.other_id
    page = editor_client.get("/editor/duplicates")
    assert f'id="pair-{pair_id}"' in page.text
    merged = editor_client.post(f"/editor/duplicates/{pair_id}/merge",
                                data={"csrf_token": csrf_token_of(page.text), "keep": str(first_id)},
                                follow_redirects=False)
    assert merged.status_code == 303
    with runtime.session() as s:
        dup = s.get(Incident, new_id)
        assert (dup.state, dup.merged_into_id) == ("duplicate", first_id)
        assert s.get(DuplicateCandidate, pair_id).state == "merged"
