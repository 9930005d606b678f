"""Near-duplicate scoring of incidents of every origin: one event told in other words.

Part of the base layer so that the feed collector and the intake of volunteer, API and imported
reports score with the same rule without importing each other. It only ever proposes pairs
(DuplicateCandidate rows); an editor merges or dismisses. Words are compared in memory, never
logged or stored beyond the incident itself.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Iterable
from datetime import datetime, timedelta
from itertools import chain, compress
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# The database parts (SQLAlchemy, the models) are imported inside the two functions that query:
# the collector's parse workers import this module for the word functions alone, and importing
# the models cost each worker process about a second of CPU at start.

NEAR_THRESHOLD = 60.0  # Dice coefficient (%) of the word stems of title + lede
SAME_TITLE = 85.0  # or rapidfuzz token_sort_ratio of the titles: the same words reordered
STEM = 5  # crude stemming by prefix: "unionist"/"union", "detained"/"detain", "задержан"/"задержали"
LEDE_WORDS = 35  # words of the text that count besides the title: who, where, what
MIN_SHARED = 3  # stems two items must share before they are compared at all
MAX_POSTING = 64  # a word in more titles than this is too common to pick candidates with
_COMMON: list[int] = []  # the posting of such a word (never appended to)
_WORD = re.compile(r"\w+", re.UNICODE)
STOPWORDS = frozenset(
    """a an and are as at be been by for from has have he her his in into is it its of on or over she that the
    their they this to was were will with after before about against amid under new says said year years
    и в во не что он на я с со как а то все она так его но да ты к у же вы за бы по только ее мне было вот
    от меня еще нет о из ему теперь когда даже ну вдруг ли если уже или ни быть был него до вас нибудь
    опять уж вам ведь там потом себя ничего ей может они тут где есть надо ней для мы тебя их чем была сам
    чтоб без будто чего раз тоже себе под будет ж тогда кто этот того потому этого какой совсем ним здесь
    этом один почти мой тем чтобы нее были куда зачем всех никогда можно при наконец два об другой хоть
    после над больше тот через эти нас про всего них какая много разве три эту моя впрочем хорошо свою
    этой перед иногда лучше чуть том нельзя такой им более всегда конечно всю между""".split()
)


NEAR_WINDOW = timedelta(days=14)  # incidents created this recently are compared with a new one
MAX_CANDIDATES = 5  # pairs proposed per new incident, best first


def normalise_title(title: str) -> str:
    return " ".join(_WORD.findall(title.casefold()))


def significant_words(title: str, text: str = "") -> tuple[str, ...]:
    """Stems of the title and the lede that can tell one event from another (names, places, articles, verbs)."""
    words = _WORD.findall(title.casefold()) + _WORD.findall(text[:1000].casefold())[:LEDE_WORDS]
    # a list, not a generator: this runs for every relevant entry of every feed
    return tuple(dict.fromkeys([w[:STEM] for w in words if (len(w) >= 4 or w.isdigit()) and w not in STOPWORDS]))


class NearDuplicateIndex:
    """In-memory inverted index of recent incidents' title + lede stems.

    Blocking on shared stems keeps the work linear in practice: a new item is only scored against
    items sharing at least MIN_SHARED uncommon stems with it. The score is the Dice coefficient of
    the two stem sets (the same person, place and charge reported in other words), or rapidfuzz's
    token_sort_ratio of the titles when that is very high (the same headline reworded).
    """

    def __init__(self, threshold: float = NEAR_THRESHOLD) -> None:
        self.threshold = threshold
        self._titles: dict[int, str] = {}
        self._sizes: dict[int, int] = {}
        # a word in more than MAX_POSTING incidents maps to _COMMON (empty: never a candidate again)
        self._postings: dict[str, list[int]] = {}

    def __len__(self) -> int:
        return len(self._titles)

    def add(self, incident_id: int, title: str, words: Iterable[str] | None = None, *, normal: str | None = None) -> None:
        """Index an incident; `words` are its significant_words(title, text) (default: the title's),
        `normal` its normalise_title(title) when the caller has it already."""
        words = tuple(words) if words is not None else significant_words(title)
        self._titles[incident_id] = normal or normalise_title(title)
        self._sizes[incident_id] = len(words)
        postings = self._postings
        for word in words:
            posting = postings.get(word)
            if posting is None:
                postings[word] = [incident_id]
            elif posting:
                if len(posting) < MAX_POSTING:
                    posting.append(incident_id)
                else:  # its MAX_POSTING + 1st incident: too common from now on
                    postings[word] = _COMMON

    def match(self, title: str, words: Iterable[str] | None = None, *, exclude: set[int] | None = None,
              normal: str | None = None) -> list[tuple[int, float]]:
        """Earlier incidents that look like the same event as this title, best first."""
        words = tuple(words) if words is not None else significant_words(title)
        postings = self._postings
        # One counting pass in C over every usable posting; then only the few incidents sharing
        # MIN_SHARED stems or more are scored (this runs once per new entry, thousands per run).
        # Too common words map to an empty posting, so filter(None, ...) keeps only the usable ones,
        # and compress() picks the ids counted MIN_SHARED times or more: no Python loop over ids.
        usable = list(filter(None, map(postings.get, words)))
        if not usable:
            return []
        counts = Counter(chain.from_iterable(usable))
        shared = list(compress(counts, map(MIN_SHARED.__le__, counts.values())))
        if not shared:
            return []
        from rapidfuzz import fuzz  # imported on first use: most commands never compare two titles

        normal = normal or normalise_title(title)
        size = len(words)
        sizes, titles, threshold = self._sizes, self._titles, self.threshold
        found = []
        for other in shared:
            if exclude and other in exclude:
                continue
            dice = 200.0 * counts[other] / (size + sizes[other])
            # The cutoff lets rapidfuzz stop early; it returns 0 below it, which changes no score:
            # a reworded title only counts at SAME_TITLE or more, and only where it beats Dice.
            reworded = fuzz.token_sort_ratio(normal, titles[other], score_cutoff=max(SAME_TITLE, dice))
            score = max(dice, reworded)
            if score >= threshold:
                found.append((other, round(float(score), 1)))
        found.sort(key=lambda pair: -pair[1])
        return found


def body_text(body: str | None) -> str:
    """The words of an incident's stored (sanitised) HTML body, for scoring only."""
    from newsletter.consent.text import strip_tags

    return " ".join(strip_tags((body or "").replace("<", " <")).split())


def recent_index(session: Session, *, since: datetime | None = None, exclude: Collection[int] = (),
                 latest: int | None = None) -> NearDuplicateIndex:
    """Recent incidents of every origin (feed, volunteer, API, import) that a new one is compared with.

    Rejected incidents and those already merged away are left out: offering them again is noise.
    `latest` keeps only the newest that many (a single report scored inside its own request must not
    cost more as the window fills up: the cost would grow with every incident of the last 14 days).
    """
    from sqlalchemy import func, select

    from newsletter.db import utcnow
    from newsletter.models import Incident

    index = NearDuplicateIndex()
    query = (
        select(Incident.id, Incident.title, Incident.summary, func.substr(Incident.body, 1, 2000))
        .where(Incident.created_at >= (since or utcnow() - NEAR_WINDOW), Incident.relevant.is_(True),
               Incident.state.not_in(("rejected", "duplicate")))
        .order_by(Incident.id)
    )
    if exclude:
        query = query.where(Incident.id.not_in(list(exclude)))
    if latest is not None:
        query = query.order_by(None).order_by(Incident.id.desc()).limit(latest)
    for iid, title, summary, body in session.execute(query):
        index.add(iid, title, significant_words(title, summary or body_text(body)))
    return index


def propose_duplicates(session: Session, incident_ids: Iterable[int], *, now: datetime | None = None,
                       latest: int | None = None) -> int:
    """Score new incidents against recent ones (and each other); add open DuplicateCandidate rows.

    Returns how many pairs were proposed. Each new incident is compared with those before it, so a
    pair is proposed once, new incident first. Never commits.
    """
    from sqlalchemy import func, insert, select

    from newsletter.db import utcnow
    from newsletter.models import DuplicateCandidate, Incident

    ids = sorted(set(incident_ids))
    if not ids:
        return 0
    index = recent_index(session, exclude=ids, latest=latest)
    rows = session.execute(
        select(Incident.id, Incident.title, Incident.summary, func.substr(Incident.body, 1, 2000))
        .where(Incident.id.in_(ids), Incident.relevant.is_(True)).order_by(Incident.id)
    ).all()
    seen = {(a, b) for a, b in session.execute(
        select(DuplicateCandidate.incident_id, DuplicateCandidate.other_id)
        .where(DuplicateCandidate.incident_id.in_(ids) | DuplicateCandidate.other_id.in_(ids)))}
    now = now or utcnow()
    out = []
    for iid, title, summary, body in rows:
        words = significant_words(title, summary or body_text(body))
        for other, score in index.match(title, words)[:MAX_CANDIDATES]:
            if (iid, other) in seen or (other, iid) in seen:
                continue
            seen.add((iid, other))
            out.append({"incident_id": iid, "other_id": other, "score": score, "method": "words",
                        "state": "open", "created_at": now})
        index.add(iid, title, words)
    if out:
        session.execute(insert(DuplicateCandidate.__table__), out)
    return len(out)
