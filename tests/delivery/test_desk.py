"""The subscribers desk over real HTTP: login required, list/filter/search, add, unsubscribe, suppressions."""

from __future__ import annotations

import time

import httpx
from sqlalchemy import select

from newsletter.models import AuditLog, Subscriber, Suppression
from tests.delivery.helpers import add_subscribers
from tests.editorial.helpers import csrf_token_of, login, make_user
from tests.support.servers import serve_app


def test_desk_requires_login(make_runtime) -> None:
    rt = make_runtime()
    with serve_app(rt) as base:
        r = httpx.get(f"{base}/editor/subscribers/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/editor/login?next=")


def test_list_filter_search_add_and_unsubscribe(make_runtime, smtp) -> None:
    rt = make_runtime(smtp_url=smtp.url)
    make_user(rt, "ed@example.org", role="admin")  # addresses are for admins (see the editors' test below)
    with rt.session() as s:
        add_subscribers(s, 3)
        add_subscribers(s, 2, state="pending", prefix="waiting")
        s.add(Suppression(email="gone@example.org", reason="unsubscribed"))
    with serve_app(rt) as base, httpx.Client(base_url=base, follow_redirects=True) as client:
        login(client, base, "ed@example.org")
        page = client.get("/editor/subscribers/")
        assert page.status_code == 200
        assert "confirmed: 3" in page.text and "pending: 2" in page.text and "reader2@example.org" in page.text
        only = client.get("/editor/subscribers/", params={"state": "pending"})
        assert "waiting0@example.org" in only.text and "reader0@example.org" not in only.text
        found = client.get("/editor/subscribers/", params={"q": "READER1"})
        assert "reader1@example.org" in found.text and "reader2@example.org" not in found.text
        token = csrf_token_of(page.text)

        # Documented consent: confirmed at once, recorded with who added it.
        r = client.post("/editor/subscribers/", data={"email": "Mep@Parliament.example", "name": "An MEP",
                                                      "language": "en", "consent_documented": "1", "csrf_token": token})
        assert r.status_code == 200 and "mep@parliament.example" in r.text  # after the redirect
        # Without it: double opt-in, a confirmation mail goes out.
        client.post("/editor/subscribers/", data={"email": "ngo@example.net", "language": "ru", "csrf_token": token})
        deadline = time.monotonic() + 5
        while not smtp.messages and time.monotonic() < deadline:
            time.sleep(0.02)
        assert [m.rcpt_tos for m in smtp.messages] == [["ngo@example.net"]]
        # Suppressed and bad addresses are refused with the reason, and the form keeps the input.
        refused = client.post("/editor/subscribers/", data={"email": "gone@example.org", "csrf_token": token})
        assert refused.status_code == 422 and "suppression list" in refused.text and 'value="gone@example.org"' in refused.text
        bad = client.post("/editor/subscribers/", data={"email": "no at sign", "csrf_token": token})
        assert bad.status_code == 422 and "is not an email address" in bad.text
        with rt.session() as s:
            mep = s.scalar(select(Subscriber).where(Subscriber.email == "mep@parliament.example"))
            assert mep.state == "confirmed" and mep.consent_source == "desk: added by ed@example.org"
            assert s.scalar(select(Subscriber.state).where(Subscriber.email == "ngo@example.net")) == "pending"
            target = s.scalar(select(Subscriber.id).where(Subscriber.email == "reader0@example.org"))
        assert client.post(f"/editor/subscribers/{target}/unsubscribe", data={}).status_code == 403
        r = client.post(f"/editor/subscribers/{target}/unsubscribe", data={"csrf_token": token})
        assert r.status_code == 200 and "suppression list" in r.text
        supp = client.get("/editor/subscribers/suppressions")
        assert "reader0@example.org" in supp.text and "gone@example.org" in supp.text
    with rt.session() as s:
        assert s.scalar(select(Subscriber.state).where(Subscriber.id == target)) == "unsubscribed"
        actions = set(s.scalars(select(AuditLog.action).where(AuditLog.entity_type == "subscriber")))
        assert actions == {"subscriber.add", "subscriber.unsubscribe"}


def test_editors_see_counts_and_admins_see_addresses(make_runtime) -> None:
    """Editors who are not admins never see a subscriber's address: counts only, no search, no paging,
    no suppression list, no export, no unsubscribe by id. Admins see all of it."""
    rt = make_runtime()
    make_user(rt, "ed@example.org")
    make_user(rt, "admin@example.org", role="admin")
    with rt.session() as s:
        add_subscribers(s, 60)
        add_subscribers(s, 2, state="pending", prefix="waiting")
        s.add(Suppression(email="gone@example.org", reason="unsubscribed"))
        target = s.scalar(select(Subscriber.id).where(Subscriber.email == "reader0@example.org"))
    with serve_app(rt) as base:
        with httpx.Client(base_url=base, follow_redirects=True) as editor:
            login(editor, base, "ed@example.org")
            for params in ({}, {"q": "reader1"}, {"state": "confirmed"}, {"page": "2"}):
                page = editor.get("/editor/subscribers/", params=params)
                assert page.status_code == 200
                assert "confirmed: 60" in page.text and "pending: 2" in page.text and "62 subscribers" in page.text
                assert "@example.org" not in page.text.replace("ed@example.org", "")  # no address but their own
            assert editor.get("/editor/subscribers/suppressions").status_code == 403
            assert editor.get("/editor/subscribers/export.csv").status_code == 403
            token = csrf_token_of(editor.get("/editor/subscribers/").text)
            assert editor.post(f"/editor/subscribers/{target}/unsubscribe", data={"csrf_token": token}).status_code == 403
            added = editor.post("/editor/subscribers/", data={"email": "new@example.net", "csrf_token": token})
            assert added.status_code == 200 and "new@example.net" not in added.text and "63 subscribers" in added.text
        with httpx.Client(base_url=base, follow_redirects=True) as admin:
            login(admin, base, "admin@example.org")
            assert "reader1@example.org" in admin.get("/editor/subscribers/", params={"q": "reader1"}).text
            assert "gone@example.org" in admin.get("/editor/subscribers/suppressions").text
    with rt.session() as s:
        assert s.scalar(select(Subscriber.state).where(Subscriber.id == target)) == "confirmed"


def test_admin_exports_csv(make_runtime) -> None:
    rt = make_runtime()
    make_user(rt, "admin@example.org", role="admin")
    with rt.session() as s:
        add_subscribers(s, 2)
    with serve_app(rt) as base, httpx.Client(base_url=base, follow_redirects=True) as client:
        login(client, base, "admin@example.org")
        r = client.get("/editor/subscribers/export.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.text.splitlines()[0].startswith("email,") and "reader1@example.org" in r.text
