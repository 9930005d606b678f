"""The email: subject, preheader, MJML turned into HTML by mjml-python, and a real plain-text part.

mjml-python is called with an empty font table so that it adds no web-font imports: an email that
loads a font from a third party tells that party who opened it, and when.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

import mjml

from newsletter.config import Settings
from newsletter.render.context import PREFERENCES_PLACEHOLDER, UNSUBSCRIBE_PLACEHOLDER, IssueView, build_view
from newsletter.render.env import RenderError, render_template, use_language
from newsletter.render.mjml_check import check_mjml
from newsletter.snapshot import Snapshot, parse_snapshot

log = logging.getLogger(__name__)

SUBJECT_TEMPLATE = "email/issue/subject.txt.j2"
MJML_TEMPLATE = "email/issue/body.mjml.j2"
TEXT_TEMPLATE = "email/issue/body.txt.j2"
GMAIL_CLIP_BYTES = 102 * 1024


@dataclass(frozen=True)
class RenderedEmail:
    """One issue as an email. html and text contain %%UNSUBSCRIBE_URL%% for per-recipient links."""

    subject: str
    html: str
    text: str
    mjml: str = field(default="", repr=False)
    warnings: tuple[str, ...] = ()

    def with_unsubscribe(self, url: str) -> RenderedEmail:
        """This email for one recipient: a plain string replacement, no second MJML run."""
        return RenderedEmail(
            subject=self.subject,
            html=self.html.replace(UNSUBSCRIBE_PLACEHOLDER, _html_attr(url)),
            text=self.text.replace(UNSUBSCRIBE_PLACEHOLDER, url),
            mjml=self.mjml,
            warnings=self.warnings,
        )


def _html_attr(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")


_BLANKS = re.compile(r"\n{3,}")
_TRAILING = re.compile(r"[ \t]+\n")


def tidy_text(text: str) -> str:
    """Trailing spaces off (except the "-- " signature separator), at most two blank lines in a row."""
    text = _TRAILING.sub("\n", text.replace("\n-- \n", "\n--\x00\n")).replace("--\x00", "-- ")
    return _BLANKS.sub("\n\n\n", text).strip("\n") + "\n"


_POSITION = re.compile(r"at position (\d+):(\d+)")


def mjml_to_html(source: str) -> str:
    """MJML -> HTML with no font imports; comments stripped (they only add weight)."""
    try:
        return mjml.mjml2html(source, fonts={}, disable_comments=True)
    except Exception as exc:  # noqa: BLE001 - MRML raises plain exceptions for invalid markup
        message = str(exc)
        found = _POSITION.search(message)
        if found:
            # MRML counts bytes; say which line of the rendered MJML it is and show it.
            start = len(source.encode()[: int(found.group(1))].decode(errors="ignore"))
            line = source.count("\n", 0, start) + 1
            text = source.splitlines()[line - 1].strip() if source.splitlines() else ""
            message += f" (line {line} of the rendered MJML: {text[:120]!r})"
        raise RenderError(f"MJML could not be rendered: {message}") from exc


def render_email_view(view: IssueView, settings: Settings) -> RenderedEmail:
    if len(settings.editions) > 1:
        view.preferences_url = PREFERENCES_PLACEHOLDER  # "Change language": each recipient's own page
    ctx = view.as_context()
    subject = " ".join(render_template(settings, SUBJECT_TEMPLATE, ctx).split())
    if not subject:
        raise RenderError(f"template {SUBJECT_TEMPLATE}: rendered an empty subject")
    view.subject = subject
    source = render_template(settings, MJML_TEMPLATE, ctx)
    warnings = check_mjml(source)
    html = mjml_to_html(source)
    if "<mj-" in html:
        warnings.append("the HTML still contains <mj-...> tags that MJML did not know")
    for warning in warnings:
        log.warning("issue %s email: MJML %s", view.period, warning)
    size = len(html.encode())
    if size > GMAIL_CLIP_BYTES:
        log.warning("issue %s email: HTML is %d KB; Gmail clips messages over 102 KB", view.period, size // 1024)
    text = tidy_text(render_template(settings, TEXT_TEMPLATE, ctx))
    return RenderedEmail(subject=subject, html=html, text=text, mjml=source, warnings=tuple(warnings))


def render_email(snapshot: dict[str, Any] | Snapshot, settings: Settings) -> RenderedEmail:
    """Render an issue snapshot as an email, with %%UNSUBSCRIBE_URL%% where each recipient's link goes."""
    snap = parse_snapshot(snapshot)
    with use_language(snap.issue.language):
        return render_email_view(build_view(snap), settings)
