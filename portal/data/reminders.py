"""Keeping listings current: check reminders, the one-click "still accurate" confirmation, stale listings.

A listing's check date is when it was last confirmed accurate (``last_checked_at``; an imported listing's
``assured_date`` when it was never checked here). Six months after it the organisation's members are emailed
a reminder with a signed one-click link; over a year after it the listing is flagged to the council and the
public pages say it was last checked over a year ago. A ``ListingReminder`` row, unique per listing, kind and
check date, makes each reminder happen once however often (or however many at once) the daily run starts.
"""

from __future__ import annotations

import calendar
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from portal import mail
from portal.data import access
from portal.data.audit import record
from portal.data.listings import record_listing_change
from portal.data.reports import Recipient, organisation_recipients
from portal.extensions import db
from portal.models import ListingReminder, Service, User, public_services_clause, utcnow

SIX_MONTHS = "six_months"
TWELVE_MONTHS = "twelve_months"
TOKEN_SALT = "listing-still-accurate"
TOKEN_MAX_AGE = 60 * 60 * 24 * 30  # 30 days


class StillAccurateLinkError(Exception):
    """A one-click "still accurate" link cannot be used."""


class LinkInvalid(StillAccurateLinkError):
    """The link was altered, or is for another listing."""


class LinkExpired(StillAccurateLinkError):
    """The link is older than 30 days."""


class LinkUsed(StillAccurateLinkError):
    """The listing has been checked since the link was sent (by this link or otherwise)."""


# --- Dates ------------------------------------------------------------------------------------------------


def months_before(day: date, months: int) -> date:
    """The same day ``months`` months earlier; the month's last day when it is shorter (31 Aug -> 28 Feb)."""
    month_index = day.year * 12 + (day.month - 1) - months
    year, month = divmod(month_index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def checked_on(service: Service) -> date | None:
    """The date the listing was last checked, in UTC as stored."""
    if service.last_checked_at is not None:
        return service.last_checked_at.date()
    return service.assured_date


def _start_of_day_after(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC)


def _checked_no_later_than(day: date) -> sa.ColumnElement[bool]:
    return sa.or_(
        Service.last_checked_at < _start_of_day_after(day),
        sa.and_(Service.last_checked_at.is_(None), Service.assured_date <= day),
    )


def is_due(kind: str, checked: date | None, today: date) -> bool:
    """Six months: checked six or more months ago. Twelve: checked over a year ago, as the public pages say."""
    if checked is None:
        return False
    if kind == SIX_MONTHS:
        return checked <= months_before(today, 6)
    return checked < months_before(today, 12)


# --- The daily run ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Due:
    service: Service
    kind: str
    checked_on: date


@dataclass
class ReminderRun:
    reminded: list[Due] = field(default_factory=list)
    flagged: list[Due] = field(default_factory=list)
    emails_sent: int = 0  # reminders to providers; the council's digest is one more when anything was flagged
    already_done: int = 0  # claimed by another run between our query and our insert
    recipients: dict[tuple[uuid.UUID, str], list[str]] = field(default_factory=dict)


def due_reminders(*, today: date) -> list[Due]:
    """Reminders and council flags due on ``today`` that have not been recorded, oldest check first."""
    candidates = db.session.scalars(
        sa.select(Service)
        .where(public_services_clause(), _checked_no_later_than(months_before(today, 6)))
        .options(selectinload(Service.organisation))
        .order_by(Service.last_checked_at, Service.name)
    ).all()
    if not candidates:
        return []
    recorded = {
        tuple(row)
        for row in db.session.execute(
            sa.select(ListingReminder.service_id, ListingReminder.kind, ListingReminder.checked_on).where(
                ListingReminder.service_id.in_([service.id for service in candidates])
            )
        )
    }
    due: list[Due] = []
    for service in candidates:
        checked = checked_on(service)
        for kind in (SIX_MONTHS, TWELVE_MONTHS):
            if is_due(kind, checked, today) and (service.id, kind, checked) not in recorded:
                due.append(Due(service, kind, checked))
    return due


def send_reminders(*, today: date, dry_run: bool = False) -> ReminderRun:
    """Email six-month reminders and flag year-old listings to the council (one digest email), recording a
    ListingReminder for each. Nothing is sent twice for the same listing, kind and check date, even when two
    runs overlap: each row is inserted in its own savepoint and a clash means the other run has it.
    With ``dry_run`` nothing is recorded or sent; the result says what would be."""
    run = ReminderRun()
    for item in due_reminders(today=today):
        recipients = _recipients_for(item)
        if not dry_run and not _claim(item, [r.email for r in recipients]):
            run.already_done += 1
            continue
        run.recipients[(item.service.id, item.kind)] = [r.email for r in recipients]
        if item.kind == SIX_MONTHS:
            run.reminded.append(item)
            if not dry_run:
                run.emails_sent += _email_reminder(item, recipients)
        else:
            run.flagged.append(item)
    if run.flagged and not dry_run:
        _email_council_digest(run.flagged)
    return run


def _recipients_for(item: Due) -> list[Recipient]:
    if item.kind == TWELVE_MONTHS:
        return [Recipient(current_app.config["COUNCIL_EMAIL"], current_app.config["BABEL_DEFAULT_LOCALE"])]
    return organisation_recipients(item.service.organisation)


def _claim(item: Due, recipients: list[str]) -> bool:
    """Record the reminder; False when another run recorded it first (the unique constraint says so)."""
    try:
        with db.session.begin_nested():
            db.session.add(ListingReminder(
                service_id=item.service.id, kind=item.kind, checked_on=item.checked_on, recipients=recipients
            ))
            db.session.flush()
    except IntegrityError:
        return False
    return True


def _email_reminder(item: Due, recipients: list[Recipient]) -> int:
    service = item.service
    link = url_for(
        "public.still_accurate", service_id=service.id, token=still_accurate_token(service), _external=True
    )
    for recipient in recipients:
        with force_locale(recipient.locale):
            mail.send_templated_email(
                to=recipient.email,
                subject=_("Is your listing %(name)s still accurate?", name=service.name),
                template="reminder_six_months",
                service=service,
                checked_on=item.checked_on,
                still_accurate_url=link,
                listings_url=url_for("provider.check_listings", _external=True),
                link_days=TOKEN_MAX_AGE // (60 * 60 * 24),
            )
    return len(recipients)


def _email_council_digest(flagged: list[Due]) -> None:
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        mail.send_templated_email(
            to=current_app.config["COUNCIL_EMAIL"],
            subject=_("Listings not checked for over a year: %(count)s", count=len(flagged)),
            template="reminder_council_digest",
            flagged=flagged,
            service_url=lambda service: url_for("public.service", service_id=service.id, _external=True),
            stale_url=url_for("council.stale_listings", _external=True),
        )


# --- "Still accurate" -------------------------------------------------------------------------------------


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=TOKEN_SALT)


def _check_marker(service: Service) -> str:
    # Bound to the check date it is about: once the listing is checked again the link is spent.
    return service.last_checked_at.isoformat(timespec="seconds") if service.last_checked_at else ""


def still_accurate_token(service: Service) -> str:
    return _serializer().dumps({"service": str(service.id), "checked": _check_marker(service)})


def service_for_token(*, service_id: uuid.UUID, token: str) -> Service:
    """The listing a one-click link confirms. Raises LinkInvalid, LinkExpired or LinkUsed."""
    try:
        payload: Any = _serializer().loads(token, max_age=TOKEN_MAX_AGE)
    except SignatureExpired:
        raise LinkExpired(service_id) from None
    except BadSignature:
        raise LinkInvalid(service_id) from None
    if not isinstance(payload, dict) or payload.get("service") != str(service_id):
        raise LinkInvalid(service_id)
    service = db.session.get(Service, service_id)
    if service is None:
        raise LinkInvalid(service_id)
    if payload.get("checked") != _check_marker(service):
        raise LinkUsed(service_id)
    return service


def confirm_by_token(*, service_id: uuid.UUID, token: str) -> Service:
    """Mark the listing checked now on the authority of an emailed link (nobody is signed in).
    Raises LinkInvalid, LinkExpired or LinkUsed."""
    service = service_for_token(service_id=service_id, token=token)
    _mark_checked(actor=None, service=service, confirmed_by="email link")
    return service


def mark_still_accurate(*, actor: User, service_id: uuid.UUID) -> Service:
    """A provider user confirms one of their organisation's listings. Raises access.NotPermitted."""
    service = access.service_for(actor, service_id)
    _mark_checked(actor=actor, service=service, confirmed_by="provider user")
    return service


def _mark_checked(*, actor: User | None, service: Service, confirmed_by: str) -> None:
    before = {"last_checked_at": service.last_checked_at}
    service.last_checked_at = utcnow()
    record(
        actor=actor,
        action="listing.confirmed_accurate",
        subject=service,
        organisation_id=service.organisation_id,
        before=before,
        after={"last_checked_at": service.last_checked_at},
        details={"confirmed_by": confirmed_by},
    )
    # The check date is part of what search shows: re-index the listing like any other published change.
    record_listing_change(service)


# --- What providers and the council see -------------------------------------------------------------------


@dataclass(frozen=True)
class ListingCheck:
    service: Service
    checked_on: date | None
    reminders: list[ListingReminder]


def _reminders_by_service(services: list[Service]) -> dict[uuid.UUID, list[ListingReminder]]:
    found: dict[uuid.UUID, list[ListingReminder]] = {service.id: [] for service in services}
    if services:
        for reminder in db.session.scalars(
            sa.select(ListingReminder)
            .where(ListingReminder.service_id.in_(list(found)))
            .order_by(ListingReminder.sent_at)
        ):
            found[reminder.service_id].append(reminder)
    return found


def _with_reminders(services: list[Service]) -> list[ListingCheck]:
    # Only reminders about the current check date: older ones were answered by a later check.
    reminders = _reminders_by_service(services)
    return [
        ListingCheck(
            service,
            checked_on(service),
            [reminder for reminder in reminders[service.id] if reminder.checked_on == checked_on(service)],
        )
        for service in services
    ]


def stale_listings(*, today: date) -> list[ListingCheck]:
    """Public listings last checked over a year before ``today``, the oldest first."""
    year_ago = months_before(today, 12) - timedelta(days=1)
    services = db.session.scalars(
        sa.select(Service)
        .where(public_services_clause(), _checked_no_later_than(year_ago))
        .options(selectinload(Service.organisation))
        .order_by(Service.last_checked_at, Service.name)
    ).all()
    return _with_reminders(list(services))


def listings_to_check(user: User) -> list[ListingCheck]:
    """The listings of ``user``'s organisations with their check dates, the longest unchecked first."""
    services = db.session.scalars(
        sa.select(Service)
        .where(Service.organisation_id.in_(access.organisation_ids_of(user)), Service.published_at.is_not(None))
        .options(selectinload(Service.organisation))
    ).all()
    ordered = sorted(services, key=lambda s: (checked_on(s) or date.min, s.name.casefold()))
    return _with_reminders(ordered)
