"""Deduplication: identity of an entry within its feed, and near-duplicates across outlets.

Within a feed an entry is known by its GUID, else its link, else a hash of its content; a GUID
(or link) that several different entries of one fetch share is not trusted for that fetch, so
feeds with repeated or missing GUIDs still work. Across feeds the same canonical URL is one
incident. Near-duplicates (one event, different words) only become DuplicateCandidate rows.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

# Near-duplicate scoring lives in the base (newsletter.nearmatch): the intake of volunteer, API and
# imported reports scores with the same rule. Re-exported here for the collector's modules.
from newsletter.nearmatch import NearDuplicateIndex, normalise_title, significant_words

__all__ = ["HasIdentity", "Identity", "NearDuplicateIndex", "content_hash", "identities", "normalise_title",
           "significant_words"]


def content_hash(title: str, text: str) -> str:
    normal = " ".join(f"{title}\n{text}".casefold().split())
    return hashlib.sha256(normal.encode("utf-8")).hexdigest()


class HasIdentity(Protocol):
    guid: str | None
    canonical_url: str | None
    content_hash: str


@dataclass(frozen=True)
class Identity:
    """The keys an entry is looked up by within its own feed; None where a key is absent or untrusted."""

    guid: str | None
    link: str | None
    content_hash: str


def identities(entries: Sequence[HasIdentity]) -> list[Identity]:
    """Decide per entry which of GUID / link can be trusted in this fetch (not shared by different content)."""
    guid_hashes: defaultdict[str, set[str]] = defaultdict(set)
    link_hashes: defaultdict[str, set[str]] = defaultdict(set)
    for e in entries:
        if e.guid:
            guid_hashes[e.guid].add(e.content_hash)
        if e.canonical_url:
            link_hashes[e.canonical_url].add(e.content_hash)
    out = []
    for e in entries:
        guid = e.guid if e.guid and len(guid_hashes[e.guid]) == 1 else None
        link = e.canonical_url if e.canonical_url and len(link_hashes[e.canonical_url]) == 1 else None
        out.append(Identity(guid, link, e.content_hash))
    return out


