"""The demo borough has providers with verified bank details selling priced offers, loaded idempotently."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from portal.data import offers as offer_data
from portal.demo.loader import load_demo
from portal.extensions import db
from portal.models import Offer, OfferStatus, OfferUnit, PayoutDetails, PayoutDetailsStatus, User
from tests.support.html import parse, texts

TODAY = date(2026, 3, 2)


def test_the_demo_has_published_offers_from_providers_with_verified_bank_details(client):
    load_demo(today=TODAY)

    offers = list(db.session.scalars(sa.select(Offer).order_by(Offer.title)))
    assert len(offers) >= 5
    assert all(offer.status is OfferStatus.PUBLISHED for offer in offers)
    assert all(offer_data.purchasable_offer(offer.id) is offer for offer in offers)
    units = {offer.unit for offer in offers}
    assert {OfferUnit.HOUR, OfferUnit.DAY, OfferUnit.SESSION} <= units
    pa_hours = next(offer for offer in offers if offer.title == "Personal assistant hours")
    assert pa_hours.price_pence == 1550
    page = parse(client.get(f"/services/{pa_hours.service_id}"))
    assert "£15.50 an hour" in texts(page, "//div[@id='offers']//dd")
    # The demo's sole-trader personal assistant login sells it.
    pa = db.session.scalar(sa.select(User).where(User.email == "pa@example.org"))
    assert pa_hours.organisation_id in {m.organisation_id for m in pa.memberships}
    statuses = set(db.session.scalars(sa.select(PayoutDetails.status)))
    assert statuses == {PayoutDetailsStatus.VERIFIED}


def test_loading_the_demo_offers_again_changes_nothing(session):
    load_demo(today=TODAY)
    ids = sorted(str(i) for i in db.session.scalars(sa.select(Offer.id)))

    summary = load_demo(today=TODAY)

    assert "offers and bank details" not in summary.created and "offers and bank details" not in summary.changed
    assert sorted(str(i) for i in db.session.scalars(sa.select(Offer.id))) == ids
