"""A new provider's whole journey in Chromium, three people in three browser contexts, on a real search index:

the provider signs up, confirms the email from the outbox, signs in and adds an organisation; a moderator
approves it; the provider writes a listing and submits it; the moderator approves it all; a resident finds it
by searching for a word of its description. Then the provider rewrites the description (and the summary), the
moderator approves only the description, and the resident finds the new wording (and not the old).

Every page visited is checked with axe-core in English as the journey goes, and again in Welsh (the same URL
opened with ?lang=cy in a copy of that person's browser profile). The server has its own database and index,
so the shared borough of the other browser tests never sees this listing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

import pytest
from playwright.sync_api import Browser, Locator, Page, Response

from portal.extensions import db
from portal.models import Role
from search import indexer
from tests.browser.back_office import clear_problems, page_problems, with_language
from tests.browser.live_server import LiveServer
from tests.browser.watch import PageProblems
from tests.support.factories import DEFAULT_PASSWORD, make_user

pytestmark = pytest.mark.browser

MODERATOR_EMAIL = "journey.moderator@aldermoor.example.gov.uk"
PROVIDER_EMAIL = "hana.hughes@kestrel-befriending.example.org"
PROVIDER_PASSWORD = "kestrel wings over the moor 2025"
ORGANISATION = "Kestrel Befriending"
LISTING = "Kestrel telephone friends"
FIRST_DESCRIPTION = ("A volunteer rings you every week for a friendly chat about whatever you like: family, "
                     "gardening, football or the marmalade you made this morning. Calls last about half an "
                     "hour and the same volunteer rings each week, so you get to know each other.")
FIRST_WORD = "marmalade"
NEW_DESCRIPTION = ("A volunteer rings you every week for a friendly chat. Many of our callers also join the "
                   "monthly xylophone concert on the phone line, which anyone can listen to. Calls last about "
                   "half an hour and the same volunteer rings each week.")
NEW_WORD = "xylophone"
FIRST_SUMMARY = "Weekly friendly phone calls from the same volunteer."
REJECTED_SUMMARY = "Phone calls, concerts and more."


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[LiveServer]:
    """A server of its own: this journey publishes a listing the shared borough's search tests must not see.
    Changes reach the index when the approving request ends (SEARCH_SYNC_AFTER_COMMIT), so build it first."""
    server = LiveServer(tmp_path_factory.mktemp("journey-server"))
    assert server.app.config["SEARCH_SYNC_AFTER_COMMIT"], "approved changes would not reach the index"
    with server.app.app_context():
        make_user(email=MODERATOR_EMAIL, name="Morgan Moderator", roles=(Role.COUNCIL_MODERATOR,))
        db.session.commit()
        indexer.rebuild()
        db.session.remove()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Person:
    """One person's browser profile: their tab and what went wrong in it."""

    name: str
    page: Page
    problems: PageProblems


@dataclass
class Journey:
    browser: Browser
    server: LiveServer
    findings: list[str] = field(default_factory=list)
    people: list[Person] = field(default_factory=list)
    welsh: dict[str, tuple[Page, PageProblems]] = field(default_factory=dict)
    errors_seen: int = 0  # server errors already reported, so each check reports only new ones

    def person(self, name: str) -> Person:
        context = self.browser.new_context(locale="en-GB", timezone_id="Europe/London")
        context.set_default_timeout(10_000)
        page = context.new_page()
        found = Person(name, page, PageProblems.watch(page))
        self.people.append(found)
        return found

    def close(self) -> None:
        for person in self.people:
            person.page.context.close()
        for page, _problems in self.welsh.values():
            page.context.close()

    # --- moving about, checking every page on the way ---------------------------------------------------------

    def visit(self, person: Person, path: str, *, status: int = 200) -> Response:
        clear_problems(person.problems)  # a request the last page left unfinished is not this page's problem
        response = person.page.goto(self.server(path), wait_until="load")
        self.check(person, response, status=status)
        return response

    def press(self, person: Person, target: Locator, *, status: int = 200) -> Response:
        """Press a button or link that loads a new page (a form sent, a POST-redirect-GET followed)."""
        clear_problems(person.problems)
        with person.page.expect_navigation(wait_until="load") as navigation:
            target.click()
        response = navigation.value
        self.check(person, response, status=status)
        return response

    def check(self, person: Person, response: Response | None, *, status: int = 200) -> None:
        """axe-core and friends on the page as the person sees it, then the same URL in Welsh."""
        step = f"{person.name} at {urlsplit(person.page.url).path}"
        found = page_problems(person.page, person.problems, self.server, response, "en", expected_status=status,
                              errors_before=self.errors_seen)
        self.findings += [f"{step} (English): {problem}" for problem in found]
        clear_problems(person.problems)
        self.findings += [f"{step} (Welsh): {problem}" for problem in self._check_in_welsh(person, status)]
        self.errors_seen = len(self.server.errors)

    def _in_welsh(self, person: Person) -> tuple[Page, PageProblems]:
        """The person's Welsh twin: a second profile that takes their cookies (session included) each time."""
        if person.name not in self.welsh:
            context = self.browser.new_context(locale="cy-GB", timezone_id="Europe/London")
            context.set_default_timeout(10_000)
            page = context.new_page()
            self.welsh[person.name] = (page, PageProblems.watch(page))
        page, problems = self.welsh[person.name]
        clear_problems(problems)
        page.context.clear_cookies()
        page.context.add_cookies(person.page.context.cookies())
        return page, problems

    def _check_in_welsh(self, person: Person, status: int) -> list[str]:
        page, problems = self._in_welsh(person)
        errors_before = len(self.server.errors)
        response = page.goto(with_language(person.page.url, "cy"), wait_until="load")
        return page_problems(page, problems, self.server, response, "cy", expected_status=status,
                             errors_before=errors_before)


@pytest.fixture
def journey(browser: Browser, server: LiveServer) -> Iterator[Journey]:
    journey = Journey(browser, server, errors_seen=len(server.errors))
    try:
        yield journey
    finally:
        journey.close()


# --- what people read ------------------------------------------------------------------------------------------


def main_text(page: Page) -> str:
    return " ".join(page.locator("main").inner_text().split())


def heading(page: Page) -> str:
    return " ".join(page.locator("main h1").inner_text().split())


def search_results(page: Page) -> list[str]:
    return [" ".join(text.split()) for text in page.locator("main ul.directory-results > li h2 a").all_inner_texts()]


def button(page: Page, name: str) -> Locator:
    return page.locator("main").get_by_role("button", name=name, exact=True)


def link(page: Page, name: str) -> Locator:
    return page.locator("main").get_by_role("link", name=name, exact=True)


# --- the steps -------------------------------------------------------------------------------------------------


def sign_up_and_confirm(journey: Journey, provider: Person) -> None:
    page = provider.page
    journey.visit(provider, "/account/sign-up")
    page.get_by_label("Your full name").fill("Hana Hughes")
    page.get_by_label("Email address").fill(PROVIDER_EMAIL)
    page.locator("input[name=password]").fill(PROVIDER_PASSWORD)
    page.locator("input[name=confirm_password]").fill(PROVIDER_PASSWORD)
    journey.press(provider, button(page, "Create account"))
    assert urlsplit(page.url).path == "/account/check-your-email", main_text(page)

    journey.visit(provider, "/outbox")
    message = page.locator("article.app-outbox-message").filter(has=page.locator(".app-outbox-message__to",
                                                                                  has_text=PROVIDER_EMAIL))
    confirm = message.first.locator("a[href*='/account/confirm/']")
    assert confirm.count() == 1, f"no confirmation link emailed to {PROVIDER_EMAIL}:\n{main_text(page)}"
    journey.press(provider, confirm)
    assert "confirmed" in main_text(page).lower(), main_text(page)


def sign_in_as(journey: Journey, person: Person, email: str, password: str) -> None:
    """The real sign-in form, each page of it checked like any other."""
    page = person.page
    journey.visit(person, "/account/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    journey.press(person, button(page, "Sign in"))
    assert urlsplit(page.url).path == "/account", f"signing in as {email} ended at {page.url}: {main_text(page)}"


def add_organisation(journey: Journey, provider: Person) -> None:
    page = provider.page
    journey.visit(provider, "/provider")
    journey.press(provider, link(page, "Add your organisation"))
    page.get_by_label("Organisation name").fill(ORGANISATION)
    page.locator("input[name=kind][value=charity]").check()
    page.locator("textarea[name=description]").fill("Telephone befriending for older people across Aldermoor.")
    page.locator("input[name=email]").fill("hello@kestrel-befriending.example.org")
    page.locator("input[name=charity_number]").fill("1187654")
    dates = page.locator("input[name=insurance_expires_on]")
    for index, value in enumerate(("31", "3", "2031")):
        dates.nth(index).fill(value)
    journey.press(provider, button(page, "Send to the council for checking"))
    assert heading(page) == ORGANISATION, main_text(page)


def approve_organisation(journey: Journey, moderator: Person) -> None:
    page = moderator.page
    journey.visit(moderator, "/council")
    journey.press(moderator, link(page, "Provider approvals"))
    journey.press(moderator, link(page, ORGANISATION))
    journey.press(moderator, button(page, "Approve provider"))
    assert "is approved" in main_text(page), main_text(page)


def save_section(journey: Journey, provider: Person, title: str, fill) -> None:
    page = provider.page
    journey.press(provider, link(page, title))
    fill(page)
    journey.press(provider, button(page, "Save and continue"))
    assert page.locator(".govuk-error-summary").count() == 0, f"{title}: {main_text(page)}"


def write_listing(journey: Journey, provider: Person) -> None:
    page = provider.page
    journey.visit(provider, "/provider/listings")
    journey.press(provider, page.locator("main").get_by_role("button", name=f"Add a listing for {ORGANISATION}"))
    page.get_by_label("Service name").fill(LISTING)
    page.locator("textarea[name=summary]").fill(FIRST_SUMMARY)
    page.locator("textarea[name=description]").fill(FIRST_DESCRIPTION)
    journey.press(provider, button(page, "Save and continue"))

    save_section(journey, provider, "Who it is for", lambda p: p.locator("input[name=minimum_age]").fill("60"))
    save_section(journey, provider, "Where and when",
                 lambda p: p.locator("input[name=attendance][value=by_phone]").check())
    save_section(journey, provider, "Costs", lambda p: p.locator("input[name=is_free][value=yes]").check())
    save_section(journey, provider, "Contact details",
                 lambda p: p.locator("input[name=url]").fill("https://kestrel-befriending.example.org"))
    save_section(journey, provider, "Categories",
                 lambda p: p.locator("main").get_by_label("Support for families", exact=True).check())
    journey.press(provider, link(page, "Preview the listing"))
    assert heading(page) == LISTING
    page.go_back(wait_until="load")
    journey.press(provider, button(page, "Submit for review"))
    assert urlsplit(page.url).path.endswith("/submitted"), main_text(page)


def review(journey: Journey, moderator: Person) -> Page:
    page = moderator.page
    journey.visit(moderator, "/council/moderation")
    journey.press(moderator, link(page, LISTING))
    return page


def resident_search(journey: Journey, resident: Person, word: str) -> list[str]:
    journey.visit(resident, "/services?" + urlencode({"q": word}))
    assert resident.page.locator("main .govuk-inset-text", has_text="simpler way").count() == 0, (
        "the search fell back to the database: the index is missing")
    return search_results(resident.page)


def change_listing(journey: Journey, provider: Person) -> None:
    page = provider.page
    journey.visit(provider, "/provider/listings")
    journey.press(provider, page.locator("main").get_by_role("button", name=f"Edit {LISTING}"))
    journey.press(provider, link(page, "About the service"))
    page.locator("textarea[name=summary]").fill(REJECTED_SUMMARY)
    page.locator("textarea[name=description]").fill(NEW_DESCRIPTION)
    journey.press(provider, button(page, "Save and continue"))
    journey.press(provider, button(page, "Submit for review"))
    assert urlsplit(page.url).path.endswith("/submitted"), main_text(page)


def test_a_new_provider_is_approved_publishes_a_listing_and_residents_find_each_approved_wording(
        journey: Journey):
    provider = journey.person("provider")
    sign_up_and_confirm(journey, provider)
    sign_in_as(journey, provider, PROVIDER_EMAIL, PROVIDER_PASSWORD)
    add_organisation(journey, provider)

    moderator = journey.person("moderator")
    sign_in_as(journey, moderator, MODERATOR_EMAIL, DEFAULT_PASSWORD)
    approve_organisation(journey, moderator)

    write_listing(journey, provider)

    page = review(journey, moderator)
    journey.press(moderator, button(page, "Approve all changes"))
    assert re.search(r"\bApproved\b", main_text(page)), main_text(page)

    resident = journey.person("resident")
    assert resident_search(journey, resident, FIRST_WORD) == [LISTING]
    journey.press(resident, link(resident.page, LISTING))
    assert heading(resident.page) == LISTING
    assert FIRST_WORD in main_text(resident.page)

    change_listing(journey, provider)

    page = review(journey, moderator)
    for box in page.locator("main input[name=fields]").all():
        box.set_checked(box.get_attribute("value") == "description")
    page.get_by_label("Reason for rejecting").fill("Keep the summary about the phone calls.")
    journey.press(moderator, button(page, "Approve ticked changes only"))
    assert re.search(r"\bPartly approved\b", main_text(page), re.IGNORECASE), main_text(page)

    assert resident_search(journey, resident, FIRST_WORD) == []
    assert resident_search(journey, resident, NEW_WORD) == [LISTING]
    journey.press(resident, link(resident.page, LISTING))
    shown = main_text(resident.page)
    assert NEW_WORD in shown and FIRST_SUMMARY in shown and REJECTED_SUMMARY not in shown

    assert not journey.findings, "\n".join(journey.findings)
