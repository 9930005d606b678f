"""`newsletter issues` shows times in the organisation's zone (as the desk takes them), with the zone named."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from newsletter.models import Issue


def test_issues_lists_scheduled_and_published_times_in_the_desk_zone(make_runtime, cli: Any) -> None:
    rt = make_runtime(timezone="Europe/Berlin")
    with rt.session() as s:
        s.add(Issue(number=1, period="2026-W47", period_start=date(2026, 11, 16), period_end=date(2026, 11, 22),
                    state="scheduled", scheduled_for=datetime(2026, 11, 23, 8, 0, tzinfo=UTC)))
        s.add(Issue(number=2, period="2026-W48", period_start=date(2026, 11, 23), period_end=date(2026, 11, 29),
                    state="sent", published_at=datetime(2026, 11, 30, 23, 30, tzinfo=UTC)))
    out = cli("issues").output
    assert "scheduled 2026-11-23 09:00 CET" in out
    assert "published 2026-12-01 00:30 CET" in out  # the local date, not UTC's


def test_the_desk_shows_the_same_times_in_the_same_zone(make_runtime) -> None:
    """The desk takes schedule times in the organisation's zone; its issue list and issue page show
    them in that zone too, with the zone named, never as bare UTC."""
    import httpx

    from tests.editorial.helpers import login, make_user
    from tests.support.servers import serve_app

    rt = make_runtime(timezone="Europe/Berlin")
    with rt.session() as s:
        scheduled = Issue(number=1, period="2026-W47", period_start=date(2026, 11, 16), period_end=date(2026, 11, 22),
                          state="scheduled", scheduled_for=datetime(2026, 11, 23, 8, 0, tzinfo=UTC))
        s.add(scheduled)
        s.add(Issue(number=2, period="2026-W48", period_start=date(2026, 11, 23), period_end=date(2026, 11, 29),
                    state="sent", published_at=datetime(2026, 11, 30, 23, 30, tzinfo=UTC)))
        s.flush()
        issue_id = scheduled.id
    make_user(rt, "ed@example.org")
    with serve_app(rt) as base, httpx.Client(base_url=base, timeout=10) as client:
        login(client, base, "ed@example.org")
        listing = client.get("/editor/issues/").text
        page = client.get(f"/editor/issues/{issue_id}").text
    assert "scheduled 2026-11-23 09:00 CET" in listing and "2026-12-01 00:30 CET" in listing
    assert "send scheduled for 2026-11-23 09:00 CET" in page
    assert " UTC" not in listing
