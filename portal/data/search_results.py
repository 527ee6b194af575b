"""Database reads for the search page: the result rows in the index's order, and the names of the filter
options the index counted. The index supplies ids; what a page shows always comes from here."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from portal.extensions import db
from portal.models import Locality, Need, Service, ServiceArea, ServiceAtLocation, TaxonomyTerm, public_services_clause


def public_services_in_order(ids: Sequence[uuid.UUID]) -> list[Service]:
    """The public services with ``ids``, in that order. A listing unpublished since the index last heard
    of it is left out rather than shown."""
    if not ids:
        return []
    found = {
        service.id: service
        for service in db.session.scalars(
            sa.select(Service)
            .where(Service.id.in_(list(ids)), public_services_clause())
            .options(
                selectinload(Service.organisation),
                selectinload(Service.locations_at).selectinload(ServiceAtLocation.location),
                selectinload(Service.service_areas).selectinload(ServiceArea.locality),
            )
        )
    }
    return [found[service_id] for service_id in ids if service_id in found]


@dataclass(frozen=True)
class FilterVocabulary:
    """Names for filter options, by slug. Categories come as the top-level terms and, beneath any chosen
    ones, their children: a parent includes its children, so choosing it first and narrowing after works.
    Entries are plain rows (slug, name, name_cy, and a category's id and parent_id): a page needs only
    their names, and a search at 50,000 listings offers a couple of hundred of them."""

    categories: list[sa.Row]
    needs: list[sa.Row]
    localities: list[sa.Row]


def filter_vocabulary(*, category_slugs: Iterable[str], need_slugs: Iterable[str],
                      locality_slugs: Iterable[str]) -> FilterVocabulary:
    """The vocabulary entries with these slugs (unknown slugs ignored), in display order. Three queries."""
    categories = db.session.execute(
        sa.select(TaxonomyTerm.id, TaxonomyTerm.parent_id, TaxonomyTerm.slug, TaxonomyTerm.name, TaxonomyTerm.name_cy)
        .where(TaxonomyTerm.slug.in_(list(category_slugs)))
        .order_by(TaxonomyTerm.position, TaxonomyTerm.name)
    ).all()
    needs = db.session.execute(
        sa.select(Need.slug, Need.name, Need.name_cy).where(Need.slug.in_(list(need_slugs))).order_by(Need.name)
    ).all()
    localities = db.session.execute(
        sa.select(Locality.slug, Locality.name, Locality.name_cy)
        .where(Locality.slug.in_(list(locality_slugs))).order_by(Locality.name)
    ).all()
    return FilterVocabulary(categories=list(categories), needs=list(needs), localities=list(localities))
