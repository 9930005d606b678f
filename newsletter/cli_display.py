"""Terminal tables for `newsletter status` and `newsletter jobs list` (presentation only)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table

from newsletter.flows.status import JobLine, Status

OUTCOME_STYLE = {"ok": "green", "skipped": "dim", "error": "bold red", "missed": "yellow", "interrupted": "yellow", "running": "cyan"}


def when(moment: datetime | None, tz: ZoneInfo, now: datetime | None = None) -> str:
    """Local date and time; relative ("in 4 min", "2 h ago") when `now` is given and it is within a day and a half."""
    if moment is None:
        return "-"
    if now is not None and abs((moment - now).total_seconds()) < 36 * 3600:
        return _relative((moment - now).total_seconds())
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _relative(seconds: float) -> str:
    ahead, s = seconds >= 0, abs(seconds)
    if s < 90:
        span = f"{int(s)} s"
    elif s < 5400:
        span = f"{int(s // 60)} min"
    elif s < 172800:
        span = f"{s / 3600:.0f} h"
    else:
        span = f"{s / 86400:.0f} days"
    return f"in {span}" if ahead else f"{span} ago"


def print_status(console: Console, status: Status, tz: ZoneInfo) -> None:
    now = status.now
    sched = status.scheduler
    if sched.state == "active":
        console.print(f"[bold]Scheduler[/bold]: active, {sched.holder} (lease until {when(sched.expires_at, tz, now)})")
    elif sched.state == "stale":
        console.print(f"[bold]Scheduler[/bold]: [red]not renewing[/red]: {sched.holder}'s lease ran out "
                      f"{when(sched.expires_at, tz, now)}; start `newsletter scheduler`")
    else:
        console.print("[bold]Scheduler[/bold]: [red]none running[/red] (start `newsletter scheduler`)")

    waiting = f"{status.waiting_triage} report(s) waiting for triage"
    if status.oldest_waiting:
        waiting += f", oldest received {when(status.oldest_waiting, tz, now)}"
    console.print(f"[bold]Triage[/bold]: {waiting}; {status.needs_info} waiting for a volunteer's answer")

    sources = Table(title="Sources", title_justify="left", show_edge=False)
    for col in ("source", "state", "last success", "next check", "errors", "7 days", "last error"):
        sources.add_column(col)
    for s in status.sources:
        style = {"failing": "red", "disabled": "dim"}.get(s.state, "")
        sources.add_row(s.name, f"[{style}]{s.state}[/{style}]" if style else s.state, when(s.last_success_at, tz, now),
                        when(s.next_check_at, tz, now), str(s.error_count), str(s.entries_7d), s.last_error)
    if status.sources:
        console.print(sources)
    else:
        console.print("[bold]Sources[/bold]: none yet (add feeds to the sources file)")

    totals = ", ".join(f"{n} {state}" for state, n in sorted(status.outbox_totals.items())) or "empty"
    console.print(f"[bold]Outbox[/bold]: {totals}")
    if status.outbox:
        outbox = Table(show_edge=False)
        for col in ("issue", "period", "state", "scheduled for", "pending", "sending", "sent", "failed", "bounced"):
            outbox.add_column(col)
        for o in status.outbox:
            outbox.add_row(str(o.number), o.period, o.state, when(o.scheduled_for, tz),
                           *(str(o.counts.get(k, 0)) for k in ("pending", "sending", "sent", "failed", "bounced")))
        console.print(outbox)
    for o in status.outbox:
        for kind, reasons in sorted(o.undelivered.items()):
            for reason, n in sorted(reasons.items(), key=lambda r: -r[1]):
                console.print(f"[yellow]issue {o.number} ({o.period})[/yellow]: {n} {kind}: {reason}", highlight=False)
    for line in status.overdue:
        console.print(f"[yellow]left for an editor[/yellow]: {line} (later than the send grace; send or reschedule it)")

    print_jobs(console, status.jobs, tz, now)
    if status.problems:
        console.print("[bold red]Needs attention[/bold red]: " + "; ".join(status.problems))
    else:
        console.print("[green]All well.[/green]")


def print_jobs(console: Console, lines: list[JobLine], tz: ZoneInfo, now: datetime) -> None:
    table = Table(title="Jobs", title_justify="left", show_edge=False)
    for col in ("job", "schedule", "next run", "last run", "outcome", "detail"):
        table.add_column(col)
    for j in lines:
        outcome = j.last_outcome or "-"
        style = OUTCOME_STYLE.get(outcome, "")
        nxt = when(j.next_run, tz, now) if j.enabled else "off"
        if j.retry_at:
            nxt += f"; retry {when(j.retry_at, tz, now)}"
        table.add_row(j.name, j.schedule, nxt, when(j.last_started, tz, now),
                      f"[{style}]{outcome}[/{style}]" if style else outcome, j.last_detail[:100])
    console.print(table)
