"""The demo borough's generator: deterministic, realistic-looking, and inside the rules the app relies on."""

from __future__ import annotations

import math
import re
from collections import Counter
from datetime import UTC, date, datetime

import pytest

from portal.demo.generator import TARGET_SERVICES, generate, load_json
from portal.models import RegulatorBody, VerificationStatus

TODAY = date(2025, 6, 2)
POSTCODE = re.compile(r"^AM[1-8] [1-9][ABDEFGHJLNPQRSTUWXYZ]{2}$")


@pytest.fixture(scope="module")
def borough():
    return generate(today=TODAY)


def test_the_same_day_gives_the_same_borough_ids_and_all(borough):
    again = generate(today=TODAY)
    assert [s.id for s in again.services] == [s.id for s in borough.services]
    assert [s.listing for s in again.services] == [s.listing for s in borough.services]
    assert [o.data for o in again.organisations] == [o.data for o in borough.organisations]


def test_the_borough_has_about_three_hundred_services_from_about_120_providers(borough):
    assert len(borough.services) == TARGET_SERVICES
    assert len(borough.organisations) == 120
    assert len({s.id for s in borough.services}) == TARGET_SERVICES
    assert len({s.listing.name for s in borough.services}) == TARGET_SERVICES


def test_every_commissioned_category_has_services(borough):
    categories = {term["slug"] for group in load_json("taxonomy")["groups"] for term in group["terms"]}
    assert len(categories) == 24
    covered = Counter(service.category for service in borough.services)
    assert set(covered) == categories


def test_every_category_has_a_welsh_name_and_description():
    for group in load_json("taxonomy")["groups"]:
        for item in [group, *group["terms"]]:
            assert item["name_cy"] and item["description_cy"], item["slug"]
            assert item["description_cy"] != item["description"]


def test_places_have_valid_postcodes_inside_one_small_area(borough):
    places = [place for o in borough.organisations for place in o.locations]
    centre_lat = sum(p.data.latitude for p in places) / len(places)
    centre_lon = sum(p.data.longitude for p in places) / len(places)
    for place in places:
        assert POSTCODE.match(place.data.postcode), place.data.postcode
        north_km = (place.data.latitude - centre_lat) * 111
        east_km = (place.data.longitude - centre_lon) * 111 * math.cos(math.radians(centre_lat))
        assert math.hypot(north_km, east_km) < 10
    assert len({p.data.postcode for p in places}) == len(places)


def test_refuges_and_childminders_hide_their_exact_address(borough):
    hidden = {o.kind for o in borough.organisations for p in o.locations if p.data.hide_exact_address}
    assert hidden == {"domestic_abuse_charity", "childminder"}


def test_phone_numbers_and_addresses_are_reserved_for_fiction(borough):
    for organisation in borough.organisations:
        assert organisation.data.email.endswith("@example.org")
        assert organisation.data.website is None or re.match(
            r"^https://[a-z0-9-]+\.example\.org$", organisation.data.website
        )
        assert re.match(r"^(01632 960\d{3}|07700 900\d{3})$", organisation.data.phone)
    for service in borough.services:
        for contact in service.listing.contacts:
            assert all(re.match(r"^(01632 960\d{3}|07700 900\d{3})$", p.number) for p in contact.phones)


def test_providers_carry_the_registrations_councils_check(borough):
    kinds = {o.kind: o for o in borough.organisations}
    agency = kinds["cqc_agency"].data
    assert agency.regulator is RegulatorBody.CQC and re.match(r"^1-\d{9}$", agency.registration_id)
    assert agency.registration_rating in {"Outstanding", "Good", "Requires improvement"}
    assert re.match(r"^EY\d{6}$", kinds["childminder"].data.registration_id)
    assert kinds["carers_charity"].data.charity_number
    statuses = Counter(o.data.verification_status for o in borough.organisations)
    assert statuses[VerificationStatus.PENDING] == 4


def test_last_checked_dates_spread_over_eighteen_months(borough):
    anchor = datetime(2025, 6, 2, tzinfo=UTC)
    ages = [(anchor - s.listing.last_checked_at).days for s in borough.services]
    assert max(ages) <= 548
    assert 3 <= sum(age > 365 for age in ages) <= 40


def test_every_service_can_be_reached_one_way_or_another(borough):
    for service in borough.services:
        listing = service.listing
        assert listing.in_person or listing.online or listing.by_phone
        assert listing.description.count("\n\n") >= 1
        assert listing.languages[0].code == "en"
        assert listing.is_free or listing.cost_options
        assert all(cost.amount_pence > 0 for cost in listing.cost_options)
    assert any(not s.listing.in_person for s in borough.services)


def test_childrens_services_answer_the_local_offer_questions(borough):
    offers = [s for s in borough.services if s.listing.local_offer]
    assert len(offers) >= 20
    for service in offers:
        assert service.listing.maximum_age is not None and service.listing.maximum_age <= 25
        assert len(service.listing.local_offer_answers) == len(load_json("local_offer")["questions"])
    send = {item["slug"] for item in load_json("vocabularies")["send_needs"]}
    assert all(set(s.need_slugs) & send for s in offers)


def test_languages_use_bcp47_codes(borough):
    codes = {language.code for s in borough.services for language in s.listing.languages}
    assert codes <= {"en", "cy", "pl", "ur", "pa", "bn", "ar", "ro", "sgn-GB"}
    assert {"cy", "sgn-GB"} <= codes
