"""Relevance rules: per-feed and global keywords, exclusions, the watchlist, suggested sections."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.collect.outcome import CollectReport
from newsletter.collect.rules import FeedRules, GlobalRules, judge
from newsletter.models import Incident, IncidentSource
from tests.collect.conftest import SourcesWriter
from tests.collect.feedserver import FeedServer, Reply, rss

RULES = GlobalRules(
    include=("political prisoner",), exclude=("horoscope",), persons=("Aigul Utepova",), cities=("Almaty",),
    articles=("Article 174",), sections=(("punitive-psychiatry", ("psychiatr*",)), ("legislation", ("bill",))),
)


def test_whole_words_case_and_wildcards() -> None:
    rules = FeedRules(keywords=("article 174", "задержан*"), rules=GlobalRules())
    assert judge(rules, "Charged under ARTICLE 174 of the Criminal Code").matched == ("article 174",)
    assert not judge(rules, "Charged under Article 1745").relevant
    assert judge(rules, "Активиста ЗАДЕРЖАЛИ? нет: задержана в Алматы").matched == ("задержан*",)
    assert judge(FeedRules(keywords=("pre-trial  detention",)), "held in pre-trial\ndetention").relevant


def test_filtered_feed_needs_a_match_and_dedicated_feed_keeps_everything() -> None:
    filtered = FeedRules(keywords=("detained",), rules=RULES)
    assert not judge(filtered, "Football results").relevant
    assert judge(filtered, "Blogger Aigul Utepova released").matched == ("Aigul Utepova",)
    dedicated = FeedRules(rules=RULES)
    verdict = judge(dedicated, "Football results")
    assert verdict.relevant and verdict.matched == ()
    strict = FeedRules(rules=GlobalRules(include=("detained",), require_match=True))
    assert not judge(strict, "Football results").relevant


def test_exclusions_win_and_sections_are_suggested() -> None:
    rules = FeedRules(keywords=("detained",), default_section="persecution", rules=RULES)
    excluded = judge(rules, "Detained astrologer's horoscope")
    assert not excluded.relevant and excluded.excluded_by == "horoscope"
    assert judge(rules, "Activist detained and sent to psychiatric clinic").suggested_section == "punitive-psychiatry"
    assert judge(rules, "Activist detained in Almaty").suggested_section == "persecution"
    assert judge(FeedRules(rules=RULES), "A bill on foreign agents").suggested_section == "legislation"


def test_collected_entries_carry_the_verdict(
    server: FeedServer, write_sources: SourcesWriter, collect: Callable[..., CollectReport], session: Session
) -> None:
    server.routes["/n.xml"] = Reply(body=rss([
        {"title": "Activist detained under Article 174", "link": "https://n.example/1", "guid": "1"},
        {"title": "Stock market closes higher", "link": "https://n.example/2", "guid": "2"},
        {"title": "Weekly horoscope: detained feelings", "link": "https://n.example/3", "guid": "3"},
    ]))
    write_sources(
        [{"name": "news", "url": server.url("/n.xml"), "keywords": ["detained"], "exclude_keywords": ["horoscope"],
          "section": "persecution", "language": "ru"}],
        rules={"include": ["political prisoner"], "watchlist": {"articles": ["Article 174"]},
               "sections": {"legislation": ["law"]}},
    )
    report = collect()
    assert report.new_incidents == 3 and report.irrelevant == 2 and report.excluded == 1 and report.relevant_new == 1
    by_link = {s.url: s.incident for s in session.scalars(select(IncidentSource))}
    hit = by_link["https://n.example/1"]
    assert hit.relevant and hit.matched_keywords == ["detained", "Article 174"]
    assert hit.suggested_section == "persecution" and hit.language == "ru"
    assert hit.origin == "feed" and hit.state == "new" and hit.publication == "public"
    assert not by_link["https://n.example/2"].relevant and not by_link["https://n.example/3"].relevant
    assert session.scalar(select(Incident).where(Incident.relevant.is_(True))) is hit
