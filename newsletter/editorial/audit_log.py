"""Reading the audit log (read-only): filter by actor, action, entity and date, newest first, paged."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newsletter import audit
from newsletter.models import AuditLog

PER_PAGE = 100


@dataclass
class AuditFilters:
    actor: str | None = None
    action: str | None = None
    entity_type: str | None = None
    entity_id: int | None = None
    since: date | None = None
    until: date | None = None
    page: int = 1

    def query_args(self, **override: object) -> dict[str, str]:
        values = {"actor": self.actor, "action": self.action, "entity_type": self.entity_type,
                  "entity_id": self.entity_id, "since": self.since, "until": self.until,
                  "page": self.page if self.page > 1 else None}
        values.update(override)
        return {k: str(v) for k, v in values.items() if v not in (None, "")}


def parse_filters(params: dict[str, str]) -> tuple[AuditFilters, list[str]]:
    errors: list[str] = []
    f = AuditFilters(actor=(params.get("actor") or "").strip() or None,
                     action=(params.get("action") or "").strip() or None,
                     entity_type=(params.get("entity_type") or "").strip() or None)
    entity_id = (params.get("entity_id") or "").strip()
    if entity_id:
        if entity_id.isdigit():
            f.entity_id = int(entity_id)
        else:
            errors.append(f"entity id: '{entity_id}' is not a number")
    for name in ("since", "until"):
        raw = (params.get(name) or "").strip()
        if raw:
            try:
                setattr(f, name, date.fromisoformat(raw))
            except ValueError:
                errors.append(f"{name}: '{raw}' is not a date (use YYYY-MM-DD)")
    page = (params.get("page") or "1").strip()
    f.page = int(page) if page.isdigit() and 0 < int(page) < 1_000_000 else 1
    return f, errors


@dataclass(frozen=True)
class AuditEntry:
    """An audit row as the audit page shows it: its changes in today's from/to shape (audit.shown)."""

    id: int
    at: datetime
    actor: str
    action: str
    entity_type: str
    entity_id: int | None
    changes: dict[str, Any]
    note: str

    @classmethod
    def of(cls, row: AuditLog) -> AuditEntry:
        return cls(row.id, row.at, row.actor, row.action, row.entity_type, row.entity_id,
                   audit.shown(row.action, row.changes), row.note or "")


def browse(session: Session, f: AuditFilters, *, per_page: int = PER_PAGE) -> tuple[list[AuditEntry], bool]:
    """One page of entries and whether there is a next one."""
    stmt = select(AuditLog)
    if f.actor:
        stmt = stmt.where(func.lower(AuditLog.actor).like(f"%{f.actor.lower()}%"))
    if f.action:
        stmt = stmt.where(AuditLog.action.like(f"{f.action}%"))
    if f.entity_type:
        stmt = stmt.where(AuditLog.entity_type == f.entity_type)
    if f.entity_id is not None:
        stmt = stmt.where(AuditLog.entity_id == f.entity_id)
    if f.since:
        stmt = stmt.where(AuditLog.at >= datetime.combine(f.since, time.min, tzinfo=timezone.utc))
    if f.until:
        stmt = stmt.where(AuditLog.at < datetime.combine(f.until + timedelta(days=1), time.min, tzinfo=timezone.utc))
    rows = list(session.scalars(stmt.order_by(AuditLog.id.desc()).offset((f.page - 1) * per_page).limit(per_page + 1)))
    return [AuditEntry.of(row) for row in rows[:per_page]], len(rows) > per_page


def known_actions(session: Session) -> list[str]:
    return list(session.scalars(select(AuditLog.action).group_by(AuditLog.action).order_by(AuditLog.action)))
