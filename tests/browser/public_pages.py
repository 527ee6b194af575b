"""Which pages anyone may open, found from the app's URL map, and how to fill their URL arguments.

A new public page is checked without anyone remembering to add it here. What is left out is listed below with
the reason; an argument we cannot fill fails the test with a message saying where to teach it.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask
from werkzeug.routing import Rule

from portal.security import public, rule_for_endpoint
from tests.browser.borough import Borough

# Endpoints that answer GET but are not HTML pages, so neither axe nor a lang attribute applies.
NOT_PAGES: dict[str, str] = {
    "static": "stylesheets, scripts, fonts and images, not pages",
    "public.oruk_datapackage": "a zip download of the open data, not a page",
}
# Whole blueprints that are not pages for people.
NOT_PAGE_BLUEPRINTS: dict[str, str] = {
    "api": "the Open Referral UK API answers JSON",
    "webhooks": "Stripe calls these with JSON, no person ever sees them",
}


@dataclass(frozen=True)
class Variant:
    label: str
    attribute: str  # the Borough attribute that fills the URL argument
    status: int = 200  # what the page answers for it


# The records a URL argument can point at, each with the variants worth seeing: a page is checked once per
# variant, because a service with a hidden address or SEND answers renders different sections.
VARIANTS: dict[str, list[Variant]] = {
    "service": [
        Variant("full-listing", "service_id"),
        Variant("hidden-address", "hidden_address_service_id"),
        Variant("send-local-offer", "send_service_id"),
    ],
    "organisation": [Variant("provider", "organisation_id")],
    "category": [
        Variant("parent-category", "parent_category_slug"),
        Variant("child-category", "child_category_slug"),
    ],
    # A guide in English and Welsh, and a safeguarding guide with no Welsh ("Exit this page", English marked).
    "guide": [
        Variant("english-and-welsh", "guide_slug"),
        Variant("safeguarding-english-only", "safeguarding_guide_slug"),
    ],
    # A link from an email that is broken or tampered with: the "link failed" page answers 400.
    "token": [Variant("invalid-link", "invalid_token", 400)],
}
# Emailed links with a valid token show a different page from a broken one: check both.
ENDPOINT_VARIANTS: dict[str, list[Variant]] = {
    "account.confirm_email": [Variant("valid-link", "confirm_email_token"), *VARIANTS["token"]],
    "account.reset_password": [Variant("valid-link", "reset_password_token"), *VARIANTS["token"]],
    # An invitation link that is not (or no longer) valid: the same "not found" as an unknown page.
    "provider.invitation": [Variant("invalid-link", "invalid_token", 404)],
}
ARGUMENT_KINDS: dict[str, str] = {
    "service_id": "service",
    "service": "service",
    "organisation_id": "organisation",
    "organisation": "organisation",
    "category": "category",
    "category_slug": "category",
    "term": "category",
    "term_slug": "category",
    "token": "token",
}
# Generic argument names ("id", "slug") take their kind from the endpoint's name.
ENDPOINT_WORDS: dict[str, str] = {
    "service": "service",
    "organisation": "organisation",
    "provider": "organisation",
    "category": "category",
    "categories": "category",
    "guide": "guide",
}


@dataclass(frozen=True)
class PublicPage:
    endpoint: str
    rule: str
    variant: str = ""
    # URL argument -> the Borough attribute that fills it.
    arguments: tuple[tuple[str, str], ...] = ()
    # Why the URL cannot be built; the test fails with this rather than quietly leaving the page out.
    problem: str = ""
    expected_status: int = 200

    @property
    def id(self) -> str:
        return f"{self.endpoint}[{self.variant}]" if self.variant else self.endpoint

    def path(self, app: Flask, borough: Borough) -> str:
        if self.endpoint == "not-found":
            return self.rule
        values = {argument: getattr(borough, attribute) for argument, attribute in self.arguments}
        return app.url_map.bind("localhost").build(self.endpoint, values)


NOT_FOUND_PAGE = PublicPage(endpoint="not-found", rule="/no-such-page-anywhere", expected_status=404)


def _is_candidate(app: Flask, rule: Rule) -> bool:
    if "GET" not in (rule.methods or ()):
        return False
    if rule.endpoint in NOT_PAGES or rule.endpoint.partition(".")[0] in NOT_PAGE_BLUEPRINTS:
        return False
    with app.app_context():
        return rule_for_endpoint(rule.endpoint) == public


def _kind_of(argument: str, endpoint: str) -> str | None:
    if argument in ARGUMENT_KINDS:
        return ARGUMENT_KINDS[argument]
    if argument in ("id", "slug", "uuid"):
        words = endpoint.rpartition(".")[2].split("_")
        for word in words:
            if word in ENDPOINT_WORDS:
                return ENDPOINT_WORDS[word]
    return None


def _pages_for(rule: Rule) -> list[PublicPage]:
    arguments = sorted(rule.arguments)
    if not arguments:
        return [PublicPage(rule.endpoint, rule.rule)]
    kinds = {argument: _kind_of(argument, rule.endpoint) for argument in arguments}
    unknown = [argument for argument, kind in kinds.items() if kind is None]
    if unknown:
        problem = (f"{rule.endpoint} ({rule.rule}) has URL argument(s) {', '.join(unknown)} that the "
                   "browser tests cannot fill: teach ARGUMENT_KINDS in tests/browser/public_pages.py "
                   "(and add a record to tests/browser/borough.py) or list the endpoint in NOT_PAGES "
                   "with the reason.")
        return [PublicPage(rule.endpoint, rule.rule, problem=problem)]
    if len(arguments) == 1:
        (argument,) = arguments
        variants = ENDPOINT_VARIANTS.get(rule.endpoint) or VARIANTS[kinds[argument]]
        return [PublicPage(rule.endpoint, rule.rule, variant.label, ((argument, variant.attribute),), "",
                           variant.status) for variant in variants]
    # Several arguments: one page, each filled with its kind's first record.
    firsts = {argument: VARIANTS[kinds[argument]][0] for argument in arguments}
    filled = tuple((argument, variant.attribute) for argument, variant in firsts.items())
    status = max(variant.status for variant in firsts.values())  # a broken emailed link makes it a 400 page
    return [PublicPage(rule.endpoint, rule.rule, arguments=filled, expected_status=status)]


def public_pages(app: Flask) -> list[PublicPage]:
    """Every public HTML page once per variant, in URL order, then the page-not-found page."""
    # An endpoint reachable at several URLs (say /services and /services/page/<int:page>) is one page:
    # check it at the URL with the fewest arguments.
    chosen: dict[str, Rule] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (len(r.arguments), r.rule)):
        if rule.endpoint not in chosen and _is_candidate(app, rule):
            chosen[rule.endpoint] = rule
    pages: list[PublicPage] = []
    for rule in sorted(chosen.values(), key=lambda r: r.rule):
        pages.extend(_pages_for(rule))
    pages.append(NOT_FOUND_PAGE)
    return pages
