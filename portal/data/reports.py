"""Problem reports: someone tells us a listing is wrong; the provider and the council follow it up.

A report reaches the organisation's members and the council by email. Provider users see only reports about
their own organisations' listings (reached through portal.data.access); council moderators see them all.
Every state change is audited.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from portal import mail
from portal.data import access
from portal.data.audit import record
from portal.extensions import db
from portal.models import (
    MembershipRole,
    Organisation,
    OrganisationMembership,
    ProblemReport,
    ReportState,
    Service,
    User,
    utcnow,
)

# Letters and digits a reader cannot confuse when reading a reference out over the phone: no 0/O, 1/I/L.
REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
REFERENCE_LENGTH = 8
DESCRIPTION_MAX = 2000
RESPONSE_MAX = 2000


class ReportError(Exception):
    """A problem report could not be changed as asked."""


class ReportUnchanged(ReportError):
    """The state and response are what they already were: nothing to record."""


def new_reference() -> str:
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))


@dataclass(frozen=True)
class Recipient:
    email: str
    locale: str


def organisation_recipients(organisation: Organisation) -> list[Recipient]:
    """The organisation's active members (owners and editors), each with the language they read; the
    organisation's own address when nobody has an account yet."""
    members = db.session.scalars(
        sa.select(User)
        .join(OrganisationMembership, OrganisationMembership.user_id == User.id)
        .where(
            OrganisationMembership.organisation_id == organisation.id,
            OrganisationMembership.role.in_([MembershipRole.OWNER, MembershipRole.EDITOR]),
            User.active.is_(True),
        )
        .order_by(User.email)
    ).all()
    found = [Recipient(user.email, user.preferred_locale or _default_locale()) for user in members]
    if not found and organisation.email:
        found = [Recipient(organisation.email, _default_locale())]
    return found


def _default_locale() -> str:
    return current_app.config.get("BABEL_DEFAULT_LOCALE", "en")


# --- Reporting --------------------------------------------------------------------------------------------


def submit_report(*, service: Service, description: str, reporter_name: str = "",
                  reporter_email: str | None = None) -> ProblemReport:
    """Store a report about ``service`` with a fresh reference and email the provider and the council.
    The reporter has no account, so the audit event has no actor and keeps no personal data."""
    report = ProblemReport(
        service_id=service.id,
        description=description.strip(),
        reporter_name=(reporter_name or "").strip(),
        reporter_email=(reporter_email or "").strip().lower() or None,
        state=ReportState.NEW,
    )
    _insert_with_unique_reference(report)
    record(
        actor=None,
        action="problem_report.created",
        subject=report,
        organisation_id=service.organisation_id,
        after={"state": report.state, "reference": report.reference, "service_id": service.id},
    )
    _email_new_report(report, service)
    return report


def _insert_with_unique_reference(report: ProblemReport, attempts: int = 5) -> None:
    # 31^8 references make a clash very unlikely; the unique constraint settles it if one happens.
    for _attempt in range(attempts):
        report.reference = new_reference()
        try:
            with db.session.begin_nested():
                db.session.add(report)
                db.session.flush()
            return
        except IntegrityError:
            continue  # the savepoint's rollback made the report transient again: try another reference
    raise ReportError("could not find an unused report reference")


def _email_new_report(report: ProblemReport, service: Service) -> None:
    organisation = service.organisation
    for recipient in organisation_recipients(organisation):
        with force_locale(recipient.locale):
            mail.send_templated_email(
                to=recipient.email,
                subject=_("Problem reported with your listing %(name)s (reference %(reference)s)",
                          name=service.name, reference=report.reference),
                template="report_to_provider",
                report=report,
                service=service,
                report_url=url_for("provider.report", report_id=report.id, _external=True),
            )
    with force_locale(_default_locale()):
        mail.send_templated_email(
            to=current_app.config["COUNCIL_EMAIL"],
            subject=_("Problem reported with %(name)s (reference %(reference)s)",
                      name=service.name, reference=report.reference),
            template="report_to_council",
            report=report,
            service=service,
            organisation=organisation,
            report_url=url_for("council.report", report_id=report.id, _external=True),
        )


# --- Reading ----------------------------------------------------------------------------------------------


def _reports_query() -> sa.Select:
    return (
        sa.select(ProblemReport)
        .join(Service, Service.id == ProblemReport.service_id)
        .options(selectinload(ProblemReport.service).selectinload(Service.organisation))
        .order_by(ProblemReport.created_at.desc(), ProblemReport.reference)
    )


def reports_for_provider(user: User, *, state: ReportState | None = None) -> list[ProblemReport]:
    """Reports about the listings of ``user``'s organisations, newest first."""
    query = _reports_query().where(Service.organisation_id.in_(access.organisation_ids_of(user)))
    if state is not None:
        query = query.where(ProblemReport.state == state)
    return list(db.session.scalars(query))


def report_for_provider(user: User, report_id: uuid.UUID) -> ProblemReport:
    """A report about one of ``user``'s organisations' listings. Raises access.NotPermitted otherwise."""
    report = db.session.get(ProblemReport, report_id)
    if report is None:
        raise access.NotPermitted(report_id)
    access.service_for(user, report.service_id)
    return report


def reports_for_council(*, state: ReportState | None = None,
                        organisation_id: uuid.UUID | None = None) -> list[ProblemReport]:
    query = _reports_query()
    if state is not None:
        query = query.where(ProblemReport.state == state)
    if organisation_id is not None:
        query = query.where(Service.organisation_id == organisation_id)
    return list(db.session.scalars(query))


def report_by_id(report_id: uuid.UUID) -> ProblemReport | None:
    return db.session.get(ProblemReport, report_id)


def organisations_with_reports() -> list[Organisation]:
    """Organisations that have had at least one report: the council's filter choices."""
    return list(
        db.session.scalars(
            sa.select(Organisation)
            .where(Organisation.id.in_(
                sa.select(Service.organisation_id).join(ProblemReport, ProblemReport.service_id == Service.id)
            ))
            .order_by(Organisation.name)
        )
    )


# --- Handling ---------------------------------------------------------------------------------------------


def _state_snapshot(report: ProblemReport) -> dict[str, Any]:
    return {"state": report.state, "response_note": report.response_note}


def change_state(*, actor: User, report: ProblemReport, state: ReportState, response_note: str = "") -> None:
    """Move ``report`` to ``state`` with the handler's note, audited with before and after.
    Raises ReportUnchanged when neither the state nor the note would change."""
    note = (response_note or "").strip()
    if state is report.state and note == (report.response_note or ""):
        raise ReportUnchanged(report.id)
    before = _state_snapshot(report)
    report.state = state
    report.response_note = note
    report.handled_by_id = actor.id
    report.resolved_at = utcnow() if state is ReportState.RESOLVED else None
    record(
        actor=actor,
        action="problem_report.state_changed",
        subject=report,
        organisation_id=report.service.organisation_id,
        before=before,
        after=_state_snapshot(report),
        details={"reference": report.reference, "by": "council" if actor.is_council else "provider"},
    )
