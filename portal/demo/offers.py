"""Demo priced offers: a few providers with verified bank details selling personal assistant hours, home care,
short breaks and day activities (``data/offers.json``).

Each provider is the first approved organisation of its kind with an active, public listing in the offer's
category, so demo logins (the first of each kind) see their own offers. Ids are uuid5 of stable names; loading
again changes nothing. A created or changed published offer appends a ListingChange for its listing. Never commits.
"""

from __future__ import annotations

import zlib
from datetime import UTC, datetime

from portal.data import offers as offer_data
from portal.data.listings import record_listing_change
from portal.data.payout_details import payout_details_of
from portal.demo.generator import Borough, demo_uuid, load_json
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
)

VERIFIED_AT = datetime(2024, 1, 1, tzinfo=UTC)


def load_offers(borough: Borough) -> dict[str, int]:
    """Create or bring up to date the demo offers and their providers' bank details: counts created and changed."""
    counts = {"created": 0, "changed": 0}
    for spec in load_json("offers")["providers"]:
        found = _seller(borough, spec["kind"], spec["category"])
        if found is None:
            continue
        organisation, service, term = found
        _payout_details(organisation, counts)
        for item in spec["offers"]:
            _offer(organisation, service, term, item, counts)
    db.session.flush()
    return counts


def _seller(borough: Borough, kind: str, category: str) -> tuple[Organisation, Service, TaxonomyTerm] | None:
    for demo_organisation in borough.organisations:
        if demo_organisation.kind != kind:
            continue
        organisation = db.session.get(Organisation, demo_organisation.id)
        if organisation is None or not organisation.is_approved:
            continue
        for demo_service in demo_organisation.services:
            service = db.session.get(Service, demo_service.id)
            if service is None or not service.is_public:
                continue
            term = next((t for t in service.taxonomy_terms if t.slug == category), None)
            if term is not None:
                return organisation, service, term
    return None


def _payout_details(organisation: Organisation, counts: dict[str, int]) -> None:
    number = zlib.crc32(str(organisation.id).encode())  # stable, fictitious bank details
    values = {
        "account_name": _bacs_name(organisation.name),
        "sort_code": f"{number % 1_000_000:06d}",
        "account_number": f"{number % 100_000_000:08d}",
        "status": PayoutDetailsStatus.VERIFIED,
        "decided_at": VERIFIED_AT,
        "decision_note": "",
    }
    payout = payout_details_of(organisation)  # one per organisation, whoever gave it
    if payout is None:
        db.session.add(PayoutDetails(id=demo_uuid("payout", str(organisation.id)), organisation_id=organisation.id,
                                     **values))
        counts["created"] += 1
    elif _update(payout, values):
        counts["changed"] += 1


def _bacs_name(name: str) -> str:
    allowed = "".join(c for c in name if c.isascii() and (c.isalnum() or c in " .&/-"))
    return " ".join(allowed.split())[:18].strip()


def _offer(organisation: Organisation, service: Service, term: TaxonomyTerm, item: dict,
           counts: dict[str, int]) -> None:
    values = {
        "service_id": service.id,
        "organisation_id": organisation.id,
        "category_id": term.id,
        "title": item["title"],
        "title_cy": item["title_cy"],
        "description": item["description"],
        "description_cy": item["description_cy"],
        "unit": OfferUnit(item["unit"]),
        "price_pence": offer_data.parse_price(item["price"]),
        "min_units": item["min_units"],
        "max_units": item["max_units"],
        "cancellation_terms": item["cancellation_terms"],
        "cancellation_terms_cy": item["cancellation_terms_cy"],
        "status": OfferStatus.PUBLISHED,
    }
    offer_id = demo_uuid("offer", str(organisation.id), item["key"])
    offer = db.session.get(Offer, offer_id)
    if offer is None:
        db.session.add(Offer(id=offer_id, **values))
        counts["created"] += 1
    elif _update(offer, values):
        counts["changed"] += 1
    else:
        return
    record_listing_change(service)


def _update(row, values: dict) -> bool:
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed
