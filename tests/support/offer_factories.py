"""Payout details and priced offers for tests: a provider that can sell, in one or two lines."""

from __future__ import annotations

import itertools

from portal.extensions import db
from portal.models import (
    Offer,
    OfferStatus,
    OfferUnit,
    Organisation,
    PayoutDetails,
    PayoutDetailsStatus,
    Service,
    TaxonomyTerm,
    utcnow,
)
from tests.support.factories import make_service, make_term

_sequence = itertools.count(1)


def make_payout_details(organisation: Organisation, *, status: PayoutDetailsStatus = PayoutDetailsStatus.VERIFIED,
                        account_number: str = "00733445", **fields) -> PayoutDetails:
    payout = PayoutDetails(
        organisation_id=organisation.id,
        account_name=fields.pop("account_name", organisation.name[:18]),
        sort_code=fields.pop("sort_code", "309430"),
        account_number=account_number,
        status=status,
        decided_at=utcnow() if status is not PayoutDetailsStatus.SUBMITTED else None,
        **fields,
    )
    db.session.add(payout)
    db.session.flush()
    return payout


def make_offer(*, service: Service | None = None, category: TaxonomyTerm | None = None,
               status: OfferStatus = OfferStatus.PUBLISHED, price_pence: int = 1550,
               unit: OfferUnit = OfferUnit.HOUR, **fields) -> Offer:
    """An offer on ``service`` (a new public listing by default) in one of its categories (added if missing)."""
    service = service or make_service()
    if category is None:
        category = service.taxonomy_terms[0] if service.taxonomy_terms else make_term(name="Personal assistants")
    if category not in service.taxonomy_terms:
        service.taxonomy_terms.append(category)
    offer = Offer(
        service_id=service.id,
        organisation_id=service.organisation_id,
        category_id=category.id,
        title=fields.pop("title", f"Offer {next(_sequence)}"),
        unit=unit,
        price_pence=price_pence,
        status=status,
        cancellation_terms=fields.pop("cancellation_terms", "Cancel at least 24 hours before and you pay nothing."),
        **fields,
    )
    db.session.add(offer)
    db.session.flush()
    return offer
