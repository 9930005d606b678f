"""Publishing writes the public archive only after the publish transaction has committed.

The archive is rendered into a hidden stage beside the real one inside the transaction and moved
into place after the commit; a commit that fails leaves no archive files and no stage behind.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.runtime import Runtime
from newsletter.flows.issues import publish
from newsletter.issues.service import approve_issue, draft_issue
from newsletter.models import AuditLog, Issue


class CommitRefused(Exception):
    """The database said no at commit time (stands for a lost connection or a deferred constraint)."""


@pytest.fixture
def approved(session: Session, settings: Settings, make_incident, make_editor) -> Issue:
    make_incident("Activist detained")
    issue = draft_issue(session, settings=settings, period="2026-W47", actor="cli")
    approve_issue(session, issue, user=make_editor("ed@example.org"), settings=settings)
    session.flush()
    return issue


@pytest.fixture
def tx(runtime: Runtime) -> Iterator[Session]:
    """A transactional session like the one a command or a web request holds (the `session` fixture autocommits)."""
    with runtime.sessions() as s:
        yield s


def _files(root: Path) -> list[str]:
    """Every file under the archive's parent folder (so a stray stage beside it is seen too)."""
    return sorted(str(p.relative_to(root.parent)) for p in root.parent.rglob("*") if p.is_file())


def test_the_archive_appears_only_after_the_commit(tx: Session, settings: Settings, approved: Issue) -> None:
    archive = Path(settings.issues_dir)
    seen_at_commit: list[bool] = []
    event.listen(tx, "before_commit", lambda s: seen_at_commit.append((archive / "2026-W47").exists()))
    folder = publish(tx, tx.get(Issue, approved.id), settings=settings, actor="cli")
    assert seen_at_commit == [False]
    assert folder == archive / "2026-W47"
    assert (folder / "index.html").is_file() and (archive / "index.html").is_file() and (archive / "feed.xml").is_file()
    assert not [p for p in archive.parent.iterdir() if "staging" in p.name]


def test_a_publish_whose_commit_fails_leaves_no_archive_files(tx: Session, settings: Settings, runtime: Runtime,
                                                             approved: Issue) -> None:
    archive = Path(settings.issues_dir)
    before = _files(archive)

    def refuse(_session: Session) -> None:
        raise CommitRefused("connection lost at commit")

    event.listen(tx, "before_commit", refuse)
    with pytest.raises(CommitRefused):
        publish(tx, tx.get(Issue, approved.id), settings=settings, actor="cli")
    tx.rollback()
    assert _files(archive) == before  # no issue page, no index, no feed, no stage
    with runtime.session() as fresh:
        assert fresh.get(Issue, approved.id).published_at is None
        assert fresh.get(Issue, approved.id).snapshot is None
        assert fresh.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "issue.published")) == 0
