"""The migrations produce exactly the models' schema, and models round-trip, on the selected backend."""

from __future__ import annotations

from datetime import date, datetime, timezone

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from newsletter.db import Base, include_object
from newsletter.models import (
    AuditLog, CaseStatus, Delivery, Incident, IncidentSource, Issue, IssueItem, Person, Section,
    Source, Subscriber, User,
)
from newsletter.runtime import Runtime


def test_migrations_match_models(runtime: Runtime) -> None:
    with runtime.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": include_object})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == [], f"migrations and models differ: {diff}"


def test_every_model_table_exists(runtime: Runtime) -> None:
    tables = set(inspect(runtime.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables


def test_sections_are_seeded_from_the_seed_newsletter(session: Session) -> None:
    slugs = session.scalars(select(Section.slug).order_by(Section.position)).all()
    assert slugs == ["repression", "persecution", "punitive-psychiatry", "solidarity", "legislation", "international"]


def test_models_round_trip(runtime: Runtime) -> None:
    when = datetime(2026, 11, 20, 9, 30, tzinfo=timezone.utc)
    with runtime.session() as s:
        section = s.scalar(select(Section).where(Section.slug == "punitive-psychiatry"))
        source = Source(name="Test feed", url="https://example.org/feed.xml", keywords=["Article 174"], poll_interval=1800)
        person = Person(name="Aigul Utepova", alias="A. U.", city="Nur-Sultan", role="journalist", consent="alias")
        person.statuses.append(CaseStatus(status="forced_psychiatric_placement", occurred_on=date(2020, 11, 23)))
        person.statuses.append(CaseStatus(status="released", occurred_on=date(2020, 12, 11)))
        incident = Incident(
            title="Blogger released from a mental health centre", summary="Released after re-examination.",
            occurred_on=date(2020, 12, 11), city="Nur-Sultan", origin="feed", publication="anonymised",
            matched_keywords=["psychiatric"], sections=[section], persons=[person],
        )
        incident.sources.append(IncidentSource(source=source, origin="feed", url="https://example.org/a", canonical_url="https://example.org/a",
                                               published_at=when))
        issue = Issue(number=1, period="2026-W47", period_start=date(2026, 11, 16), period_end=date(2026, 11, 22))
        issue.items.append(IssueItem(incident=incident, section=section, headline="Released", position=1))
        sub = Subscriber(email="reader@example.org", token="t" * 32, state="confirmed")
        user = User(email="editor@example.org", password_hash="x", role="editor")
        s.add_all([incident, issue, sub, user])
        s.flush()
        s.add(Delivery(issue_id=issue.id, subscriber_id=sub.id))
        s.add(AuditLog(actor="test", action="incident.create", entity_type="incident", entity_id=incident.id,
                       changes={"state": {"from": None, "to": "new"}}))
        incident_id = incident.id

    with runtime.session() as s:
        inc = s.get(Incident, incident_id)
        assert inc is not None
        assert inc.sections[0].slug == "punitive-psychiatry"
        assert inc.persons[0].name == "Aigul Utepova"
        assert [st.status for st in inc.persons[0].statuses] == ["forced_psychiatric_placement", "released"]
        assert inc.sources[0].published_at == when
        assert inc.sources[0].published_at.tzinfo is not None
        assert inc.matched_keywords == ["psychiatric"]
        assert inc.sources[0].source is not None and inc.sources[0].source.keywords == ["Article 174"]
        issue = s.scalar(select(Issue).where(Issue.period == "2026-W47"))
        assert issue is not None and issue.items[0].incident_id == incident_id
        assert s.scalar(select(Delivery.state)) == "pending"
        assert s.scalar(select(AuditLog.changes)) == {"state": {"from": None, "to": "new"}}


def test_concurrent_upgrades_of_a_fresh_database(db_backend: str, pg_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """serve and scheduler both migrate on start; started together they must not trip over each other."""
    import threading

    from newsletter.db import make_engine, upgrade

    if db_backend == "postgresql":
        name = f"nl_fresh_{id(tmp_path)}"
        pg_server.execute(f"CREATE DATABASE {name}")
        url = pg_server.url_for(name)
    else:
        url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    errors: list[BaseException] = []

    def run() -> None:
        try:
            upgrade(url)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM sections").scalar() == 6
    engine.dispose()


def test_0008_classifies_existing_links_so_that_unknown_ones_stay_unpublished(db_backend: str, pg_server,  # type: ignore[no-untyped-def]
                                                                               tmp_path) -> None:
    """Links stored before 0008 had no origin: feed-source links become feed links, channel links keep
    their channel, and a link without a source (how volunteers' typed links were stored) is a volunteer
    link, or an import link on an imported incident. Nothing unknown becomes public."""
    from newsletter.db import make_engine, upgrade

    if db_backend == "postgresql":
        name = f"nl_0008_{id(tmp_path)}"
        pg_server.execute(f"CREATE DATABASE {name}")
        url = pg_server.url_for(name)
    else:
        url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    upgrade(url, "0007")
    engine = make_engine(url)
    with engine.begin() as conn:
        for sid, kind, name_ in ((1, "feed", "News"), (2, "volunteer", "Volunteer form"), (3, "api", "Partner API")):
            conn.exec_driver_sql(
                "INSERT INTO sources (id, kind, name, keywords, exclude_keywords, poll_interval, enabled, error_count, "
                f"created_at, updated_at) VALUES ({sid}, '{kind}', '{name_}', '[]', '[]', 3600, TRUE, 0, "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)")
        for iid, origin in ((1, "feed"), (2, "volunteer"), (3, "import"), (4, "editor")):
            conn.exec_driver_sql(
                "INSERT INTO incidents (id, title, summary, body, origin, state, publication, date_precision, "
                "location_precision, matched_keywords, relevant, created_at, updated_at) VALUES "
                f"({iid}, 'x', '', '', '{origin}', 'new', 'public', 'day', 'city', '[]', TRUE, CURRENT_TIMESTAMP, "
                "CURRENT_TIMESTAMP)")
        links = ((1, 1, 1, "https://news.example.org/a"), (2, 2, 2, None), (3, 2, None, "https://typed.example.org/x"),
                 (4, 3, None, "https://partner.example.org/y"), (5, 4, None, "https://unknown.example.org/z"),
                 (6, 1, 3, "https://api.example.org/q"))
        for lid, iid, sid, link in links:
            conn.exec_driver_sql(
                "INSERT INTO incident_sources (id, incident_id, source_id, url, created_at) VALUES "
                f"({lid}, {iid}, {'NULL' if sid is None else sid}, {'NULL' if link is None else repr(link)}, "
                "CURRENT_TIMESTAMP)")
    upgrade(url)
    with engine.connect() as conn:
        origins = dict(conn.exec_driver_sql("SELECT id, origin FROM incident_sources").all())
    engine.dispose()
    assert origins == {1: "feed", 2: "volunteer", 3: "volunteer", 4: "import", 5: "volunteer", 6: "api"}
