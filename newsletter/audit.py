"""Writing the audit log. Every domain records its changes through record(); nothing edits or deletes rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from newsletter.models import AuditLog, User


def record(
    session: Session,
    *,
    actor: User | str,
    action: str,
    entity_type: str,
    entity_id: int | None = None,
    changes: dict[str, Any] | None = None,
    note: str = "",
) -> AuditLog:
    """Add an audit row in the caller's transaction, so the change and its record commit together."""
    user = actor if isinstance(actor, User) else None
    row = AuditLog(
        user_id=user.id if user else None,
        actor=user.email if user else str(actor),
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        changes=_jsonable(changes or {}),
        note=note,
    )
    session.add(row)
    return row


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
