"""Triage queue: every filter, full-text search on both backends, paging, bad filter values."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from fastapi.testclient import TestClient
from sqlalchemy import delete, text
from sqlalchemy.orm import Session

from newsletter.editorial import search
from newsletter.models import Incident
from tests.editorial import factories as fx


def _ids(session: Session, **params: str) -> list[int]:
    f, errors = search.parse_filters(params)
    assert errors == []
    return [i.id for i in search.triage_page(session, f).items]


def test_each_filter_narrows_the_queue(session: Session) -> None:
    feed = fx.source(session, "Vlast")
    other = fx.source(session, "Radio Azattyq")
    t0 = datetime(2026, 11, 10, 12, tzinfo=timezone.utc)
    a = fx.incident(session, "Activist detained in Almaty", src=feed, city="Almaty", occurred_on=date(2026, 11, 9),
                    matched_keywords=["detained", "Article 174"], sections=["persecution"], created_at=t0)
    b = fx.incident(session, "Blogger sent to psychiatric clinic", src=other, city="Oral",
                    occurred_on=date(2026, 11, 12), matched_keywords=["psychiatric"],
                    sections=["punitive-psychiatry"], created_at=t0 + timedelta(days=2))
    c = fx.incident(session, "Volunteer report of a search", origin="volunteer", city="almaty",
                    occurred_on=date(2026, 11, 14), created_at=t0 + timedelta(days=4))
    d = fx.incident(session, "Accepted earlier", src=feed, state="accepted", created_at=t0)
    e = fx.incident(session, "Off-topic item", src=feed, relevant=False, created_at=t0)
    assert _ids(session) == [c.id, b.id, a.id]  # state=new by default, newest first, irrelevant hidden
    assert _ids(session, state="accepted") == [d.id]
    assert set(_ids(session, state="all")) == {a.id, b.id, c.id, d.id}
    assert e.id in _ids(session, irrelevant="1")
    assert _ids(session, origin="volunteer") == [c.id]
    assert _ids(session, source=str(other.id)) == [b.id]
    assert _ids(session, section="persecution") == [a.id]
    assert _ids(session, occurred_from="2026-11-10", occurred_to="2026-11-13") == [b.id]
    assert _ids(session, received_from="2026-11-12", received_to="2026-11-12") == [b.id]
    assert _ids(session, city="ALMATY") == [c.id, a.id]
    assert _ids(session, keyword="article 174") == [a.id]
    assert _ids(session, keyword="psychiatric", city="Almaty") == []


def test_full_text_matches_words_and_prefixes_in_title_summary_and_body(session: Session) -> None:
    a = fx.incident(session, "Trade unionist sentenced", summary="Court in Zhanaozen gave four years.")
    b = fx.incident(session, "Journalist summoned", body="<p>Questioned about a Facebook post on the rally</p>")
    c = fx.incident(session, "Задержан активист в Уральске", summary="Статья 174")
    assert _ids(session, q="zhanaozen") == [a.id]
    assert _ids(session, q="sentence") == []  # whole words only ...
    assert _ids(session, q="sentence*") == [a.id]  # ... unless asked for a prefix
    assert _ids(session, q="facebook rally") == [b.id]
    assert _ids(session, q="facebook zhanaozen") == []  # every word must match
    assert _ids(session, q="задерж*") == [c.id]
    assert _ids(session, q="Задержан") == [c.id]
    assert _ids(session, q="174") == [c.id]
    assert set(_ids(session, q='"); DROP TABLE incidents; --')) <= {a.id, b.id, c.id}  # no injection, no error


def test_search_index_follows_edits_and_deletes(session: Session) -> None:
    inc = fx.incident(session, "Picket in Aktobe")
    assert _ids(session, q="aktobe") == [inc.id]
    inc.title = "Picket in Shymkent"
    session.flush()
    assert _ids(session, q="aktobe") == []
    assert _ids(session, q="shymkent") == [inc.id]
    session.execute(delete(Incident).where(Incident.id == inc.id))
    assert _ids(session, q="shymkent") == []


def test_full_text_finds_a_summary_repeating_the_body_and_follows_edits_of_either(session: Session) -> None:
    """On SQLite a summary that is word for word the body's paragraph is not indexed a second time
    (migration 0022): the same searches must still find the same incidents, before and after edits."""
    a = fx.incident(session, "Picket", summary="Police detained Alibek Utepov.", body="<p>Police detained Alibek Utepov.</p>")
    b = fx.incident(session, "Trial", summary="libek and Oral", body="<p>Alibek and Oral</p>")
    c = fx.incident(session, "Hearing", summary="Judge Sarsenova", body="<p>Judge <b>Sarsenova</b></p>")
    assert _ids(session, q="utepov") == [a.id]
    assert _ids(session, q="libek") == [b.id]  # a summary word that is only part of a body word
    assert set(_ids(session, q="alibek")) == {a.id, b.id}
    assert _ids(session, q="judge sarsenova") == [c.id]
    a.body = "<p>Rewritten by the editor.</p>"
    session.flush()
    assert _ids(session, q="utepov") == [a.id]  # the summary, no longer in the body, is indexed itself
    assert _ids(session, q="rewritten") == [a.id]
    a.summary = "Short note."
    session.flush()
    assert _ids(session, q="utepov") == [] and _ids(session, q="note") == [a.id]
    b.summary = "Alibek and Oral"
    session.flush()
    assert _ids(session, q="libek") == [] and set(_ids(session, q="oral")) == {b.id}
    session.execute(delete(Incident).where(Incident.id.in_([a.id, b.id])))
    assert _ids(session, q="rewritten") == [] and _ids(session, q="alibek") == []
    if session.get_bind().dialect.name == "sqlite":  # the index agrees with what it indexes (raises if not)
        session.execute(text("INSERT INTO incidents_fts(incidents_fts) VALUES ('integrity-check')"))


def test_paging(session: Session) -> None:
    base = datetime(2026, 11, 1, tzinfo=timezone.utc)
    made = [fx.incident(session, f"Item {n}", created_at=base + timedelta(minutes=n)).id for n in range(7)]
    f, _ = search.parse_filters({"page": "2"})
    page = search.triage_page(session, f, per_page=3)
    assert [i.id for i in page.items] == list(reversed(made))[3:6]
    assert page.has_next and page.has_previous and (page.first, page.last) == (4, 6)
    f3, _ = search.parse_filters({"page": "3"})
    last = search.triage_page(session, f3, per_page=3)
    assert [i.id for i in last.items] == [made[0]] and not last.has_next and last.total_label == "7"


def test_bad_filter_values_are_reported_and_the_rest_still_applies(editor_client: TestClient, session: Session) -> None:
    fx.incident(session, "Detention in Atyrau", city="Atyrau")
    fx.incident(session, "Other city", city="Taraz")
    response = editor_client.get("/editor/triage?state=bogus&occurred_from=yesterday&city=Atyrau&page=x")
    assert response.status_code == 400
    assert "state: unknown state &#39;bogus&#39;" in response.text
    assert "is not a date (use YYYY-MM-DD)" in response.text
    assert "Detention in Atyrau" in response.text and "Other city" not in response.text


def test_triage_page_lists_and_links_with_filters_kept(editor_client: TestClient, session: Session) -> None:
    feed = fx.source(session, "Vlast")
    for n in range(55):
        fx.incident(session, f"Arrest number {n}", src=feed, matched_keywords=["arrest"])
    first = editor_client.get("/editor/triage?q=arrest&keyword=arrest")
    assert first.status_code == 200
    assert first.text.count('class="triage-row"') == 50
    assert "Incidents 1–50, more on the next page" in first.text
    assert 'href="/editor/triage?keyword=arrest&amp;q=arrest&amp;page=2"' in first.text
    second = editor_client.get("/editor/triage?state=new&keyword=arrest&q=arrest&page=2")
    assert second.text.count('class="triage-row"') == 5 and "Vlast" in second.text
    assert "Incidents 51–55 of 55" in second.text and "rel=\"next\"" not in second.text


def test_both_search_plans_give_the_same_page(session: Session, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    base = datetime(2026, 11, 1, tzinfo=timezone.utc)
    hits = [fx.incident(session, f"Picket number {n}", created_at=base + timedelta(hours=n)).id for n in range(6)]
    fx.incident(session, "Something else", created_at=base + timedelta(hours=9))
    fx.incident(session, "Picket but accepted", state="accepted", created_at=base + timedelta(hours=10))
    expected = list(reversed(hits))
    assert _ids(session, q="picket", state="new") == expected
    monkeypatch.setattr(search, "PROBE_LIMIT", 0)  # force the walk-newest-first plan
    assert _ids(session, q="picket", state="new") == expected


def test_words_search_every_state_unless_one_is_chosen(session: Session) -> None:
    waiting = fx.incident(session, "Picket in Oral")
    accepted = fx.incident(session, "Picket in Almaty", state="accepted")
    needs_info = fx.incident(session, "Picket in Atyrau", state="needs_info")
    fx.incident(session, "Search in Oral", state="accepted")
    assert _ids(session) == [waiting.id]  # no words: the queue of new incidents
    assert _ids(session, q="picket") == [needs_info.id, accepted.id, waiting.id]
    assert _ids(session, q="picket", state="accepted") == [accepted.id]
    assert _ids(session, q="picket", state="new") == [waiting.id]
    f, _ = search.parse_filters({"q": "picket"})
    assert f.state_default and "state" not in f.query_args()  # paging keeps "the default", not a state


def test_triage_page_shows_human_state_labels_and_a_compact_filter_bar(editor_client: TestClient, session: Session) -> None:
    fx.incident(session, "Picket in Oral", state="needs_info")
    page = editor_client.get("/editor/triage?q=picket")
    assert page.status_code == 200
    assert '<td data-state="needs_info">needs info</td>' in page.text
    assert '<option value="needs_info">needs info</option>' in page.text
    assert '<option value="" selected>' in page.text  # the default state choice stays chosen
    assert '<details class="more-filters">' in page.text  # no rare filter set: folded
    folded = editor_client.get("/editor/triage?city=Oral")
    assert '<details class="more-filters" open>' in folded.text


def test_the_index_keeps_no_positions_and_a_query_word_never_becomes_a_phrase(session: Session) -> None:
    """Migration 0023 keeps only which incidents hold a word (SQLite FTS5 detail=none), which cannot
    answer phrase queries: a query word the tokenizer would split must become words that all occur."""
    odd = fx.incident(session, "Report from Mueang Nan", body="<p>Words xᦵy and Алматы, жазалау.</p>")
    fx.incident(session, "Other report", body="<p>Only x here.</p>")
    if session.get_bind().dialect.name == "sqlite":
        sql = session.execute(text("SELECT sql FROM sqlite_master WHERE name = 'incidents_fts'")).scalar_one()
        assert "detail=none" in sql and "columnsize=0" in sql
    assert _ids(session, q="xᦵy") == [odd.id]  # "x" and "y": no "phrase queries are not supported" error
    assert _ids(session, q="xᦵy*") == [odd.id]
    assert _ids(session, q="алматы жазал*") == [odd.id]


def test_the_letters_the_fts5_tokenizer_splits_words_at_are_the_ones_the_query_splits_at() -> None:
    """Derived from the installed SQLite: every character Python's regex takes for part of a word but
    unicode61 for a separator. A newer SQLite (other Unicode tables) shows up here, not as a desk error."""
    import re
    import sqlite3

    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(a, detail=none, tokenize='unicode61 remove_diacritics 0')")
    splitting = set()
    for code in range(0x80, 0x110000):
        char = chr(code)
        if 0xD800 <= code <= 0xDFFF or not char.isalnum():
            continue
        try:
            conn.execute("SELECT count(*) FROM t WHERE t MATCH ?", (f'"a{char.lower()}b"',)).fetchone()
        except sqlite3.OperationalError as exc:
            assert "phrase" in str(exc)
            splitting.add(char.lower())
    assert splitting, "the check itself must see the known separators"
    pattern: re.Pattern[str] = search._FTS5_SEPARATORS
    assert {c for c in splitting if pattern.fullmatch(c)} == splitting
    assert all(not pattern.fullmatch(chr(c)) or chr(c).lower() in splitting or not chr(c).isalnum()
               for c in range(0x1900, 0x1D00))
