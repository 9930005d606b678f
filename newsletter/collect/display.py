"""Rich renderings of collect results and feed health for the command line."""

from __future__ import annotations

from datetime import datetime

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from newsletter.collect.health import FeedHealth
from newsletter.collect.outcome import CollectReport
from newsletter.db import utcnow


def ago(when: datetime | None) -> str:
    if when is None:
        return "never"
    seconds = int((utcnow() - when).total_seconds())
    future = seconds < 0
    seconds = abs(seconds)
    if seconds < 90:
        text = f"{seconds}s"
    elif seconds < 5400:
        text = f"{seconds // 60}m"
    elif seconds < 172800:
        text = f"{seconds // 3600}h"
    else:
        text = f"{seconds // 86400}d"
    return f"in {text}" if future else f"{text} ago"


def print_report(console: Console, report: CollectReport) -> None:
    for line in report.sources_errors:
        console.print(f"[yellow]sources:[/yellow] {line}", highlight=False)
    if not report.feeds_due:
        console.print(f"no feed is due ({report.feeds_total} enabled); use --all to fetch every feed now")
        return
    for name, reason in report.failed:
        console.print(f"[red]failed[/red] [bold]{_esc(name)}[/bold]: {_esc(reason)}", highlight=False)
    for name, warning in report.warnings:
        console.print(f"[yellow]warning[/yellow] [bold]{_esc(name)}[/bold]: {_esc(warning)}", highlight=False)
    console.print(
        f"{report.feeds_due} feed(s) in {report.elapsed:.1f}s: {report.fetched} fetched, "
        f"{report.not_modified} not modified, {len(report.failed)} failed; "
        f"{report.new_incidents} new incident(s) ({report.relevant_new} for triage, {report.irrelevant} matched no rule"
        f"{f', {report.excluded} excluded' if report.excluded else ''}), {report.updated} updated, "
        f"{report.seen} already seen; duplicates: {report.same_link} same link as another feed, "
        f"{report.near_duplicates} near-duplicate candidate(s)",
        highlight=False,
    )


def _esc(text: str) -> str:
    return escape(text)


def health_table(rows: list[FeedHealth]) -> Table:
    table = Table(title=f"{len(rows)} feed(s)", title_justify="left")
    for col in ("name", "state", "last success", "last error", "errors", "next check", "7 days"):
        table.add_column(col, overflow="fold", justify="right" if col in ("errors", "7 days") else "left")
    for h in rows:
        state = {"ok": "[green]ok[/green]", "failing": "[red]failing[/red]", "disabled": "[dim]disabled[/dim]"}.get(h.state, h.state)
        error = h.disabled_reason if not h.enabled and h.disabled_reason else (h.last_error or "")
        table.add_row(
            _esc(h.name), state, ago(h.last_success_at), _esc(error[:120]), str(h.error_count),
            ago(h.next_check_at) if h.enabled else "-", str(h.entries_7d),
        )
    return table
