"""Every public page, in English and in Welsh, opened in real Chromium and checked by axe-core.

The pages come from the URL map (tests/browser/public_pages.py), so a new public page is checked as soon as
it is routed. On each: the right status, the right `lang`, zero axe-core violations (WCAG 2.2 A/AA and best
practice), no console errors (our CSP reports refusals there), no failed or 4xx/5xx requests.
"""

from __future__ import annotations

import functools

import pytest
from flask import Flask
from playwright.sync_api import Page

from portal import create_app
from tests.browser import accessibility
from tests.browser.live_server import LiveServer
from tests.browser.public_pages import PublicPage, public_pages
from tests.browser.watch import PageProblems

pytestmark = pytest.mark.browser

LANGUAGES = ["en", "cy"]


@functools.cache
def _url_map_app() -> Flask:
    """An app only to read the URL map at collection time; the pages are opened on the live server."""
    return create_app("testing", SQLALCHEMY_DATABASE_URI="sqlite://")


def pytest_generate_tests(metafunc):
    if "public_page" in metafunc.fixturenames:
        pages = public_pages(_url_map_app())
        metafunc.parametrize("public_page", pages, ids=[page.id for page in pages])


def _open(page: Page, live_server: LiveServer, public_page: PublicPage,
          language: str) -> tuple[str, list[str]]:
    """Open the page in ``language``; return its URL and whatever is wrong with how it loaded."""
    path = public_page.path(live_server.app, live_server.borough)
    url = live_server(path) + ("?lang=cy" if language == "cy" else "")
    response = page.goto(url, wait_until="load")
    found = []
    if response is None:
        return url, [f"no response for {url}"]
    if response.status != public_page.expected_status:
        found.append(f"answered HTTP {response.status}, expected {public_page.expected_status}")
    content_type = response.headers.get("content-type", "")
    if not content_type.startswith("text/html"):
        found.append(f"answered {content_type!r}, not an HTML page: if that is right, list "
                     f"{public_page.endpoint} in NOT_PAGES in tests/browser/public_pages.py with the reason")
    lang = page.get_attribute("html", "lang") or ""
    if lang.split("-")[0] != language:
        found.append(f'<html lang="{lang}">, expected "{language}"')
    return response.url, found


@pytest.mark.parametrize("language", LANGUAGES)
def test_public_page_is_accessible_in_each_language(page: Page, problems: PageProblems,
                                                     live_server: LiveServer, public_page: PublicPage,
                                                     language: str):
    assert not public_page.problem, public_page.problem
    errors_before = len(live_server.errors)
    url, found = _open(page, live_server, public_page, language)

    violations = accessibility.violations(page)
    if violations:
        found.append(f"{len(violations)} axe-core violation(s):\n" + accessibility.describe(violations))
    found += problems.report(document_url=url, document_status=public_page.expected_status)
    found += [f"server error: {_tail(entry)}" for entry in live_server.errors[errors_before:]]

    assert not found, f"{public_page.id} in {language} ({url}):\n" + "\n".join(found)


def _tail(text: str, lines: int = 12) -> str:
    """The end of a traceback: where it went wrong, not how it got there."""
    return "\n".join(text.splitlines()[-lines:])


def _service_page(live_server: LiveServer) -> PublicPage:
    for candidate in public_pages(live_server.app):
        if candidate.endpoint == "public.service" and "service_id" in dict(candidate.arguments).values():
            return candidate
    raise AssertionError("no public page shows a service: expected one taking the service's id in its URL")


def _main_heading(page: Page) -> str:
    headings = page.locator("main h1")
    assert headings.count() == 1, f"expected one <h1> inside <main> at {page.url}, found {headings.count()}"
    return " ".join(headings.inner_text().split())


def test_home_page_shows_its_content_without_javascript(no_javascript_page: Page, live_server: LiveServer):
    response = no_javascript_page.goto(live_server("/"))
    assert response is not None and response.status == 200
    assert _main_heading(no_javascript_page)
    # The search box is a plain GET form: it must be there for people without JavaScript.
    assert no_javascript_page.locator("main form input[type=search], main form input[name=q]").count() >= 1


def test_service_page_shows_its_content_without_javascript(no_javascript_page: Page, live_server: LiveServer):
    service_page = _service_page(live_server)
    response = no_javascript_page.goto(live_server(service_page.path(live_server.app, live_server.borough)))
    assert response is not None and response.status == 200
    assert _main_heading(no_javascript_page) == live_server.borough.service_name
    assert "Riverside Home Care Ltd" in no_javascript_page.locator("main").inner_text()
