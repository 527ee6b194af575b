"""The checks the page tests rely on really do catch problems: a silent axe or console watch would pass
every page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.browser import accessibility
from tests.browser.watch import PageProblems

pytestmark = pytest.mark.browser

ONE_PIXEL_GIF = "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"


def test_axe_reports_an_image_without_a_text_alternative(page: Page):
    page.set_content(
        f'<!DOCTYPE html><html lang="en"><head><title>Opening times</title></head>'
        f'<body><main><h1>Opening times</h1><img src="{ONE_PIXEL_GIF}"></main></body></html>'
    )

    found = accessibility.violations(page)

    assert "image-alt" in [violation["id"] for violation in found]
    assert "image-alt" in accessibility.describe(found)
    assert "<img" in accessibility.describe(found)


def test_console_watch_reports_a_script_refused_by_the_content_security_policy(page: Page,
                                                                                problems: PageProblems):
    page.set_content(
        '<!DOCTYPE html><html lang="en"><head><title>Contact</title>'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"script-src 'self'\"></head>"
        "<body><main><h1>Contact</h1><script>document.title = 'changed'</script></main></body></html>"
    )

    reported = problems.report(document_url="about:blank", document_status=200)

    assert page.title() == "Contact"
    assert any("Content Security Policy" in problem for problem in reported), reported


def test_request_watch_reports_an_asset_whose_server_cannot_be_reached(page: Page, problems: PageProblems):
    from portal.payments.localstripe_process import free_port

    nobody = f"http://127.0.0.1:{free_port()}/logo.svg"  # nothing listens there
    page.set_content(
        '<!DOCTYPE html><html lang="en"><head><title>Logo</title></head>'
        f'<body><main><h1>Logo</h1><img src="{nobody}" alt="Council logo"></main></body></html>'
    )
    page.wait_for_load_state("networkidle")

    reported = problems.report(document_url="about:blank", document_status=200)

    assert any(problem.startswith(f"request failed: GET {nobody}") for problem in reported), reported
