"""Dashboard: waiting per source and per day, the weekly SVG chart, sources in error."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from newsletter.editorial import dashboard
from newsletter.runtime import Runtime
from tests.editorial import factories as fx


def test_dashboard_figures(session: Session) -> None:
    feed = fx.source(session, "Vlast")
    now = datetime.now(timezone.utc)
    for _ in range(3):
        fx.incident(session, "feed item", src=feed, created_at=now)
    fx.incident(session, "volunteer", origin="volunteer", created_at=now - timedelta(days=1))
    fx.incident(session, "done", src=feed, state="accepted", created_at=now)
    assert dashboard.waiting_by_source(session) == [("Vlast", 3), ("channel: volunteer", 1)]
    assert dashboard.waiting_by_day(session) == [(now.date(), 3), (now.date() - timedelta(days=1), 1)]
    assert dashboard.waiting_total(session) == 4


def test_weekly_chart_counts_by_section(session: Session) -> None:
    today = date(2026, 11, 20)  # Friday of ISO week 47
    fx.incident(session, "a", occurred_on=date(2026, 11, 16), sections=["persecution"])
    fx.incident(session, "b", occurred_on=date(2026, 11, 17), sections=["persecution", "international"])
    fx.incident(session, "c", occurred_on=date(2026, 11, 10), sections=["international"])
    fx.incident(session, "too old", occurred_on=date(2026, 8, 1), sections=["persecution"])
    fx.incident(session, "rejected", occurred_on=date(2026, 11, 16), sections=["persecution"], state="rejected")
    chart = dashboard.weekly_by_section(session, today=today)
    assert chart.weeks[-1] == date(2026, 11, 16) and len(chart.weeks) == 12
    assert chart.series["Intensified political persecution"][-1] == 2
    assert chart.series["International corner"][-2:] == [1, 1]
    svg = dashboard.chart_svg(chart)
    assert svg.startswith("<svg") and "<script" not in svg and "http://" not in svg.replace("http://www.w3.org/2000/svg", "")
    assert "week of 2026-11-16: 2" in svg


def test_dashboard_page(editor_client: TestClient, session: Session) -> None:
    broken = fx.source(session, "Broken feed", error_count=4, last_error="HTTP 503")
    fx.incident(session, "waiting", src=broken)
    page = editor_client.get("/editor/")
    assert page.status_code == 200
    assert "Triage: 1 waiting" in page.text and "Broken feed" in page.text and "HTTP 503" in page.text
    assert "<svg" in page.text and 'role="img"' in page.text


def test_a_volunteer_report_is_counted_once_even_when_a_feed_reports_its_link(session: Session, runtime: Runtime) -> None:
    """A report through the form that a feed later carries too is one waiting incident, under its channel."""
    from newsletter.incidents import NewIncident, NewLink, channel_source, create_incidents
    from newsletter.models import IncidentSource

    with runtime.session() as s:  # the intake runs in a transaction (channel_source uses a savepoint)
        form = channel_source(s, "volunteer", "Volunteer form")
    feed = fx.source(session, "Vlast")
    [iid] = create_incidents(session, [NewIncident("volunteer", {"title": "Activist detained", "state": "new"},
                                                   links=[NewLink("volunteer", source_id=form, title="Volunteer form"),
                                                          NewLink("volunteer", url="https://vlast.example.org/1",
                                                                  source_id=form)])])
    session.add(IncidentSource(incident_id=iid, source_id=feed.id, url="https://vlast.example.org/1#feed",
                               canonical_url="https://vlast.example.org/1#feed", title="t", origin="feed"))
    fx.incident(session, "feed item", src=feed)
    session.flush()
    by_source = dashboard.waiting_by_source(session)
    assert sorted(by_source) == [("Vlast", 1), ("Volunteer form", 1)]
    assert sum(n for _name, n in by_source) == dashboard.waiting_total(session) == 2
