"""One issue to every output: email (archive copy), plain text, subject, web page and issue.json."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsletter.config import Settings
from newsletter.render.context import UNSUBSCRIBE_PLACEHOLDER, build_view
from newsletter.render.email import render_email_view
from newsletter.render.env import use_language
from newsletter.render.files import write_atomic
from newsletter.snapshot import CorrectionNote, Snapshot, parse_snapshot, public_json
from newsletter.render.web import load_assets, render_web_page

FILES = ("email.html", "email.txt", "subject.txt", "index.html", "issue.json")


@dataclass(frozen=True)
class RenderedIssue:
    """Everything published for one issue. The email copies carry the generic {base_url}/unsubscribe link."""

    period: str
    subject: str
    email_html: str
    email_text: str
    web_html: str
    issue_json: str
    assets: dict[str, str] = field(default_factory=dict, repr=False)
    warnings: tuple[str, ...] = ()

    def files(self) -> dict[str, str]:
        return {
            "email.html": self.email_html,
            "email.txt": self.email_text,
            "subject.txt": self.subject + "\n",
            "index.html": self.web_html,
            "issue.json": self.issue_json,
            **self.assets,
        }

    def write(self, out_dir: Path | str) -> Path:
        """Write the issue's files into out_dir (created if needed); each file is replaced atomically."""
        out = Path(out_dir)
        for name, text in self.files().items():
            write_atomic(out / name, text)
        return out


def issue_json(snapshot: Snapshot, corrections: Sequence[CorrectionNote] = ()) -> str:
    """Compact JSON: the C encoder is only used without indentation, and machines read this file."""
    return json.dumps(public_json(snapshot, corrections), ensure_ascii=False, separators=(",", ":")) + "\n"


def render_issue(snapshot: dict[str, Any] | Snapshot, settings: Settings,
                 corrections: Sequence[CorrectionNote] = ()) -> RenderedIssue:
    """Render a frozen snapshot to all of its outputs; pure: nothing is read but templates.

    `corrections` (the issue's dated corrections, a layer beside the frozen snapshot) appear on the
    web page and in issue.json; the email copies stay exactly what was mailed.
    """
    snap = parse_snapshot(snapshot)
    unsubscribe = f"{snap.organisation.base_url}/unsubscribe"
    with use_language(snap.issue.language):
        email = render_email_view(build_view(snap), settings)
        web_html = render_web_page(build_view(snap, corrections), settings)
    return RenderedIssue(
        period=snap.issue.period,
        subject=email.subject,
        email_html=email.html.replace(UNSUBSCRIBE_PLACEHOLDER, unsubscribe),
        email_text=email.text.replace(UNSUBSCRIBE_PLACEHOLDER, unsubscribe),
        web_html=web_html,
        issue_json=issue_json(snap, corrections),
        assets=load_assets(settings),
        warnings=email.warnings,
    )
