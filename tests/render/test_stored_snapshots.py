"""Snapshots frozen by earlier versions (stored as JSON on the issue) still render byte for byte the same.

`stored/<name>/snapshot.json` is what the database held; the other files are what was published from
it then (the demo's issue, and a Russian edition with a persons-of-concern summary).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from newsletter.config import Settings
from newsletter.render import render_issue
from newsletter.snapshot import SNAPSHOT_VERSION, Snapshot, parse_snapshot

STORED = Path(__file__).parent / "stored"
CASES = sorted(d.name for d in STORED.iterdir() if d.is_dir())


@pytest.mark.parametrize("name", CASES)
def test_a_stored_snapshot_renders_as_it_did_when_published(name: str, render_settings: Settings) -> None:
    stored = json.loads((STORED / name / "snapshot.json").read_text())
    files = render_issue(stored, render_settings).files()
    for output in ("email.html", "email.txt", "subject.txt", "index.html", "issue.json"):
        assert files[output] == (STORED / name / output).read_text(), f"{name}/{output} changed"


@pytest.mark.parametrize("name", CASES)
def test_a_stored_snapshot_loads_as_the_one_typed_model(name: str) -> None:
    stored = json.loads((STORED / name / "snapshot.json").read_text())
    snap = parse_snapshot(stored)
    assert isinstance(snap, Snapshot) and snap.version == SNAPSHOT_VERSION
    assert snap.item_count == sum(len(s["items"]) for s in stored["sections"])


def test_a_typed_snapshot_is_frozen_and_stamped_without_losing_anything() -> None:
    import datetime as dt

    from newsletter.snapshot import stored_json, with_published_at

    stored = json.loads((STORED / "demo-2026-W49" / "snapshot.json").read_text())
    snap = parse_snapshot(stored)
    assert parse_snapshot(json.loads(json.dumps(stored_json(snap)))) == snap
    draft = snap.model_copy(update={"issue": snap.issue.model_copy(update={"published_at": None})})
    when = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.timezone.utc)
    stamped = with_published_at(draft, when)
    assert stamped.issue.published_at == when and draft.issue.published_at is None
    assert with_published_at(stamped, when + dt.timedelta(days=1)).issue.published_at == when
