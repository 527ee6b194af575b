"""Recording audit events in the caller's transaction."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import Enum
from typing import Any

from portal.extensions import db
from portal.models import AuditEvent


def _plain(value: Any) -> Any:
    """Make a value JSON-safe for the audit record."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    return value


def snapshot(obj: Any, fields: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """The named attributes of ``obj`` as a JSON-safe dict, for an event's before/after."""
    return {name: _plain(getattr(obj, name)) for name in fields}


def record(
    *,
    actor: Any | None,
    action: str,
    subject: Any | None = None,
    subject_type: str | None = None,
    subject_id: Any | None = None,
    organisation_id: uuid.UUID | None = None,
    before: dict | None = None,
    after: dict | None = None,
    details: dict | None = None,
) -> AuditEvent:
    """Add an audit event to the session. The caller's transaction commits it with the change it describes."""
    if subject is not None:
        subject_type = subject_type or subject.__tablename__
        subject_id = subject_id or getattr(subject, "id", None)
    event = AuditEvent(
        actor_id=getattr(actor, "id", None) if actor is not None and getattr(actor, "is_authenticated", True) else None,
        action=action,
        subject_type=subject_type or "system",
        subject_id=str(subject_id) if subject_id is not None else None,
        organisation_id=organisation_id,
        before=_plain(before) if before is not None else None,
        after=_plain(after) if after is not None else None,
        details=_plain(details) if details is not None else None,
    )
    db.session.add(event)
    return event
