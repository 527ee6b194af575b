"""Directory pages: home, search results, categories, services, organisations.

Routes stay thin: parse the request, one call into portal.data.directory, render. Nothing here writes.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from flask import abort, current_app, render_template, request, url_for

from portal.data import directory, guide_lists, offers
from portal.i18n import current_language, money
from portal.models import utcnow
from portal.public import bp, presenters, search_page
from portal.public.forms import SearchForm

RESULTS_PER_PAGE = 20


@bp.context_processor
def directory_helpers() -> dict:
    """Presenters the directory templates call (only on this blueprint's pages)."""
    return {
        "age_range": presenters.age_range,
        "paragraphs": presenters.paragraphs,
        "web_href": presenters.web_href,
        "display_url": presenters.display_url,
        "tel_href": presenters.tel_href,
        "language_name": presenters.language_name,
        "cost_text": presenters.cost_text,
        "address_lines": presenters.address_lines,
        "place_labels": presenters.place_labels,
        "area_names": presenters.area_names,
        "money_formatter": money,
    }


def _page_number() -> int:
    page = request.args.get("page", 1, type=int)
    return page if page and page > 0 else 1


def _pages_for(results: directory.ServicePage, href_for: Callable[[int], str]) -> dict | None:
    """GOV.UK pagination for ``results``; a page number past the end is a page that does not exist."""
    if results.page > results.pages:
        abort(404)
    return presenters.pagination(results.page, results.pages, href_for)


def _contact_url() -> str | None:
    # The contact page belongs to the site's own pages; link it only once it exists.
    return url_for("public.contact") if "public.contact" in current_app.view_functions else None


@bp.get("/")
def home():
    return render_template(
        "public/home.html",
        form=SearchForm(formdata=None),
        categories=directory.top_level_categories(),
        contact_url=_contact_url(),
    )


@bp.get("/services")
def search_services():
    form = SearchForm(formdata=request.args)
    page = None
    if form.validate():
        page = search_page.build(form, page_number=_page_number(), per_page=RESULTS_PER_PAGE,
                                 language=current_language())
    html = render_template("public/search_services.html", form=form, page=page, query=form.q.data or "")
    search_page.record_demand(page)
    return html


@bp.get("/categories/<slug>")
def category(slug: str):
    term = directory.category_by_slug(slug) or abort(404)
    results = directory.services_in_category(term=term, page=_page_number(), per_page=RESULTS_PER_PAGE)
    pages = _pages_for(results, lambda n: url_for("public.category", slug=slug, page=n))
    return render_template(
        "public/category.html",
        term=term,
        ancestors=list(reversed(term.ancestors())),
        results=results,
        pagination=pages,
        guides=guide_lists.guides_for_category(term=term),
    )


@bp.get("/services/<uuid:service_id>")
def service(service_id: uuid.UUID):
    listing = directory.public_service(service_id) or abort(404)
    checked = presenters.last_checked(listing)
    return render_template(
        "public/service.html",
        service=listing,
        opening_days=presenters.opening_days(listing.schedules, current_language()),
        last_checked=checked,
        out_of_date=presenters.is_out_of_date(checked, utcnow().date()),
        offers=offers.published_offers_for(listing),
    )


@bp.get("/organisations/<uuid:organisation_id>")
def organisation(organisation_id: uuid.UUID):
    found = directory.approved_organisation(organisation_id) or abort(404)
    return render_template(
        "public/organisation.html", organisation=found, services=directory.public_services_of(found)
    )
