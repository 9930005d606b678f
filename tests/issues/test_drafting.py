"""Drafting a period: which incidents go in, in which section and order, and idempotent re-drafts."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.issues import items as issue_items
from newsletter.issues.errors import IssueLocked, IssueNotFound, PeriodError
from newsletter.issues.service import approve_issue, draft_issue, resolve_issue
from newsletter.models import AuditLog, Issue, IssueItem


def item_titles(issue: Issue) -> list[tuple[str, str]]:
    return [(i.section.slug, i.headline) for i in sorted(issue.items, key=lambda i: i.position)]


def test_draft_collects_accepted_incidents_of_the_week_by_section(session: Session, settings: Settings, make_incident) -> None:
    a = make_incident("Blogger forcibly hospitalised", kind="psychiatric_placement", occurred_on=date(2026, 11, 17))
    b = make_incident("Journalist summoned", section="repression", occurred_on=date(2026, 11, 16))
    c = make_incident("Charity law passed", suggested_section="legislation", occurred_on=date(2026, 11, 22))
    make_incident("Last week", occurred_on=date(2026, 11, 15))
    make_incident("Next week", occurred_on=date(2026, 11, 23))
    make_incident("Not yet accepted", state="new")
    make_incident("Rejected", state="rejected", state_reason="off topic")

    issue = draft_issue(session, settings=settings, period="2026-W47", actor="cli")

    assert (issue.number, issue.period, issue.state) == (1, "2026-W47", "draft")
    assert (issue.period_start, issue.period_end) == (date(2026, 11, 16), date(2026, 11, 22))
    assert issue.title == "16–22 November 2026"
    assert sorted(item_titles(issue)) == sorted([
        ("repression", "Journalist summoned"), ("punitive-psychiatry", "Blogger forcibly hospitalised"),
        ("legislation", "Charity law passed"),
    ])
    assert {a.state, b.state, c.state} == {"scheduled"}
    audits = session.scalars(select(AuditLog.action).where(AuditLog.entity_type == "incident")).all()
    assert audits.count("incident.scheduled") == 3


def test_unknown_date_falls_back_to_arrival_in_the_organisation_time_zone(session: Session, settings: Settings,
                                                                          make_incident) -> None:
    settings.timezone = "Asia/Tokyo"
    # Sunday 16:00 UTC is Monday 01:00 in Tokyo: it belongs to the next week there.
    make_incident("Arrived late Sunday UTC", occurred_on=None, created_at=datetime(2026, 11, 22, 16, 0, tzinfo=timezone.utc))
    make_incident("Arrived Sunday morning", occurred_on=None, created_at=datetime(2026, 11, 22, 2, 0, tzinfo=timezone.utc))
    w47 = draft_issue(session, settings=settings, period="2026-W47", actor="cli")
    w48 = draft_issue(session, settings=settings, period="2026-W48", actor="cli")
    assert [i.headline for i in w47.items] == ["Arrived Sunday morning"]
    assert [i.headline for i in w48.items] == ["Arrived late Sunday UTC"]
    assert (w47.number, w48.number) == (1, 2)


def test_redrafting_adds_new_incidents_and_never_duplicates(session: Session, settings: Settings, make_incident) -> None:
    make_incident("First")
    issue = draft_issue(session, settings=settings, period="2026-W47", actor="cli")
    again = draft_issue(session, settings=settings, period="2026-W47", actor="cli")
    assert again.id == issue.id and len(again.items) == 1
    make_incident("Accepted later")
    again = draft_issue(session, settings=settings, period="2026-W47", actor="cli")
    assert [i.headline for i in again.items] == ["First", "Accepted later"]
    assert session.scalar(select(IssueItem.id).where(IssueItem.issue_id != issue.id)) is None
    assert len(session.scalars(select(Issue)).all()) == 1


def test_removed_items_stay_out_of_a_redraft_and_their_incident_is_accepted_again(session: Session, settings: Settings,
                                                                                 make_incident) -> None:
    keep, drop = make_incident("Keep"), make_incident("Drop")
    issue = draft_issue(session, settings=settings, period="2026-W47", actor="cli")
    item = next(i for i in issue.items if i.incident_id == drop.id)
    issue_items.remove_item(session, issue, item, actor="cli")
    assert drop.state == "accepted" and keep.state == "scheduled"
    draft_issue(session, settings=settings, period="2026-W47", actor="cli")
    assert [i.headline for i in issue.items] == ["Keep"]
    # The editor can still put it back by hand.
    issue_items.add_incident(session, issue, drop, actor="cli")
    assert {i.headline for i in issue.items} == {"Keep", "Drop"} and drop.state == "scheduled"


def test_biweekly_drafts_cover_fourteen_days(session: Session, settings: Settings, make_incident) -> None:
    settings.period = "biweekly"
    make_incident("Week one", occurred_on=date(2026, 11, 16))
    make_incident("Week two", occurred_on=date(2026, 11, 29))
    make_incident("After", occurred_on=date(2026, 11, 30))
    issue = draft_issue(session, settings=settings, period="2026-W48", actor="cli")
    assert (issue.period, issue.period_start, issue.period_end) == ("2026-W47", date(2026, 11, 16), date(2026, 11, 29))
    assert sorted(i.headline for i in issue.items) == ["Week one", "Week two"]


def test_week_53_issue(session: Session, settings: Settings, make_incident) -> None:
    make_incident("New year's eve", occurred_on=date(2026, 12, 31))
    make_incident("Second of January", occurred_on=date(2027, 1, 2))
    issue = draft_issue(session, settings=settings, period="2026-W53", actor="cli")
    assert issue.title == "28 December 2026 – 3 January 2027"
    assert len(issue.items) == 2
    assert resolve_issue(session, "2026-W53").id == issue.id


def test_redrafting_an_approved_issue_is_refused(session: Session, settings: Settings, make_incident, make_editor) -> None:
    make_incident("One")
    issue = draft_issue(session, settings=settings, period="2026-W47", actor="cli")
    approve_issue(session, issue, user=make_editor("ed@example.org"), settings=settings)
    with pytest.raises(IssueLocked, match="is approved; reopen it"):
        draft_issue(session, settings=settings, period="2026-W47", actor="cli")


def test_bad_period_is_a_clear_error(session: Session, settings: Settings) -> None:
    with pytest.raises(PeriodError, match="not an ISO week"):
        draft_issue(session, settings=settings, period="November", actor="cli")
    assert session.scalar(select(Issue.id)) is None


def test_resolve_issue_by_number_period_or_latest(session: Session, settings: Settings, make_incident) -> None:
    first = draft_issue(session, settings=settings, period="2026-W46", actor="cli")
    second = draft_issue(session, settings=settings, period="2026-W47", actor="cli")
    assert resolve_issue(session, "1").id == first.id
    assert resolve_issue(session, 2).id == second.id
    assert resolve_issue(session, "latest").id == second.id
    assert resolve_issue(session, "2026-w47").id == second.id
    for ref, message in (("9", "no issue for '9'"), ("2026-W30", "no issue for"), ("soon", "not an issue reference")):
        with pytest.raises(IssueNotFound, match=message):
            resolve_issue(session, ref)


def test_items_can_be_edited_moved_and_reordered(session: Session, settings: Settings, make_incident) -> None:
    for title in ("A", "B", "C"):
        make_incident(title, section="persecution")
    issue = draft_issue(session, settings=settings, period="2026-W47", actor="cli")
    a, b, c = sorted(issue.items, key=lambda i: i.position)
    issue_items.reorder_item(session, issue, c, "up", actor="cli")
    assert [i.headline for i in sorted(issue.items, key=lambda i: i.position)] == ["A", "C", "B"]
    issue_items.reorder_item(session, issue, a, "up", actor="cli")  # already first: nothing happens
    issue_items.move_item(session, issue, a, "international", actor="cli")
    assert a.section.slug == "international"
    issue_items.update_item(session, issue, b, headline="  B, edited ", text="Two sentences.\r\nThree.", actor="cli")
    assert (b.headline, b.text) == ("B, edited", "Two sentences.\nThree.")
    assert b.incident.title == "B"  # the incident itself is untouched
    with pytest.raises(Exception, match="headline cannot be empty"):
        issue_items.update_item(session, issue, b, headline="  ", text="x", actor="cli")
    with pytest.raises(Exception, match="no section 'nowhere'"):
        issue_items.move_item(session, issue, b, "nowhere", actor="cli")
    actions = session.scalars(select(AuditLog.action).where(AuditLog.entity_type == "issue")).all()
    assert {"issue.item_reordered", "issue.item_moved", "issue.item_edited"} <= set(actions)


def test_item_text_starts_from_the_summary_or_the_bodys_first_paragraph(session: Session, settings: Settings,
                                                                        make_incident) -> None:
    make_incident("With summary", summary="Editor's two sentences. Really.", body="<p>Ignored body.</p>")
    make_incident("Body only", body="<p>First &amp; <b>bold</b> paragraph<br>continues.</p><p>Second paragraph.</p>"
                                    "<script>alert(1)</script>")
    make_incident("Long body", body="<p>" + "A sentence that goes on. " * 60 + "</p>")
    issue = draft_issue(session, settings=settings, period="2026-W47", actor="cli")
    texts = {i.headline: i.text for i in issue.items}
    assert texts["With summary"] == "Editor's two sentences. Really."
    assert texts["Body only"] == "First & bold paragraph continues."
    assert len(texts["Long body"]) <= 600 and texts["Long body"].endswith("goes on.")


def test_two_concurrent_drafts_of_a_period_make_one_issue(runtime, settings: Settings, session: Session,
                                                          make_incident) -> None:
    import threading
    import time

    make_incident("One")
    make_incident("Two")
    first_flushed = threading.Event()
    results: dict[str, object] = {}

    def draft_in(name: str, hold: float) -> None:
        try:
            with runtime.session() as s:
                issue = draft_issue(s, settings=settings, period="2026-W47", actor=name)
                first_flushed.set()
                time.sleep(hold)
                results[name] = (issue.number, len(issue.items))
        except Exception as exc:  # noqa: BLE001 - the assertion below reports it
            results[name] = exc

    a = threading.Thread(target=draft_in, args=("a", 0.5))
    a.start()
    assert first_flushed.wait(10)
    b = threading.Thread(target=draft_in, args=("b", 0))
    b.start()
    a.join(30)
    b.join(30)
    assert results["a"] == (1, 2)
    assert results["b"] == (1, 2), results["b"]
    assert len(session.scalars(select(Issue)).all()) == 1
    assert len(session.scalars(select(IssueItem)).all()) == 2


def test_two_concurrent_redrafts_add_each_incident_once(runtime, settings: Settings, session: Session,
                                                        make_incident) -> None:
    import threading
    import time

    make_incident("Existing")
    with runtime.session() as s:
        draft_issue(s, settings=settings, period="2026-W47", actor="cli")
    make_incident("New one")
    make_incident("New two")
    first_done = threading.Event()
    errors: list[Exception] = []

    def redraft(hold: float) -> None:
        try:
            with runtime.session() as s:
                draft_issue(s, settings=settings, period="2026-W47", actor="cli")
                first_done.set()
                time.sleep(hold)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    a = threading.Thread(target=redraft, args=(0.5,))
    a.start()
    assert first_done.wait(10)
    b = threading.Thread(target=redraft, args=(0,))
    b.start()
    a.join(30)
    b.join(30)
    assert errors == []
    headlines = sorted(session.scalars(select(IssueItem.headline)).all())
    assert headlines == ["Existing", "New one", "New two"]
