"""Deduplication within a feed (GUID, link, content hash), across feeds (canonical URL), and near-duplicates."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from newsletter.collect.dedupe import NearDuplicateIndex, significant_words
from newsletter.collect.outcome import CollectReport
from newsletter.models import DuplicateCandidate, Incident, IncidentSource
from tests.collect.conftest import SourcesWriter
from tests.collect.feedserver import FeedServer, Reply, rss


def _count(session: Session, model: type) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_same_canonical_url_in_two_feeds_is_one_incident_with_two_sources(
    server: FeedServer, write_sources: SourcesWriter, collect: Callable[..., CollectReport], session: Session
) -> None:
    server.routes["/a.xml"] = Reply(body=rss([{"title": "Blogger detained in Shymkent", "guid": "a1",
                                               "link": "https://news.example/story?utm_source=rss&amp;id=5"}]))
    server.routes["/b.xml"] = Reply(body=rss([{"title": "Shymkent: blogger held by police", "guid": "b1",
                                               "link": "https://NEWS.example:443/story?id=5#comments"}]))
    write_sources([{"name": "a", "url": server.url("/a.xml")}, {"name": "b", "url": server.url("/b.xml")}])
    report = collect()
    assert report.new_incidents == 1 and report.same_link == 1
    incident = session.scalars(select(Incident)).one()
    assert {s.source.name for s in incident.sources if s.source} == {"a", "b"}
    assert {s.canonical_url for s in incident.sources} == {"https://news.example/story?id=5"}


def test_missing_guids_and_links_fall_back_to_content_hash(
    server: FeedServer, write_sources: SourcesWriter, collect: Callable[..., CollectReport], session: Session
) -> None:
    items = [{"title": f"Fine for a solitary picket number {i}", "description": f"Picket {i}."} for i in range(3)]
    server.routes["/bare.xml"] = Reply(body=rss(items + [items[0]]))  # the same entry twice, no GUID, no link
    write_sources([{"name": "bare", "url": server.url("/bare.xml")}])
    first = collect()
    assert first.new_incidents == 3 and first.seen == 1
    assert collect().new_incidents == 0
    assert _count(session, Incident) == 3


def test_links_shared_by_different_entries_are_not_trusted(
    server: FeedServer, write_sources: SourcesWriter, collect: Callable[..., CollectReport], session: Session
) -> None:
    """A feed whose every entry links to its home page still yields one incident per entry."""
    items = [{"title": f"Trial of activist {i} postponed", "link": "https://outlet.example/", "description": f"Trial {i}."} for i in range(4)]
    server.routes["/home.xml"] = Reply(body=rss(items))
    write_sources([{"name": "home", "url": server.url("/home.xml")}])
    assert collect().new_incidents == 4
    assert collect().new_incidents == 0


def test_edited_entry_updates_an_untouched_incident(
    server: FeedServer, write_sources: SourcesWriter, collect: Callable[..., CollectReport], session: Session
) -> None:
    server.routes["/e.xml"] = Reply(body=rss([{"title": "Activist detained", "link": "https://e.example/1", "guid": "e1",
                                               "description": "First version."}]))
    write_sources([{"name": "e", "url": server.url("/e.xml")}])
    collect()
    server.routes["/e.xml"] = Reply(body=rss([{"title": "Activist detained for 10 days", "link": "https://e.example/1",
                                               "guid": "e1", "description": "Corrected version."}]))
    report = collect()
    assert report.new_incidents == 0 and report.updated == 1
    session.expire_all()
    incident = session.scalars(select(Incident)).one()
    assert incident.title == "Activist detained for 10 days" and "Corrected" in incident.body


def test_near_duplicates_become_candidates_never_merges(
    server: FeedServer, write_sources: SourcesWriter, collect: Callable[..., CollectReport], session: Session
) -> None:
    server.routes["/x.xml"] = Reply(body=rss([
        {"title": "Activist Nurgul Kaluova detained in Almaty ahead of elections", "link": "https://x.example/1", "guid": "x1"},
        {"title": "Parliament adopts law on peaceful assemblies", "link": "https://x.example/2", "guid": "x2"},
    ]))
    server.routes["/y.xml"] = Reply(body=rss([
        {"title": "Almaty police detain activist Nurgul Kaluova", "link": "https://y.example/9", "guid": "y9"},
        {"title": "Weather: snow expected in Astana", "link": "https://y.example/10", "guid": "y10"},
    ]))
    write_sources([{"name": "x", "url": server.url("/x.xml")}, {"name": "y", "url": server.url("/y.xml")}])
    report = collect()
    assert report.new_incidents == 4 and report.near_duplicates == 1
    pair = session.scalars(select(DuplicateCandidate)).one()
    titles = {pair.incident.title, pair.other.title}
    assert all("Kaluova" in t for t in titles) and pair.state == "open" and pair.score >= 60
    assert all(i.state == "new" and i.merged_into_id is None for i in session.scalars(select(Incident)))


def test_near_duplicates_are_found_against_earlier_incidents_of_any_origin(
    server: FeedServer, write_sources: SourcesWriter, collect: Callable[..., CollectReport], session: Session
) -> None:
    volunteer = Incident(title="Searches at the homes of Shymkent activists Asanali and Temirlan", origin="volunteer")
    session.add(volunteer)
    session.commit()
    server.routes["/z.xml"] = Reply(body=rss([{"title": "Police search homes of activists Asanali and Temirlan in Shymkent",
                                               "link": "https://z.example/1", "guid": "z1"}]))
    write_sources([{"name": "z", "url": server.url("/z.xml")}])
    assert collect().near_duplicates == 1
    assert session.scalars(select(DuplicateCandidate)).one().other_id == volunteer.id


def test_near_index_ignores_unrelated_titles() -> None:
    index = NearDuplicateIndex()
    index.add(1, "Court sentences journalist Ivanov to five years under Article 174")
    assert index.match("Football results from Almaty") == []
    assert index.match("Journalist Ivanov sentenced to five years, Article 174")[0][0] == 1


def test_same_event_in_other_words_is_found_through_the_lede() -> None:
    index = NearDuplicateIndex()
    a_title = "Court sends trade unionist Marat Seitkali to two months of pre-trial detention"
    a_text = ("The Zhanakent city court ordered two months of pre-trial detention for Marat Seitkali, a leader of the "
              "independent oil workers' union. He is charged with organising an unauthorised strike.")
    index.add(1, a_title, significant_words(a_title, a_text))
    b_title = "Union leader Seitkali remanded in custody for two months"
    b_text = ("Marat Seitkali, who leads the independent oil workers' union, was remanded in custody for two months by "
              "a Zhanakent court on charges of organising an unauthorised strike.")
    assert index.match(b_title, significant_words(b_title, b_text))[0][0] == 1
    other_title = "Murat Seitkali's relatives summoned by police"
    other_text = "Police in Almaty summoned the brother and the wife of the activist for questioning about a Facebook post."
    assert index.match(other_title, significant_words(other_title, other_text)) == []


def test_publisher_edit_never_overwrites_an_editor_edit(
    server: FeedServer, write_sources: SourcesWriter, collect: Callable[..., CollectReport], session: Session
) -> None:
    server.routes["/e.xml"] = Reply(body=rss([{"title": "Activist detained", "link": "https://e.example/1", "guid": "e1",
                                               "description": "First version."}]))
    write_sources([{"name": "e", "url": server.url("/e.xml")}])
    collect()
    incident = session.scalars(select(Incident)).one()
    assert incident.summary == "First version."
    incident.title = "Editor's headline"
    session.commit()
    server.routes["/e.xml"] = Reply(body=rss([{"title": "Activist detained (updated)", "link": "https://e.example/1",
                                               "guid": "e1", "description": "Second version."}]))
    assert collect().updated == 0
    session.expire_all()
    assert session.scalars(select(Incident)).one().title == "Editor's headline"


def _refuse_links_to(session: Session, marker: str) -> None:
    """A database rule refusing one feed's links, standing for any database error one feed's entries cause."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"""CREATE FUNCTION refuse_marked() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN IF NEW.url LIKE '%{marker}%' THEN RAISE EXCEPTION 'refused link'; END IF; RETURN NEW; END $$"""))
        session.execute(text("CREATE TRIGGER refuse_marked BEFORE INSERT ON incident_sources "
                             "FOR EACH ROW EXECUTE FUNCTION refuse_marked()"))
    else:
        session.execute(text(f"CREATE TRIGGER refuse_marked BEFORE INSERT ON incident_sources "
                             f"WHEN new.url LIKE '%{marker}%' BEGIN SELECT RAISE(ABORT, 'refused link'); END"))
    session.commit()


def test_a_feed_the_database_refuses_fails_alone_and_the_rest_of_its_batch_is_stored(
    server: FeedServer, write_sources: SourcesWriter, collect: Callable[..., CollectReport], session: Session
) -> None:
    """Feeds are stored a batch at a time in one savepoint; a feed that fails there sends the batch back
    feed by feed, so that only the failing feed is lost (and near-duplicates are still proposed)."""
    feeds = []
    for i in range(6):
        items = [{"title": f"Zx{i}{j}qq", "guid": f"{i}-{j}",
                  "link": f"https://o{i}.example/{'refused' if i == 3 else 'news'}/{j}"} for j in range(3)]
        if i in (1, 4):  # one event told by two outlets in other words
            items.append({"title": f"Journalist Aigerim Sultanova detained in Taraz after a picket ({i})",
                          "guid": f"{i}-story", "link": f"https://o{i}.example/story",
                          "description": "Police detained journalist Aigerim Sultanova in Taraz on Monday."})
        server.routes[f"/f{i}.xml"] = Reply(body=rss(items))
        feeds.append({"name": f"outlet {i}", "url": server.url(f"/f{i}.xml")})
    write_sources(feeds)
    _refuse_links_to(session, "/refused/")
    report = collect()
    assert [o.name for o in report.outcomes if o.status == "failed"] == ["outlet 3"]
    failed = next(o for o in report.outcomes if o.status == "failed")
    assert failed.error is not None and failed.error.startswith("could not store entries")
    assert report.fetched == 5 and report.new_incidents == 5 * 3 + 2 and report.near_duplicates == 1
    assert _count(session, Incident) == 17 and _count(session, IncidentSource) == 17
    assert _count(session, DuplicateCandidate) == 1
    # the next run stores nothing twice; the refused feed is still refused
    again = collect()
    assert again.new_incidents == 0 and [o.name for o in again.outcomes if o.status == "failed"] == ["outlet 3"]
    assert _count(session, Incident) == 17


def test_a_relevant_report_of_a_link_judged_irrelevant_elsewhere_makes_its_incident_relevant(
    server: FeedServer, write_sources: SourcesWriter, collect: Callable[..., CollectReport], session: Session
) -> None:
    story = {"title": "Teacher fined for a post", "link": "https://shared.example/story/7", "description": "A fine."}
    server.routes["/sport.xml"] = Reply(body=rss([{**story, "guid": "s1"}]))
    server.routes["/rights.xml"] = Reply(body=rss([{**story, "guid": "r1", "title": "Teacher fined: Article 174"}]))
    sport = {"name": "sport", "url": server.url("/sport.xml"), "keywords": ["football"]}
    write_sources([sport])
    assert collect().irrelevant == 1
    write_sources([sport, {"name": "rights", "url": server.url("/rights.xml"), "keywords": ["Article 174"]}])
    report = collect()
    assert report.same_link == 1 and report.new_incidents == 0
    session.expire_all()
    incident = session.scalars(select(Incident)).one()
    assert incident.relevant and incident.matched_keywords == ["Article 174"] and len(incident.sources) == 2


def test_a_feeds_known_entries_are_found_through_indexes_whatever_its_history(session: Session) -> None:
    """Each part of the known-entries lookup reads only the rows asked for: none walks every link
    a feed ever brought (which grew with every run: 16 ms a fetch at 20,000 links)."""
    from newsletter.collect import processor

    if session.get_bind().dialect.name != "sqlite":
        return  # the plan below is SQLite's; PostgreSQL plans with its statistics
    bound = processor._IN_FEED.params(source_id=1, guids=["g"], links=["https://l.example/"], hashes=["h"])
    sql = str(bound.compile(session.get_bind(), compile_kwargs={"literal_binds": True}))
    plan = [row[-1] for row in session.execute(text("EXPLAIN QUERY PLAN " + sql))]
    searches = [step for step in plan if "incident_sources" in step]
    assert len(searches) == 3, plan
    assert all("SCAN" not in step and "=?)" in step and "(source_id=?)" not in step for step in searches), (sql, plan)


def test_an_entry_is_known_in_its_own_feed_by_guid_link_or_hash_and_never_through_another_feeds_link(
    server: FeedServer, write_sources: SourcesWriter, collect: Callable[..., CollectReport], session: Session
) -> None:
    story = {"title": "Journalist fined in Taraz", "guid": "t1", "link": "https://shared.example/taraz"}
    server.routes["/a.xml"] = Reply(body=rss([story]))
    server.routes["/b.xml"] = Reply(body=rss([{**story, "guid": "other"}]))
    write_sources([{"name": "a", "url": server.url("/a.xml")}, {"name": "b", "url": server.url("/b.xml")}])
    first = collect()
    assert first.new_incidents == 1 and first.same_link == 1  # b's entry is a second source, not "seen"
    server.routes["/a.xml"] = Reply(body=rss([
        {**story, "guid": "t1", "link": "https://outlet-a.example/moved"},  # known by guid
        {"title": "Other title", "guid": "new-guid", "link": "https://shared.example/taraz"},  # by link
        {"title": story["title"], "guid": "guid-changed", "link": "https://outlet-a.example/again"},  # by hash
    ]))
    second = collect()
    assert second.new_incidents == 0 and second.seen >= 3
    assert _count(session, IncidentSource) == 2
