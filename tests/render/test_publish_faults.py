"""Publishing into a full disk: nothing half-written becomes public, the database rolls back, one clear line.

The disk is a real 256 KiB tmpfs mounted in a private mount namespace (`unshare -m`, root only, as in
CI): the `newsletter publish` commands run inside it, and the listing of the archive is taken there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newsletter.models import AuditLog, Issue
from tests.render.builders import make_snapshot

NEWSLETTER = str(Path(sys.executable).parent / "newsletter")

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"),
                                reason="needs root and unshare to mount a tiny tmpfs")


def _issue(session: Session, number: int, period: str) -> Issue:
    issue = Issue(number=number, period=period, period_start=date(2026, 11, 16), period_end=date(2026, 11, 22),
                  state="sent", snapshot=make_snapshot(3, number=number, period=period))
    session.add(issue)
    session.commit()
    return issue


def _in_tiny_disk(disk: Path, script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    disk.mkdir()
    body = f"set -u; mount -t tmpfs -o size=256k tmpfs {disk}; {script}"
    return subprocess.run(["unshare", "-m", "sh", "-c", body], env=env, capture_output=True, text=True, timeout=120)


def test_publishing_into_a_full_disk_leaves_the_archive_as_it_was(session: Session, settings_env: dict[str, Any],
                                                                   tmp_path: Path) -> None:
    first = _issue(session, 1, "2026-W47")
    second = _issue(session, 2, "2026-W48")
    disk = tmp_path / "disk"
    archive = disk / "issues"
    env = {**os.environ, **settings_env, "NEWSLETTER_ISSUES_DIR": str(archive)}
    script = (
        f"{NEWSLETTER} publish 1 || exit 90; "
        f"cp {archive}/2026-W47/index.html {disk}/../before.html; "
        f"cp {archive}/index.html {disk}/../index-before.html; "
        # Fill what is left of the disk, then publish the second issue into it.
        f"dd if=/dev/zero of={disk}/filler bs=1k count=1024 2>/dev/null; "
        f"{NEWSLETTER} publish 2; echo \"exit=$?\"; "
        f"echo '--- listing'; cd {disk} && find . -mindepth 1 | sort; "
        f"cmp {archive}/2026-W47/index.html {disk}/../before.html && echo same-issue-page; "
        f"cmp {archive}/index.html {disk}/../index-before.html && echo same-index"
    )
    result = _in_tiny_disk(disk, script, env)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert "exit=1" in out
    assert "not published: could not write the archive beside" in out and "No space left on device" in out
    assert "Traceback" not in out
    listing = out.split("--- listing", 1)[1].split()
    assert not [p for p in listing if "2026-W48" in p], "a half-written issue became public"
    assert not [p for p in listing if "staging" in p], "the stage was not cleaned up"
    assert "./issues/2026-W47/index.html" in listing and "same-issue-page" in out and "same-index" in out
    session.expire_all()
    assert session.get(Issue, first.id).published_at is not None
    assert session.get(Issue, second.id).published_at is None  # rolled back with the failed publish
    assert session.scalar(select(func.count()).select_from(AuditLog).where(
        AuditLog.action == "issue.published", AuditLog.entity_id == second.id)) == 0
