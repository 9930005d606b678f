"""What a collect run reports: per feed, and the summary the command prints."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class FeedOutcome:
    """One feed in one run. `status`: fetched | not_modified | failed | gone."""

    source_id: int
    name: str
    status: str
    new: int = 0
    updated: int = 0
    seen: int = 0  # entries already stored from this feed
    same_link: int = 0  # entries whose link another feed already brought: added as a source of that incident
    near_duplicates: int = 0  # duplicate candidates created for editors
    irrelevant: int = 0  # stored, but kept out of the triage queue (matched no rule, or an exclude rule)
    excluded: int = 0  # of which matched an exclude rule
    error: str | None = None
    warning: str | None = None


@dataclass
class CollectReport:
    feeds_total: int = 0  # enabled feeds
    feeds_due: int = 0
    outcomes: list[FeedOutcome] = field(default_factory=list)
    sources_errors: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    parse_processes: int = 0  # worker processes used for parsing (0: parsed in a thread of this process)
    parse_seconds: float = 0.0  # CPU time spent parsing, summed over feeds
    plain_feeds: int = 0  # of the parsed feeds, read by the fast plain-RSS reader rather than feedparser
    store_seconds: float = 0.0  # wall time spent writing to the database
    store_cpu_seconds: float = 0.0  # of which CPU time of the storing thread

    def _count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def fetched(self) -> int:
        return self._count("fetched")

    @property
    def not_modified(self) -> int:
        return self._count("not_modified")

    @property
    def failed(self) -> list[tuple[str, str]]:
        return [(o.name, o.error or "") for o in self.outcomes if o.status in ("failed", "gone")]

    @property
    def all_failed(self) -> bool:
        """Every feed tried failed: most likely this machine's network, DNS or proxy, not the feeds."""
        return bool(self.outcomes) and len(self.failed) == len(self.outcomes)

    @property
    def warnings(self) -> list[tuple[str, str]]:
        return [(o.name, o.warning) for o in self.outcomes if o.warning]

    @property
    def new_incidents(self) -> int:
        return sum(o.new for o in self.outcomes)

    @property
    def relevant_new(self) -> int:
        return sum(o.new for o in self.outcomes) - self.irrelevant

    @property
    def updated(self) -> int:
        return sum(o.updated for o in self.outcomes)

    @property
    def seen(self) -> int:
        return sum(o.seen for o in self.outcomes)

    @property
    def same_link(self) -> int:
        return sum(o.same_link for o in self.outcomes)

    @property
    def near_duplicates(self) -> int:
        return sum(o.near_duplicates for o in self.outcomes)

    @property
    def duplicates(self) -> int:
        return self.same_link + self.near_duplicates

    @property
    def irrelevant(self) -> int:
        return sum(o.irrelevant for o in self.outcomes)

    @property
    def excluded(self) -> int:
        return sum(o.excluded for o in self.outcomes)
