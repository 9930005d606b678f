"""Duplicates of every origin: a volunteer's form, a partner's API call and an import file are scored
against recent incidents of any origin, and the desk merges the pairs they form (issue #15, item 4)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from newsletter.models import DuplicateCandidate, Incident
from newsletter.runtime import Runtime
from newsletter.submissions.tokens import create_token
from tests.editorial.helpers import csrf_token_of
from tests.submissions.conftest import FormClient, report

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


def test_two_volunteer_reports_of_one_detention_are_offered_and_a_different_one_is_not(
        form: FormClient, runtime: Runtime) -> None:
    _volunteer(form, DETENTION)
    _volunteer(form, OTHER)
    assert _pairs(runtime) == []
    _volunteer(form, REWORDED)
    assert _pairs(runtime) == [("volunteer", "volunteer", "open")]
    with runtime.session() as s:
        pair = s.scalars(select(DuplicateCandidate)).one()
        assert "Oral" in pair.other.body and pair.method == "words"
        assert pair.incident.id > pair.other.id  # the new report points at the earlier one


def test_form_then_api_report_are_offered(form: FormClient, api: httpx.Client, runtime: Runtime) -> None:
    _volunteer(form, DETENTION)
    r = api.post("/api/incidents", json={"what": REWORDED, "kind": "detention", "consent": "names", "city": "Oral",
                                         "country": "Kazakhstan", "occurred_on": "2026-11-18", "date_precision": "day",
                                         "persons": [{"name": "Marat Zhylanbayev", "role": "activist"}]})
    assert r.status_code == 201, r.text
    assert _pairs(runtime) == [("volunteer", "volunteer", "open")]
    unrelated = api.post("/api/incidents", json={"what": OTHER, "kind": "search", "consent": "names"})
    assert unrelated.status_code == 201, unrelated.text
    assert len(_pairs(runtime)) == 1


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
