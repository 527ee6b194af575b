"""The "Can be bought with a direct payment" filter: services with a published priced offer from a provider
whose payout details the council verified, kept current through the listing change log."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from portal.models import (
    ListingChange,
    Offer,
    OfferStatus,
    OfferUnit,
    Organisation,
    PayoutDetails,
    PayoutDetailsStatus,
    Service,
)
from search import indexer
from tests.support.factories import make_organisation, make_service, make_term
from tests.support.html import parse, texts

LABEL = "Can be bought with a direct payment"


def result_names(page) -> list[str]:
    return texts(page, "//ul[contains(@class, 'directory-results')]/li//h2/a")


def dp_checkbox(page):
    boxes = page.xpath("//input[@type='checkbox'][@name='dp']")
    return boxes[0] if boxes else None


def dp_label(page) -> str | None:
    box = dp_checkbox(page)
    return texts(page, f"//label[@for='{box.get('id')}']")[0] if box is not None else None


def payout_details(session, organisation: Organisation, status=PayoutDetailsStatus.VERIFIED) -> PayoutDetails:
    details = PayoutDetails(organisation_id=organisation.id, account_name="Oak House", sort_code="123456",
                            account_number="12345678", status=status)
    session.add(details)
    session.flush()
    return details


def make_offer(session, service: Service, *, status=OfferStatus.PUBLISHED, price_pence: int = 1850) -> Offer:
    offer = Offer(service_id=service.id, organisation_id=service.organisation_id,
                  category_id=make_term(name="Personal assistants").id, title="An hour of support",
                  unit=OfferUnit.HOUR, price_pence=price_pence, status=status)
    session.add(offer)
    session.flush()
    return offer


def announce(session, service: Service) -> None:
    """What the offers code appends whenever an offer is published or withdrawn."""
    session.add(ListingChange(subject_type="service", subject_id=service.id))
    session.flush()


def test_the_filter_keeps_only_services_a_direct_payment_can_buy_and_shows_its_count(client, session):
    verified = make_organisation(name="Oak House Care")
    payout_details(session, verified)
    buyable = make_service(name="Oak House personal assistants", organisation=verified)
    make_offer(session, buyable)
    make_service(name="Riverside personal assistants")
    indexer.rebuild()

    page = parse(client.get("/services?q=personal+assistants"))
    assert sorted(result_names(page)) == ["Oak House personal assistants", "Riverside personal assistants"]
    assert dp_label(page) == f"{LABEL} (1)"
    assert dp_checkbox(page).get("value") == "yes"
    assert dp_checkbox(page).xpath("ancestor::form")[0].get("method") == "get"

    filtered = parse(client.get("/services?q=personal+assistants&dp=yes"))
    assert result_names(filtered) == ["Oak House personal assistants"]
    assert texts(filtered, "//h1") == ["1 result for 'personal assistants'"]
    assert dp_checkbox(filtered).get("checked") is not None
    [remove] = filtered.xpath("//ul[contains(@class, 'directory-filters__chosen')]//a")
    assert remove.text_content().strip() == f"Remove filter: {LABEL}"
    assert "dp" not in parse_qs(urlsplit(remove.get("href")).query)


def test_draft_or_withdrawn_offers_and_unverified_payout_details_do_not_count(client, session):
    draft = make_service(name="Draft offer day centre")
    payout_details(session, draft.organisation)
    make_offer(session, draft, status=OfferStatus.DRAFT)
    withdrawn = make_service(name="Withdrawn offer day centre")
    payout_details(session, withdrawn.organisation)
    make_offer(session, withdrawn, status=OfferStatus.WITHDRAWN)
    unverified = make_service(name="Unverified day centre")
    payout_details(session, unverified.organisation, status=PayoutDetailsStatus.SUBMITTED)
    make_offer(session, unverified)
    indexer.rebuild()

    page = parse(client.get("/services?q=day+centre"))
    assert len(result_names(page)) == 3
    assert dp_checkbox(page) is None  # no service qualifies: no option that would give nothing
    assert result_names(parse(client.get("/services?q=day+centre&dp=yes"))) == []


def test_publishing_and_withdrawing_an_offer_reaches_the_filter_on_sync(client, session):
    service = make_service(name="Short breaks at Oak House")
    payout_details(session, service.organisation)
    indexer.rebuild()
    assert result_names(parse(client.get("/services?dp=yes"))) == []

    offer = make_offer(session, service)
    announce(session, service)
    indexer.sync()
    assert result_names(parse(client.get("/services?dp=yes"))) == ["Short breaks at Oak House"]

    offer.status = OfferStatus.WITHDRAWN
    announce(session, service)
    indexer.sync()
    assert result_names(parse(client.get("/services?dp=yes"))) == []
