"""Consent in the snapshot: the anonymised and internal fixtures never leak a protected name or city."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.issues.consent import ConsentViolation
from newsletter.issues.service import build_snapshot, draft_issue
from newsletter.models import CaseStatus, Issue, Person
from sqlalchemy import select
from tests.issues.conftest import assert_no_protected_words


def words_of(snapshot: dict) -> str:
    return json.dumps(snapshot, ensure_ascii=False)


def test_snapshot_contains_no_protected_name_or_city(session: Session, settings: Settings, consent_issue: Issue) -> None:
    snapshot = build_snapshot(session, consent_issue, settings=settings)
    assert_no_protected_words(words_of(snapshot))
    json.dumps(snapshot)  # JSON-serialisable as the render contract requires


def test_anonymised_item_uses_each_persons_consent_and_the_region(session: Session, settings: Settings,
                                                                   consent_issue: Issue) -> None:
    snapshot = build_snapshot(session, consent_issue, settings=settings)
    items = {i["headline"]: i for s in snapshot["sections"] for i in s["items"]}
    anon = next(i for h, i in items.items() if "persecuted for monitoring" in h)
    assert anon["headline"] == "R. S. and Activist E. persecuted for monitoring a protest in Abai Region"
    assert anon["text"].startswith("R. S., who has a disability")
    assert "Activist E. is in hospital in Abai Region" in anon["text"]
    assert anon["place"] == "Abai Region, Kazakhstan"
    # Only feed articles whose address names nobody; link titles redacted.
    assert anon["links"] == [{"url": "https://news.example.org/2026/monitors-persecuted",
                              "title": "Monitors of R. S.'s protest persecuted"}]


def test_public_item_names_consenting_people_only(session: Session, settings: Settings, consent_issue: Issue) -> None:
    snapshot = build_snapshot(session, consent_issue, settings=settings)
    public = next(i for s in snapshot["sections"] for i in s["items"] if "convicted" in i["headline"])
    assert public["headline"] == "Aya Sadvakasova convicted; a citizen tried for calming a crowd"
    assert public["place"] == "Almaty, Kazakhstan"
    assert [l["url"] for l in public["links"]] == ["https://news.example.org/aya-convicted"]


def test_internal_incidents_are_only_counted(session: Session, settings: Settings, consent_issue: Issue) -> None:
    snapshot = build_snapshot(session, consent_issue, settings=settings)
    assert snapshot["withheld"] == {"incidents": 3, "cities": 2}
    assert sum(len(s["items"]) for s in snapshot["sections"]) == 2
    consent_issue.show_withheld_count = False
    assert build_snapshot(session, consent_issue, settings=settings)["withheld"] == {"incidents": 0, "cities": 0}


def test_intro_protects_everyone_not_named_in_a_public_item(session: Session, settings: Settings,
                                                           consent_issue: Issue) -> None:
    snapshot = build_snapshot(session, consent_issue, settings=settings)
    # Zhanmurat consented to his name, but appears only in an internal incident in this issue.
    assert snapshot["issue"]["intro"] == "This week R. S., Aya Sadvakasova and a civil activist were persecuted."
    assert snapshot["issue"]["preheader"] == snapshot["issue"]["intro"]


def test_snapshot_follows_the_render_contract(session: Session, settings: Settings, consent_issue: Issue) -> None:
    snapshot = build_snapshot(session, consent_issue, settings=settings)
    assert snapshot["version"] == 1
    assert snapshot["issue"] | {"intro": "", "preheader": ""} == {
        "number": 1, "period": "2026-W47", "period_start": "2026-11-16", "period_end": "2026-11-22",
        "title": "16–22 November 2026", "intro": "", "language": "en", "preheader": "",
        "published_at": None,
    }
    assert snapshot["organisation"] == {"name": settings.org_name, "base_url": settings.base_url}
    assert [s["slug"] for s in snapshot["sections"]] == ["persecution"]
    item = snapshot["sections"][0]["items"][0]
    assert set(item) <= {"id", "headline", "text", "date", "date_precision", "place", "kind", "links",
                         "kind_label", "subjects"}
    assert {"id", "headline", "text", "date", "date_precision", "place", "kind", "links"} <= set(item)
    assert item["date"] == "2026-11-18" and snapshot["persons_summary"] is None
    try:
        from newsletter.snapshot import parse_snapshot
    except ImportError:
        return
    parse_snapshot(snapshot)


def test_an_alias_containing_the_real_name_blocks_the_snapshot(session: Session, settings: Settings,
                                                              consent_issue: Issue) -> None:
    aliya = next(p for i in consent_issue.items if i.incident for p in i.incident.persons if p.name == "Aliya Isenova")
    aliya.alias = "Aliya I."
    with pytest.raises(ConsentViolation) as refused:
        build_snapshot(session, consent_issue, settings=settings)
    # Where and what kind, never the name itself.
    assert "Aliya" not in str(refused.value) and "field headline" in str(refused.value)
    assert {(f.field, f.kind) for f in refused.value.findings} >= {("headline", "name")}
    assert all(f.item_id in {i.id for i in consent_issue.items} for f in refused.value.findings)


def test_case_update_on_a_protected_person(session: Session, settings: Settings, make_person) -> None:
    from newsletter.issues import items as issue_items

    person = make_person("Nurgul Kaluova", consent="none", role="activist", city="Taraz", region="Zhambyl Region")
    person.statuses.append(CaseStatus(status="pre_trial_detention", occurred_on=date(2026, 11, 10),
                                      article="Article 405", note="Nurgul Kaluova's detention in Taraz was extended.",
                                      source_url="https://news.example.org/kaluova-detention"))
    person.statuses.append(CaseStatus(status="released", occurred_on=date(2026, 12, 20)))  # after the issue
    session.flush()
    issue = draft_issue(session, settings=settings, period="2026-W47", actor="cli")
    item = issue_items.add_case_update(session, issue, person, actor="cli")
    assert item.headline == "Case update: Nurgul Kaluova"  # the editor sees the real name in the desk
    snap = build_snapshot(session, issue, settings=settings)
    (out,) = snap["sections"][0]["items"]
    assert out["headline"] == "Case update: a civil activist"
    assert out["text"] == ("Status as of 10 November 2026: held in pre-trial detention (Article 405). "
                           "A civil activist's detention in Zhambyl Region was extended.")
    assert out["place"] == "Zhambyl Region, Kazakhstan" and out["links"] == [] and out["date"] == "2026-11-10"


def test_persons_summary_counts_statuses_on_the_publication_date_without_names(session: Session, settings: Settings,
                                                                         make_incident, make_person) -> None:
    from newsletter.render import render_issue

    for n, (status, day) in enumerate([("convicted_prison", 1), ("convicted_prison", 5), ("forced_psychiatric_placement", 9)]):
        person = make_person(f"Protected Person{n}", consent="none")
        person.statuses.append(CaseStatus(status="detained", occurred_on=date(2026, 10, 1)))
        person.statuses.append(CaseStatus(status=status, occurred_on=date(2026, 11, day)))
    later = make_person("Released Later", consent="none")
    later.statuses.append(CaseStatus(status="convicted_prison", occurred_on=date(2026, 11, 2)))
    later.statuses.append(CaseStatus(status="released", occurred_on=date(2026, 11, 30)))  # after the issue goes out
    session.flush()
    make_incident("Activist detained")
    issue = draft_issue(session, settings=settings, period="2026-W47", actor="cli")
    assert build_snapshot(session, issue, settings=settings)["persons_summary"] is None
    issue.show_persons_summary = True
    snap = build_snapshot(session, issue, settings=settings, today=date(2026, 11, 25))
    assert snap["persons_summary"]["as_of"] == "2026-11-25"  # the day it goes out, not the week's last day
    counts = {c["status"]: c["count"] for c in snap["persons_summary"]["counts"]}
    assert counts == {"convicted_prison": 3, "forced_psychiatric_placement": 1}
    # Published later: the summary says the publication day, and counts as of it.
    from datetime import datetime, timezone

    issue.published_at = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
    published = build_snapshot(session, issue, settings=settings, today=date(2026, 11, 25))
    assert published["persons_summary"]["as_of"] == "2026-12-01"
    assert {c["status"]: c["count"] for c in published["persons_summary"]["counts"]}["convicted_prison"] == 2
    # Built without a day: today's date, never the week's end still to come.
    issue.published_at = None
    assert build_snapshot(session, issue, settings=settings)["persons_summary"]["as_of"] == \
        datetime.now(timezone.utc).date().isoformat()
    assert all(c["label"] for c in snap["persons_summary"]["counts"])
    rendered = render_issue(snap, settings)
    assert "held in prison" in rendered.email_text
    assert "Person0" not in rendered.email_text + rendered.web_html + rendered.issue_json


def test_a_protected_person_is_not_named_in_another_items_text(session: Session, settings: Settings,
                                                              consent_issue: Issue) -> None:
    public = next(i for i in consent_issue.items if i.incident and i.incident.publication == "public")
    public.text = "Aya Sadvakasova had monitored the protest with Raigul Sadyrbaeva and Zhanmurat Ashtaev."
    session.flush()
    snap = build_snapshot(session, consent_issue, settings=settings)
    text = next(i["text"] for s in snap["sections"] for i in s["items"] if i["id"] == public.id)
    assert text == "Aya Sadvakasova had monitored the protest with R. S. and a civil activist."
    assert_no_protected_words(json.dumps(snap, ensure_ascii=False))


def test_a_registered_protected_person_is_hidden_on_items_not_linked_to_them(
        session: Session, settings: Settings, make_incident, make_person) -> None:
    from newsletter.models import PersonSpelling

    saule = make_person("Saule Zhaksylykova", consent="none", role="journalist")
    saule.spellings.append(PersonSpelling(spelling="Сауле Жаксылыкова"))
    make_incident("Supporters of Сауле Жаксылыковой gathered at the court",
                  summary="Zhaqsylyqova's colleagues held signs.", publication="public")
    session.flush()
    issue = draft_issue(session, settings=settings, period="2026-W47", actor="cli")
    (item,) = build_snapshot(session, issue, settings=settings)["sections"][0]["items"]
    assert item["headline"] == "Supporters of a journalist gathered at the court"
    assert item["text"] == "A journalist's colleagues held signs."


def test_two_register_entries_for_one_person_take_the_stricter_consent(
        session: Session, settings: Settings, make_incident, make_person) -> None:
    latin = make_person("Saule Zhaksylykova", consent="none", role="journalist")
    cyrillic = make_person("Сауле Жаксылыкова", consent="name", role="journalist")
    make_incident("Сауле Жаксылыкова fined", publication="public", persons=[cyrillic])
    make_incident("Blogger fined", publication="anonymised", persons=[latin], region="Abai Region")
    issue = draft_issue(session, settings=settings, period="2026-W47", actor="cli")
    headlines = [i["headline"] for s in build_snapshot(session, issue, settings=settings)["sections"] for i in s["items"]]
    assert "A journalist fined" in headlines and not any("Жаксылыков" in h for h in headlines)


def test_a_lone_given_name_in_the_intro_is_hidden_when_that_person_is_in_the_issue(
        session: Session, settings: Settings, make_incident, make_person) -> None:
    dina = make_person("Дина Касымова", consent="none", role="journalist")
    make_person("Nur Ospanova", consent="none", role="lawyer")  # registered, not in this issue
    make_incident("Journalist fined", publication="anonymised", persons=[dina], region="Abai Region")
    issue = draft_issue(session, settings=settings, period="2026-W47", actor="cli")
    issue.intro = "This week Дину fined again; Nur Otan passed the bill."
    snap = build_snapshot(session, issue, settings=settings)
    assert snap["issue"]["intro"] == "This week a journalist fined again; Nur Otan passed the bill."


def test_build_snapshot_gives_the_one_typed_model_that_render_reads(session: Session, settings: Settings,
                                                                   consent_issue: Issue) -> None:
    from newsletter.issues.snapshot import build_snapshot as build_typed
    from newsletter.issues.snapshot import build_snapshot_data
    from newsletter.render import render_issue
    from newsletter.snapshot import SNAPSHOT_VERSION, Snapshot, parse_snapshot

    typed = build_typed(session, consent_issue, settings=settings)
    stored = build_snapshot_data(session, consent_issue, settings=settings)  # as frozen on the issue
    assert isinstance(typed, Snapshot) and typed.version == SNAPSHOT_VERSION == stored["version"]
    assert typed == parse_snapshot(json.loads(json.dumps(stored)))
    assert render_issue(typed, settings).files() == render_issue(stored, settings).files()


def test_persons_summary_is_labelled_in_the_issues_language(session: Session, settings: Settings,
                                                           make_incident, make_person) -> None:
    for n in range(2):
        person = make_person(f"Protected Person{n}", consent="none")
        person.statuses.append(CaseStatus(status="suspended_sentence", occurred_on=date(2026, 11, 3)))
    session.flush()
    make_incident("Activist detained")
    issue = draft_issue(session, settings=settings, period="2026-W47", actor="cli")
    issue.show_persons_summary = True
    assert build_snapshot(session, issue, settings=settings)["persons_summary"]["counts"] == [
        {"status": "suspended_sentence", "label": "received suspended sentences", "count": 2,
         "groups": [{"role": "activist", "label": "civil activists", "names": [], "unnamed": 2}]}]
    issue.language = "ru"
    assert build_snapshot(session, issue, settings=settings)["persons_summary"]["counts"] == [
        {"status": "suspended_sentence", "label": "получили условные сроки", "count": 2,
         "groups": [{"role": "activist", "label": "гражданские активисты", "names": [], "unnamed": 2}]}]


def test_public_item_names_its_subjects_with_their_role_as_consent_allows(session: Session, settings: Settings,
                                                                         consent_issue: Issue) -> None:
    snapshot = build_snapshot(session, consent_issue, settings=settings)
    items = {i["headline"]: i for s in snapshot["sections"] for i in s["items"]}
    public = next(i for h, i in items.items() if "convicted" in h)
    # Aya consented to her name; Kuat to nothing: he is not a subject at all (not even "a citizen").
    assert public["subjects"] == [{"name": "Aya Sadvakasova", "role": "Human rights defender"}]
    anon = next(i for h, i in items.items() if "persecuted for monitoring" in h)
    assert "subjects" not in anon  # an anonymised item names nobody, not even by initials


def test_alias_and_initials_stand_for_the_name_in_the_subject_list(session: Session, settings: Settings,
                                                                   make_incident, make_person) -> None:
    alias = make_person("Dana Omarova", consent="alias", alias="Activist D.", role="journalist")
    initials = make_person("Bolat Nurov", consent="initials", role="trade_unionist")
    make_incident("Two detained after a strike", publication="public", persons=[alias, initials], kind="detention",
                  city="Aktau", region="Mangystau Region", location_precision="city")
    issue = draft_issue(session, settings=settings, period="2026-W47", actor="cli")
    (item,) = build_snapshot(session, issue, settings=settings)["sections"][0]["items"]
    assert item["subjects"] == [{"name": "Activist D.", "role": "Journalist"}, {"name": "B. N.", "role": "Trade unionist"}]
    assert item["kind"] == "detention" and item["kind_label"] == "Detention"
    assert "Omarova" not in words_of(item) and "Bolat" not in words_of(item)


def test_a_protected_name_in_the_subject_list_is_caught_by_the_final_check(session: Session, settings: Settings,
                                                                           make_incident, make_person) -> None:
    careless = make_person("Aliya Isenova", consent="alias", alias="Aliya I.", role="activist")
    make_incident("An activist detained", publication="public", persons=[careless])
    issue = draft_issue(session, settings=settings, period="2026-W47", actor="cli")
    with pytest.raises(ConsentViolation) as refused:
        build_snapshot(session, issue, settings=settings)
    assert ("subjects[0].name", "name") in {(f.field, f.kind) for f in refused.value.findings}
    assert "Aliya" not in str(refused.value)


def test_places_count_every_incident_but_name_only_public_cities(session: Session, settings: Settings,
                                                                consent_issue: Issue) -> None:
    snapshot = build_snapshot(session, consent_issue, settings=settings)
    places = snapshot["places"]
    # Five incidents: Semey (anonymised), Almaty (public), three internal (one city named in none of them).
    assert places["incidents"] == 5
    assert places["cities"] == 4  # Semey, Almaty, the internal city, Uralsk (spelled twice)
    assert_no_protected_words(words_of(places))
    assert "Uralsk" not in words_of(places)
    assert {"region": "Abai Region", "city": None, "count": 1} in places["rows"]
    assert not any(r["city"] for r in places["rows"] if r["region"] == "Abai Region")


def test_persons_block_names_each_person_by_status_and_role_only_as_consent_allows(
        session: Session, settings: Settings, make_incident, make_person) -> None:
    from newsletter.render import render_issue

    def jailed(name: str, **kw) -> None:
        person = make_person(name, **kw)
        person.statuses.append(CaseStatus(status="convicted_prison", occurred_on=date(2026, 11, 3)))

    jailed("Aya Sadvakasova", consent="name", role="activist")
    jailed("Dana Omarova", consent="alias", alias="Activist D.", role="activist")
    jailed("Bolat Nurov", consent="initials", role="trade_unionist")
    jailed("Kuat Shamuratov", consent="none", role="activist")
    jailed("Zhanmurat Ashtaev", consent="name", role="trade_unionist")  # named only in an internal case below
    session.flush()
    ashtaev = next(p for p in session.scalars(select(Person)) if p.name == "Zhanmurat Ashtaev")
    make_incident("Beaten", publication="internal", persons=[ashtaev])
    make_incident("Activist detained")
    issue = draft_issue(session, settings=settings, period="2026-W47", actor="cli")
    issue.show_persons_summary = True
    snap = build_snapshot(session, issue, settings=settings, today=date(2026, 11, 25))
    (prison,) = snap["persons_summary"]["counts"]
    assert prison["count"] == 5
    assert prison["groups"] == [
        {"role": "activist", "label": "civil activists", "names": ["Activist D.", "Aya Sadvakasova"], "unnamed": 1},
        {"role": "trade_unionist", "label": "trade unionists", "names": ["B. N."], "unnamed": 1},
    ]
    text = words_of(snap)
    assert "Omarova" not in text and "Bolat" not in text and "Kuat" not in text and "Ashtaev" not in text
    out = render_issue(snap, settings).files()
    line = "civil activists: Activist D., Aya Sadvakasova and 1 not named; trade unionists: B. N. and 1 not named"
    for name in ("email.html", "email.txt", "index.html"):
        assert line in " ".join(out[name].split()), name


def test_a_protected_name_in_the_persons_block_is_caught_by_the_final_check(
        session: Session, settings: Settings, make_incident, make_person) -> None:
    careless = make_person("Aliya Isenova", consent="alias", alias="Aliya I.", role="activist")
    careless.statuses.append(CaseStatus(status="detained", occurred_on=date(2026, 11, 3)))
    make_incident("Activist detained")
    issue = draft_issue(session, settings=settings, period="2026-W47", actor="cli")
    issue.show_persons_summary = True
    with pytest.raises(ConsentViolation) as refused:
        build_snapshot(session, issue, settings=settings, today=date(2026, 11, 25))
    assert any(f.field.startswith("persons_summary.detained") and f.kind == "name" for f in refused.value.findings)
    assert "Aliya" not in str(refused.value)


def _published_week(session: Session, settings: Settings, period: str) -> Issue:
    """Draft `period` and freeze it as published, as the publish flow does."""
    from datetime import datetime, timezone

    issue = draft_issue(session, settings=settings, period=period, actor="cli")
    issue.snapshot = build_snapshot(session, issue, settings=settings)
    issue.published_at = datetime(2026, 11, 16, 8, 0, tzinfo=timezone.utc)
    session.flush()
    return issue


def test_see_also_links_earlier_items_about_the_same_named_person(session: Session, settings: Settings,
                                                                  make_incident, make_person) -> None:
    aya = make_person("Aya Sadvakasova", consent="name", role="human_rights_defender")
    kuat = make_person("Kuat Shamuratov", consent="none", role="citizen")
    earlier = make_incident("Aya Sadvakasova detained", occurred_on=date(2026, 11, 10), persons=[aya])
    hidden = make_incident("A citizen questioned", occurred_on=date(2026, 11, 11), persons=[kuat])
    old = _published_week(session, settings, "2026-W46")
    old_ids = {i.incident_id: i.id for i in old.items}
    make_incident("Aya Sadvakasova convicted", persons=[aya])
    make_incident("A citizen charged", persons=[kuat])
    make_incident("Aya Sadvakasova's case: anonymised follow-up", publication="anonymised", persons=[aya])
    issue = draft_issue(session, settings=settings, period="2026-W47", actor="cli")
    items = {i["headline"]: i for s in build_snapshot(session, issue, settings=settings)["sections"] for i in s["items"]}
    assert items["Aya Sadvakasova convicted"]["related"] == [{
        "url": f"{settings.base_url}/issues/2026-W46/#item-{old_ids[earlier.id]}", "title": "Aya Sadvakasova detained"}]
    # Not through someone who is never named, and never on an anonymised item.
    assert "related" not in items["A citizen charged"]
    assert all("related" not in i for h, i in items.items() if h not in ("Aya Sadvakasova convicted",))
    assert hidden.id in old_ids


def test_a_protected_name_in_a_see_also_title_is_caught_by_the_final_check(
        session: Session, settings: Settings, make_incident, make_person) -> None:
    aya = make_person("Aya Sadvakasova", consent="name", role="human_rights_defender")
    make_incident("Aya Sadvakasova and a friend detained", occurred_on=date(2026, 11, 10), persons=[aya])
    _published_week(session, settings, "2026-W46")
    old = session.scalar(select(Issue).where(Issue.period == "2026-W46"))
    snapshot = dict(old.snapshot)  # as if that week's headline had named someone now protected
    snapshot["sections"] = [dict(s, items=[dict(i, headline="Aya Sadvakasova and A. Isenova detained")
                                           for i in s["items"]]) for s in snapshot["sections"]]
    old.snapshot = snapshot
    make_person("Aliya Isenova", consent="alias", alias="A. Isenova", role="activist")  # a careless alias
    make_incident("Aya Sadvakasova convicted", persons=[aya])
    issue = draft_issue(session, settings=settings, period="2026-W47", actor="cli")
    with pytest.raises(ConsentViolation) as refused:
        build_snapshot(session, issue, settings=settings)
    assert ("related[0].title", "name") in {(f.field, f.kind) for f in refused.value.findings}
