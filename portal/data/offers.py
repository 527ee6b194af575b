"""Priced offers on a listing: what a direct-payment holder can buy from a provider, at a price per unit.

Any member of the listing's organisation (owner or editor) writes offers; routes reach an offer only through its
listing (``offer_for`` -> ``access.service_for``), so another organisation's offer is "not found". An offer is a
draft until published. Publishing needs an approved organisation, a public listing, VERIFIED payout details and
a category that is one of the listing's own (the holder's care plan is checked against it at checkout).

Residents see, and holders can buy, only published offers of public listings whose organisation's payout details
are verified (``shown_offers_clause``); when details change and wait for the council again, the offers stay
published but are hidden until they are verified (see ``portal.data.payout_details``).

Every publish, withdraw or change to a published offer appends a ListingChange for the listing, so the search
index reloads it. Money is integer pence; prices typed as pounds are parsed with Decimal, never floats.
Functions stage changes and audit events in the caller's transaction and never commit.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, fields
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.data import audit
from portal.data.access import NotPermitted, service_for
from portal.data.listings import record_listing_change
from portal.data.payout_details import payout_details_of, verified_organisations_clause
from portal.extensions import db
from portal.models import (
    Offer,
    OfferStatus,
    OfferUnit,
    PayoutDetailsStatus,
    Service,
    TaxonomyTerm,
    User,
    public_services_clause,
)

MAX_PRICE_PENCE = 1_000_000  # £10,000 a unit: anything dearer is a typing mistake, or not for this marketplace
MAX_UNITS = 1000
TITLE_MAX = 120
TEXT_MAX = 5000

UNIT_LABELS = {
    OfferUnit.HOUR: _l("Hour"),
    OfferUnit.SESSION: _l("Session"),
    OfferUnit.DAY: _l("Day"),
    OfferUnit.ITEM: _l("Item"),
}
STATUS_LABELS = {
    OfferStatus.DRAFT: (_l("Draft"), "govuk-tag--grey"),
    OfferStatus.PUBLISHED: (_l("Published"), "govuk-tag--green"),
    OfferStatus.WITHDRAWN: (_l("Withdrawn"), "govuk-tag--orange"),
}
# Why an offer cannot be published, in words the provider can act on.
PUBLISH_BLOCKS = {
    "organisation_not_approved": _l("The council has not approved your organisation yet."),
    "listing_not_public": _l("This listing is not in the directory. The council must approve it first."),
    "payout_details_missing": _l("Your organisation has not given the council its bank details for payments. "
                                 "An owner of the organisation must add them."),
    "payout_details_waiting": _l("The council has not checked your organisation's bank details yet."),
    "payout_details_rejected": _l("The council did not accept your organisation's bank details. An owner of the "
                                  "organisation must change them."),
    "category_not_on_listing": _l("The offer's category is no longer one of the listing's categories. Change the "
                                  "offer's category."),
}

# --- Errors --------------------------------------------------------------------------------------------------


class OfferError(Exception):
    """An offer cannot be saved or changed as asked."""


class InvalidOffer(OfferError):
    """A value is not allowed. ``field`` names it (as the form does)."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


class NotReadyToPublish(OfferError):
    """Publishing is refused. ``reasons`` are keys of PUBLISH_BLOCKS."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__(", ".join(reasons))
        self.reasons = reasons


class InvalidTransition(OfferError):
    """The offer is not in a state that allows this (publishing a published offer, withdrawing a draft)."""


# --- Prices --------------------------------------------------------------------------------------------------


class PriceError(ValueError):
    """A typed price is not usable. ``reason``: missing, not_money, too_many_decimals, not_positive, too_high."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# Pounds, optionally with thousands commas, optionally with pence: 12, 12.5, 12.50, 1,250.00, .50
_PRICE = re.compile(r"^(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d*)?$")


def parse_price(text: str | None) -> int:
    """Pounds and pence as typed ("12.50", "£12.50", "1,250") -> integer pence. Raises PriceError."""
    value = re.sub(r"\s+", "", text or "")
    unsigned = value.lstrip("-").removeprefix("£")
    negative = value.startswith("-") or unsigned.startswith("-")
    value = unsigned.lstrip("-")
    if not value:
        raise PriceError("not_money" if negative else "missing")
    if value == "." or not _PRICE.fullmatch(value):
        raise PriceError("not_money")
    try:
        amount = Decimal(value.replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the pattern admits only plain decimals
        raise PriceError("not_money") from None
    if len(value.partition(".")[2]) > 2:  # never round a price silently: 12.505 is a typing mistake
        raise PriceError("too_many_decimals")
    if negative or amount <= 0:
        raise PriceError("not_positive")
    pence = int(amount * 100)
    if pence > MAX_PRICE_PENCE:
        raise PriceError("too_high")
    return pence


def price_as_typed(pence: int | None) -> str:
    """Integer pence as the form shows it again: 1550 -> "15.50"."""
    if pence is None:
        return ""
    return f"{Decimal(pence) / 100:.2f}"


# --- Offer details ----------------------------------------------------------------------------------------


@dataclass
class OfferDetails:
    """What a provider says about an offer."""

    title: str
    category_id: uuid.UUID
    unit: OfferUnit
    price_pence: int
    min_units: int = 1
    max_units: int = 1
    title_cy: str = ""
    description: str = ""
    description_cy: str = ""
    cancellation_terms: str = ""
    cancellation_terms_cy: str = ""


DETAIL_FIELDS = tuple(f.name for f in fields(OfferDetails))
AUDITED_FIELDS = DETAIL_FIELDS + ("status",)


def details_of(offer: Offer) -> OfferDetails:
    return OfferDetails(**{name: getattr(offer, name) for name in DETAIL_FIELDS})


def category_choices(service: Service) -> list[TaxonomyTerm]:
    """The categories an offer on this listing may have: the listing's own."""
    return sorted(service.taxonomy_terms, key=lambda term: (term.name.lower(), str(term.id)))


def _clean(details: OfferDetails, service: Service) -> dict:
    """The values to store. Raises InvalidOffer naming the first field that is not allowed."""
    values = {name: getattr(details, name) for name in DETAIL_FIELDS}
    for name in ("title", "title_cy", "description", "description_cy", "cancellation_terms",
                 "cancellation_terms_cy"):
        values[name] = (values[name] or "").strip()
    if not values["title"] or len(values["title"]) > TITLE_MAX or len(values["title_cy"]) > TITLE_MAX:
        raise InvalidOffer("title")
    if values["category_id"] not in {term.id for term in service.taxonomy_terms}:
        raise InvalidOffer("category")
    if not isinstance(values["unit"], OfferUnit):
        raise InvalidOffer("unit")
    if not isinstance(values["price_pence"], int) or not 0 < values["price_pence"] <= MAX_PRICE_PENCE:
        raise InvalidOffer("price")
    if not 1 <= values["min_units"] <= MAX_UNITS:
        raise InvalidOffer("min_units")
    if not values["min_units"] <= values["max_units"] <= MAX_UNITS:
        raise InvalidOffer("max_units")
    if not values["cancellation_terms"]:
        raise InvalidOffer("cancellation_terms")
    return values


# --- Reading --------------------------------------------------------------------------------------------------


def offer_for(user: User, offer_id: uuid.UUID) -> Offer:
    """The offer, if ``user`` belongs to the organisation that runs its listing. Raises NotPermitted."""
    offer = db.session.get(Offer, offer_id)
    if offer is None:
        raise NotPermitted(offer_id)
    service_for(user, offer.service_id)
    return offer


def offers_of(service: Service) -> list[Offer]:
    """Every offer on a listing, for its provider: published first, then drafts, then withdrawn."""
    order = sa.case({OfferStatus.PUBLISHED.value: 0, OfferStatus.DRAFT.value: 1}, value=Offer.status, else_=2)
    return list(db.session.scalars(
        sa.select(Offer).where(Offer.service_id == service.id)
        .order_by(order, sa.func.lower(Offer.title), Offer.id)))


def what_stops_publishing(offer: Offer) -> list[str]:
    """Keys of PUBLISH_BLOCKS, in the order the provider should deal with them (empty: it can be published)."""
    reasons = listing_blocks(offer.service)
    if offer.category_id not in {term.id for term in offer.service.taxonomy_terms}:
        reasons.append("category_not_on_listing")
    return reasons


def listing_blocks(service: Service) -> list[str]:
    """What stops any offer on this listing being published (keys of PUBLISH_BLOCKS; empty: nothing)."""
    reasons = []
    if not service.organisation.is_approved:
        reasons.append("organisation_not_approved")
    if not service.is_public:
        reasons.append("listing_not_public")
    return reasons + payout_blocks(service.organisation)


def payout_blocks(organisation) -> list[str]:
    """What the organisation's payout details stop (empty when verified)."""
    payout = payout_details_of(organisation)
    if payout is None:
        return ["payout_details_missing"]
    if payout.status is PayoutDetailsStatus.SUBMITTED:
        return ["payout_details_waiting"]
    if payout.status is PayoutDetailsStatus.REJECTED:
        return ["payout_details_rejected"]
    return []


def shown_offers_clause() -> sa.ColumnElement[bool]:
    """Offers residents see and holders can buy: published, and the organisation's payout details verified.
    (The listing must be public too: ``public_services_clause`` on a join, or a listing already known public.)"""
    return sa.and_(Offer.status == OfferStatus.PUBLISHED, verified_organisations_clause())


def published_offers_for(service: Service) -> list[Offer]:
    """The offers shown on a public listing's page, cheapest first."""
    return list(db.session.scalars(
        sa.select(Offer).where(Offer.service_id == service.id, Offer.organisation_id == service.organisation_id,
                               shown_offers_clause())
        .order_by(Offer.price_pence, sa.func.lower(Offer.title), Offer.id)))


def purchasable_offer(offer_id: uuid.UUID) -> Offer | None:
    """The offer, if a holder may buy it now (shown on a public listing), else None. For the basket and checkout;
    they check the holder's care plan and balance themselves."""
    return db.session.scalar(
        sa.select(Offer).join(Service, Service.id == Offer.service_id)
        .where(Offer.id == offer_id, Offer.organisation_id == Service.organisation_id, shown_offers_clause(),
               public_services_clause()))


# --- Writing ------------------------------------------------------------------------------------------------


def create_offer(*, actor: User, service: Service, details: OfferDetails) -> Offer:
    """A draft offer on the listing. Raises InvalidOffer."""
    values = _clean(details, service)
    offer = Offer(service_id=service.id, organisation_id=service.organisation_id, status=OfferStatus.DRAFT,
                  **values)
    db.session.add(offer)
    db.session.flush()
    audit.record(actor=actor, action="offer.created", subject=offer, organisation_id=offer.organisation_id,
                 after=audit.snapshot(offer, AUDITED_FIELDS), details={"service_id": service.id})
    return offer


def update_offer(*, actor: User, offer: Offer, details: OfferDetails) -> list[str]:
    """Save a provider's edits; returns the fields that changed. A published offer changes on the site at once
    (orders already placed keep the price they were placed at). Raises InvalidOffer."""
    values = _clean(details, offer.service)
    changed = [name for name, value in values.items() if getattr(offer, name) != value]
    if not changed:
        return []
    before = audit.snapshot(offer, AUDITED_FIELDS)
    for name in changed:
        setattr(offer, name, values[name])
    audit.record(actor=actor, action="offer.updated", subject=offer, organisation_id=offer.organisation_id,
                 before=before, after=audit.snapshot(offer, AUDITED_FIELDS), details={"changed": changed})
    if offer.status is OfferStatus.PUBLISHED:
        record_listing_change(offer.service)
    return changed


def publish_offer(*, actor: User, offer: Offer) -> None:
    """Put a draft or withdrawn offer on sale. Raises InvalidTransition, NotReadyToPublish."""
    if offer.status is OfferStatus.PUBLISHED:
        raise InvalidTransition(offer.status)
    reasons = what_stops_publishing(offer)
    if reasons:
        raise NotReadyToPublish(reasons)
    _move(actor=actor, offer=offer, status=OfferStatus.PUBLISHED, action="offer.published")


def withdraw_offer(*, actor: User, offer: Offer) -> None:
    """Take a published offer off sale (orders already placed carry on). Raises InvalidTransition."""
    if offer.status is not OfferStatus.PUBLISHED:
        raise InvalidTransition(offer.status)
    _move(actor=actor, offer=offer, status=OfferStatus.WITHDRAWN, action="offer.withdrawn")


def _move(*, actor: User, offer: Offer, status: OfferStatus, action: str) -> None:
    before = audit.snapshot(offer, ("status",))
    offer.status = status
    record_listing_change(offer.service)
    audit.record(actor=actor, action=action, subject=offer, organisation_id=offer.organisation_id,
                 before=before, after=audit.snapshot(offer, ("status",)), details={"service_id": offer.service_id})
