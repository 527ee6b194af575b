"""The council's view of the audit trail: who changed what, when, with the values before and after.

Read-only. Events are listed newest first, filtered by organisation, user, action and date range.
"""

from __future__ import annotations

import json
import math
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from portal.extensions import db
from portal.models import AuditEvent, Organisation, User


@dataclass(frozen=True)
class AuditFilters:
    organisation_id: uuid.UUID | None = None
    user_email: str = ""
    action: str = ""
    date_from: date | None = None
    date_to: date | None = None


@dataclass(frozen=True)
class ChangedValue:
    name: str
    before: str | None  # None: the event has no value for it
    after: str | None


@dataclass(frozen=True)
class AuditRow:
    event: AuditEvent
    actor_name: str | None
    actor_email: str | None
    organisation_name: str | None
    changes: list[ChangedValue] = field(default_factory=list)
    details: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class AuditPage:
    rows: list[AuditRow]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _conditions(filters: AuditFilters, actor) -> list[sa.ColumnElement[bool]]:
    conditions = []
    if filters.organisation_id:
        conditions.append(AuditEvent.organisation_id == filters.organisation_id)
    if filters.user_email:
        # Part of an address finds a person whose exact address the officer does not remember.
        conditions.append(sa.func.lower(actor.email).contains(filters.user_email.strip().lower(), autoescape=True))
    if filters.action:
        conditions.append(AuditEvent.action == filters.action)
    if filters.date_from:
        conditions.append(AuditEvent.occurred_at >= _start_of(filters.date_from))
    if filters.date_to:  # the whole of the last day
        conditions.append(AuditEvent.occurred_at < _start_of(filters.date_to + timedelta(days=1)))
    return conditions


def readable(value: Any) -> str:
    """A recorded value as text: strings as they are, anything else as JSON (the template escapes both)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _changes(event: AuditEvent) -> list[ChangedValue]:
    before, after = event.before or {}, event.after or {}
    names = list(before) + [name for name in after if name not in before]
    return [
        ChangedValue(
            name=name,
            before=readable(before[name]) if name in before else None,
            after=readable(after[name]) if name in after else None,
        )
        for name in names
    ]


def audit_events(*, filters: AuditFilters, page: int = 1, per_page: int = 25) -> AuditPage:
    """One page of events matching ``filters``, newest first."""
    actor = aliased(User)
    conditions = _conditions(filters, actor)
    base = (
        sa.select(AuditEvent, actor.name, actor.email, Organisation.name)
        .outerjoin(actor, actor.id == AuditEvent.actor_id)
        .outerjoin(Organisation, Organisation.id == AuditEvent.organisation_id)
        .where(*conditions)
    )
    total = db.session.scalar(sa.select(sa.func.count()).select_from(base.subquery()))
    result = db.session.execute(
        base.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    rows = [
        AuditRow(
            event=event,
            actor_name=actor_name,
            actor_email=actor_email,
            organisation_name=organisation_name,
            changes=_changes(event),
            details=[(str(key), readable(value)) for key, value in (event.details or {}).items()],
        )
        for event, actor_name, actor_email, organisation_name in result
    ]
    return AuditPage(rows=rows, total=total, page=page, per_page=per_page)


def organisation_choices() -> list[tuple[str, str]]:
    """Organisations that have audit events, for the filter (value, name), by name."""
    rows = db.session.execute(
        sa.select(Organisation.id, Organisation.name)
        .where(Organisation.id.in_(sa.select(AuditEvent.organisation_id).where(AuditEvent.organisation_id.is_not(None))))
        .order_by(Organisation.name, Organisation.id)
    ).all()
    return [(str(row.id), row.name) for row in rows]


def action_choices() -> list[str]:
    """Every action recorded so far, alphabetically."""
    return list(db.session.scalars(sa.select(AuditEvent.action).distinct().order_by(AuditEvent.action)))
