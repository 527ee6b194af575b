"""The search page in real Chromium, on a real index of the test borough: accessible in English and Welsh in
every state a resident meets (results, filters chosen, near a postcode, nothing found, a misspelling), and
the filter form works with JavaScript turned off.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from playwright.sync_api import Page

from search import indexer
from tests.browser import accessibility
from tests.browser.live_server import LiveServer
from tests.browser.watch import PageProblems

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def search_server(live_server: LiveServer) -> LiveServer:
    """The live server with its search index built from the borough (the server itself does not build one, and
    without it the page would fall back to the plain database search)."""
    with live_server.app.app_context():
        indexer.rebuild()
    return live_server


@dataclass(frozen=True)
class SearchState:
    label: str
    params: dict[str, str]
    results: int  # how many results the borough gives


# The borough (tests/browser/borough.py): Riverside home care visits (Care at home > Home care, adults, office
# at AM2 4QT), a refuge with a hidden address (free, 16 and over) and Saturday sensory play (0 to 11).
STATES = [
    SearchState("words", {"q": "care"}, 1),
    SearchState("filters-chosen", {"q": "", "category": "care-at-home", "age": "65-plus"}, 1),
    SearchState("near-a-postcode", {"q": "", "postcode": "AM2 4QT", "sort": "distance", "radius": "25"}, 3),
    SearchState("nothing-found", {"q": "zzzzqqq", "free": "yes"}, 0),
    SearchState("misspelt", {"q": "sensary play"}, 1),
]


def _url(server: LiveServer, params: dict[str, str], language: str) -> str:
    query = {**params, **({"lang": "cy"} if language == "cy" else {})}
    return server("/services?" + urlencode(query))


def _results(page: Page) -> list[str]:
    return [" ".join(text.split()) for text in page.locator("main ul.directory-results > li h2 a").all_inner_texts()]


def _heading(page: Page) -> str:
    headings = page.locator("main h1")
    assert headings.count() == 1, f"expected one <h1> in <main> at {page.url}, found {headings.count()}"
    return " ".join(headings.inner_text().split())


@pytest.mark.parametrize("language", ["en", "cy"])
@pytest.mark.parametrize("state", STATES, ids=[state.label for state in STATES])
def test_search_page_is_accessible_in_each_state_and_language(page: Page, problems: PageProblems,
                                                              search_server: LiveServer, state: SearchState,
                                                              language: str):
    errors_before = len(search_server.errors)
    url = _url(search_server, state.params, language)

    response = page.goto(url, wait_until="load")

    found = []
    assert response is not None, f"no response for {url}"
    if response.status != 200:
        found.append(f"answered HTTP {response.status}")
    lang = page.get_attribute("html", "lang") or ""
    if lang.split("-")[0] != language:
        found.append(f'<html lang="{lang}">, expected "{language}"')
    if len(_results(page)) != state.results:
        found.append(f"showed {len(_results(page))} results, expected {state.results}: {_results(page)}")
    if page.locator("main .govuk-inset-text", has_text="simpler way").count():
        found.append("searched the database, not the index (the index was not built?)")
    violations = accessibility.violations(page)
    if violations:
        found.append(f"{len(violations)} axe-core violation(s):\n" + accessibility.describe(violations))
    found += problems.report(document_url=response.url, document_status=200)
    found += [f"server error: {entry}" for entry in search_server.errors[errors_before:]]

    assert not found, f"search page, {state.label}, in {language} ({url}):\n" + "\n".join(found)


def test_near_a_postcode_results_show_how_far_away_they_are(page: Page, search_server: LiveServer):
    page.goto(_url(search_server, {"q": "", "postcode": "AM2 4QT", "sort": "distance"}, "en"))

    assert _results(page)[0] == search_server.borough.service_name  # its office is at AM2 4QT
    assert page.locator("main .directory-results__distance").first.inner_text() == "0.0 miles away"


def test_misspelt_words_offer_the_right_spelling(page: Page, search_server: LiveServer):
    page.goto(_url(search_server, {"q": "sensary play"}, "en"))

    assert page.locator("main .directory-suggestion a").inner_text() == "sensory play"
    assert _results(page) == ["Saturday sensory play sessions"]


def test_filters_apply_without_javascript(no_javascript_page: Page, search_server: LiveServer):
    page = no_javascript_page
    page.goto(search_server("/services?q="))
    before = _heading(page)
    assert before == "3 services"

    page.get_by_label("Care at home (1)").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Apply filters").first.click()

    assert parse_qs(urlsplit(page.url).query).get("category") == ["care-at-home"]
    assert _heading(page) == "1 service"
    assert _results(page) == [search_server.borough.service_name]
    # The chosen filter can be taken off again, still without JavaScript.
    with page.expect_navigation():
        page.get_by_role("link", name="Remove filter: Care at home").click()
    assert "category" not in parse_qs(urlsplit(page.url).query)
    assert _heading(page) == before


def test_the_sort_order_applies_without_javascript(no_javascript_page: Page, search_server: LiveServer):
    page = no_javascript_page
    page.goto(search_server("/services?" + urlencode({"q": "", "postcode": "AM3 1BB"})))

    page.get_by_label("Sort by").select_option("distance")
    with page.expect_navigation():
        page.get_by_role("button", name="Sort results").click()

    query = parse_qs(urlsplit(page.url).query)
    assert query.get("sort") == ["distance"] and query.get("postcode") == ["AM3 1BB"]
    assert _results(page)[0] == "Saturday sensory play sessions"  # its hall is at AM3 1BB


def test_guides_matching_the_words_are_listed_in_their_own_block_in_welsh_too(page: Page, search_server: LiveServer):
    # The borough's guides: a care needs assessment (English and Welsh) and "If someone is at risk" (English only).
    page.goto(_url(search_server, {"q": "help"}, "en"))
    guides = page.get_by_role("region", name="Guides")
    assert sorted(guides.get_by_role("link").all_inner_texts()) == [
        "How to get a care needs assessment", "If someone is at risk"]
    # The services and their count are the services alone.
    assert _heading(page) == f"{len(_results(page))} result for 'help'"

    page.goto(_url(search_server, {"q": "help"}, "cy"))
    guides = page.get_by_role("region", name="Canllawiau")
    assert sorted(guides.get_by_role("link").all_inner_texts()) == [
        "If someone is at risk", "Sut i gael asesiad o anghenion gofal"]
    assert guides.locator("li[lang='en']").all_inner_texts()[0].startswith("If someone is at risk")
