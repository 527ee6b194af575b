"""The public directory pages: home, search results, categories, services and organisations."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta

import sqlalchemy as sa

from portal.extensions import db
from portal.models import CostUnit, RegulatorBody, ServiceStatus, Weekday
from tests.support.directory_factories import (
    add_contact,
    add_cost,
    add_language,
    add_local_offer_answer,
    add_locality,
    add_location,
    add_opening,
    file_under,
    make_accessibility_feature,
    make_need,
)
from tests.support.factories import make_organisation, make_service, make_term
from tests.support.html import parse, text_of, texts

# --- home ---------------------------------------------------------------------------------------------------


def test_home_page_offers_a_search_box_that_goes_to_the_results(client):
    page = parse(client.get("/"))

    assert texts(page, "//h1") == ["Find care and support"]
    form = page.xpath("//main//form[@role='search']")[0]
    assert form.get("method") == "get"
    assert form.get("action") == "/services"
    search_box = form.xpath(".//input[@name='q']")[0]
    assert texts(form, f".//label[@for='{search_box.get('id')}']") == ["Search for care and support"]
    assert form.xpath(".//input[@name='postcode']")
    assert not form.xpath(".//input[@name='csrf_token']")


def test_home_page_lists_top_level_categories_in_order_with_service_counts(client):
    later = make_term(name="Advice", position=2, description="Information and advice")
    first = make_term(name="Zebra care", position=1)
    make_term(name="Housing", position=1)
    child = make_term(name="Respite", parent=first)
    other_child = make_term(name="Home care", parent=first)
    both = make_service(name="Short breaks")
    file_under(both, child, other_child)  # counted once
    file_under(make_service(name="Care at home"), other_child)
    file_under(make_service(name="Closed", status=ServiceStatus.INACTIVE), child)
    file_under(make_service(organisation=make_organisation(approved=False)), first)

    page = parse(client.get("/"))

    names = texts(page, "//ul[contains(@class, 'directory-categories')]/li//h3")
    assert names == ["Housing", "Zebra care", "Advice"]
    items = page.xpath("//ul[contains(@class, 'directory-categories')]/li")
    assert items[1].xpath(".//a/@href") == [f"/categories/{first.slug}"]
    assert "2 services" in texts(items[1], ".//p")
    assert "0 services" in texts(items[0], ".//p")
    assert "Information and advice" in texts(items[2], ".//p")
    assert later.slug in items[2].xpath(".//a/@href")[0]


def test_home_page_says_to_call_999_in_an_emergency_and_links_to_contact(client):
    page = parse(client.get("/"))

    help_text = " ".join(texts(page, "//h2[.='Get help now']/following-sibling::ul[1]/li"))
    assert "call 999" in help_text
    assert page.xpath("//main//a[@href='/contact']")


def test_home_page_in_welsh_shows_welsh_category_names(client):
    make_term(name="Carers", name_cy="Gofalwyr")

    page = parse(client.get("/?lang=cy"))

    assert texts(page, "//ul[contains(@class, 'directory-categories')]/li//h3") == ["Gofalwyr"]


# --- search -------------------------------------------------------------------------------------------------


def result_names(page) -> list[str]:
    return texts(page, "//ul[contains(@class, 'directory-results')]/li//h2/a")


def test_search_finds_only_services_containing_every_word(client):
    both = make_service(name="Respite for carers", summary="Overnight breaks")
    make_service(name="Respite for children")
    by_organisation = make_service(
        organisation=make_organisation(name="Carers Trust Aldermoor"), name="Short breaks",
        description="Planned RESPITE stays.",
    )

    page = parse(client.get("/services?q=respite+Carers"))

    assert sorted(result_names(page)) == ["Respite for carers", "Short breaks"]
    assert texts(page, "//h1") == ["2 results for 'respite Carers'"]
    links = page.xpath("//ul[contains(@class, 'directory-results')]/li//h2/a/@href")
    assert sorted(links) == sorted([f"/services/{both.id}", f"/services/{by_organisation.id}"])


def test_a_search_result_shows_its_summary_organisation_and_area(client):
    service = make_service(organisation=make_organisation(name="Age Concern"), name="Lunch club",
                           summary="A hot meal and company")
    add_locality(service, name="Northfield")
    add_location(service, postcode="AM3 4BX")

    page = parse(client.get("/services?q=lunch"))

    assert texts(page, "//h1") == ["1 result for 'lunch'"]
    item = page.xpath("//ul[contains(@class, 'directory-results')]/li")[0]
    paragraphs = " | ".join(texts(item, ".//p"))
    assert "A hot meal and company" in paragraphs
    assert "Age Concern" in paragraphs
    assert "Northfield, AM3" in paragraphs
    assert "AM3 4BX" not in paragraphs


def test_search_never_shows_inactive_services_or_unapproved_organisations(client):
    make_service(name="Befriending visible")
    make_service(name="Befriending closed", status=ServiceStatus.INACTIVE)
    make_service(name="Befriending pending", organisation=make_organisation(approved=False))

    page = parse(client.get("/services?q=befriending"))

    assert result_names(page) == ["Befriending visible"]


def test_percent_and_underscore_in_a_search_are_literal_characters(client):
    make_service(name="100% club")
    make_service(name="1000 club")
    make_service(name="room_a hire")
    make_service(name="roomXa hire")

    assert result_names(parse(client.get("/services?q=100%25"))) == ["100% club"]
    assert result_names(parse(client.get("/services?q=room_a"))) == ["room_a hire"]


def test_a_search_with_no_results_gives_advice_and_the_information_line(client, app):
    page = parse(client.get("/services?q=zzzzqqq"))

    assert texts(page, "//h1") == ["0 results for 'zzzzqqq'"]
    advice = " ".join(texts(page, "//main//li"))
    assert "checking your spelling" in advice
    assert "using fewer words" in advice
    assert page.xpath("//main//a[starts-with(@href, '/#categories')]")
    assert any(app.config["COUNCIL_PHONE"] in text for text in texts(page, "//main//p"))


def test_search_results_come_twenty_to_a_page_with_pagination(client):
    for n in range(25):
        make_service(name=f"Day centre {n:02d}")

    first = parse(client.get("/services?q=centre"))
    second = parse(client.get("/services?q=centre&page=2"))

    assert texts(first, "//h1") == ["25 results for 'centre'"]
    assert len(result_names(first)) == 20
    assert result_names(second) == [f"Day centre {n:02d}" for n in range(20, 25)]
    next_link = first.xpath("//nav[contains(@class, 'govuk-pagination')]//a[@rel='next']/@href")
    assert next_link == ["/services?q=centre&page=2"]
    assert second.xpath("//nav[contains(@class, 'govuk-pagination')]//a[@aria-current='page']/@href") == [
        "/services?q=centre&page=2"
    ]
    assert client.get("/services?q=centre&page=3").status_code == 404


def test_a_search_for_html_shows_the_words_as_text(client):
    response = client.get("/services?q=%3Cscript%3Ealert(1)%3C/script%3E")
    page = parse(response)

    assert texts(page, "//h1") == ["0 results for '<script>alert(1)</script>'"]
    assert not page.xpath("//script[contains(., 'alert(1)')]")


def test_an_invalid_postcode_shows_an_error_summary(client):
    page = parse(client.get("/services?q=care&postcode=not+a+postcode"))

    assert texts(page, "//div[contains(@class, 'govuk-error-summary')]//li") == [
        "Enter a real postcode, like AM1 1AA"
    ]
    assert page.xpath("//title")[0].text_content().strip().startswith("Error:")


def test_a_list_of_results_loads_in_the_same_number_of_queries_whatever_its_length(client, app):
    def queries_for_search() -> int:
        statements = []

        def count(*args):
            statements.append(args)

        sa.event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert client.get("/services?q=club").status_code == 200
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", count)
        return len(statements)

    for n in range(2):
        service = make_service(name=f"Club {n}")
        add_location(service)
        add_locality(service, name=f"Town {n}")
    few = queries_for_search()
    for n in range(2, 20):
        service = make_service(name=f"Club {n}")
        add_location(service)
        add_locality(service, name=f"Town {n}")
    many = queries_for_search()

    assert many == few


# --- categories ---------------------------------------------------------------------------------------------


def test_a_category_page_shows_its_children_and_services_beneath_it(client):
    parent = make_term(name="Support at home", description="Help to live at home.")
    term = make_term(name="Personal care", parent=parent, description="Washing and dressing.\n\nAnd more.")
    grandchild = make_term(name="Night care", parent=term)
    file_under(make_service(name="Direct service"), term)
    file_under(make_service(name="Night sitters"), grandchild)
    file_under(make_service(name="Elsewhere"), parent)
    file_under(make_service(name="Closed", status=ServiceStatus.INACTIVE), term)

    page = parse(client.get(f"/categories/{term.slug}"))

    assert texts(page, "//h1") == ["Personal care"]
    assert "Washing and dressing." in texts(page, "//main//p")
    assert page.xpath("//main//a[.='Night care']/@href") == [f"/categories/{grandchild.slug}"]
    listed = texts(page, "//ul[contains(@class, 'directory-results')]/li//h3/a")
    assert listed == ["Direct service", "Night sitters"]
    crumbs = page.xpath("//nav[contains(@class, 'govuk-breadcrumbs')]//a")
    assert [(text_of(a), a.get("href")) for a in crumbs] == [
        ("Home", "/"), ("Support at home", f"/categories/{parent.slug}")
    ]


def test_category_services_are_paginated(client):
    term = make_term(name="Clubs")
    for n in range(21):
        file_under(make_service(name=f"Club {n:02d}"), term)

    second = parse(client.get(f"/categories/{term.slug}?page=2"))

    assert texts(second, "//ul[contains(@class, 'directory-results')]/li//h3/a") == ["Club 20"]
    assert second.xpath("//nav[contains(@class, 'govuk-pagination')]//a[@rel='prev']/@href") == [
        f"/categories/{term.slug}?page=1"
    ]


def test_an_unknown_category_is_not_found(client):
    assert client.get("/categories/no-such-category").status_code == 404


def test_a_category_page_in_welsh_shows_the_welsh_name(client):
    term = make_term(name="Carers", name_cy="Gofalwyr", description="For carers", description_cy="I ofalwyr")

    page = parse(client.get(f"/categories/{term.slug}?lang=cy"))

    assert texts(page, "//h1") == ["Gofalwyr"]
    assert "I ofalwyr" in texts(page, "//main//p")


# --- service ------------------------------------------------------------------------------------------------


def summary_value(page, key: str) -> list[str]:
    return texts(page, f"//dl//div[dt[normalize-space()='{key}']]/dd")


def test_a_service_page_says_what_it_is_and_who_it_is_for(client):
    service = make_service(
        name="Youth club", summary="Games and trips",
        description="First paragraph\nsame paragraph.\n\n<b>Second</b>",
        minimum_age=5, maximum_age=11, eligibility_description="Children living in the borough",
        referral_required=True,
    )
    service.needs.append(make_need(name="Autism"))

    page = parse(client.get(f"/services/{service.id}"))

    assert texts(page, "//h1") == ["Youth club"]
    paragraphs = page.xpath("//h2[@id='what-it-is']/following-sibling::p")
    # A single line break stays a line break inside the paragraph; a blank line starts a new paragraph.
    assert [" ".join(part.strip() for part in p.itertext()) for p in paragraphs[:3]] == [
        "Games and trips", "First paragraph same paragraph.", "Second"]
    # The description is limited rich text: bold survives the sanitiser, scripts and handlers never do.
    assert texts(page, "//main//p/b") == ["Second"]
    assert summary_value(page, "Age") == ["From 5 to 11 years"]
    assert summary_value(page, "Who can use it") == ["Children living in the borough"]
    assert summary_value(page, "Needs it supports") == ["Autism"]
    assert summary_value(page, "Referral needed")[0].startswith("Yes")


def test_service_ages_read_as_plain_english(client):
    adults = make_service(minimum_age=18)
    everyone = make_service()

    assert summary_value(parse(client.get(f"/services/{adults.id}")), "Age") == ["18 and over"]
    assert summary_value(parse(client.get(f"/services/{everyone.id}")), "Age") == ["All ages"]


def test_a_service_page_shows_the_weekly_opening_times_and_note(client):
    service = make_service(schedule_note="Closed on bank holidays.")
    add_opening(service, Weekday.WE, time(13, 0), time(16, 30))
    add_opening(service, Weekday.MO, time(9, 30), time(12, 0))
    add_opening(service, Weekday.MO, time(14, 0), time(17, 0))

    page = parse(client.get(f"/services/{service.id}"))

    days = page.xpath("//dl[contains(@class, 'directory-opening-times')]//dt")
    assert [text_of(day) for day in days] == ["Monday", "Wednesday"]
    monday = summary_value(page, "Monday")[0]
    assert "9:30" in monday and "12:00" in monday and "2:00" in monday
    assert "Closed on bank holidays." in texts(page, "//main//p")


def test_a_service_page_in_welsh_shows_welsh_day_and_category_names(client):
    service = make_service()
    file_under(service, make_term(name="Carers", name_cy="Gofalwyr"))
    add_opening(service, Weekday.MO, time(9, 0), time(17, 0))

    page = parse(client.get(f"/services/{service.id}?lang=cy"))

    assert texts(page, "//dl[contains(@class, 'directory-opening-times')]//dt") == ["Dydd Llun"]
    assert texts(page, "//ul[contains(@class, 'directory-service-categories')]//a") == ["Gofalwyr"]


def test_a_service_page_shows_costs_with_their_units(client):
    paid = make_service()
    add_cost(paid, amount_pence=1850, unit=CostUnit.HOUR)
    add_cost(paid, amount_pence=4000, unit=CostUnit.DAY, option="Weekend")
    free = make_service(is_free=True)

    costs = texts(parse(client.get(f"/services/{paid.id}")), "//ul[contains(@class, 'directory-costs')]/li")
    free_page = parse(client.get(f"/services/{free.id}"))

    assert costs == ["£18.50 per hour", "Weekend: £40.00 per day"]
    assert texts(free_page, "//h2[@id='cost']/following-sibling::p[1]") == ["Free"]


def test_a_service_page_gives_contact_links_that_work(client):
    service = make_service(email="hello@example.org", url="https://example.org/club")
    add_contact(service, name="Sam Jones", phones=("01632 960 123",))

    page = parse(client.get(f"/services/{service.id}"))

    assert page.xpath("//dl[contains(@class, 'directory-contact')]//a[.='01632 960 123']/@href") == [
        "tel:01632960123"
    ]
    assert page.xpath("//a[.='hello@example.org']/@href") == ["mailto:hello@example.org"]
    website = page.xpath("//dl[contains(@class, 'directory-contact')]//a[@href='https://example.org/club']")[0]
    assert "noopener" in website.get("rel").split()
    assert summary_value(page, "Contact") == ["Sam Jones"]


def test_a_website_that_is_not_http_is_never_a_link(client):
    service = make_service(url="javascript:alert(1)")

    page = parse(client.get(f"/services/{service.id}"))

    assert not page.xpath("//a[contains(@href, 'javascript')]")
    assert summary_value(page, "Website") == ["javascript:alert(1)"]


def service_with_access_and_languages():
    service = make_service()
    service.accessibility_features.append(make_accessibility_feature(name="Step-free access",
                                                                      name_cy="Mynediad heb risiau"))
    add_language(service, "pl")
    add_language(service, "sgn-GB")
    add_language(service, "cy", note="some staff")
    return service


def test_a_service_page_lists_accessibility_and_languages_by_name(client):
    service = service_with_access_and_languages()

    page = parse(client.get(f"/services/{service.id}"))

    assert texts(page, "//ul[contains(@class, 'directory-accessibility')]/li") == ["Step-free access"]
    assert texts(page, "//ul[contains(@class, 'directory-languages')]/li") == [
        "Welsh (some staff)", "Polish", "British Sign Language"
    ]


def test_a_welsh_service_page_names_accessibility_and_languages_in_welsh(client):
    # One request per test: the test's app context (and Flask-Babel's cached locale) spans its requests.
    service = service_with_access_and_languages()

    page = parse(client.get(f"/services/{service.id}?lang=cy"))

    assert texts(page, "//ul[contains(@class, 'directory-accessibility')]/li") == ["Mynediad heb risiau"]
    assert "Pwyleg" in texts(page, "//ul[contains(@class, 'directory-languages')]/li")


def test_a_service_page_shows_its_send_local_offer_answers(client):
    service = make_service(local_offer=True, local_offer_description="Part of the Local Offer.",
                           local_offer_url="https://example.org/local-offer")
    add_local_offer_answer(service, "How accessible is the setting?", "Fully accessible.")
    add_local_offer_answer(service, "Who can I contact?", "")

    page = parse(client.get(f"/services/{service.id}"))

    section = "//div[contains(@class, 'directory-local-offer')]/"
    assert texts(page, section + "h3") == ["How accessible is the setting?"]
    assert "Fully accessible." in texts(page, section + "p")
    assert "Part of the Local Offer." in texts(page, section + "p")
    assert page.xpath(f"{section}p/a/@href") == ["https://example.org/local-offer"]


def test_a_service_page_links_its_organisation_and_categories(client):
    organisation = make_organisation(name="Crossroads Care")
    service = make_service(organisation=organisation)
    term = make_term(name="Carers")
    file_under(service, term)

    page = parse(client.get(f"/services/{service.id}"))

    assert page.xpath("//h2[@id='organisation']/following-sibling::p[1]/a/@href") == [
        f"/organisations/{organisation.id}"
    ]
    assert page.xpath("//ul[contains(@class, 'directory-service-categories')]//a/@href") == [
        f"/categories/{term.slug}"
    ]


def test_a_service_page_shows_when_it_was_last_checked(client):
    recent = make_service(last_checked_at=datetime(2026, 3, 3, 12, 0, tzinfo=UTC))
    stale = make_service(last_checked_at=datetime.now(UTC) - timedelta(days=400))
    fresh = make_service(last_checked_at=datetime.now(UTC) - timedelta(days=30))
    notice = ("This information was last checked over a year ago. "
              "Contact the provider to check it is still right.")

    recent_page = parse(client.get(f"/services/{recent.id}"))
    stale_page = parse(client.get(f"/services/{stale.id}"))
    fresh_page = parse(client.get(f"/services/{fresh.id}"))

    last_checked = texts(recent_page, "//p[contains(@class, 'directory-last-checked')]")
    assert last_checked == ["Last checked: 3 March 2026"]
    assert any(notice in text for text in texts(stale_page, "//div[contains(@class, 'govuk-warning-text')]"))
    assert not fresh_page.xpath("//div[contains(@class, 'govuk-warning-text')]")


def test_a_service_page_shows_the_full_address_of_an_ordinary_place(client):
    service = make_service()
    add_location(service, name="Civic Hall", address_1="2 Market Street", city="Aldermoor",
                 postcode="AM1 2CD")

    page = parse(client.get(f"/services/{service.id}"))

    assert texts(page, "//p[contains(@class, 'directory-address')]") == ["2 Market Street Aldermoor AM1 2CD"]


def test_a_hidden_address_never_appears_anywhere(client):
    organisation = make_organisation(name="Safe Haven")
    service = make_service(organisation=organisation, name="Refuge")
    add_location(service, name="Haven House", address_1="7 Secret Lane", address_2="Hidden Court",
                 city="Aldermoor", postcode="AM9 8ZZ", hide_exact_address=True,
                 description="Behind the church", latitude=51.5, longitude=-0.1)
    file_under(service, term := make_term(name="Safety"))

    pages = [client.get(url) for url in (f"/services/{service.id}", "/services?q=refuge",
                                         f"/categories/{term.slug}", f"/organisations/{organisation.id}")]

    for response in pages:
        body = response.get_data(as_text=True)
        for secret in ("7 Secret Lane", "Hidden Court", "AM9 8ZZ", "AM98ZZ", "8ZZ", "Haven House",
                       "Behind the church", "51.5"):
            assert secret not in body, f"{secret!r} leaked on {response.request.path}"
    service_page = parse(pages[0])
    address = " ".join(texts(service_page, "//p[contains(@class, 'directory-address')]"))
    assert "AM9" in address
    assert "exact address is given when you contact the service" in address


def test_a_service_named_with_html_shows_it_as_text(client):
    service = make_service(name="<script>alert(1)</script>", summary="<img src=x onerror=alert(2)>")
    file_under(service, term := make_term(name="Tests"))

    service_page = parse(client.get(f"/services/{service.id}"))
    category_page = parse(client.get(f"/categories/{term.slug}"))

    assert texts(service_page, "//h1") == ["<script>alert(1)</script>"]
    assert not service_page.xpath("//script[contains(., 'alert')]")
    assert not service_page.xpath("//img[@onerror]")
    listed = texts(category_page, "//ul[contains(@class, 'directory-results')]//a")
    assert listed == ["<script>alert(1)</script>"]
    assert not category_page.xpath("//script[contains(., 'alert')]")


def test_services_that_are_not_public_are_not_found(client):
    inactive = make_service(status=ServiceStatus.INACTIVE)
    closed = make_service(status=ServiceStatus.TEMPORARILY_CLOSED)
    unapproved = make_service(organisation=make_organisation(approved=False))

    for service_id in (inactive.id, closed.id, unapproved.id, uuid.uuid4()):
        assert client.get(f"/services/{service_id}").status_code == 404


# --- organisation -------------------------------------------------------------------------------------------


def test_an_organisation_page_shows_its_details_and_public_services(client):
    organisation = make_organisation(
        name="Crossroads Care", description="A local charity.", website="www.crossroads.example.org",
        email="info@crossroads.example.org", phone="01632 960 555", charity_number="1234567",
        company_number="07654321", regulator=RegulatorBody.CQC, registration_id="1-101",
        registration_rating="Good",
    )
    make_service(organisation=organisation, name="Carers' breaks")
    make_service(organisation=organisation, name="Old service", status=ServiceStatus.INACTIVE)

    page = parse(client.get(f"/organisations/{organisation.id}"))

    assert texts(page, "//h1") == ["Crossroads Care"]
    assert "A local charity." in texts(page, "//main//p")
    assert page.xpath("//dl//a[.='www.crossroads.example.org']/@href") == ["https://www.crossroads.example.org"]
    assert summary_value(page, "Email") == ["info@crossroads.example.org"]
    assert page.xpath("//dl//a[.='01632 960 555']/@href") == ["tel:01632960555"]
    assert summary_value(page, "Registered charity number") == ["1234567"]
    assert summary_value(page, "Company number") == ["07654321"]
    assert summary_value(page, "Care Quality Commission (CQC) registration number") == ["1-101"]
    assert summary_value(page, "CQC rating") == ["Good"]
    assert texts(page, "//ul[contains(@class, 'directory-results')]//h3/a") == ["Carers' breaks"]


def test_an_unapproved_or_unknown_organisation_is_not_found(client):
    pending = make_organisation(approved=False)

    assert client.get(f"/organisations/{pending.id}").status_code == 404
    assert client.get(f"/organisations/{uuid.uuid4()}").status_code == 404
