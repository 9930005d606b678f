"""One issue to every output: email (archive copy), plain text, subject, web page, issue.json and issue.pdf."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsletter.config import Settings
from newsletter.render.context import PREFERENCES_PLACEHOLDER, UNSUBSCRIBE_PLACEHOLDER, Alternate, build_view
from newsletter.render.email import render_email_view
from newsletter.render.env import use_language
from newsletter.render.files import write_atomic, write_atomic_bytes
from newsletter.render.pdf import PdfUnavailable, render_pdf
from newsletter.snapshot import CorrectionNote, Snapshot, parse_snapshot, public_json
from newsletter.render.web import load_assets, render_web_page

FILES = ("email.html", "email.txt", "subject.txt", "index.html", "issue.json")
PDF_FILE = "issue.pdf"
MEDIA_DIR = "media"


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
    pdf: bytes | None = field(default=None, repr=False)
    pdf_skipped: str | None = None  # why issue.pdf was not made on this machine (Pango missing)
    media: dict[str, bytes] = field(default_factory=dict, repr=False)  # media/<name>: the issue's photos

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
        if self.pdf is not None:
            write_atomic_bytes(out / PDF_FILE, self.pdf)
        for name, data in self.media.items():
            write_atomic_bytes(out / MEDIA_DIR / name, data)
        return out


def issue_json(snapshot: Snapshot, corrections: Sequence[CorrectionNote] = ()) -> str:
    """Compact JSON: the C encoder is only used without indentation, and machines read this file."""
    return json.dumps(public_json(snapshot, corrections), ensure_ascii=False, separators=(",", ":")) + "\n"


def render_issue(snapshot: dict[str, Any] | Snapshot, settings: Settings,
                 corrections: Sequence[CorrectionNote] = (), *, pdf: bool = False,
                 alternates: Sequence[Alternate] = (), media: Mapping[str, bytes] | None = None,
                 folder: Path | None = None) -> RenderedIssue:
    """Render a frozen snapshot to all of its outputs; pure: nothing is read but templates.

    `alternates` are the issue's editions (hreflang links and the language switch of the web page).
    `corrections` (the issue's dated corrections, a layer beside the frozen snapshot) appear on the
    web page, its PDF and in issue.json; the email copies stay exactly what was mailed.
    The PDF takes seconds, not milliseconds: only `pdf=True` (publish, `newsletter render`) makes it,
    so the desk's previews and test sends stay fast.
    `media` holds the photos' bytes by file name (the flow reads them from the database): the ones this
    issue shows are handed back in .media, to be written under media/, and the PDF reads them from
    there (or from `folder`/media/, the issue's folder in the archive), never over the network.
    """
    snap = parse_snapshot(snapshot)
    corrections = [c.in_language(snap.issue.language) for c in corrections]  # this edition's words
    unsubscribe = f"{snap.organisation.base_url}/unsubscribe"
    preferences = f"{snap.organisation.base_url}/subscribe"  # the archive copy: the page that offers the choice
    with use_language(snap.issue.language):
        view = build_view(snap, corrections, alternates)
        email = render_email_view(build_view(snap, alternates=alternates), settings)
        web_html = render_web_page(view, settings)
    assets = load_assets(settings)
    pdf_bytes: bytes | None = None
    pdf_skipped: str | None = None
    if pdf:
        try:
            pdf_bytes = render_pdf(web_html, title=f"{view.title} · {view.heading} · {view.org_name}", assets=assets,
                                   folder=folder, media=media,  # the editions share <period>/media/
                                   media_url=f"{view.archive_url}{snap.issue.period}/{MEDIA_DIR}/")
        except PdfUnavailable as exc:
            pdf_skipped = str(exc)
    return RenderedIssue(
        period=snap.issue.period,
        subject=email.subject,
        email_html=email.html.replace(UNSUBSCRIBE_PLACEHOLDER, unsubscribe).replace(PREFERENCES_PLACEHOLDER, preferences),
        email_text=email.text.replace(UNSUBSCRIBE_PLACEHOLDER, unsubscribe).replace(PREFERENCES_PLACEHOLDER, preferences),
        web_html=web_html,
        issue_json=issue_json(snap, corrections),
        assets=assets,
        warnings=email.warnings,
        pdf=pdf_bytes,
        pdf_skipped=pdf_skipped,
        media={name: media[name] for name in snap.media_files if media and name in media},
    )
