"""The council's layout on every page: its name and no GOV.UK identity, the skip link, the language switch,
security headers with a script nonce, GOV.UK-style error pages, and the built assets being served."""

from __future__ import annotations

import re

import pytest
from flask import render_template_string
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovDateInput, GovTextInput
from lxml import html as lxml_html
from wtforms import DateField, StringField
from wtforms.validators import InputRequired

from portal.i18n import LOCALE_COOKIE
from tests.support.factories import make_user, sign_in
from tests.support.html import csrf_token, parse, texts

SITE_PAGES = ["/", "/accessibility-statement", "/privacy", "/cookies", "/contact"]
WELSH_SKIP_LINK = "Neidio i'r prif gynnwys"


def _csp_nonce(response) -> str:
    policy = response.headers.get("Content-Security-Policy", "")
    match = re.search(r"script-src[^;]*'nonce-([^']+)'", policy)
    assert match, f"no script nonce in the Content-Security-Policy: {policy!r}"
    return match.group(1)


@pytest.mark.parametrize("path", SITE_PAGES)
def test_each_page_carries_the_council_name_and_nothing_from_gov_uk(client, app, path):
    response = client.get(path)
    assert response.status_code == 200
    page = parse(response)
    header = texts(page, "//header//*[contains(@class, 'govuk-generic-header')]")[0]
    assert app.config["COUNCIL_NAME"] in header
    body = response.get_data(as_text=True)
    assert "GOV.UK" not in body
    assert "Crown copyright" not in body
    assert page.xpath("//*[contains(@class, 'govuk-logo') or contains(@class, 'govuk-footer__crown')]") == []
    title = texts(page, "//title")[0]
    assert title.endswith(f"{app.config['SERVICE_NAME']} – {app.config['COUNCIL_NAME']}")


@pytest.mark.parametrize("path", SITE_PAGES)
def test_keyboard_users_can_skip_straight_to_the_content(client, path):
    page = parse(client.get(path))
    skip = page.xpath("//a[contains(@class, 'govuk-skip-link')]")
    assert skip and skip[0].get("href") == "#main-content"
    assert page.xpath("//main[@id='main-content']")


@pytest.mark.parametrize("path", SITE_PAGES)
def test_the_only_inline_script_carries_the_nonce_the_policy_allows(client, path):
    response = client.get(path)
    nonce = _csp_nonce(response)
    inline_scripts = parse(response).xpath("//script[not(@src) and not(@type='application/json')]")
    assert inline_scripts, "the layout's js-enabled script is missing"
    assert [script.get("nonce") for script in inline_scripts] == [nonce] * len(inline_scripts)
    assert response.headers["Content-Security-Policy"].count("'unsafe-inline'") == 0


def test_pages_refuse_framing_sniffing_and_leaky_referrers(client):
    response = client.get("/contact")
    policy = response.headers["Content-Security-Policy"]
    assert response.headers.get("X-Frame-Options") == "DENY" or "frame-ancestors 'none'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_the_footer_links_to_the_site_pages_and_the_other_language(client):
    page = parse(client.get("/contact"))
    footer_links = {link.get("href").split("?")[0]: link for link in page.xpath("//footer//a")}
    for path in ["/accessibility-statement", "/privacy", "/cookies", "/contact"]:
        assert path in footer_links, f"footer has no link to {path}"
    welsh = page.xpath("//footer//a[@hreflang='cy']")
    assert welsh and welsh[0].get("lang") == "cy" and welsh[0].text_content().strip() == "Cymraeg"


def test_the_language_switch_marks_the_current_language(client):
    page = parse(client.get("/cookies"))
    switch = page.xpath("//nav[contains(@class, 'app-language-switch')]//a")
    assert [(link.get("lang"), link.get("hreflang"), link.get("aria-current")) for link in switch] == [
        ("en", "en", "true"),
        ("cy", "cy", None),
    ]
    assert switch[1].get("href") == "/cookies?lang=cy"


def test_choosing_cymraeg_shows_welsh_and_is_remembered(client, app):
    response = client.get("/contact?lang=cy")
    page = parse(response)
    assert page.get("lang") == "cy"
    assert texts(page, "//a[contains(@class, 'govuk-skip-link')]") == [WELSH_SKIP_LINK]
    assert app.config["COUNCIL_NAME_CY"] in texts(page, "//header")[0]
    assert client.get_cookie(LOCALE_COOKIE).value == "cy"

    later = parse(client.get("/privacy"))
    assert later.get("lang") == "cy"
    assert texts(later, "//h1") == ["Hysbysiad preifatrwydd"]


def test_a_browser_asking_for_welsh_gets_welsh(client):
    page = parse(client.get("/cookies", headers={"Accept-Language": "cy-GB,cy;q=0.9,en;q=0.5"}))
    assert page.get("lang") == "cy"
    assert texts(page, "//h1") == ["Cwcis"]


def test_an_unknown_address_shows_a_page_not_found(client):
    response = client.get("/this-page-does-not-exist")
    assert response.status_code == 404
    page = parse(response)
    assert texts(page, "//h1") == ["Page not found"]
    assert "If you typed the web address, check it is correct." in texts(page, "//main//p")
    assert "GOV.UK" not in response.get_data(as_text=True)


def test_an_unknown_address_in_welsh_says_so_in_welsh(client):
    response = client.get("/dim-tudalen?lang=cy")
    assert response.status_code == 404
    assert texts(parse(response), "//h1") == ["Heb ddod o hyd i'r dudalen"]


def test_signed_out_visitors_are_offered_sign_in_in_the_navigation(client):
    page = parse(client.get("/"))
    navigation = texts(page, "//*[contains(@class, 'govuk-service-navigation__list')]//li")
    assert navigation[0] == "Find services"
    if "account.sign_in" in client.application.view_functions:
        assert navigation[-1] == "Sign in"


@pytest.mark.parametrize(
    "path",
    [
        "/assets/dist/portal.css",
        "/assets/dist/init.js",
        "/assets/govuk/govuk-frontend.min.js",
        "/assets/govuk/images/favicon.svg",
        "/assets/images/council-icon.svg",
        "/assets/manifest.webmanifest",
    ],
)
def test_the_styles_scripts_and_images_are_served(client, path):
    response = client.get(path)
    assert response.status_code == 200, f"{path} is not served: run `make assets`"
    response.close()


def test_the_stylesheet_is_the_councils_build_without_gds_transport(client):
    response = client.get("/assets/dist/portal.css")
    css = response.get_data(as_text=True)
    response.close()
    assert "GDS Transport" not in css
    assert "--govuk-brand-colour: #0b5e57" in css
    assert "/assets/govuk/images/" in css


def test_signed_in_people_see_their_account_and_a_sign_out_button(client):
    user = make_user()
    sign_in(client, user)
    page = parse(client.get("/contact"))
    navigation = page.xpath("//*[contains(@class, 'govuk-service-navigation__list')]")[0]
    assert "Sign in" not in texts(navigation, ".//a")
    if "account.your_account" in client.application.view_functions:
        assert "Your account" in texts(navigation, ".//a")
    if "account.sign_out" in client.application.view_functions:
        form = navigation.xpath(".//form[@method='post']")[0]
        assert form.get("action") == "/account/sign-out"
        assert form.xpath(".//input[@name='csrf_token']/@value")
        assert texts(form, ".//button") == ["Sign out"]


@pytest.mark.parametrize(
    ("category", "title", "extra_class"),
    [
        ("success", "Success", "govuk-notification-banner--success"),
        ("info", "Important", None),
        ("error", "There is a problem", "app-notification-banner--error"),
    ],
)
def test_flashed_messages_appear_as_notification_banners(client, category, title, extra_class):
    with client.session_transaction() as flask_session:
        flask_session["_flashes"] = [(category, "Your listing was saved")]
    page = parse(client.get("/cookies"))
    banners = page.xpath("//main//div[contains(concat(' ', @class, ' '), ' govuk-notification-banner ')]")
    assert len(banners) == 1
    assert texts(banners[0], ".//*[contains(@class, 'govuk-notification-banner__title')]") == [title]
    content = texts(banners[0], ".//*[contains(@class, 'govuk-notification-banner__content')]")
    assert content == ["Your listing was saved"]
    if extra_class:
        assert extra_class in banners[0].get("class")


def test_dates_on_site_pages_read_the_british_way_in_both_languages(client):
    english = texts(parse(client.get("/privacy?lang=en")), "//main//p[contains(., 'Last updated')]")
    assert re.fullmatch(r"Last updated: \d{1,2} [A-Z][a-z]+ \d{4}", english[0])
    welsh = texts(parse(client.get("/privacy?lang=cy")), "//main//p[contains(., 'Diweddarwyd')]")
    assert re.fullmatch(r"Diweddarwyd ddiwethaf: \d{1,2} [A-Z][a-z]+ \d{4}", welsh[0])


def test_a_form_with_errors_shows_the_error_summary_linking_to_each_field(app):

    class ContactForm(FlaskForm):
        name = StringField("Name", widget=GovTextInput(), validators=[InputRequired("Enter your name")])
        email = StringField("Email", widget=GovTextInput())
        start = DateField(
            "Start date", widget=GovDateInput(), validators=[InputRequired("Enter a start date")]
        )

    with app.test_request_context("/contact", method="POST", data={}):
        form = ContactForm(meta={"csrf": False})
        assert not form.validate()
        html = render_template_string(
            '{% from "macros/forms.html" import error_summary %}{{ error_summary(form) }}', form=form
        )
    summary = lxml_html.fromstring(html)
    assert texts(summary, ".//h2") == ["There is a problem"]
    links = summary.xpath(".//ul/li/a")
    assert [(link.get("href"), link.text_content().strip()) for link in links] == [
        ("#name", "Enter your name"),
        ("#start-day", "Enter a start date"),
    ]


def test_a_form_without_errors_shows_no_error_summary(app):

    with app.test_request_context("/contact"):
        html = render_template_string(
            '{% from "macros/forms.html" import error_summary %}{{ error_summary(form) }}',
            form=FlaskForm(meta={"csrf": False}),
        )
    assert html.strip() == ""


def test_a_field_error_is_announced_in_welsh_to_a_welsh_screen_reader_user(client):
    page = parse(client.get("/account/sign-up?lang=cy"))
    response = client.post("/account/sign-up?lang=cy", data={"csrf_token": csrf_token(page)})
    hidden_prefixes = texts(parse(response), "//p[contains(@class, 'govuk-error-message')]/span")
    assert hidden_prefixes and set(hidden_prefixes) == {"Gwall:"}


def test_a_language_chosen_on_a_link_that_redirects_is_kept_for_the_page_it_leads_to(client):
    response = client.get("/account?lang=cy")  # signed out: a redirect to sign in, which renders nothing
    assert response.status_code == 302
    follow = client.get(response.headers["Location"])
    assert parse(follow).get("lang") == "cy"
