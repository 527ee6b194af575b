"""Every provider and council page, signed in through the real sign-in form, in English and Welsh, in Chromium:
the right status and `lang`, zero axe-core violations, no console errors or failed requests. Also the public
"report a problem" form, its error state and its confirmation.

The pages come from the URL map (tests/browser/back_office.py): a new provider or council page is checked as
soon as it is routed. Provider pages are opened as Riverside Home Care's owner, council pages as a moderator;
each signs in once per module (the sign-in form is rate limited, as it should be).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page

from portal import create_app
from tests.browser.back_office import (
    BackOfficePage,
    BackOfficeRecords,
    add_back_office_records,
    back_office_pages,
    clear_problems,
    page_problems,
    sign_in,
    with_language,
)
from tests.browser.live_server import LiveServer
from tests.browser.watch import PageProblems

pytestmark = pytest.mark.browser

LANGUAGES = ["en", "cy"]


@functools.cache
def _url_map_app() -> Flask:
    """An app only to read the URL map at collection time; the pages are opened on the live server."""
    return create_app("testing", SQLALCHEMY_DATABASE_URI="sqlite://")


def pytest_generate_tests(metafunc):
    if "back_office_page" in metafunc.fixturenames:
        pages = back_office_pages(_url_map_app())
        metafunc.parametrize("back_office_page", pages, ids=[page.id for page in pages])


@pytest.fixture(scope="module")
def records(live_server: LiveServer) -> BackOfficeRecords:
    return add_back_office_records(live_server)


@dataclass
class SignedIn:
    """One person's tab, kept for the whole module: the pages are opened one after another in it."""

    page: Page
    problems: PageProblems

    def clear(self) -> None:
        clear_problems(self.problems)


def _signed_in(browser: Browser, live_server: LiveServer, email: str) -> SignedIn:
    context = browser.new_context(locale="en-GB", timezone_id="Europe/London")
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in(page, live_server, email)
    return SignedIn(page, PageProblems.watch(page))


@pytest.fixture(scope="module")
def signed_in(browser: Browser, live_server: LiveServer, records: BackOfficeRecords) -> Iterator[dict]:
    people = {
        "provider": _signed_in(browser, live_server, records.provider_email),
        "moderator": _signed_in(browser, live_server, records.moderator_email),
        "dp_officer": _signed_in(browser, live_server, records.dp_officer_email),
        "holder": _signed_in(browser, live_server, records.holder_email),
    }
    try:
        yield people
    finally:
        for person in people.values():
            person.page.context.close()


@pytest.mark.parametrize("language", LANGUAGES)
def test_signed_in_page_is_accessible_in_each_language(signed_in: dict, live_server: LiveServer,
                                                       records: BackOfficeRecords, back_office_page: BackOfficePage,
                                                       language: str):
    assert not back_office_page.problem, back_office_page.problem
    person = signed_in[back_office_page.signs_in_as]
    person.clear()  # whatever the last page left unfinished is not this page's problem
    errors_before = len(live_server.errors)
    url = with_language(live_server(back_office_page.path(live_server.app, records)), language)

    response = person.page.goto(url, wait_until="load")

    found = page_problems(person.page, person.problems, live_server, response, language,
                          errors_before=errors_before)
    if "/account/sign-in" in person.page.url:
        found.append("was sent to sign in: the session did not hold")
    assert not found, f"{back_office_page.id} in {language} ({url}):\n" + "\n".join(found)


@pytest.mark.parametrize("language", LANGUAGES)
def test_report_a_problem_form_its_errors_and_confirmation_are_accessible(page: Page, problems: PageProblems,
                                                                          live_server: LiveServer,
                                                                          language: str):
    service_id = live_server.borough.service_id
    url = live_server(f"/services/{service_id}/report?lang={language}")
    found: list[str] = []
    errors_seen = len(live_server.errors)

    def check(step: str, response) -> None:
        nonlocal errors_seen
        step_problems = page_problems(page, problems, live_server, response, language,
                                      errors_before=errors_seen)
        found.extend(f"{step}: {problem}" for problem in step_problems)
        errors_seen = len(live_server.errors)
        clear_problems(problems)

    check("the form", page.goto(url, wait_until="load"))

    with page.expect_navigation() as sent_empty:
        page.locator("main form button[type=submit], main form input[type=submit]").first.click()
    check("the form with an error", sent_empty.value)
    assert page.locator(".govuk-error-summary").count() == 1, "sending an empty report shows no error summary"

    page.locator("main textarea").first.fill("The Saturday telephone line is never answered.")
    with page.expect_navigation() as sent:
        page.locator("main form button[type=submit], main form input[type=submit]").first.click()
    check("the confirmation", sent.value)
    assert page.url.split("?")[0].endswith(f"/services/{service_id}/report/sent"), page.url

    assert not found, f"report a problem in {language}:\n" + "\n".join(found)
