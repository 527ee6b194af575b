"""Read-only queries for the public directory pages.

Only active services of approved organisations are ever public: every query for services here applies
``public_services_clause`` so a page can never show a listing the council has not approved.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import aliased, selectinload

from portal.extensions import db
from portal.models import (
    Contact,
    Organisation,
    Service,
    ServiceArea,
    ServiceAtLocation,
    TaxonomyTerm,
    VerificationStatus,
    public_services_clause,
)
from portal.models.directory import service_taxonomy_terms

# A query longer than this is almost certainly not typed by a person; cap the work one request can cause.
MAX_SEARCH_WORDS = 10
MAX_WORD_LENGTH = 60


@dataclass(frozen=True)
class ServicePage:
    """One page of a list of services, in display order, and how many there are in all."""

    services: list[Service]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


@dataclass(frozen=True)
class CategorySummary:
    term: TaxonomyTerm
    service_count: int


def _list_options():
    """What a list of services shows (organisation, places): loaded in a few queries, not one per row."""
    return (
        selectinload(Service.organisation),
        selectinload(Service.locations_at).selectinload(ServiceAtLocation.location),
        selectinload(Service.service_areas).selectinload(ServiceArea.locality),
    )


def _page_of_services(condition: sa.ColumnElement[bool], *, order_by: Sequence, page: int, per_page: int,
                      join_organisation: bool = False) -> ServicePage:
    page = max(1, page)
    base = sa.select(Service)
    if join_organisation:  # the condition looks at the organisation's own columns
        base = base.join(Service.organisation)
    base = base.where(public_services_clause(), condition)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(base.subquery())) or 0
    services = db.session.scalars(
        base.order_by(*order_by, Service.id)
        .options(*_list_options())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return ServicePage(services=list(services), total=total, page=page, per_page=per_page)


def _by_name() -> tuple:
    return (sa.func.lower(Service.name),)


# --- search (the degraded path: a plain database query while the search index is unavailable) -----------


def search_words(text: str) -> list[str]:
    """The distinct words of a query, in order, capped so one request cannot ask for unbounded work."""
    words: list[str] = []
    for word in text.split():
        word = word[:MAX_WORD_LENGTH]
        if word.lower() not in (w.lower() for w in words):
            words.append(word)
    return words[:MAX_SEARCH_WORDS]


def escape_like(word: str, escape: str = "/") -> str:
    """Make LIKE's wildcards literal: someone searching for "100%" means those characters, not "100..."."""
    return word.replace(escape, escape * 2).replace("%", escape + "%").replace("_", escape + "_")


def _word_matches(word: str) -> sa.ColumnElement[bool]:
    pattern = f"%{escape_like(word)}%"
    return sa.or_(
        *(column.ilike(pattern, escape="/") for column in
          (Service.name, Service.summary, Service.description, Organisation.name))
    )


def search_services_in_database(*, text: str, page: int, per_page: int) -> ServicePage:
    """Public services containing every word of ``text`` (case-insensitive) in their name, summary,
    description or organisation name. Blank text lists every public service. Services whose name holds
    the first word come first, then alphabetical order."""
    words = search_words(text)
    if not words:
        return _page_of_services(sa.true(), order_by=_by_name(), page=page, per_page=per_page)
    name_first = sa.case((Service.name.ilike(f"%{escape_like(words[0])}%", escape="/"), 0), else_=1)
    return _page_of_services(
        sa.and_(*(_word_matches(word) for word in words)),
        order_by=(name_first, *_by_name()),
        page=page,
        per_page=per_page,
        join_organisation=True,
    )


# --- categories ----------------------------------------------------------------------------------------


def _term_tree(roots: sa.Select) -> sa.CTE:
    """(root_id, term_id) for every term under each root selected by ``roots`` (the root included)."""
    tree = roots.cte("term_tree", recursive=True)
    child = aliased(TaxonomyTerm)
    return tree.union_all(sa.select(tree.c.root_id, child.id).where(child.parent_id == tree.c.term_id))


def top_level_categories() -> list[CategorySummary]:
    """Terms without a parent, by position then name, each with how many public services it or its
    descendants hold (a service in two sub-categories counts once). Two queries whatever the tree size."""
    terms = db.session.scalars(
        sa.select(TaxonomyTerm)
        .where(TaxonomyTerm.parent_id.is_(None))
        .order_by(TaxonomyTerm.position, TaxonomyTerm.name)
    ).all()
    tree = _term_tree(
        sa.select(TaxonomyTerm.id.label("root_id"), TaxonomyTerm.id.label("term_id")).where(
            TaxonomyTerm.parent_id.is_(None)
        )
    )
    counts = dict(
        db.session.execute(
            sa.select(tree.c.root_id, sa.func.count(sa.distinct(Service.id)))
            .select_from(tree)
            .join(service_taxonomy_terms, service_taxonomy_terms.c.taxonomy_term_id == tree.c.term_id)
            .join(Service, Service.id == service_taxonomy_terms.c.service_id)
            .where(public_services_clause())
            .group_by(tree.c.root_id)
        ).all()
    )
    return [CategorySummary(term=term, service_count=counts.get(term.id, 0)) for term in terms]


def category_by_slug(slug: str) -> TaxonomyTerm | None:
    """The term with ``slug``, its children loaded, or None."""
    return db.session.scalar(
        sa.select(TaxonomyTerm).where(TaxonomyTerm.slug == slug).options(selectinload(TaxonomyTerm.children))
    )


def services_in_category(*, term: TaxonomyTerm, page: int, per_page: int) -> ServicePage:
    """Public services filed under ``term`` or any term beneath it, alphabetically."""
    tree = _term_tree(sa.select(TaxonomyTerm.id.label("root_id"), TaxonomyTerm.id.label("term_id")).where(
        TaxonomyTerm.id == term.id
    ))
    # Not correlated with each service row: the tree and its services are found once.
    in_tree = Service.id.in_(
        sa.select(service_taxonomy_terms.c.service_id).where(
            service_taxonomy_terms.c.taxonomy_term_id.in_(sa.select(tree.c.term_id))
        )
    )
    return _page_of_services(in_tree, order_by=_by_name(), page=page, per_page=per_page)


# --- one service, one organisation -----------------------------------------------------------------------


def public_service(service_id: uuid.UUID) -> Service | None:
    """The service with everything its page shows, or None when there is none or it is not public."""
    return db.session.scalar(
        sa.select(Service)
        .where(Service.id == service_id, public_services_clause())
        .options(
            selectinload(Service.organisation),
            selectinload(Service.taxonomy_terms),
            selectinload(Service.needs),
            selectinload(Service.accessibility_features),
            selectinload(Service.languages),
            selectinload(Service.cost_options),
            selectinload(Service.locations_at).selectinload(ServiceAtLocation.location),
            selectinload(Service.schedules),
            selectinload(Service.contacts).selectinload(Contact.phones),
            selectinload(Service.service_areas).selectinload(ServiceArea.locality),
            selectinload(Service.local_offer_answers),
        )
    )


def approved_organisation(organisation_id: uuid.UUID) -> Organisation | None:
    """The organisation, or None when there is none or the council has not approved it."""
    return db.session.scalar(
        sa.select(Organisation).where(
            Organisation.id == organisation_id,
            Organisation.verification_status == VerificationStatus.APPROVED,
        )
    )


def public_services_of(organisation: Organisation) -> list[Service]:
    """The organisation's public services, alphabetically (the whole list: organisations run a handful)."""
    return list(
        db.session.scalars(
            sa.select(Service)
            .where(Service.organisation_id == organisation.id, public_services_clause())
            .order_by(*_by_name(), Service.id)
            .options(*_list_options())
        ).all()
    )
