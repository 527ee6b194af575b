"""Provider organisations: onboarding, members, invitations, join requests, and the council's approval.

Every function stages changes in the caller's transaction, writes the audit event (with the organisation's id,
so the council's audit view can filter by it) and never commits. Domain errors are the named exceptions below;
provider routes reach organisations only through portal/data/access.py before calling in here.

Verification-relevant changes after approval: an approved organisation that edits its numbers, registration,
insurance or DBS date stays approved (its listings stay up: residents depend on them and the council would not
want a care agency to vanish because it renewed its insurance), but the change is flagged to the council as
"details changed since approval" until a moderator marks the new details as checked. The flag is derived from
the audit log (a ``organisation.verification_details_changed`` event after ``verified_at``), so it needs no
column of its own. A *rejected* organisation that edits its details goes back to the council's queue.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, fields
from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app, url_for
from flask_babel import _
from flask_babel import lazy_gettext as _l

from portal.data import audit
from portal.data.listings import record_listing_change
from portal.extensions import db
from portal.mail import send_templated_email
from portal.models import (
    AuditEvent,
    MembershipRole,
    Organisation,
    OrganisationKind,
    OrganisationMembership,
    RegulatorBody,
    User,
    VerificationStatus,
    utcnow,
)

INSURANCE_WARNING_DAYS = 30
DBS_VALID_YEARS = 3
DETAILS_CHANGED_ACTION = "organisation.verification_details_changed"

# --- Errors --------------------------------------------------------------------------------------------------


class OrganisationError(Exception):
    """An organisation action cannot be done as asked."""


class OrganisationNotFound(OrganisationError):
    """No such organisation that the user may ask to join (it may not be approved)."""


class AlreadyMember(OrganisationError):
    """The user already belongs to the organisation."""


class DuplicateJoinRequest(OrganisationError):
    """The user already has a request waiting for this organisation's owners."""


class DuplicateInvitation(OrganisationError):
    """An unexpired invitation to this address is already waiting."""


class InvitationNotUsable(OrganisationError):
    """The invitation cannot be accepted. ``reason`` is one of: not_found, expired, revoked, accepted."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class WrongInvitee(OrganisationError):
    """The signed-in user's email address is not the one the invitation was sent to."""


class LastOwner(OrganisationError):
    """The change would leave the organisation without an owner."""


class InvalidTransition(OrganisationError):
    """The organisation or request is not in a state that allows this decision."""


class ReasonRequired(OrganisationError):
    """A rejection or suspension needs a reason the owners can act on."""


# --- Reference formats (shared with the forms) -------------------------------------------------------------

# England and Wales: 6 or 7 digits; Scotland (OSCR): SC + 6 digits; Northern Ireland: NIC + 6 digits.
CHARITY_NUMBER = re.compile(r"^(?:\d{6,7}|SC\d{6}|NIC\d{6})$")
# Companies House: 8 characters, either 8 digits or a 2-letter prefix (SC, NI, OC, ...) and 6 digits.
COMPANY_NUMBER = re.compile(r"^(?:\d{8}|[A-Z]{2}\d{6})$")

CQC_RATINGS = ("Outstanding", "Good", "Requires improvement", "Inadequate")
OFSTED_RATINGS = ("Outstanding", "Good", "Requires improvement to be good", "Inadequate")
RATING_LABELS = {
    "Outstanding": _l("Outstanding"),
    "Good": _l("Good"),
    "Requires improvement": _l("Requires improvement"),
    "Requires improvement to be good": _l("Requires improvement to be good"),
    "Inadequate": _l("Inadequate"),
}

KIND_LABELS = {
    OrganisationKind.CHARITY: _l("Charity"),
    OrganisationKind.COMPANY: _l("Company"),
    OrganisationKind.SOLE_TRADER: _l("Sole trader or self-employed personal assistant"),
    OrganisationKind.COMMUNITY_GROUP: _l("Community or voluntary group"),
    OrganisationKind.PUBLIC_BODY: _l("Public body, such as the NHS or a school"),
}
REGULATOR_LABELS = {RegulatorBody.CQC: _l("Care Quality Commission (CQC)"), RegulatorBody.OFSTED: _l("Ofsted")}
VERIFICATION_LABELS = {
    VerificationStatus.PENDING: (_l("Waiting for council check"), "govuk-tag--blue"),
    VerificationStatus.APPROVED: (_l("Approved"), "govuk-tag--green"),
    VerificationStatus.REJECTED: (_l("Not approved"), "govuk-tag--red"),
    VerificationStatus.SUSPENDED: (_l("Suspended"), "govuk-tag--orange"),
}


def normalise_reference(value: str | None) -> str:
    """A charity or company number as registers print it: no spaces, capital letters."""
    return re.sub(r"\s+", "", value or "").upper()


def ratings_for(regulator: RegulatorBody | None) -> tuple[str, ...]:
    if regulator is RegulatorBody.CQC:
        return CQC_RATINGS
    if regulator is RegulatorBody.OFSTED:
        return OFSTED_RATINGS
    return ()


# --- Organisation details ----------------------------------------------------------------------------------


@dataclass
class OrganisationDetails:
    """What a provider tells the council about their organisation."""

    name: str
    kind: OrganisationKind
    description: str = ""
    website: str | None = None
    email: str | None = None
    phone: str | None = None
    charity_number: str | None = None
    company_number: str | None = None
    regulator: RegulatorBody | None = None
    registration_id: str | None = None
    registration_rating: str | None = None
    insurance_expires_on: date | None = None
    dbs_checked_on: date | None = None


DETAIL_FIELDS = tuple(f.name for f in fields(OrganisationDetails))
# What the council checks before approving: a change to any of these after approval is flagged to it.
VERIFICATION_FIELDS = (
    "kind",
    "charity_number",
    "company_number",
    "regulator",
    "registration_id",
    "registration_rating",
    "insurance_expires_on",
    "dbs_checked_on",
)
VERIFICATION_FIELD_LABELS = {
    "kind": _l("Kind of organisation"),
    "charity_number": _l("Charity number"),
    "company_number": _l("Company number"),
    "regulator": _l("Regulator"),
    "registration_id": _l("Registration ID"),
    "registration_rating": _l("Latest inspection rating"),
    "insurance_expires_on": _l("Public liability insurance ends"),
    "dbs_checked_on": _l("DBS check date"),
}
STATE_FIELDS = ("verification_status", "verified_at", "verification_note")


def details_of(organisation: Organisation) -> OrganisationDetails:
    return OrganisationDetails(**{name: getattr(organisation, name) for name in DETAIL_FIELDS})


def create_organisation(*, actor: User, details: OrganisationDetails) -> Organisation:
    """A new organisation waiting for the council's check, with ``actor`` as its owner; the council is emailed."""
    organisation = Organisation(verification_status=VerificationStatus.PENDING, **_values(details))
    db.session.add(organisation)
    db.session.add(OrganisationMembership(user=actor, organisation=organisation, role=MembershipRole.OWNER))
    db.session.flush()
    audit.record(
        actor=actor,
        action="organisation.created",
        subject=organisation,
        organisation_id=organisation.id,
        after=audit.snapshot(organisation, DETAIL_FIELDS + ("verification_status",)),
    )
    _email_council(
        subject=_("New provider to check: %(name)s", name=organisation.name),
        template="organisation_submitted_council",
        organisation=organisation,
        submitted_by=actor,
    )
    return organisation


def update_organisation(*, actor: User, organisation: Organisation, details: OrganisationDetails) -> list[str]:
    """Save an owner's edits; returns the names of the fields that changed (none: nothing is recorded).

    A rejected organisation goes back to the council's queue. An approved one stays approved, but a change to
    what the council checks is flagged to the council and emailed to it (see the module docstring for why).
    """
    before = audit.snapshot(organisation, DETAIL_FIELDS + STATE_FIELDS)
    values = _values(details)
    changed = [name for name, value in values.items() if getattr(organisation, name) != value]
    if not changed:
        return []
    for name in changed:
        setattr(organisation, name, values[name])
    verification_changed = [name for name in changed if name in VERIFICATION_FIELDS]
    resubmitted = organisation.verification_status is VerificationStatus.REJECTED
    if resubmitted:
        organisation.verification_status = VerificationStatus.PENDING
        organisation.verification_note = ""
    audit.record(
        actor=actor,
        action="organisation.updated",
        subject=organisation,
        organisation_id=organisation.id,
        before=before,
        after=audit.snapshot(organisation, DETAIL_FIELDS + STATE_FIELDS),
        details={"changed": changed},
    )
    if organisation.verification_status is VerificationStatus.APPROVED and verification_changed:
        audit.record(
            actor=actor,
            action=DETAILS_CHANGED_ACTION,
            subject=organisation,
            organisation_id=organisation.id,
            before={name: before[name] for name in verification_changed},
            after=audit.snapshot(organisation, verification_changed),
        )
        _email_council(
            subject=_("Provider details changed since approval: %(name)s", name=organisation.name),
            template="organisation_details_changed_council",
            organisation=organisation,
            submitted_by=actor,
            changed=verification_changed,
        )
    elif resubmitted:
        _email_council(
            subject=_("Provider sent again for checking: %(name)s", name=organisation.name),
            template="organisation_submitted_council",
            organisation=organisation,
            submitted_by=actor,
        )
    return changed


def _values(details: OrganisationDetails) -> dict:
    values = {name: getattr(details, name) for name in DETAIL_FIELDS}
    for name in ("website", "email", "phone", "charity_number", "company_number", "registration_id",
                 "registration_rating"):
        values[name] = (values[name] or "").strip() or None
    values["name"] = details.name.strip()
    values["description"] = (details.description or "").strip()
    if values["email"]:
        values["email"] = values["email"].lower()
    for name in ("charity_number", "company_number"):
        if values[name]:
            values[name] = normalise_reference(values[name])
    if values["regulator"] is None:  # a registration means nothing without its regulator
        values["registration_id"] = values["registration_rating"] = None
    if details.kind is not OrganisationKind.SOLE_TRADER:
        values["dbs_checked_on"] = None  # the council asks for a DBS date from sole traders only
    return values


# --- What the council still needs --------------------------------------------------------------------------


def insurance_warning(organisation: Organisation, *, today: date | None = None) -> str | None:
    """"expired", "expiring" (within 30 days), "missing", or None when the insurance is fine."""
    today = today or date.today()
    expires = organisation.insurance_expires_on
    if expires is None:
        return None if organisation.kind is OrganisationKind.PUBLIC_BODY else "missing"
    if expires < today:
        return "expired"
    if expires <= today + timedelta(days=INSURANCE_WARNING_DAYS):
        return "expiring"
    return None


def dbs_is_current(checked_on: date | None, *, today: date | None = None) -> bool:
    today = today or date.today()
    return checked_on is not None and checked_on <= today and checked_on >= years_before(today, DBS_VALID_YEARS)


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def what_the_council_needs(organisation: Organisation, *, today: date | None = None) -> list[str]:
    """Plain-English things the owners must still give or renew before (or to stay) approved."""
    needs: list[str] = []
    kind = organisation.kind
    if kind is None:
        needs.append(_("Tell us what kind of organisation it is"))
    if kind is OrganisationKind.CHARITY and not organisation.charity_number:
        needs.append(_("Add your charity number"))
    if kind is OrganisationKind.COMPANY and not organisation.company_number:
        needs.append(_("Add your company number"))
    warning = insurance_warning(organisation, today=today)
    if warning == "missing":
        needs.append(_("Add the date your public liability insurance ends"))
    elif warning == "expired":
        needs.append(_("Your public liability insurance has ended: add the date your new cover ends"))
    elif warning == "expiring":
        needs.append(_("Your public liability insurance ends soon: add the date your renewed cover ends"))
    if kind is OrganisationKind.SOLE_TRADER and not dbs_is_current(organisation.dbs_checked_on, today=today):
        needs.append(_("Add the date of a DBS check from the last 3 years"))
    return needs


# --- Dashboard and lookups ----------------------------------------------------------------------------------


def memberships_of(user: User) -> list[OrganisationMembership]:
    return list(
        db.session.scalars(
            sa.select(OrganisationMembership)
            .join(Organisation)
            .where(OrganisationMembership.user_id == user.id)
            .order_by(sa.func.lower(Organisation.name), Organisation.id)
        )
    )


def search_approved_organisations(*, query: str, limit: int = 20) -> list[Organisation]:
    """Approved organisations whose name contains ``query`` (case-insensitive), by name."""
    words = query.strip()
    if not words:
        return []
    escaped = words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return list(
        db.session.scalars(
            sa.select(Organisation)
            .where(
                Organisation.verification_status == VerificationStatus.APPROVED,
                Organisation.name.ilike(f"%{escaped}%", escape="\\"),
            )
            .order_by(sa.func.lower(Organisation.name), Organisation.id)
            .limit(limit)
        )
    )


def approved_organisation(organisation_id: uuid.UUID) -> Organisation:
    """An organisation a provider may ask to join. Raises OrganisationNotFound."""
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None or organisation.verification_status is not VerificationStatus.APPROVED:
        raise OrganisationNotFound(organisation_id)
    return organisation


def is_member(user: User, organisation: Organisation) -> bool:
    return membership_of(user.id, organisation.id) is not None


def owners_of(organisation: Organisation) -> list[User]:
    return list(
        db.session.scalars(
            sa.select(User)
            .join(OrganisationMembership, OrganisationMembership.user_id == User.id)
            .where(
                OrganisationMembership.organisation_id == organisation.id,
                OrganisationMembership.role == MembershipRole.OWNER,
            )
            .order_by(User.email)
        )
    )


def membership_of(user_id: uuid.UUID, organisation_id: uuid.UUID) -> OrganisationMembership | None:
    return db.session.scalar(
        sa.select(OrganisationMembership).where(
            OrganisationMembership.user_id == user_id,
            OrganisationMembership.organisation_id == organisation_id,
        )
    )


# --- The council's decisions --------------------------------------------------------------------------------


def organisations_in(status: VerificationStatus) -> list[Organisation]:
    """Organisations in a state: the queue (pending) oldest first, the others by name."""
    order = (Organisation.created_at, Organisation.id) if status is VerificationStatus.PENDING else (
        sa.func.lower(Organisation.name), Organisation.id)
    return list(db.session.scalars(sa.select(Organisation).where(Organisation.verification_status == status)
                                   .order_by(*order)))


def changed_since_approval() -> list[Organisation]:
    """Approved organisations whose checked details changed after the council approved (or last checked) them."""
    changed = sa.select(AuditEvent.id).where(
        AuditEvent.action == DETAILS_CHANGED_ACTION,
        AuditEvent.organisation_id == Organisation.id,
        sa.or_(Organisation.verified_at.is_(None), AuditEvent.occurred_at > Organisation.verified_at),
    )
    return list(db.session.scalars(
        sa.select(Organisation)
        .where(Organisation.verification_status == VerificationStatus.APPROVED, changed.exists())
        .order_by(sa.func.lower(Organisation.name), Organisation.id)
    ))


def details_changed_since_approval(organisation: Organisation) -> list[AuditEvent]:
    """The unchecked changes to what the council checked, oldest first (empty: nothing to re-check)."""
    if organisation.verification_status is not VerificationStatus.APPROVED:
        return []
    clauses = [AuditEvent.action == DETAILS_CHANGED_ACTION, AuditEvent.organisation_id == organisation.id]
    if organisation.verified_at is not None:
        clauses.append(AuditEvent.occurred_at > organisation.verified_at)
    return list(db.session.scalars(sa.select(AuditEvent).where(*clauses).order_by(AuditEvent.occurred_at)))


def expiring_insurance(*, today: date | None = None) -> list[Organisation]:
    """Approved organisations whose insurance has ended or ends within 30 days, soonest first."""
    today = today or date.today()
    return list(db.session.scalars(
        sa.select(Organisation)
        .where(
            Organisation.verification_status == VerificationStatus.APPROVED,
            Organisation.insurance_expires_on.is_not(None),
            Organisation.insurance_expires_on <= today + timedelta(days=INSURANCE_WARNING_DAYS),
        )
        .order_by(Organisation.insurance_expires_on, sa.func.lower(Organisation.name))
    ))


def organisation_for_council(organisation_id: uuid.UUID) -> Organisation:
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        raise OrganisationNotFound(organisation_id)
    return organisation


_OUTCOMES = {"approve": "approved", "reject": "rejected", "suspend": "suspended"}
_ALLOWED = {
    "approve": {VerificationStatus.PENDING, VerificationStatus.REJECTED, VerificationStatus.SUSPENDED},
    "reject": {VerificationStatus.PENDING},
    "suspend": {VerificationStatus.APPROVED},
}


def approve(*, actor: User, organisation: Organisation) -> None:
    """Approve (or reinstate) a provider: its published listings become public again. Raises InvalidTransition."""
    _decide(actor=actor, organisation=organisation, decision="approve", status=VerificationStatus.APPROVED,
            reason="")


def reject(*, actor: User, organisation: Organisation, reason: str) -> None:
    """Turn down a provider waiting for its check. Raises ReasonRequired, InvalidTransition."""
    _decide(actor=actor, organisation=organisation, decision="reject", status=VerificationStatus.REJECTED,
            reason=_required(reason))


def suspend(*, actor: User, organisation: Organisation, reason: str) -> None:
    """Suspend an approved provider: all its listings leave the site and search. Raises ReasonRequired,
    InvalidTransition."""
    _decide(actor=actor, organisation=organisation, decision="suspend", status=VerificationStatus.SUSPENDED,
            reason=_required(reason))


def mark_details_checked(*, actor: User, organisation: Organisation) -> None:
    """The council has re-checked an approved provider's changed details: the flag clears."""
    if organisation.verification_status is not VerificationStatus.APPROVED:
        raise InvalidTransition(organisation.verification_status)
    before = audit.snapshot(organisation, STATE_FIELDS)
    organisation.verified_at = utcnow()
    audit.record(actor=actor, action="organisation.details_checked", subject=organisation,
                 organisation_id=organisation.id, before=before, after=audit.snapshot(organisation, STATE_FIELDS))


def _required(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ReasonRequired()
    return reason


def _decide(*, actor: User, organisation: Organisation, decision: str, status: VerificationStatus,
            reason: str) -> None:
    if organisation.verification_status not in _ALLOWED[decision]:
        raise InvalidTransition(organisation.verification_status)
    was_public = organisation.is_approved
    before = audit.snapshot(organisation, STATE_FIELDS)
    organisation.verification_status = status
    organisation.verification_note = reason
    if status is VerificationStatus.APPROVED:
        organisation.verified_at = utcnow()
    if was_public != organisation.is_approved:
        # Whether its listings are public has changed: the search indexer reloads each and adds or drops it.
        for service in organisation.services:
            record_listing_change(service)
    outcome = _OUTCOMES[decision]
    audit.record(actor=actor, action=f"organisation.{outcome}",
                 subject=organisation, organisation_id=organisation.id, before=before,
                 after=audit.snapshot(organisation, STATE_FIELDS))
    subjects = {
        "approve": _("%(organisation)s is approved", organisation=organisation.name),
        "reject": _("%(organisation)s has not been approved", organisation=organisation.name),
        "suspend": _("%(organisation)s has been suspended", organisation=organisation.name),
    }
    for owner in owners_of(organisation):
        send_templated_email(
            to=owner.email,
            subject=subjects[decision],
            template=f"organisation_{outcome}",
            owner=owner,
            organisation=organisation,
            reason=reason,
            page_url=url_for("provider.organisation", organisation_id=organisation.id, _external=True),
        )


def _email_council(*, subject: str, template: str, organisation: Organisation, **context) -> None:
    send_templated_email(
        to=current_app.config["COUNCIL_EMAIL"],
        subject=subject,
        template=template,
        organisation=organisation,
        review_url=url_for("council.providers_detail", organisation_id=organisation.id, _external=True),
        **context,
    )
