"""The correction notice: a short email telling the readers of an issue what was wrong and what is right.

Pure like the rest of render: the corrected issue's snapshot (for the organisation and the issue's
language) and the typed correction in, subject / HTML / text out, with %%UNSUBSCRIBE_URL%% where
each recipient's link goes. No tracking: plain links to the public archive only.
"""

from __future__ import annotations

from typing import Any

from newsletter.config import Settings
from newsletter.render.context import UNSUBSCRIBE_PLACEHOLDER, correction_view
from newsletter.render.email import RenderedEmail, tidy_text
from newsletter.render.env import RenderError, render_template, text_direction, use_language
from newsletter.snapshot import CorrectionNote, Snapshot, parse_snapshot

SUBJECT_TEMPLATE = "email/correction/subject.txt.j2"
HTML_TEMPLATE = "email/correction/body.html.j2"
TEXT_TEMPLATE = "email/correction/body.txt.j2"


def render_correction_email(snapshot: dict[str, Any] | Snapshot, note: CorrectionNote,
                            settings: Settings, *, language: str | None = None) -> RenderedEmail:
    """The notice of one correction of the issue `snapshot`, in that issue's language, or in `language`
    (a further edition's readers: its translation, else the original marked as such, and links to that
    edition's pages where the issue has one)."""
    snap = parse_snapshot(snapshot)
    org = snap.organisation
    lang = language or snap.issue.language
    shown = note.in_language(lang)
    archive_url = f"{org.base_url}/issues/"
    home_url = archive_url + (f"{shown.edition}/" if shown.edition else "")
    with use_language(lang):
        ctx = {"c": correction_view(shown, archive_url, lang), "org_name": org.name, "archive_url": home_url,
               "lang": lang, "dir": text_direction(lang),
               "unsubscribe_url": UNSUBSCRIBE_PLACEHOLDER}
        subject = " ".join(render_template(settings, SUBJECT_TEMPLATE, ctx).split())
        if not subject:
            raise RenderError(f"template {SUBJECT_TEMPLATE}: rendered an empty subject")
        html = render_template(settings, HTML_TEMPLATE, ctx)
        text = tidy_text(render_template(settings, TEXT_TEMPLATE, ctx))
    return RenderedEmail(subject=subject, html=html, text=text)
