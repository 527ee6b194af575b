"""Provider payout details: the bank account the council pays a provider into for what holders buy.

Only an organisation's owners give or change them (routes reach the organisation through
``access.organisation_for(owner=True)``). The full account number is kept for the council's payout runs, but it is
never written to the audit log and never shown back to the provider: only its last four digits.

A council direct-payments officer checks new or changed details and verifies or rejects them (the owners are
emailed either way). Only an organisation with VERIFIED details can publish priced offers, and only its
published offers are shown and sold (``portal.data.offers``). Changing verified details sends them back to the
council as SUBMITTED: nothing is withdrawn (offers keep their status and come back once the new details are
verified), but no offer can be published, shown or bought until then, so money never follows bank details the
council has not checked.

Every function stages changes in the caller's transaction, writes an audit event and never commits.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app, url_for
from flask_babel import _
from flask_babel import lazy_gettext as _l

from portal.data import audit
from portal.data.listings import record_listing_change
from portal.data.organisations import owners_of
from portal.extensions import db
from portal.mail import send_templated_email
from portal.models import (
    Offer,
    OfferStatus,
    Organisation,
    PayoutDetails,
    PayoutDetailsStatus,
    Service,
    User,
    utcnow,
)

ACCOUNT_NAME_MAX = 18  # BACS allows 18 characters for the account name
SORT_CODE = re.compile(r"^\d{6}$")
ACCOUNT_NUMBER = re.compile(r"^\d{8}$")
# The BACS character set: letters, numbers, space, full stop, hyphen, forward slash and ampersand.
BACS_CHARACTERS = re.compile(r"^[A-Za-z0-9 .&/-]+$")

STATUS_LABELS = {
    PayoutDetailsStatus.SUBMITTED: (_l("Waiting for council check"), "govuk-tag--blue"),
    PayoutDetailsStatus.VERIFIED: (_l("Verified"), "govuk-tag--green"),
    PayoutDetailsStatus.REJECTED: (_l("Not accepted"), "govuk-tag--red"),
}


# --- Errors --------------------------------------------------------------------------------------------------


class PayoutDetailsError(Exception):
    """Payout details cannot be changed or decided as asked."""


class InvalidBankDetails(PayoutDetailsError):
    """A value is not a valid UK bank detail. ``field`` is account_name, sort_code or account_number."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


class PayoutDetailsNotFound(PayoutDetailsError):
    """No payout details with that id."""


class InvalidTransition(PayoutDetailsError):
    """The details are not in a state that allows this decision."""


class NoteRequired(PayoutDetailsError):
    """Rejecting details needs a note the owners can act on."""


# --- Values --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BankDetails:
    account_name: str
    sort_code: str
    account_number: str


def normalise_sort_code(value: str | None) -> str:
    """A sort code as digits only: people type 30-94-30, 30 94 30 or 309430."""
    return re.sub(r"[\s-]", "", value or "")


def normalise_account_number(value: str | None) -> str:
    return re.sub(r"[\s-]", "", value or "")


def normalise_account_name(value: str | None) -> str:
    return " ".join((value or "").split())


def normalised(details: BankDetails) -> BankDetails:
    return BankDetails(
        account_name=normalise_account_name(details.account_name),
        sort_code=normalise_sort_code(details.sort_code),
        account_number=normalise_account_number(details.account_number),
    )


def problems_with(details: BankDetails) -> list[str]:
    """The fields (account_name, sort_code, account_number) whose normalised value is not valid."""
    details = normalised(details)
    found = []
    if (not details.account_name or len(details.account_name) > ACCOUNT_NAME_MAX
            or not BACS_CHARACTERS.fullmatch(details.account_name)):
        found.append("account_name")
    if not SORT_CODE.fullmatch(details.sort_code):
        found.append("sort_code")
    if not ACCOUNT_NUMBER.fullmatch(details.account_number):
        found.append("account_number")
    return found


def mask_account_number(number: str) -> str:
    """Only the last four digits: "****5678"."""
    return f"****{number[-4:]}" if number else ""


def display_sort_code(sort_code: str) -> str:
    """30-94-30, as banks print it."""
    return "-".join(sort_code[i : i + 2] for i in range(0, len(sort_code), 2))


def masked_snapshot(payout: PayoutDetails) -> dict:
    """What the audit log keeps: never the full account number."""
    return {
        "account_name": payout.account_name,
        "sort_code": payout.sort_code,
        "account_number": mask_account_number(payout.account_number),
        "status": payout.status.value if payout.status else None,
        "decision_note": payout.decision_note,
    }


# --- Reading --------------------------------------------------------------------------------------------------


def payout_details_of(organisation: Organisation) -> PayoutDetails | None:
    return db.session.scalar(sa.select(PayoutDetails).where(PayoutDetails.organisation_id == organisation.id))


def has_verified_payout_details(organisation_id: uuid.UUID) -> bool:
    return db.session.scalar(sa.select(sa.exists().where(
        PayoutDetails.organisation_id == organisation_id,
        PayoutDetails.status == PayoutDetailsStatus.VERIFIED,
    )))


def verified_organisations_clause() -> sa.ColumnElement[bool]:
    """Organisations whose payout details the council has verified, as a condition on Offer.organisation_id."""
    return Offer.organisation_id.in_(
        sa.select(PayoutDetails.organisation_id).where(PayoutDetails.status == PayoutDetailsStatus.VERIFIED))


def payout_details_in(status: PayoutDetailsStatus) -> list[PayoutDetails]:
    """The council's lists: details waiting for a check oldest first, the others most recently decided first."""
    order = ((PayoutDetails.updated_at, PayoutDetails.id) if status is PayoutDetailsStatus.SUBMITTED
             else (PayoutDetails.decided_at.desc(), PayoutDetails.id))
    return list(db.session.scalars(
        sa.select(PayoutDetails).join(Organisation).where(PayoutDetails.status == status).order_by(*order)))


def waiting_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(PayoutDetails).where(
        PayoutDetails.status == PayoutDetailsStatus.SUBMITTED))


def payout_details_for_council(payout_id: uuid.UUID) -> PayoutDetails:
    """Raises PayoutDetailsNotFound."""
    payout = db.session.get(PayoutDetails, payout_id)
    if payout is None:
        raise PayoutDetailsNotFound(payout_id)
    return payout


# --- The provider's owners -----------------------------------------------------------------------------------


def save_payout_details(*, actor: User, organisation: Organisation, details: BankDetails) -> bool:
    """Give or change an organisation's bank details; returns whether anything changed.

    New or changed details wait for the council's check (SUBMITTED). Raises InvalidBankDetails.
    """
    details = normalised(details)
    problems = problems_with(details)
    if problems:
        raise InvalidBankDetails(problems[0])
    payout = payout_details_of(organisation)
    if payout is not None and (payout.account_name, payout.sort_code, payout.account_number) == (
            details.account_name, details.sort_code, details.account_number):
        return False
    before = masked_snapshot(payout) if payout is not None else None
    was_verified = payout is not None and payout.status is PayoutDetailsStatus.VERIFIED
    if payout is None:
        payout = PayoutDetails(organisation_id=organisation.id)
        db.session.add(payout)
    payout.account_name = details.account_name
    payout.sort_code = details.sort_code
    payout.account_number = details.account_number
    payout.status = PayoutDetailsStatus.SUBMITTED
    payout.submitted_by_id = actor.id
    payout.decided_at = None
    payout.decided_by_id = None
    payout.decision_note = ""
    db.session.flush()
    audit.record(actor=actor, action="payout_details.changed" if before else "payout_details.submitted",
                 subject=payout, organisation_id=organisation.id, before=before, after=masked_snapshot(payout))
    if was_verified:
        _offers_changed_visibility(organisation.id)  # its offers leave the directory until checked again
    send_templated_email(
        to=current_app.config["COUNCIL_EMAIL"],
        subject=_("Payout details to check: %(organisation)s", organisation=organisation.name),
        template="payout_details_council",
        organisation=organisation,
        changed=before is not None,
        review_url=url_for("council.payout_details_review", payout_id=payout.id, _external=True),
    )
    return True


# --- The council's decisions ------------------------------------------------------------------------------------


def verify(*, actor: User, payout: PayoutDetails) -> None:
    """The council has checked the details: the provider may publish offers. Raises InvalidTransition."""
    if payout.status is not PayoutDetailsStatus.SUBMITTED:
        raise InvalidTransition(payout.status)
    _decide(actor=actor, payout=payout, status=PayoutDetailsStatus.VERIFIED, note="")


def reject(*, actor: User, payout: PayoutDetails, note: str) -> None:
    """The details are wrong (or no longer trusted): no offer is shown or published until new ones are verified.
    Raises NoteRequired, InvalidTransition."""
    note = (note or "").strip()
    if not note:
        raise NoteRequired()
    if payout.status not in (PayoutDetailsStatus.SUBMITTED, PayoutDetailsStatus.VERIFIED):
        raise InvalidTransition(payout.status)
    _decide(actor=actor, payout=payout, status=PayoutDetailsStatus.REJECTED, note=note)


def _decide(*, actor: User, payout: PayoutDetails, status: PayoutDetailsStatus, note: str) -> None:
    before = masked_snapshot(payout)
    visible_before = payout.status is PayoutDetailsStatus.VERIFIED
    payout.status = status
    payout.decided_at = utcnow()
    payout.decided_by_id = actor.id
    payout.decision_note = note
    outcome = "verified" if status is PayoutDetailsStatus.VERIFIED else "rejected"
    audit.record(actor=actor, action=f"payout_details.{outcome}", subject=payout,
                 organisation_id=payout.organisation_id, before=before, after=masked_snapshot(payout))
    if visible_before != (status is PayoutDetailsStatus.VERIFIED):
        _offers_changed_visibility(payout.organisation_id)
    organisation = payout.organisation
    subject = (_("Your bank details for %(organisation)s are verified", organisation=organisation.name)
               if outcome == "verified"
               else _("Your bank details for %(organisation)s were not accepted", organisation=organisation.name))
    for owner in owners_of(organisation):
        send_templated_email(
            to=owner.email,
            subject=subject,
            template=f"payout_details_{outcome}",
            owner=owner,
            organisation=organisation,
            account_ending=payout.account_number[-4:],
            note=note,
            page_url=url_for("provider.payout_details", organisation_id=organisation.id, _external=True),
        )


def _offers_changed_visibility(organisation_id: uuid.UUID) -> None:
    """The organisation's published offers appeared or disappeared: each listing goes back through the indexer."""
    service_ids = db.session.scalars(
        sa.select(Offer.service_id).where(Offer.organisation_id == organisation_id,
                                          Offer.status == OfferStatus.PUBLISHED).distinct())
    for service_id in service_ids:
        record_listing_change(db.session.get(Service, service_id))
