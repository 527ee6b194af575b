"""Providers write priced offers on their listings and publish them; residents see published offers on the
service page (English and Welsh). Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from portal.data import offers as offer_data
from portal.data.payout_details import payout_details_of
from portal.extensions import db
from portal.models import (
    AuditEvent,
    ListingChange,
    MembershipRole,
    Offer,
    OfferStatus,
    OfferUnit,
    Organisation,
    PayoutDetailsStatus,
    Role,
    Service,
    TaxonomyTerm,
    User,
    VerificationStatus,
)
from tests.support.factories import make_organisation, make_service, make_term, make_user, sign_in
from tests.support.html import csrf_token, parse, texts
from tests.support.offer_factories import make_offer, make_payout_details


@dataclass
class Provider:
    organisation: Organisation
    service: Service
    term: TaxonomyTerm
    owner: User
    editor: User


@pytest.fixture
def provider(session) -> Provider:
    term = make_term(name="Personal assistants", name_cy="Cynorthwywyr personol")
    organisation = make_organisation(name="Kestrel Care")
    service = make_service(organisation=organisation, name="Kestrel personal assistants")
    service.taxonomy_terms = [term]
    make_payout_details(organisation)
    owner = make_user(name="Olu Owner", roles=(Role.PROVIDER,), organisations=[organisation])
    editor = make_user(name="Eddie Editor", roles=(Role.PROVIDER,), organisations=[organisation],
                       membership_role=MembershipRole.EDITOR)
    db.session.flush()
    return Provider(organisation=organisation, service=service, term=term, owner=owner, editor=editor)


def offer_form(provider: Provider, **fields) -> dict:
    return {
        "title": "Personal assistant support at home",
        "category": str(provider.term.id),
        "unit": "hour",
        "price": "15.50",
        "min_units": "2",
        "max_units": "20",
        "description": "Help with getting up, meals and going out.",
        "cancellation_terms": "Cancel at least 24 hours before and you pay nothing.",
        "title_cy": "",
        "description_cy": "",
        "cancellation_terms_cy": "",
        **fields,
    }


def post_new_offer(client, provider: Provider, **fields):
    path = f"/provider/listings/{provider.service.id}/offers/new"
    token = csrf_token(parse(client.get(path)))
    return client.post(path, data={"csrf_token": token, **offer_form(provider, **fields)})


def press(client, offer: Offer, action: str):
    """Press the offer's Publish or Withdraw button on the listing's offers page."""
    page = parse(client.get(f"/provider/listings/{offer.service_id}/offers"))
    form = page.xpath(f"//form[@action='/provider/offers/{offer.id}/{action}']")
    assert form, f"no {action} button for {offer.title}"
    return client.post(form[0].get("action"), data={"csrf_token": form[0].xpath(".//input/@value")[0]})


def error_messages(document) -> list[str]:
    return texts(document, "//div[contains(@class, 'govuk-error-summary')]//li")


def changes_for(service: Service) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(ListingChange)
                             .where(ListingChange.subject_id == service.id))


def actions_for(offer: Offer) -> list[str]:
    return list(db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.subject_id == str(offer.id))
                                   .order_by(AuditEvent.occurred_at, AuditEvent.id)))


def shown_offer_titles(client, service: Service, language: str = "en") -> list[str]:
    page = parse(client.get(f"/services/{service.id}?lang={language}"))
    return texts(page, "//div[@id='offers']//h3")


# --- Writing offers ------------------------------------------------------------------------------------------


def test_an_editor_adds_an_offer_and_the_price_typed_in_pounds_is_kept_as_exact_pence(client, provider):
    sign_in(client, provider.editor)

    response = post_new_offer(client, provider, price="£15.50")

    assert response.status_code == 302
    offer = db.session.scalar(sa.select(Offer).where(Offer.service_id == provider.service.id))
    assert (offer.price_pence, offer.unit, offer.min_units, offer.max_units) == (1550, OfferUnit.HOUR, 2, 20)
    assert offer.status is OfferStatus.DRAFT
    assert offer.category_id == provider.term.id
    assert offer.organisation_id == provider.organisation.id
    assert actions_for(offer) == ["offer.created"]
    listed = parse(client.get(response.headers["Location"]))
    assert texts(listed, f"//div[@id='offer-{offer.id}']//dd")[0] == "£15.50 an hour"


@pytest.mark.parametrize(("fields", "message"), [
    ({"price": ""}, "Enter the price"),
    ({"price": "12.505"}, "Price must have no more than 2 numbers after the decimal point, like 12.50"),
    ({"price": "0"}, "Price must be more than £0"),
    ({"price": "-3.00"}, "Price must be more than £0"),
    ({"price": "10000.01"}, "Price must be £10,000 or less"),
    ({"price": "twelve pounds"}, "Price must be an amount in pounds and pence, like 12.50"),
    ({"title": ""}, "Enter a title"),
    ({"unit": ""}, "Select what the price is for"),
    ({"cancellation_terms": ""}, "Enter the cancellation terms"),
    ({"min_units": "1.5"}, "Smallest number must be a whole number, like 2"),
    ({"min_units": "0"}, "Smallest number must be between 1 and 1000"),
    ({"min_units": "5", "max_units": "3"}, "Largest number must be the same as or more than the smallest number"),
    ({"max_units": ""}, "Enter the largest number someone can buy"),
])
def test_a_provider_is_told_in_plain_words_what_to_fix_and_nothing_is_saved(client, provider, fields, message):
    sign_in(client, provider.owner)

    response = post_new_offer(client, provider, **fields)

    assert response.status_code == 200
    assert error_messages(parse(response)) == [message]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Offer)) == 0


def test_an_offer_can_only_have_one_of_its_listings_categories(client, provider):
    elsewhere = make_term(name="Home care")
    sign_in(client, provider.owner)

    response = post_new_offer(client, provider, category=str(elsewhere.id))

    assert error_messages(parse(response)) == ["Select the category of care and support"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Offer)) == 0


def test_a_listing_without_categories_asks_for_one_before_an_offer_can_be_added(client, provider):
    provider.service.taxonomy_terms = []
    sign_in(client, provider.owner)

    page = parse(client.get(f"/provider/listings/{provider.service.id}/offers"))
    response = client.get(f"/provider/listings/{provider.service.id}/offers/new")

    assert page.xpath("//p[@id='no-categories']")
    assert response.status_code == 302


def test_editing_a_published_offer_changes_the_price_on_the_site_and_tells_the_search_index(client, provider):
    offer = make_offer(service=provider.service, title="PA hours", price_pence=1550)
    sign_in(client, provider.owner)
    before = changes_for(provider.service)
    path = f"/provider/offers/{offer.id}/edit"
    page = parse(client.get(path))
    assert page.xpath("//input[@name='price']/@value") == ["15.50"]

    response = client.post(path, data={"csrf_token": csrf_token(page),
                                       **offer_form(provider, title="PA hours", price="16.00")})

    assert response.status_code == 302
    assert offer.price_pence == 1600
    assert changes_for(provider.service) == before + 1
    assert "£16.00 an hour" in texts(parse(client.get(f"/services/{provider.service.id}")), "//div[@id='offers']//dd")


# --- Publishing and withdrawing -------------------------------------------------------------------------------


def test_publishing_puts_the_offer_on_the_service_page_and_reindexes_the_listing(client, provider):
    offer = make_offer(service=provider.service, title="PA hours", status=OfferStatus.DRAFT)
    sign_in(client, provider.editor)
    before = changes_for(provider.service)
    assert shown_offer_titles(client, provider.service) == []

    response = press(client, offer, "publish")

    assert response.status_code == 302
    assert offer.status is OfferStatus.PUBLISHED
    assert changes_for(provider.service) == before + 1
    assert actions_for(offer)[-1] == "offer.published"
    assert shown_offer_titles(client, provider.service) == ["PA hours"]


def test_withdrawing_takes_the_offer_off_the_service_page_and_reindexes_the_listing(client, provider):
    offer = make_offer(service=provider.service, title="PA hours")
    sign_in(client, provider.owner)
    before = changes_for(provider.service)

    press(client, offer, "withdraw")

    assert offer.status is OfferStatus.WITHDRAWN
    assert changes_for(provider.service) == before + 1
    assert actions_for(offer)[-1] == "offer.withdrawn"
    assert shown_offer_titles(client, provider.service) == []


def test_a_withdrawn_offer_can_be_published_again(client, provider):
    offer = make_offer(service=provider.service, title="PA hours", status=OfferStatus.WITHDRAWN)
    sign_in(client, provider.owner)

    press(client, offer, "publish")

    assert offer.status is OfferStatus.PUBLISHED


@pytest.mark.parametrize(("payout", "reason"), [
    (None, "Your organisation has not given the council its bank details for payments."),
    (PayoutDetailsStatus.SUBMITTED, "The council has not checked your organisation's bank details yet."),
    (PayoutDetailsStatus.REJECTED, "The council did not accept your organisation's bank details."),
])
def test_publishing_is_refused_until_the_council_has_verified_the_bank_details(client, session, payout, reason):
    term = make_term(name="Short breaks")
    organisation = make_organisation(name="Willow Breaks")
    service = make_service(organisation=organisation, name="Willow short breaks")
    if payout is not None:
        make_payout_details(organisation, status=payout)
    offer = make_offer(service=service, category=term, status=OfferStatus.DRAFT, title="A day at the coast")
    owner = make_user(roles=(Role.PROVIDER,), organisations=[organisation])
    sign_in(client, owner)
    before = changes_for(service)

    response = press(client, offer, "publish")
    page = parse(client.get(response.headers["Location"]))

    assert offer.status is OfferStatus.DRAFT
    assert changes_for(service) == before
    banner = " ".join(texts(page, "//div[contains(@class, 'govuk-notification-banner')]"))
    assert "‘A day at the coast’ cannot be published yet." in banner and reason in banner
    assert any(reason in text for text in texts(page, "//div[@id='publish-blocks']//li"))


def test_publishing_is_refused_for_an_organisation_the_council_has_not_approved(client, provider):
    provider.organisation.verification_status = VerificationStatus.PENDING
    offer = make_offer(service=provider.service, status=OfferStatus.DRAFT)
    sign_in(client, provider.owner)

    press(client, offer, "publish")

    assert offer.status is OfferStatus.DRAFT
    assert offer_data.what_stops_publishing(offer)[:2] == ["organisation_not_approved", "listing_not_public"]


def test_publishing_is_refused_for_a_listing_that_is_not_in_the_directory(client, provider):
    provider.service.published_at = None
    offer = make_offer(service=provider.service, status=OfferStatus.DRAFT)
    sign_in(client, provider.owner)

    press(client, offer, "publish")

    assert offer.status is OfferStatus.DRAFT
    assert offer_data.what_stops_publishing(offer) == ["listing_not_public"]


def test_publishing_is_refused_when_the_category_has_left_the_listing(session, provider):
    offer = make_offer(service=provider.service, status=OfferStatus.DRAFT)
    provider.service.taxonomy_terms = [make_term(name="Home care")]

    with pytest.raises(offer_data.NotReadyToPublish) as refused:
        offer_data.publish_offer(actor=provider.owner, offer=offer)

    assert refused.value.reasons == ["category_not_on_listing"]


# --- Who may see and change offers ---------------------------------------------------------------------------


def test_another_organisations_provider_can_neither_see_nor_change_the_offers(client, provider):
    offer = make_offer(service=provider.service, title="PA hours", status=OfferStatus.DRAFT)
    other = make_user(roles=(Role.PROVIDER,), organisations=[make_organisation(name="Birch Support")])
    sign_in(client, other)
    token = csrf_token(parse(client.get("/account")))
    before = (offer.title, offer.status, offer.price_pence)

    answers = [
        client.get(f"/provider/listings/{provider.service.id}/offers").status_code,
        client.get(f"/provider/listings/{provider.service.id}/offers/new").status_code,
        client.post(f"/provider/listings/{provider.service.id}/offers/new",
                    data={"csrf_token": token, **offer_form(provider)}).status_code,
        client.get(f"/provider/offers/{offer.id}/edit").status_code,
        client.post(f"/provider/offers/{offer.id}/edit",
                    data={"csrf_token": token, **offer_form(provider, price="1.00")}).status_code,
        client.post(f"/provider/offers/{offer.id}/publish", data={"csrf_token": token}).status_code,
        client.post(f"/provider/offers/{offer.id}/withdraw", data={"csrf_token": token}).status_code,
    ]

    assert answers == [404] * 7
    assert (offer.title, offer.status, offer.price_pence) == before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Offer)) == 1


# --- The public service page -------------------------------------------------------------------------------


def test_the_service_page_shows_published_offers_with_price_units_and_cancellation_terms(client, provider):
    offer = make_offer(service=provider.service, title="PA hours", price_pence=1550, min_units=2, max_units=20,
                       cancellation_terms="Cancel a day before.")
    make_offer(service=provider.service, title="A draft", status=OfferStatus.DRAFT)
    make_offer(service=provider.service, title="Gone", status=OfferStatus.WITHDRAWN)

    page = parse(client.get(f"/services/{provider.service.id}"))

    assert texts(page, "//div[@id='offers']//h3") == ["PA hours"]
    card = page.xpath(f"//div[@id='offer-{offer.id}']")[0]
    assert card.get("data-offer-id") == str(offer.id)
    assert texts(card, ".//dd") == ["£15.50 an hour", "From 2 hours to 20 hours in one order",
                                    "Cancel a day before."]


def test_the_service_page_shows_offers_in_welsh_when_the_provider_gave_welsh(client, provider):
    make_offer(service=provider.service, title="PA hours", title_cy="Oriau cynorthwyydd personol", price_pence=1550,
               min_units=3, max_units=3, cancellation_terms="Cancel a day before.",
               cancellation_terms_cy="Canslwch ddiwrnod ymlaen llaw.")
    make_offer(service=provider.service, title="Equipment loan", unit=OfferUnit.ITEM, price_pence=2500)

    page = parse(client.get(f"/services/{provider.service.id}?lang=cy"))

    assert texts(page, "//div[@id='offers']//h3") == ["Oriau cynorthwyydd personol", "Equipment loan"]
    first = texts(page, "//div[@id='offers']/div[1]//dd")
    assert first[2] == "Canslwch ddiwrnod ymlaen llaw."
    assert "Cancel a day before." not in " ".join(texts(page, "//div[@id='offers']"))
    assert texts(page, "//h2[@id='offers-heading']") == ["Prynu gyda thaliad uniongyrchol"]
    assert first[:2] == ["£15.50 yr awr", "3 awr mewn un archeb"]


def test_offers_of_a_provider_whose_bank_details_wait_for_a_check_are_neither_shown_nor_sold(client, provider):
    offer = make_offer(service=provider.service, title="PA hours")
    payout_details_of(provider.organisation).status = PayoutDetailsStatus.SUBMITTED

    assert shown_offer_titles(client, provider.service) == []
    assert offer_data.purchasable_offer(offer.id) is None
    assert offer.status is OfferStatus.PUBLISHED  # nothing was withdrawn: it comes back once verified


def test_only_published_offers_of_public_listings_can_be_bought(session, provider):
    on_sale = make_offer(service=provider.service)
    draft = make_offer(service=provider.service, status=OfferStatus.DRAFT)
    hidden_listing = make_service(organisation=provider.organisation, published_at=None)
    on_hidden = make_offer(service=hidden_listing, category=provider.term)

    assert offer_data.purchasable_offer(on_sale.id) is on_sale
    assert offer_data.purchasable_offer(draft.id) is None
    assert offer_data.purchasable_offer(on_hidden.id) is None
