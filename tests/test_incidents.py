"""The one way to create an incident (newsletter.incidents): what every intake path gets from it,
and that no intake path goes around it."""

from __future__ import annotations

import re
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from newsletter.editorial.search import TriageFilters, build_query
from newsletter.incidents import NewIncident, NewLink, add_links, channel_source, create_incidents
from newsletter.models import Incident, IncidentSource, Person, Source
from newsletter.runtime import Runtime

ROOT = Path(__file__).resolve().parent.parent


def test_a_batch_gets_ids_in_order_with_links_persons_and_the_full_text_index(runtime: Runtime) -> None:
    now = datetime(2026, 11, 18, 10, 0, tzinfo=timezone.utc)
    with runtime.session() as s:
        person = s.execute(insert(Person.__table__).returning(Person.__table__.c.id),
                           {"name": "Aset Matayev", "consent": "name"}).scalar_one()
        feed = Source(kind="feed", name="Outlet", url="https://outlet.example/feed.xml", enabled=True)
        s.add(feed)
        s.flush()
        feed_id = feed.id
        ids = create_incidents(s, [
            NewIncident("feed", {"title": f"Blogger {n} detained in Almaty", "body": f"<p>Report {n} on zhanaozen</p>"},
                        links=[NewLink("feed", url=f"https://outlet.example/news/{n}?utm_source=x", source_id=feed.id,
                                       guid=f"g{n}")],
                        person_ids=[person] if n == 1 else [])
            for n in range(3)
        ], now=now)
    assert len(ids) == 3 and ids == sorted(ids)
    with runtime.session() as s:
        incidents = [s.get(Incident, i) for i in ids]
        assert [i.title for i in incidents] == [f"Blogger {n} detained in Almaty" for n in range(3)]
        assert {i.origin for i in incidents} == {"feed"} and {i.state for i in incidents} == {"new"}
        assert incidents[0].created_at.replace(tzinfo=timezone.utc) == now
        link = incidents[2].sources[0]
        assert (link.origin, link.guid, link.source_id) == ("feed", "g2", feed_id)
        assert link.canonical_url == "https://outlet.example/news/2"  # the same-link dedupe key, tracking removed
        assert [p.name for p in incidents[1].persons] == ["Aset Matayev"] and incidents[0].persons == []
        found = s.scalars(build_query(s, TriageFilters(state=None, q="zhanaozen"))).all()
        assert sorted(i.id for i in found) == ids


def test_one_incident_and_links_added_later_keep_their_origins(runtime: Runtime) -> None:
    with runtime.session() as s:
        [iid] = create_incidents(s, [NewIncident("volunteer", {"title": "Search at an activist's flat",
                                                               "occurred_on": date(2026, 11, 17)},
                                                 links=[NewLink("volunteer", url="https://t.me/someone/12")])])
        add_links(s, [(iid, NewLink("editor", url="https://news.example/a", title="News"))])
    with runtime.session() as s:
        links = s.scalars(select(IncidentSource).where(IncidentSource.incident_id == iid).order_by(IncidentSource.id)).all()
        assert [(x.origin, x.url) for x in links] == [("volunteer", "https://t.me/someone/12"),
                                                       ("editor", "https://news.example/a")]


@pytest.mark.parametrize("new, message", [
    (NewIncident("partner", {"title": "x"}), "incident origin 'partner'"),
    (NewIncident("import", {"title": "x", "state": "duplicate"}), "state 'duplicate'"),
    (NewIncident("import", {"title": ""}), "needs a title"),
    (NewIncident("import", {"title": "x"}, links=[NewLink("partner", url="https://a.example/")]), "link origin 'partner'"),
])
def test_what_the_model_does_not_allow_is_refused_and_nothing_is_stored(runtime: Runtime, new: NewIncident,
                                                                         message: str) -> None:
    with pytest.raises(ValueError, match=message), runtime.session() as s:
        create_incidents(s, [new])
    with runtime.session() as s:
        assert s.scalar(select(Incident.id)) is None


def test_a_channel_source_is_created_once_and_remembered(runtime: Runtime) -> None:
    with runtime.session() as s:
        first = channel_source(s, "volunteer", "Volunteer form")
    with runtime.session() as s:
        assert channel_source(s, "volunteer", "Volunteer form") == first
        assert s.scalars(select(Source.id).where(Source.name == "Volunteer form")).all() == [first]


def test_no_intake_path_creates_incidents_on_its_own() -> None:
    """The collector, the volunteer form and API, the import and the demo all go through create_incidents."""
    offenders = []
    for path in (ROOT / "newsletter").rglob("*.py"):
        if path.name in ("incidents.py", "models.py"):
            continue
        source = path.read_text(encoding="utf-8")
        if re.search(r"\bIncident\(|insert\(\s*(Incident\b|incidents\b)|INSERT INTO incidents\b", source):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
