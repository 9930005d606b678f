"""Rendering: a frozen issue snapshot in, email / plain text / web page / archive files out. Pure."""

from newsletter.render.archive import ArchiveReport, ArchiveWriteError, StagedArchive, empty_feed, stage_archive, write_archive
from newsletter.render.context import UNSUBSCRIBE_PLACEHOLDER
from newsletter.render.correction import render_correction_email
from newsletter.render.email import RenderedEmail, RenderError, render_email
from newsletter.render.issue import RenderedIssue, render_issue
from newsletter.snapshot import InvalidSnapshot, parse_snapshot

__all__ = [
    "UNSUBSCRIBE_PLACEHOLDER",
    "ArchiveReport",
    "ArchiveWriteError",
    "InvalidSnapshot",
    "RenderError",
    "RenderedEmail",
    "RenderedIssue",
    "empty_feed",
    "parse_snapshot",
    "render_correction_email",
    "render_email",
    "render_issue",
    "StagedArchive",
    "stage_archive",
    "write_archive",
]
