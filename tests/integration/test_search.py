"""The search page on a real Whoosh index built from the database: what residents see when they search."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import sqlalchemy as sa
from flask import current_app

from portal.extensions import db
from portal.models import ListingChange, Postcode, SearchLog, Weekday
from search import indexer, store
from tests.support.directory_factories import add_locality, add_location, add_opening, file_under, make_need
from tests.support.factories import make_service, make_term
from tests.support.html import parse, texts


def result_names(page) -> list[str]:
    return texts(page, "//ul[contains(@class, 'directory-results')]/li//h2/a")


def option_counts(page, name: str) -> dict[str, str]:
    """Each checkbox of filter ``name``: its value -> its label with the count."""
    counts = {}
    for box in page.xpath(f"//input[@type='checkbox'][@name='{name}']"):
        counts[box.get("value")] = texts(page, f"//label[@for='{box.get('id')}']")[0]
    return counts


def inset_texts(page) -> list[str]:
    return texts(page, "//div[contains(@class, 'govuk-inset-text')]")


# --- words ---------------------------------------------------------------------------------------------------


def test_only_services_with_every_word_are_found(client):
    make_service(name="Carers' lunch club", summary="A hot meal for carers")
    make_service(name="Lunch club for older people")
    make_service(name="Carers' advice line")
    indexer.rebuild()

    page = parse(client.get("/services?q=lunch+carers"))

    assert result_names(page) == ["Carers' lunch club"]
    assert texts(page, "//h1") == ["1 result for 'lunch carers'"]
    assert not any("simpler way" in text for text in inset_texts(page))


def test_when_no_service_has_every_word_those_matching_most_words_are_shown_and_it_says_so(client):
    make_service(name="Swimming for adults", summary="Gentle swimming sessions")
    make_service(name="Yoga for adults")
    indexer.rebuild()

    page = parse(client.get("/services?q=swimming+adults+tuesday"))

    assert result_names(page)[0] == "Swimming for adults"
    assert "Yoga for adults" not in result_names(page)  # one word of three is not most of them
    assert "No services match all of your words. These services match most of them." in inset_texts(page)


def test_a_quoted_phrase_only_finds_the_words_together(client):
    make_service(name="Day centre", summary="A centre open every day")
    make_service(name="Centre for the day", summary="Open from nine")
    indexer.rebuild()

    assert result_names(parse(client.get('/services?q="day+centre"'))) == ["Day centre"]
    assert sorted(result_names(parse(client.get("/services?q=day+centre")))) == ["Centre for the day", "Day centre"]


def test_respite_finds_short_breaks_and_alzheimers_finds_dementia(client):
    make_service(name="Oak House short breaks", summary="Overnight stays for disabled children")
    make_service(name="Memory café", summary="For people living with dementia and their carers")
    make_service(name="Football club")
    indexer.rebuild()

    assert result_names(parse(client.get("/services?q=respite"))) == ["Oak House short breaks"]
    assert result_names(parse(client.get("/services?q=Alzheimer%27s"))) == ["Memory café"]


def test_a_misspelt_word_offers_the_right_spelling_and_still_finds_services(client):
    make_service(name="Bereavement counselling", summary="Talking to someone after a death")
    indexer.rebuild()

    page = parse(client.get("/services?q=bereavemnet"))

    assert result_names(page) == ["Bereavement counselling"]
    suggestion = page.xpath("//p[contains(@class, 'directory-suggestion')]/a")[0]
    assert suggestion.text_content() == "bereavement"
    assert parse_qs(urlsplit(suggestion.get("href")).query)["q"] == ["bereavement"]
    assert any("similar spelling" in text for text in inset_texts(page))


def test_nothing_typed_breaks_the_search(client):
    make_service(name="Café Cymraeg", summary="Sgwrs dros baned – ŵyr ac wyresau")
    indexer.rebuild()

    for text in ['a AND (b OR NOT c*) title:"x', "[1 TO 5]^2 ~ \\ / : ! {}", "café 🙂👍🏽", "ŵyr", "x" * 5000,
                 '"""', "AND OR NOT", "%00 <script>"]:
        response = client.get("/services", query_string={"q": text[:200]})
        assert response.status_code == 200, text
    assert result_names(parse(client.get("/services", query_string={"q": "wyr"}))) == ["Café Cymraeg"]
    assert result_names(parse(client.get("/services", query_string={"q": "cafe 🙂"}))) == ["Café Cymraeg"]


def test_no_results_give_advice_including_removing_filters_and_the_information_line(client, app):
    make_service(name="Lunch club", is_free=True)
    indexer.rebuild()

    page = parse(client.get("/services?q=zzzzqqq&free=yes"))

    assert texts(page, "//h1") == ["0 results for 'zzzzqqq'"]
    advice = " ".join(texts(page, "//main//li"))
    assert "checking your spelling" in advice and "removing some of the filters" in advice
    assert any(app.config["COUNCIL_PHONE"] in text for text in texts(page, "//main//p"))


# --- results -----------------------------------------------------------------------------------------------


def test_each_result_links_to_its_service_page_by_name_with_a_highlighted_escaped_snippet(client):
    service = make_service(name="<b>Dementia</b> café",
                           description="<script>alert(1)</script> A friendly dementia group & more.")
    indexer.rebuild()

    response = client.get("/services?q=dementia")
    page = parse(response)

    link = page.xpath("//ul[contains(@class, 'directory-results')]/li//h2/a")[0]
    assert link.text_content() == "<b>Dementia</b> café"
    assert link.get("href") == f"/services/{service.id}"
    snippet = page.xpath("//p[contains(@class, 'directory-results__snippet')]")[0]
    assert [mark.text for mark in snippet.xpath(".//mark")] == ["dementia"]
    assert not snippet.xpath(".//*[not(self::mark)]")  # the provider's HTML is text, not markup
    assert "<script>alert(1)</script>" in snippet.text_content()
    assert not page.xpath("//script[contains(., 'alert')]")


def test_results_come_twenty_to_a_page_with_pagination_that_keeps_the_filters(client):
    for n in range(23):
        make_service(name=f"Day centre {n:02d}", is_free=True)
    indexer.rebuild()

    first = parse(client.get("/services?q=centre&free=yes"))
    second = parse(client.get("/services?q=centre&free=yes&page=2"))

    assert texts(first, "//h1") == ["23 results for 'centre'"]
    assert len(result_names(first)) == 20 and len(result_names(second)) == 3
    assert set(result_names(first)) | set(result_names(second)) == {f"Day centre {n:02d}" for n in range(23)}
    next_link = first.xpath("//nav[contains(@class, 'govuk-pagination')]//a[@rel='next']/@href")[0]
    assert parse_qs(urlsplit(next_link).query) == {"q": ["centre"], "free": ["yes"], "page": ["2"]}
    assert client.get("/services?q=centre&free=yes&page=3").status_code == 404


def test_a_change_is_found_by_the_next_search_without_a_restart(client, session):
    make_service(name="Knitting circle")
    indexer.rebuild()
    assert result_names(parse(client.get("/services?q=knitting"))) == ["Knitting circle"]

    added = make_service(name="Knitting for beginners")
    session.add(ListingChange(subject_id=added.id))
    session.flush()
    indexer.sync()

    assert sorted(result_names(parse(client.get("/services?q=knitting")))) == [
        "Knitting circle", "Knitting for beginners"]


def test_a_page_of_results_loads_in_the_same_number_of_queries_whatever_its_length(client):
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

    counts = []
    for total in (2, 15):
        for n in range(total - (2 if counts else 0)):
            service = make_service(name=f"Club {total}-{n}")
            add_location(service)
            add_locality(service, name=f"Town {total}-{n}")
        indexer.rebuild()
        counts.append(queries_for_search())

    assert counts[0] == counts[1]


# --- filters -----------------------------------------------------------------------------------------------


def test_a_parent_category_includes_its_children_and_each_option_shows_its_count(client):
    breaks = make_term(name="Short breaks")
    overnight = make_term(name="Overnight stays", parent=breaks)
    clubs = make_term(name="Clubs")
    file_under(make_service(name="Oak House support"), overnight)
    file_under(make_service(name="Elm support"), breaks)
    file_under(make_service(name="Youth support"), clubs)
    indexer.rebuild()

    page = parse(client.get("/services?q=support"))
    assert option_counts(page, "category") == {breaks.slug: "Short breaks (2)", clubs.slug: "Clubs (1)"}

    narrowed = parse(client.get(f"/services?q=support&category={breaks.slug}"))
    assert sorted(result_names(narrowed)) == ["Elm support", "Oak House support"]
    # A chosen parent offers its children to narrow down.
    assert option_counts(narrowed, "category")[overnight.slug] == "Overnight stays (1)"
    assert texts(narrowed, "//ul[contains(@class, 'directory-filters__chosen')]//a") == [
        "Remove filter: Short breaks"]


def test_filters_combine_with_and_and_counts_follow_the_other_filters(client):
    autism = make_need(name="Autism")
    free_autism = make_service(name="Autism social group", is_free=True)
    free_autism.needs.append(autism)
    paid_autism = make_service(name="Autism tutor group", is_free=False)
    paid_autism.needs.append(autism)
    make_service(name="Free walking group", is_free=True)
    db.session.flush()
    indexer.rebuild()

    page = parse(client.get(f"/services?q=group&need={autism.slug}&free=yes"))

    assert result_names(page) == ["Autism social group"]
    assert option_counts(page, "need") == {autism.slug: "Autism (1)"}
    assert option_counts(page, "free") == {"yes": "Free services only (1)"}
    remove = page.xpath("//ul[contains(@class, 'directory-filters__chosen')]//a[contains(., 'Free')]/@href")[0]
    assert parse_qs(urlsplit(remove).query) == {"q": ["group"], "need": [autism.slug]}


def test_the_age_filter_matches_overlapping_ranges_with_open_bounds(client):
    make_service(name="Toddler play", minimum_age=1, maximum_age=4)
    make_service(name="Play for any age")
    make_service(name="Play up to eleven", maximum_age=11)
    make_service(name="Play for adults", minimum_age=18)
    indexer.rebuild()

    page = parse(client.get("/services?q=play&age=5-10"))

    assert sorted(result_names(page)) == ["Play for any age", "Play up to eleven"]
    counts = option_counts(page, "age")
    assert counts["0-4"] == "Under 5 (3)"
    assert counts["65-plus"] == "65 and over (2)"


def test_locality_attending_and_open_day_filters(client):
    north = make_service(name="North lunch", in_person=True)
    add_locality(north, name="Northfield")
    add_opening(north, Weekday.MO, None, None)
    online = make_service(name="Online lunch chat", in_person=False, online=True)
    add_opening(online, Weekday.SA, None, None)
    indexer.rebuild()

    page = parse(client.get("/services?q=lunch"))
    assert list(option_counts(page, "locality").values()) == ["Northfield (1)"]
    assert option_counts(page, "attending") == {"in-person": "In person (1)", "online": "Online (1)"}
    assert option_counts(page, "day") == {"MO": "Monday (1)", "SA": "Saturday (1)"}

    assert result_names(parse(client.get("/services?q=lunch&attending=online"))) == ["Online lunch chat"]
    assert result_names(parse(client.get("/services?q=lunch&day=MO"))) == ["North lunch"]
    locality = list(option_counts(page, "locality"))[0]
    assert result_names(parse(client.get(f"/services?q=lunch&locality={locality}"))) == ["North lunch"]


def test_unknown_filter_values_in_an_old_bookmark_find_nothing_rather_than_fail(client):
    make_service(name="Lunch club")
    indexer.rebuild()

    response = client.get("/services?q=lunch&category=gone-away&age=<script>&sort=sideways&radius=9999")

    assert response.status_code == 200
    assert result_names(parse(response)) == []


def test_the_page_in_welsh_shows_welsh_category_names(client):
    file_under(make_service(name="Clwb cinio"), term := make_term(name="Lunch clubs", name_cy="Clybiau cinio"))
    indexer.rebuild()

    page = parse(client.get("/services?q=cinio&lang=cy"))

    assert page.xpath("/html/@lang") == ["cy"]
    assert option_counts(page, "category") == {term.slug: "Clybiau cinio (1)"}
    assert result_names(page) == ["Clwb cinio"]


# --- place -------------------------------------------------------------------------------------------------


def _postcode(code: str, latitude: float, longitude: float) -> None:
    db.session.add(Postcode(postcode=code, outward_code=code.split()[0], latitude=latitude, longitude=longitude))
    db.session.flush()


def test_a_postcode_shows_distances_filters_by_radius_and_keeps_online_services(client):
    _postcode("AM1 1AA", 51.5000, -0.1000)
    near = make_service(name="Near lunch club")
    add_location(near, postcode="AM1 1AB", latitude=51.5050, longitude=-0.1000)
    far = make_service(name="Far lunch club")
    add_location(far, postcode="AM9 9ZZ", latitude=51.9000, longitude=-0.1000)
    make_service(name="Phone lunch club", in_person=False, by_phone=True)
    indexer.rebuild()

    page = parse(client.get("/services?q=lunch&postcode=am11aa&sort=distance"))
    assert result_names(page)[:2] == ["Near lunch club", "Far lunch club"]
    assert texts(page, "//p[contains(@class, 'directory-results__distance')]") == [
        "0.3 miles away", "27.6 miles away"]

    within = parse(client.get("/services?q=lunch&postcode=AM1+1AA&radius=5"))
    assert sorted(result_names(within)) == ["Near lunch club", "Phone lunch club"]


def test_a_hidden_address_counts_from_its_outward_code_centre_and_never_leaks(client):
    _postcode("AM9 8ZA", 51.6000, -0.1000)
    _postcode("AM9 8ZB", 51.6000, -0.1200)
    refuge = make_service(name="Safe refuge")
    add_location(refuge, postcode="AM9 8ZZ", latitude=51.7000, longitude=-0.3000, hide_exact_address=True)
    indexer.rebuild()

    body = client.get("/services?q=refuge&postcode=AM9+8ZA").get_data(as_text=True)

    assert "0.4 miles away" in body  # from the centre of AM9, not the refuge's own point (about 13 miles)
    assert "8ZZ" not in body and "51.7" not in body


def test_an_unknown_postcode_says_so_and_the_search_still_runs(client):
    make_service(name="Lunch club")
    indexer.rebuild()

    page = parse(client.get("/services?q=lunch&postcode=ZZ9+9ZZ"))

    assert result_names(page) == ["Lunch club"]
    assert any("could not find the postcode ZZ9 9ZZ" in text
               for text in texts(page, "//div[contains(@class, 'govuk-warning-text')]"))


# --- resilience and the demand log ------------------------------------------------------------------------


def test_a_corrupt_index_falls_back_to_the_database_search_with_a_notice(client):
    make_service(name="Lunch club")
    indexer.rebuild()
    generation = store.current_path(Path(current_app.config["SEARCH_INDEX_DIR"])).resolve()
    for path in [*generation.glob("*.toc"), *generation.glob("*.seg")]:
        path.write_bytes(b"garbage")

    response = client.get("/services?q=lunch")

    assert response.status_code == 200
    page = parse(response)
    assert result_names(page) == ["Lunch club"]
    assert any("simpler way" in text for text in inset_texts(page))


def test_each_search_is_logged_anonymously_with_only_the_outward_code(client):
    _postcode("AM1 1AA", 51.5, -0.1)
    make_service(name="Lunch club", is_free=True)
    indexer.rebuild()

    client.get("/services?q=Lunch+club&postcode=AM1+1AA&free=yes&lang=cy",
               environ_base={"REMOTE_ADDR": "203.0.113.9"})
    client.get("/services?q=Lunch+club&postcode=AM1+1AA&free=yes&page=1&sort=updated")

    entries = db.session.scalars(sa.select(SearchLog).order_by(SearchLog.id)).all()
    assert len(entries) == 2
    entry = entries[0]
    assert (entry.text, entry.outward_code, entry.result_count, entry.language) == ("Lunch club", "AM1", 1, "cy")
    assert entry.filters == {"free": ["yes"]}
    stored = " ".join(str(value) for value in db.session.execute(sa.select(SearchLog.__table__)).first())
    assert "203.0.113.9" not in stored and "1AA" not in stored
