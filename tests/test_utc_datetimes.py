"""Datetimes are stored as UTC and read back aware, on both backends, however often one value is bound."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from newsletter.incidents import NewIncident, NewLink, create_incidents
from newsletter.models import Incident, IncidentSource
from newsletter.runtime import Runtime


def test_a_batch_binding_one_now_many_times_and_other_values_between_stores_each_right(runtime: Runtime) -> None:
    """The bind conversion remembers the last value (a batch binds one `now` thousands of times): a
    different value, an equal one in another zone and the remembered one again each come back right."""
    now = datetime(2026, 11, 18, 10, 0, tzinfo=timezone.utc)
    almaty = timezone(timedelta(hours=5))
    published = [now - timedelta(hours=n) for n in range(3)] + [datetime(2026, 11, 18, 15, 0, tzinfo=almaty), None]
    with runtime.session() as s:
        ids = create_incidents(s, [
            NewIncident("feed", {"title": f"Entry {n}"}, links=[NewLink("feed", url=f"https://outlet.example/{n}",
                                                                        published_at=when)])
            for n, when in enumerate(published)
        ], now=now)
    with runtime.session() as s:
        rows = {i.id: i for i in s.scalars(select(Incident).where(Incident.id.in_(ids)))}
        links = {link.incident_id: link for link in s.scalars(select(IncidentSource).where(IncidentSource.incident_id.in_(ids)))}
    for iid, when in zip(ids, published):
        assert rows[iid].created_at == now and rows[iid].updated_at == now
        assert rows[iid].created_at.tzinfo is not None and links[iid].created_at == now
        assert links[iid].published_at == when
    assert links[ids[3]].published_at == now  # 15:00 in Almaty is 10:00 UTC


def test_a_naive_datetime_is_refused_even_right_after_the_same_wall_time_was_bound(runtime: Runtime) -> None:
    now = datetime(2026, 11, 18, 10, 0, tzinfo=timezone.utc)
    with runtime.session() as s:
        create_incidents(s, [NewIncident("feed", {"title": "First"})], now=now)
        with pytest.raises(Exception, match="naive datetime"):
            create_incidents(s, [NewIncident("feed", {"title": "Second"})], now=now.replace(tzinfo=None))
