"""What the desk's front page shows: the triage backlog, the weekly intake by section, broken sources."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from html import escape

from sqlalchemy import ColumnElement, Date, cast, func, literal, select
from sqlalchemy.orm import Session

from newsletter.db import utcnow
from newsletter.models import Incident, IncidentSource, Section, Source, incident_sections

WAITING_STATES = ("new",)
WEEKS = 12
PALETTE = ("#0b5cad", "#b42318", "#1a7f37", "#9a6700", "#8250df", "#bf3989", "#0a7b83", "#57606a")
NO_SECTION = "(no section)"


@dataclass
class WeekChart:
    weeks: list[date]  # Mondays, oldest first
    series: dict[str, list[int]] = field(default_factory=dict)  # section title -> count per week

    @property
    def max_total(self) -> int:
        totals = [sum(values[i] for values in self.series.values()) for i in range(len(self.weeks))]
        return max(totals, default=0)


def day_of(session: Session, column: ColumnElement[datetime]) -> ColumnElement[date]:
    """The UTC calendar day of a timestamp column, on either backend."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone("UTC", column), Date)
    return func.date(column)


def waiting_by_source(session: Session) -> list[tuple[str, int]]:
    """Incidents waiting for triage per source, each counted once: under the source that brought it first
    (a volunteer's report is under its channel even when a feed later reported the same link), or per
    channel (volunteer, editor ...) when no source is recorded. The counts add up to waiting_total()."""
    first = (select(IncidentSource.incident_id, func.min(IncidentSource.id).label("first_id"))
             .where(IncidentSource.source_id.is_not(None)).group_by(IncidentSource.incident_id).subquery())
    label = func.coalesce(Source.name, literal("channel: ") + Incident.origin)
    rows = session.execute(
        select(label, func.count(Incident.id))
        .select_from(Incident)
        .outerjoin(first, first.c.incident_id == Incident.id)
        .outerjoin(IncidentSource, IncidentSource.id == first.c.first_id)
        .outerjoin(Source, Source.id == IncidentSource.source_id)
        .where(Incident.state.in_(WAITING_STATES), Incident.relevant.is_(True))
        .group_by(label)
        .order_by(func.count(Incident.id).desc(), label)
    ).all()
    return [(str(name), int(count)) for name, count in rows]


def waiting_by_day(session: Session, days: int = 14) -> list[tuple[date, int]]:
    """Waiting incidents by the day they came in, newest first; older ones are summed in the last row."""
    day = day_of(session, Incident.created_at)
    rows = session.execute(
        select(day, func.count()).where(Incident.state.in_(WAITING_STATES), Incident.relevant.is_(True))
        .group_by(day).order_by(day.desc())
    ).all()
    result: list[tuple[date, int]] = []
    for value, count in rows:
        result.append((value if isinstance(value, date) else date.fromisoformat(str(value)), int(count)))
    return result[:days]


def waiting_total(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Incident)
                          .where(Incident.state.in_(WAITING_STATES), Incident.relevant.is_(True))) or 0


def sources_in_error(session: Session) -> list[Source]:
    return list(session.scalars(
        select(Source).where(Source.error_count > 0).order_by(Source.error_count.desc(), Source.name)
    ))


def weekly_by_section(session: Session, *, today: date | None = None, weeks: int = WEEKS) -> WeekChart:
    """Incidents per ISO week (by the day they occurred, else the day they came in) and section."""
    today = today or utcnow().date()
    first = today - timedelta(days=today.weekday()) - timedelta(weeks=weeks - 1)
    mondays = [first + timedelta(weeks=i) for i in range(weeks)]
    start = datetime.combine(first, datetime.min.time()).replace(tzinfo=utcnow().tzinfo)
    when = func.coalesce(Incident.occurred_on, day_of(session, Incident.created_at))
    rows = session.execute(
        select(when, Section.title, Section.position)
        .select_from(Incident)
        .outerjoin(incident_sections, incident_sections.c.incident_id == Incident.id)
        .outerjoin(Section, Section.id == incident_sections.c.section_id)
        .where(Incident.state.notin_(("rejected", "duplicate")), Incident.relevant.is_(True))
        .where((Incident.occurred_on >= first) | (Incident.occurred_on.is_(None) & (Incident.created_at >= start)))
    ).all()
    counts: dict[str, Counter[int]] = defaultdict(Counter)
    order: dict[str, int] = {}
    for value, title, position in rows:
        day = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
        index = (day - first).days // 7
        if 0 <= index < weeks:
            name = title or NO_SECTION
            counts[name][index] += 1
            order[name] = position if position is not None else 10_000
    chart = WeekChart(weeks=mondays)
    for name in sorted(counts, key=lambda n: (order[n], n)):
        chart.series[name] = [counts[name][i] for i in range(weeks)]
    return chart


def chart_svg(chart: WeekChart, *, width: int = 640, height: int = 240, legend: bool = True) -> str:
    """A stacked bar chart as inline SVG markup: no script, no external resource, readable without colour.

    legend=False leaves the legend to the page (an HTML list wraps long section names; SVG text cannot)."""
    left, bottom, top = 32, 28, 10
    plot_w, plot_h = width - left - 8, height - top - bottom
    peak = max(chart.max_total, 1)
    slot = plot_w / max(len(chart.weeks), 1)
    bar_w = slot * 0.7
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height + (22 * ((len(chart.series) + 2) // 3) if legend else 0)}" '
             f'role="img" aria-labelledby="chart-title" class="chart">',
             '<title id="chart-title">Incidents per week by section, last '
             f'{len(chart.weeks)} weeks</title>']
    for tick in sorted({0, peak // 2, peak}):
        y = top + plot_h - plot_h * tick / peak
        parts.append(f'<line x1="{left}" x2="{width - 8}" y1="{y:.1f}" y2="{y:.1f}" stroke="#8c959f" stroke-width="0.5"/>')
        parts.append(f'<text x="{left - 4}" y="{y + 4:.1f}" font-size="10" text-anchor="end" fill="currentColor">{tick}</text>')
    for i, monday in enumerate(chart.weeks):
        x = left + i * slot + (slot - bar_w) / 2
        y_base = top + plot_h
        for s, (name, values) in enumerate(chart.series.items()):
            if not values[i]:
                continue
            h = plot_h * values[i] / peak
            y_base -= h
            parts.append(f'<rect x="{x:.1f}" y="{y_base:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                         f'fill="{PALETTE[s % len(PALETTE)]}"><title>{escape(name)}, week of {monday.isoformat()}: '
                         f'{values[i]}</title></rect>')
        iso = monday.isocalendar()
        parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h + 14}" font-size="10" text-anchor="middle" '
                     f'fill="currentColor">W{iso.week:02d}</text>')
    for s, name in enumerate(chart.series if legend else ()):
        lx = left + (s % 3) * (plot_w / 3)
        ly = height + 22 * (s // 3)
        parts.append(f'<rect x="{lx:.1f}" y="{ly - 9}" width="10" height="10" fill="{PALETTE[s % len(PALETTE)]}"/>')
        parts.append(f'<text x="{lx + 14:.1f}" y="{ly}" font-size="11" fill="currentColor">{escape(name[:38])}</text>')
    parts.append("</svg>")
    return "".join(parts)
