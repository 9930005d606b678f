"""The desk's item editor: format, quote and timeline; a photo uploaded or chosen from the volunteer's
cleaned pictures (public incidents only), its alt text, caption and credit, and clear refusals."""

from __future__ import annotations

import hashlib
import io
import secrets
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.issues.service import draft_issue
from newsletter.models import Attachment, Issue
from newsletter.runtime import Runtime
from newsletter.web.app import create_app
from tests.editorial.helpers import csrf_token_of, login, make_user
from tests.render.builders import demo_picture

EDITOR = "editor@example.org"


@pytest.fixture
def desk(runtime: Runtime) -> Iterator[TestClient]:
    make_user(runtime, EDITOR)
    with TestClient(create_app(runtime), base_url="http://testserver") as client:
        login(client, "", EDITOR)
        yield client


@pytest.fixture
def issue(session: Session, settings: Settings, make_incident, make_person) -> Issue:
    aya = make_person("Aya Sadvakasova", consent="name")
    make_incident("Aya Sadvakasova convicted", persons=[aya], section="persecution")
    make_incident("A flat searched", publication="anonymised", region="Abai Region", section="persecution")
    issue = draft_issue(session, settings=settings, period="2026-W47", actor="cli")
    session.commit()
    return issue


def _items(session: Session, issue: Issue) -> dict[str, object]:
    session.expire_all()
    return {i.incident.publication: i for i in session.get(Issue, issue.id).items}


def test_an_editor_sets_a_format_and_uploads_a_photo(desk: TestClient, session: Session, issue: Issue) -> None:
    url = f"/editor/issues/{issue.id}"
    item = _items(session, issue)["public"]
    token = csrf_token_of(desk.get(url).text)
    r = desk.post(f"{url}/items/{item.id}/format", follow_redirects=False, data={
        "csrf_token": token, "format": "testimony", "quote_text": "They told me to forget about the union.",
        "quote_speaker": "Aya Sadvakasova", "timeline": ""})
    assert r.status_code == 303
    r = desk.post(f"{url}/items/{item.id}/photo", follow_redirects=False,
                  data={"csrf_token": token, "alt": "The courthouse", "caption": "Almaty", "credit": "ODF"},
                  files={"photo": ("phone.jpg", demo_picture(), "image/jpeg")})
    assert r.status_code == 303
    incident = _items(session, issue)["public"].incident
    assert incident.format == "testimony" and incident.photo["alt"] == "The courthouse"
    page = desk.get(url).text
    assert f'src="/editor/media/{incident.photo["email"]}"' in page and 'alt="The courthouse"' in page
    served = desk.get(f"/editor/media/{incident.photo['email']}")
    assert served.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(served.content)) as img:
        assert not img.getexif() and img.width == 600
    preview = desk.get(f"{url}/preview/web/").text
    assert "They told me to forget about the union." in preview and "/media/" + incident.photo["web"] in preview


def test_a_hostile_upload_is_refused_on_the_page_and_the_photo_stays(desk: TestClient, session: Session,
                                                                   issue: Issue) -> None:
    url = f"/editor/issues/{issue.id}"
    item = _items(session, issue)["public"]
    token = csrf_token_of(desk.get(url).text)
    desk.post(f"{url}/items/{item.id}/photo", data={"csrf_token": token, "alt": "The courthouse"},
              files={"photo": ("a.jpg", demo_picture(), "image/jpeg")})
    before = dict(_items(session, issue)["public"].incident.photo)
    r = desk.post(f"{url}/items/{item.id}/photo", data={"csrf_token": token, "alt": "x"},
                  files={"photo": ("evil.jpg", b"<svg onload=alert(1)>", "image/jpeg")})
    assert r.status_code == 409 and "photo refused: the file is not a photo" in r.text
    assert _items(session, issue)["public"].incident.photo == before
    r = desk.post(f"{url}/items/{item.id}/format", data={"csrf_token": token, "format": "timeline",
                                                          "timeline": "no date here"})
    assert r.status_code == 409 and "timeline line 1 is not" in r.text


def test_an_anonymised_item_offers_no_photo_and_refuses_one(desk: TestClient, session: Session, issue: Issue) -> None:
    url = f"/editor/issues/{issue.id}"
    item = _items(session, issue)["anonymised"]
    page = desk.get(url).text
    assert "An anonymised or internal item never carries a photo." in page
    r = desk.post(f"{url}/items/{item.id}/photo", data={"csrf_token": csrf_token_of(page), "alt": "x"},
                  files={"photo": ("a.jpg", demo_picture(), "image/jpeg")})
    assert r.status_code == 409 and "never carries a photo" in r.text
    assert _items(session, issue)["anonymised"].incident.photo is None


def test_a_volunteers_picture_is_offered_only_on_a_public_item(desk: TestClient, session: Session, issue: Issue,
                                                               settings: Settings) -> None:
    items = _items(session, issue)
    ids = {}
    for publication, item in items.items():
        data = demo_picture(seed=3)
        name = f"{secrets.token_hex(16)}.jpg"
        settings.attachments_dir.mkdir(parents=True, exist_ok=True)
        (settings.attachments_dir / name).write_bytes(data)
        row = Attachment(incident_id=item.incident.id, stored_name=name, media_type="image/jpeg", size=len(data),
                         sha256=hashlib.sha256(data).hexdigest())
        session.add(row)
        session.flush()
        ids[publication] = row.id
    session.commit()
    url = f"/editor/issues/{issue.id}"
    page = desk.get(url).text
    assert f'<option value="{ids["public"]}">' in page and f'<option value="{ids["anonymised"]}">' not in page
    token = csrf_token_of(page)
    public = items["public"]
    r = desk.post(f"{url}/items/{public.id}/photo", follow_redirects=False,
                  data={"csrf_token": token, "attachment": str(ids["anonymised"]), "alt": "x"})
    assert r.status_code == 409 and "publishable attachments" in r.text
    r = desk.post(f"{url}/items/{public.id}/photo", follow_redirects=False,
                  data={"csrf_token": token, "attachment": str(ids["public"]), "alt": "Hills"})
    assert r.status_code == 303
    photo = _items(session, issue)["public"].incident.photo
    assert photo["origin"] == f"attachment:{ids['public']}" and photo["width"] == 1200
