"""The search results page put together: the index search (or, while the index is unavailable, the plain
database search), result rows from the database, filter options with counts, the council guides matching the
words (their own block, never among the services or their counts), and the demand log entry.

Kept out of the route so the view stays a few lines; everything shown is built here as plain values.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

from babel.dates import get_day_names
from flask import abort, current_app, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from portal.data import directory, guide_lists, search_log, search_results
from portal.extensions import db
from portal.i18n import localised
from portal.models import Guide, Service
from portal.public import presenters
from portal.public.forms import FILTER_NAMES, FLAG_NAMES, SearchForm
from search import geo, store
from search.facets import FLAG_VALUE
from search.schema import AGE_BANDS, ATTENDING, DAYS
from search.service_search import Match, Near, SearchOutcome, SearchRequest, Sort, search_services
from search.snippets import snippet

log = logging.getLogger(__name__)

GUIDES_SHOWN = 3  # matching guides in the Guides block, on a search's first page

AGE_LABELS = {
    "0-4": _l("Under 5"),
    "5-10": _l("5 to 10 years"),
    "11-15": _l("11 to 15 years"),
    "16-17": _l("16 to 17 years"),
    "18-24": _l("18 to 24 years"),
    "25-64": _l("25 to 64 years"),
    "65-plus": _l("65 and over"),
}
ATTENDING_LABELS = {"in-person": _l("In person"), "online": _l("Online"), "phone": _l("By phone")}
FLAG_LABELS = {
    "free": _l("Free services only"),
    "dp": _l("Can be bought with a direct payment"),
    "local_offer": _l("Part of the SEND Local Offer"),
}
GROUP_LEGENDS = {
    "category": _l("Category"),
    "need": _l("Needs supported"),
    "age": _l("Age"),
    "locality": _l("Area"),
    "attending": _l("How you take part"),
    "day": _l("Open on"),
}


@dataclass(frozen=True)
class Result:
    service: Service
    snippet: Markup | None
    distance: str | None  # "2.3 miles away"


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    count: int
    checked: bool


@dataclass(frozen=True)
class FilterGroup:
    name: str
    legend: str
    options: list[Option]


@dataclass(frozen=True)
class ChosenFilter:
    label: str
    remove_href: str


@dataclass
class SearchPage:
    results: list[Result] = field(default_factory=list)
    total: int = 0
    guides: list[Guide] = field(default_factory=list)  # published guides matching the words, best first
    pagination: dict | None = None
    match: Match = Match.ALL_WORDS
    suggestion: str | None = None
    suggestion_href: str | None = None
    degraded: bool = False
    unknown_postcode: str | None = None
    place_label: str | None = None
    groups: list[FilterGroup] = field(default_factory=list)
    chosen: list[ChosenFilter] = field(default_factory=list)
    filtered: bool = False
    sort_options: list[tuple[str, str]] = field(default_factory=list)
    clear_href: str | None = None
    log_entry: dict | None = None  # the demand-log row to write once the page is rendered


# --- links --------------------------------------------------------------------------------------------


def _arguments(form: SearchForm) -> dict[str, str | list[str]]:
    """The search as URL parameters, defaults left out, in a stable order (bookmarks and tests read them)."""
    arguments: dict[str, str | list[str]] = {}
    if form.q.data:
        arguments["q"] = form.q.data
    if form.postcode.data:
        arguments["postcode"] = form.postcode.data
    for name in FILTER_NAMES:
        if getattr(form, name).data:
            arguments[name] = list(getattr(form, name).data)
    for name in FLAG_NAMES:
        if getattr(form, name).data:
            arguments[name] = FLAG_VALUE
    if form.radius.data:
        arguments["radius"] = form.radius.data
    if form.sort.data != "relevance":
        arguments["sort"] = form.sort.data
    return arguments


def _href(arguments: dict, **changes) -> str:
    merged = {**arguments, **changes}
    return url_for("public.search_services", **{k: v for k, v in merged.items() if v not in (None, "", [])})


def _without(arguments: dict, name: str, value: str) -> str:
    current = arguments.get(name)
    remaining = [v for v in current if v != value] if isinstance(current, list) else None
    return _href(arguments, **{name: remaining})


# --- the search -------------------------------------------------------------------------------------


def _text_and_postcode(form: SearchForm) -> tuple[str, str | None]:
    """The words to search for and the postcode to search near: a postcode typed in the search box (with no
    postcode given) is the place, not words to look for."""
    text = form.q.data or ""
    if form.postcode.data:
        return text, form.postcode.data
    typed = geo.postcode_in_text(text)
    return (typed[1], typed[0]) if typed else (text, None)


def _near(form: SearchForm, page: SearchPage, postcode: str | None) -> tuple[Near | None, str | None]:
    """Where the person asked about, and the outward code to log (never more of the postcode)."""
    if not postcode:
        return None, None
    code = geo.normalise_postcode(postcode)
    outward = code.split(" ")[0] if code else None
    place = geo.resolve_place(postcode)
    if place is None:
        page.unknown_postcode = postcode
        return None, outward
    page.place_label = place.label
    radius = float(form.radius.data) if form.radius.data else None
    return Near(place.latitude, place.longitude, radius), place.outward_code


def build(form: SearchForm, *, page_number: int, per_page: int, language: str) -> SearchPage:
    """The page for a valid search form; 404 for a page number past the last page."""
    page = SearchPage()
    arguments = _arguments(form)
    text, postcode = _text_and_postcode(form)
    near, outward = _near(form, page, postcode)
    selected = form.selected_filters()
    request = SearchRequest(text=text, filters=selected, near=near, sort=Sort(form.sort.data),
                            page=page_number, per_page=per_page, guides=GUIDES_SHOWN if page_number == 1 else 0)
    try:
        outcome = search_services(Path(current_app.config["SEARCH_INDEX_DIR"]), request)
    except store.IndexUnavailable as reason:
        log.warning("search falling back to the database: %s", reason)
        _database_search(page, form, page_number, per_page)
    else:
        _index_results(page, outcome, form, arguments, language)
    pages = max(1, math.ceil(page.total / per_page))
    if page_number > pages:
        abort(404)
    page.pagination = presenters.pagination(page_number, pages, lambda n: _href(arguments, page=n if n > 1 else None))
    if page_number == 1 and (form.q.data or selected or form.postcode.data):
        page.log_entry = {"text": text, "filters": selected, "outward_code": outward,
                          "result_count": page.total, "language": language}
    return page


def record_demand(page: SearchPage | None) -> None:
    """Write the page's demand-log row in a transaction of its own. On SQLite a transaction that has read and
    then writes fails at once if another process wrote meanwhile; a fresh transaction that only writes waits
    its turn (busy timeout) instead. Call after rendering: ending the read transaction expires loaded rows."""
    if page is None or page.log_entry is None:
        return
    db.session.rollback()
    search_log.record_search(**page.log_entry)
    db.session.commit()


def _database_search(page: SearchPage, form: SearchForm, page_number: int, per_page: int) -> None:
    found = directory.search_services_in_database(text=form.q.data or "", page=page_number, per_page=per_page)
    page.degraded = True
    page.total = found.total
    page.results = [Result(service=service, snippet=None, distance=None) for service in found.services]


def _distance_text(miles: float | None) -> str | None:
    if miles is None:
        return None
    return _("%(miles)s miles away", miles=format_decimal(round(miles, 1), format="0.0"))


def _index_results(page: SearchPage, outcome: SearchOutcome, form: SearchForm, arguments: dict,
                   language: str) -> None:
    services = search_results.public_services_in_order(outcome.ids)
    page.guides = guide_lists.published_guides_in_order(outcome.guide_ids)
    page.total = outcome.total
    page.match = outcome.match
    page.results = [
        Result(
            service=service,
            snippet=snippet((service.summary, service.description), outcome.highlight_terms),
            distance=_distance_text(outcome.distances.get(service.id)),
        )
        for service in services
    ]
    if outcome.suggestion and outcome.suggestion != " ".join((form.q.data or "").lower().split()):
        page.suggestion = outcome.suggestion
        page.suggestion_href = _href(arguments, q=outcome.suggestion, page=None)
    page.groups = _filter_groups(outcome.counts, form, language)
    page.chosen = _chosen(page.groups, form, arguments)
    page.filtered = bool(page.chosen)
    page.clear_href = _href({k: v for k, v in arguments.items() if k in ("q", "postcode", "radius", "sort")})
    page.sort_options = [("relevance", _("Relevance")), ("updated", _("Recently updated"))]
    if page.place_label:
        page.sort_options.insert(1, ("distance", _("Distance")))


# --- filter options --------------------------------------------------------------------------------


def _options(values: list[tuple[str, str]], counts: dict[str, int], chosen: tuple[str, ...]) -> list[Option]:
    """Options worth offering: those that would give results, and those already chosen."""
    return [Option(value=value, label=label, count=counts.get(value, 0), checked=value in chosen)
            for value, label in values if counts.get(value, 0) or value in chosen]


def _filter_groups(counts: dict[str, dict[str, int]], form: SearchForm, language: str) -> list[FilterGroup]:
    vocabulary = search_results.filter_vocabulary(
        category_slugs=[*counts.get("category", {}), *form.category.data],
        need_slugs=[*counts.get("need", {}), *form.need.data],
        locality_slugs=[*counts.get("locality", {}), *form.locality.data],
    )
    chosen_ids = {term.id for term in vocabulary.categories if term.slug in form.category.data}
    # Top-level categories, and the children of a chosen one so the person can narrow down.
    categories = [(term.slug, localised(term, "name")) for term in vocabulary.categories
                  if term.parent_id is None or term.parent_id in chosen_ids]
    day_names = get_day_names("wide", locale=language)
    values: dict[str, list[tuple[str, str]]] = {
        "category": categories,
        "need": [(need.slug, localised(need, "name")) for need in vocabulary.needs],
        "age": [(slug, str(AGE_LABELS[slug])) for slug, _low, _high in AGE_BANDS],
        "locality": [(locality.slug, localised(locality, "name")) for locality in vocabulary.localities],
        "attending": [(value, str(ATTENDING_LABELS[value])) for value in ATTENDING],
        "day": [(code, day_names[index]) for index, code in enumerate(DAYS)],
    }
    groups = [FilterGroup(name, str(GROUP_LEGENDS[name]),
                          _options(values[name], counts.get(name, {}), getattr(form, name).data))
              for name in FILTER_NAMES]
    flags = [Option(value=name, label=str(FLAG_LABELS[name]), count=counts.get(name, {}).get(FLAG_VALUE, 0),
                    checked=bool(getattr(form, name).data)) for name in FLAG_NAMES]
    groups.append(FilterGroup("flags", _("Other"), [o for o in flags if o.count or o.checked]))
    return [group for group in groups if group.options]


def _chosen(groups: list[FilterGroup], form: SearchForm, arguments: dict) -> list[ChosenFilter]:
    chosen = []
    for group in groups:
        for option in group.options:
            if not option.checked:
                continue
            if group.name == "flags":
                href = _href(arguments, **{option.value: None, "page": None})
            else:
                href = _without({**arguments, "page": None}, group.name, option.value)
            chosen.append(ChosenFilter(label=option.label, remove_href=href))
    return chosen

