"""Sections admin: create, rename, describe, reorder, delete unused only; audited."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.models import AuditLog, Section
from tests.editorial import factories as fx
from tests.editorial.helpers import csrf_token_of


def _slugs(session: Session) -> list[str]:
    session.expire_all()
    return list(session.scalars(select(Section.slug).order_by(Section.position)))


def test_sections_crud_and_reorder(admin_client: TestClient, session: Session) -> None:
    page = admin_client.get("/editor/sections/")
    assert page.status_code == 200 and "Political persecution – Punitive psychiatry" in page.text
    token = csrf_token_of(page.text)
    post = lambda url, **d: admin_client.post(url, data={"csrf_token": token, **d}, follow_redirects=False)  # noqa: E731
    bad = post("/editor/sections/", slug="Bad Slug!", title="X")
    assert bad.status_code == 400 and "use lower-case letters" in bad.text and 'value="Bad Slug!"' in bad.text
    dup = post("/editor/sections/", slug="persecution", title="Again")
    assert dup.status_code == 400 and "already exists" in dup.text
    assert post("/editor/sections/", slug="women-rights", title="Women's rights", description="d").status_code == 303
    assert _slugs(session)[-1] == "women-rights"
    new = session.scalar(select(Section).where(Section.slug == "women-rights"))
    assert post(f"/editor/sections/{new.id}", title="Women’s rights", description="Gender-based persecution").status_code == 303
    assert post(f"/editor/sections/{new.id}", title="", description="").status_code == 400
    assert post(f"/editor/sections/{new.id}/move", direction="up").status_code == 303
    assert _slugs(session)[-2:] == ["women-rights", "international"]
    assert post(f"/editor/sections/{new.id}/move", direction="sideways").status_code == 400
    first = session.scalar(select(Section).where(Section.slug == "repression"))
    post(f"/editor/sections/{first.id}/move", direction="up")  # already first: order unchanged
    assert _slugs(session)[0] == "repression"
    used = session.scalar(select(Section).where(Section.slug == "persecution"))
    fx.incident(session, "Tagged", sections=["persecution"])
    refused = post(f"/editor/sections/{used.id}/delete")
    assert refused.status_code == 409 and "is used by 1 incident(s)" in refused.text
    assert post(f"/editor/sections/{new.id}/delete").status_code == 303
    assert "women-rights" not in _slugs(session)
    actions = session.scalars(select(AuditLog.action).where(AuditLog.entity_type == "section").order_by(AuditLog.id)).all()
    assert actions == ["section.create", "section.update", "section.reorder", "section.reorder", "section.delete"]
