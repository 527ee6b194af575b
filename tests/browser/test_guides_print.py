"""A guide on paper and on screen, in real Chromium: print styles hide the site's chrome and the feedback form but
keep the guide, show where links go, and the "Print this page" button works with JavaScript (without it, the page
says how to print). The guide pages' axe-core checks in English and Welsh are in test_public_pages_accessible.py
(the walker knows the guide pages)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.browser.live_server import LiveServer

pytestmark = pytest.mark.browser

HIDDEN_ON_PAPER = {
    "header": ".govuk-generic-header",
    "navigation": ".govuk-service-navigation",
    "breadcrumbs": ".govuk-breadcrumbs",
    "footer": ".govuk-footer",
    "feedback": "#guide-feedback",
    "print button": ".app-print-link",
    "exit this page": ".govuk-exit-this-page",
}


def _visible(page: Page, selector: str) -> bool:
    return page.evaluate(
        """(selector) => [...document.querySelectorAll(selector)].some((element) =>
               element.getClientRects().length > 0 && getComputedStyle(element).visibility !== 'hidden')""",
        selector)


@pytest.mark.parametrize("slug_attribute", ["guide_slug", "safeguarding_guide_slug"])
def test_printing_a_guide_leaves_out_the_site_and_the_feedback_form_but_keeps_the_guide(page: Page,
                                                                                     live_server: LiveServer,
                                                                                     slug_attribute: str):
    slug = getattr(live_server.borough, slug_attribute)
    page.goto(live_server(f"/guides/{slug}"), wait_until="load")
    assert _visible(page, "#guide-feedback") and _visible(page, ".govuk-footer"), "the screen shows the whole page"

    page.emulate_media(media="print")

    shown = [name for name, selector in HIDDEN_ON_PAPER.items() if _visible(page, selector)]
    assert shown == [], f"printed with: {shown}"
    for part in ("main h1", ".app-guide__body", ".app-guide__dates", ".app-print-only"):
        assert _visible(page, part), f"{part} is missing from the printout"


def test_a_printed_guide_shows_where_its_links_go(page: Page, live_server: LiveServer):
    page.goto(live_server(f"/guides/{live_server.borough.guide_slug}"), wait_until="load")
    page.emulate_media(media="print")

    after = page.evaluate(
        """() => getComputedStyle(document.querySelector('.app-guide__body a[href^="https"]'), '::after').content""")

    assert "https://www.aldermoor.example.gov.uk" in after


def test_the_print_button_opens_the_print_dialog(page: Page, live_server: LiveServer):
    page.goto(live_server(f"/guides/{live_server.borough.guide_slug}"), wait_until="load")
    page.evaluate("() => { window.printed = 0; window.print = () => { window.printed += 1; }; }")

    page.get_by_role("button", name="Print this page").click()

    assert page.evaluate("() => window.printed") == 1


def test_without_javascript_the_guide_says_how_to_print_instead_of_offering_a_button(no_javascript_page: Page,
                                                                                      live_server: LiveServer):
    no_javascript_page.goto(live_server(f"/guides/{live_server.borough.guide_slug}"), wait_until="load")

    assert no_javascript_page.get_by_role("button", name="Print this page").count() == 0
    assert "Ctrl and P" in no_javascript_page.locator("main").inner_text()
