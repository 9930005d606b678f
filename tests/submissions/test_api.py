"""POST /api/incidents over real HTTP: token auth, same validation and cleaning, OpenAPI, no 5xx under fuzzing."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import func, select

from newsletter.models import Attachment, Incident, Submission
from newsletter.runtime import Runtime
from newsletter.submissions.tokens import create_token, revoke_token
from tests.submissions import samples

PAYLOAD = {"what": "CANARY-what: a blogger was fined for a post about the war.", "kind": "fine", "consent": "names",
           "persons": [{"name": "Pavel S", "role": "blogger"}], "city": "Kazan", "occurred_on": "2026-11-10",
           "date_precision": "week", "links": ["https://example.org/fine"]}


@pytest.fixture
def api_token(runtime: Runtime) -> str:
    with runtime.session() as s:
        _token, plaintext = create_token(s, name="Messenger bot", actor="cli")
    return plaintext


@pytest.fixture
def api(live_server: str, api_token: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server, headers={"Authorization": f"Bearer {api_token}"}, timeout=30) as c:
        yield c


def test_report_with_cleaned_attachment(api: httpx.Client, runtime: Runtime) -> None:
    body = PAYLOAD | {"attachments": [{"filename": "IMG_1.jpg",
                                       "content_base64": base64.b64encode(samples.jpeg_with_gps()).decode()}]}
    r = api.post("/api/incidents", json=body)
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["state"] == "received" and out["attachments"] == 1
    assert out["receipt_url"].endswith("/receipt") and out["receipt_code"] not in out["receipt_url"]
    with runtime.session() as s:
        incident = s.scalars(select(Incident)).one()
        assert (incident.state, incident.origin, incident.publication, incident.date_precision) == (
            "new", "volunteer", "public", "week")
        sub = s.scalars(select(Submission)).one()
        assert sub.channel == "api" and sub.api_token_id is not None
        stored = s.scalars(select(Attachment)).one()
    data = (runtime.settings.attachments_dir / stored.stored_name).read_bytes()
    assert b"Exif" not in data and samples.CAMERA.encode() not in data
    assert r.headers["cache-control"] == "no-store"


def test_missing_unknown_and_revoked_tokens_are_refused(live_server: str, runtime: Runtime, api_token: str) -> None:
    assert httpx.post(f"{live_server}/api/incidents", json=PAYLOAD).status_code == 401
    bad = httpx.post(f"{live_server}/api/incidents", json=PAYLOAD, headers={"Authorization": "Bearer nlt_nope"})
    assert bad.status_code == 401 and bad.headers["www-authenticate"] == "Bearer"
    with runtime.session() as s:
        from newsletter.models import ApiToken

        revoke_token(s, s.scalars(select(ApiToken)).one().id, actor="cli")
    revoked = httpx.post(f"{live_server}/api/incidents", json=PAYLOAD, headers={"Authorization": f"Bearer {api_token}"})
    assert revoked.status_code == 401
    with runtime.session() as s:
        assert s.scalar(select(func.count(Incident.id))) == 0


@pytest.mark.parametrize("change, status, fragment", [
    ({"kind": "legislation"}, 422, "kind"),
    ({"consent": None}, 422, "consent"),
    ({"what": "short"}, 422, "what"),
    ({"links": ["ftp://example.org/x"]}, 422, "not a web address"),
    ({"attachments": [{"filename": "a.jpg", "content_base64": "***"}]}, 422, "not valid base64"),
    ({"attachments": [{"filename": "a.exe", "content_base64": base64.b64encode(b"MZ\x90").decode()}]}, 422,
     "not accepted"),
])
def test_invalid_reports_get_clear_errors(api: httpx.Client, runtime: Runtime, change, status, fragment) -> None:
    r = api.post("/api/incidents", json=PAYLOAD | change)
    assert r.status_code == status and fragment in r.text
    with runtime.session() as s:
        assert s.scalar(select(func.count(Incident.id))) == 0


def test_malformed_and_oversize_bodies(api: httpx.Client, runtime: Runtime) -> None:
    r = api.post("/api/incidents", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422
    limit = runtime.settings.max_submission_bytes * 4 // 3 + 256 * 1024
    r = api.post("/api/incidents", content=b"x" * (limit + 10), headers={"content-type": "application/json"})
    assert r.status_code == 413 and "too large" in r.json()["detail"]


def test_openapi_documents_the_intake(live_server: str) -> None:
    spec = httpx.get(f"{live_server}/api/openapi.json").json()
    op = spec["paths"]["/api/incidents"]["post"]
    assert set(op["responses"]) >= {"201", "401", "413", "422", "429"}
    assert op["security"] and "HTTPBearer" in spec["components"]["securitySchemes"]
    body = spec["components"]["schemas"]["ApiSubmissionIn"]
    assert {"what", "kind", "consent", "persons", "attachments"} <= set(body["properties"])
    assert "/submit" not in spec["paths"] and "/receipt/{code}" not in spec["paths"]


@pytest.mark.slow
def test_fuzzing_finds_no_server_error(live_server: str, api_token: str) -> None:
    """Schemathesis generates valid and invalid reports from the OpenAPI schema; none may cause a 5xx."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis import GenerationMode

    schema = schemathesis.openapi.from_url(f"{live_server}/api/openapi.json")
    operation = schema["/api/incidents"]["POST"]
    examples = int(os.environ.get("NEWSLETTER_TEST_FUZZ_EXAMPLES", "80"))
    seen: dict[int, int] = {}
    with httpx.Client(timeout=30) as http:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=examples, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck))
            def run(case) -> None:
                kwargs = case.as_transport_kwargs(base_url=live_server)
                headers = {k: v for k, v in (kwargs.get("headers") or {}).items() if k.lower() != "authorization"}
                kwargs["headers"] = headers | {"Authorization": f"Bearer {api_token}"}
                if isinstance(kwargs.get("data"), (bytes, str)):
                    kwargs["content"] = kwargs.pop("data")
                r = http.request(**{k: v for k, v in kwargs.items() if k in ("method", "url", "headers", "params",
                                                                            "json", "content", "data", "files")})
                seen[r.status_code] = seen.get(r.status_code, 0) + 1
                assert r.status_code < 500, f"{r.status_code} for {case.body!r}: {r.text[:300]}"

            run()
    assert seen.get(201), f"no valid report was generated and accepted: {seen}"
    assert seen.get(422), f"no invalid report was generated: {seen}"
