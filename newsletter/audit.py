"""Writing the audit log. Every domain records its changes through record(); nothing edits or deletes rows.

`changes` has one shape, so the audit page and whoever reads the table later need one rule:
- a stored value the action changed is a from/to pair: {"state": {"from": "draft", "to": "approved"}},
  built with change() (or diff() for several fields of one row);
- anything else the row says about the event (an id, a count, the slug of what was created) is a plain
  value under its own name: {"recipients": 3}.
A dict value that is not a from/to pair is refused. A text that may carry a report's words or a
protected name is recorded by its length only (text_change()).

Rows written before this shape was enforced are read back through shown(), which turns their older
forms into from/to pairs; the rows themselves are never rewritten.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from newsletter.models import AuditLog, User

PAIR = ("from", "to")
NOT_RECORDED = "(not recorded)"


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
    for key, value in (changes or {}).items():
        if isinstance(value, Mapping) and set(value) != set(PAIR):
            raise ValueError(f"audit {action}: change {key!r} must be {{'from': ..., 'to': ...}} or a plain value")
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


def change(before: Any, after: Any) -> dict[str, Any]:
    """One changed value, as every audit row records it."""
    return {"from": before, "to": after}


def diff(obj: Any, values: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The from/to pairs of the values that differ from obj's attributes (call before assigning them)."""
    return {k: change(getattr(obj, k), v) for k, v in values.items() if getattr(obj, k) != v}


def text_change(before: str | None, after: str | None) -> dict[str, str]:
    """A changed text by its length: the audit log keeps no words that could name a protected person."""
    return change(_length(before), _length(after))


def _length(text: str | None) -> str:
    return f"{len(text or '')} characters"


def shown(action: str, changes: Mapping[str, Any] | None) -> dict[str, Any]:
    """A row's changes in today's shape, whenever it was written (older rows are converted, not rewritten)."""
    out = dict(changes or {})
    state = out.get("state")
    if action == "issue.sending" and isinstance(state, list) and len(state) == 2:  # written in either order
        out["state"] = change(state[1] if state[0] == "sending" else state[0], "sending")
    elif isinstance(state, list) and len(state) == 2:  # subscriber.complaint: [before, after]
        out["state"] = change(*state)
    elif action in ("issue.approved", "issue.approved_first") and isinstance(state, str):
        out["state"] = change("draft", state)  # only a draft can be approved
    if action == "issue.edited":  # texts were recorded as "changed", flags as their new value
        for key, value in out.items():
            if value == "changed":
                out[key] = change(NOT_RECORDED, NOT_RECORDED)
            elif isinstance(value, bool):
                out[key] = change(not value, value)
    if action == "section.reorder" and isinstance(out.get("before"), dict) and isinstance(out.get("order"), list):
        before = out.pop("before")
        out["order"] = change(sorted(before, key=lambda slug: before[slug]), out["order"])
    return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
