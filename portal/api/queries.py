"""Database (and search index) reads for the Open Referral UK API. Read-only; never commits.

Only public services (``public_services_clause``) and approved organisations are ever returned.

Listing services, three ways:
- no words and no postcode: one SQL query for the page and one for the total, alphabetical;
- words only: the site's Whoosh search pages the results itself (relevance order), or, while the index is
  unavailable, the site's database search does;
- anything else (words with other filters, or a postcode): the ids allowed by the SQL filters, ordered in
  Python by relevance (the best ``TEXT_MATCH_LIMIT`` text matches), distance, or name, then one page of
  rows loaded by id.
Ties are broken by id, so paging through a result never repeats or skips a record.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import aliased, selectinload

from portal.api.params import METRES_PER_MILE, ServiceQuery
from portal.data import directory
from portal.extensions import db
from portal.models import (
    Contact,
    Location,
    Organisation,
    Schedule,
    Service,
    ServiceArea,
    ServiceAtLocation,
    Taxonomy,
    TaxonomyTerm,
    VerificationStatus,
    public_services_clause,
)
from portal.models.directory import service_taxonomy_terms
from search import geo, store
from search.service_search import SearchRequest, search_services

# Words combined with other filters: the filters are applied to this many of the best text matches.
TEXT_MATCH_LIMIT = 5000
METRES_PER_DEGREE_LATITUDE = 111_320.0
CHUNK = 5000  # ids per IN list

T = TypeVar("T")


class UnknownPostcode(Exception):
    """The postcode is not a UK postcode, or not one we know the position of."""


@dataclass(frozen=True)
class Found(Generic[T]):
    """One page of results and how many there are in all."""

    items: list[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


# --- loading options ----------------------------------------------------------------------------------------


def _service_list_options() -> tuple:
    return (selectinload(Service.organisation),)


def _service_full_options(prefix=None) -> tuple:
    start = prefix if prefix is not None else None

    def load(attribute):
        return start.selectinload(attribute) if start is not None else selectinload(attribute)

    return (
        load(Service.organisation),
        load(Service.taxonomy_terms).selectinload(TaxonomyTerm.taxonomy),
        load(Service.accessibility_features),
        load(Service.languages),
        load(Service.cost_options),
        load(Service.locations_at).selectinload(ServiceAtLocation.location),
        load(Service.schedules),
        load(Service.contacts).selectinload(Contact.phones),
        load(Service.service_areas).selectinload(ServiceArea.locality),
    )


# --- places -------------------------------------------------------------------------------------------------


class OutwardCentres:
    """The centre of each outward code asked about, looked up once per request."""

    def __init__(self) -> None:
        self._known: dict[str, tuple[float, float] | None] = {}

    def __call__(self, code: str) -> tuple[float, float] | None:
        if code not in self._known:
            place = geo.resolve_place(code)
            self._known[code] = (place.latitude, place.longitude) if place is not None else None
        return self._known[code]


@dataclass(frozen=True)
class Point:
    latitude: float
    longitude: float


def place_of_postcode(postcode: str) -> Point:
    """Raises UnknownPostcode."""
    if geo.normalise_postcode(postcode) is None:
        raise UnknownPostcode("must be a UK postcode or outward code, like AM1 1AA or AM1")
    place = geo.resolve_place(postcode)
    if place is None:
        raise UnknownPostcode("is not a postcode this directory knows the position of")
    return Point(place.latitude, place.longitude)


def _metres(a: Point, latitude: float, longitude: float) -> float:
    return geo.distance_miles(a.latitude, a.longitude, latitude, longitude) * METRES_PER_MILE


def _place_metres(near: Point, within: float | None, centres: OutwardCentres) -> dict[uuid.UUID, float]:
    """{location id: metres from ``near``}, only places within ``within`` metres when given. Reads the
    locations table alone (a bounding box first), which is far cheaper than joining every service to its
    places. A hidden address counts as the centre of its outward code, as on the site, so a distance search
    cannot pinpoint it."""
    exact = sa.select(Location.id, Location.latitude, Location.longitude).where(
        Location.hide_exact_address.is_(False), Location.latitude.is_not(None), Location.longitude.is_not(None))
    if within is not None:
        dlat = within / METRES_PER_DEGREE_LATITUDE
        dlon = within / (METRES_PER_DEGREE_LATITUDE * max(0.01, math.cos(math.radians(near.latitude))))
        exact = exact.where(Location.latitude.between(near.latitude - dlat, near.latitude + dlat),
                            Location.longitude.between(near.longitude - dlon, near.longitude + dlon))
    points = list(db.session.execute(exact))
    others = sa.select(Location.id, Location.hide_exact_address, Location.postcode).where(
        Location.postcode != "",
        sa.or_(Location.hide_exact_address.is_(True), Location.latitude.is_(None), Location.longitude.is_(None)))
    for location_id, hidden, postcode in db.session.execute(others):
        code = geo.normalise_postcode(postcode or "")
        point = centres(code.split(" ")[0] if hidden else code) if code else None
        if point is not None:
            points.append((location_id, *point))
    metres = {location_id: _metres(near, latitude, longitude) for location_id, latitude, longitude in points}
    return {key: value for key, value in metres.items() if within is None or value <= within}


def _place_distances(conditions: Sequence, near: Point, within: float | None,
                     centres: OutwardCentres) -> dict[uuid.UUID, tuple[uuid.UUID, float]]:
    """{service_at_location id: (service id, metres from ``near``)} for the places of services matching
    ``conditions``, only those within ``within`` metres when given."""
    metres = _place_metres(near, within, centres)
    if within is None:
        rows = list(db.session.execute(
            sa.select(ServiceAtLocation.id, ServiceAtLocation.service_id, ServiceAtLocation.location_id)
            .join(Service, Service.id == ServiceAtLocation.service_id).where(*conditions)))
    else:
        # Only the places found near (a few thousand at most), in chunks the databases accept; the filters
        # are then checked on those services alone. (Joined in one statement, SQLite walks every service.)
        wanted, rows = list(metres), []
        for start in range(0, len(wanted), CHUNK):
            rows.extend(db.session.execute(
                sa.select(ServiceAtLocation.id, ServiceAtLocation.service_id, ServiceAtLocation.location_id)
                .where(ServiceAtLocation.location_id.in_(wanted[start:start + CHUNK]))))
        candidates, allowed = list({row[1] for row in rows}), set()
        for start in range(0, len(candidates), CHUNK):
            allowed.update(db.session.scalars(
                sa.select(Service.id).where(Service.id.in_(candidates[start:start + CHUNK]), *conditions)))
        rows = [row for row in rows if row[1] in allowed]
    return {link_id: (service_id, metres[location_id]) for link_id, service_id, location_id in rows
            if location_id in metres}


# --- filters --------------------------------------------------------------------------------------------


def _terms_beneath(term_ids: Iterable[uuid.UUID]) -> sa.CTE:
    """The terms given and every term beneath them: a category includes its sub-categories, as on the site."""
    tree = sa.select(TaxonomyTerm.id.label("term_id")).where(TaxonomyTerm.id.in_(list(term_ids))).cte(
        "api_term_tree", recursive=True)
    child = aliased(TaxonomyTerm)
    return tree.union_all(sa.select(child.id).where(child.parent_id == tree.c.term_id))


def service_conditions(query: ServiceQuery) -> list[sa.ColumnElement[bool]]:
    """SQL for every filter but words and place, on ``Service`` (public services only)."""
    conditions: list[sa.ColumnElement[bool]] = [public_services_clause()]
    if query.taxonomy_term_ids:
        tree = _terms_beneath(query.taxonomy_term_ids)
        conditions.append(Service.id.in_(sa.select(service_taxonomy_terms.c.service_id).where(
            service_taxonomy_terms.c.taxonomy_term_id.in_(sa.select(tree.c.term_id)))))
    if query.taxonomy_id:
        conditions.append(Service.id.in_(
            sa.select(service_taxonomy_terms.c.service_id)
            .join(TaxonomyTerm, TaxonomyTerm.id == service_taxonomy_terms.c.taxonomy_term_id)
            .where(TaxonomyTerm.taxonomy_id == query.taxonomy_id)))
    if query.organization_id:
        conditions.append(Service.organisation_id == query.organization_id)
    if query.modified_after:
        conditions.append(Service.updated_at >= query.modified_after)
    # The profile: services whose minimum age is at least ``minimum_age`` and whose maximum age is at most
    # ``maximum_age`` (a range lying within the one asked about; no lower bound counts as 0, no upper
    # bound as none at all).
    if query.minimum_age is not None:
        conditions.append(sa.func.coalesce(Service.minimum_age, 0) >= query.minimum_age)
    if query.maximum_age is not None:
        conditions.append(sa.and_(Service.maximum_age.is_not(None), Service.maximum_age <= query.maximum_age))
    if query.day or query.start_time or query.end_time:
        # One opening must meet all three: open that day, opening at or after start, closing by end.
        opening = []
        if query.day:
            opening.append(Schedule.byday == query.day)
        if query.start_time:
            opening.append(Schedule.opens_at >= query.start_time)
        if query.end_time:
            opening.append(Schedule.closes_at <= query.end_time)
        conditions.append(Service.id.in_(sa.select(Schedule.service_id).where(*opening)))
    return conditions


def _text_condition(text: str) -> sa.ColumnElement[bool]:
    """The site's database search (portal.data.directory) as a condition: every word in the name, summary,
    description or organisation name. Used only while the index is unavailable."""
    def matches(word: str):
        pattern = f"%{directory.escape_like(word)}%"
        return sa.or_(*(column.ilike(pattern, escape="/")
                        for column in (Service.name, Service.summary, Service.description, Organisation.name)))

    return sa.and_(*(matches(word) for word in directory.search_words(text)))


def _index_root() -> Path:
    return Path(current_app.config["SEARCH_INDEX_DIR"])


def _ranked_by_text(text: str, conditions: Sequence) -> list[uuid.UUID]:
    """Service ids matching ``text``, best first: the index's ranking, or the database search's order while
    the index is unavailable."""
    try:
        outcome = search_services(_index_root(), SearchRequest(text=text, page=1, per_page=TEXT_MATCH_LIMIT))
        return outcome.ids
    except store.IndexUnavailable as reason:
        current_app.logger.warning("API search falling back to the database: %s", reason)
    words = directory.search_words(text)
    name_first = sa.case((Service.name.ilike(f"%{directory.escape_like(words[0])}%", escape="/"), 0), else_=1)
    return list(db.session.scalars(
        sa.select(Service.id).join(Service.organisation).where(*conditions, _text_condition(text))
        .order_by(name_first, sa.func.lower(Service.name), Service.id)))


# --- services -----------------------------------------------------------------------------------------------


def _services_by_id(ids: Sequence[uuid.UUID], options: tuple) -> list[Service]:
    if not ids:
        return []
    found = {service.id: service for service in db.session.scalars(
        sa.select(Service).where(Service.id.in_(list(ids)), public_services_clause()).options(*options))}
    return [found[service_id] for service_id in ids if service_id in found]


def _alphabetical_services(conditions: Sequence, page: int, per_page: int) -> Found[Service]:
    base = sa.select(Service).where(*conditions)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(base.subquery())) or 0
    services = db.session.scalars(base.order_by(sa.func.lower(Service.name), Service.id)
                                  .options(*_service_list_options())
                                  .limit(per_page).offset((page - 1) * per_page)).all()
    return Found(list(services), total, page, per_page)


def _words_only(text: str, page: int, per_page: int) -> Found[Service]:
    try:
        outcome = search_services(_index_root(), SearchRequest(text=text, page=page, per_page=per_page))
    except store.IndexUnavailable as reason:
        current_app.logger.warning("API search falling back to the database: %s", reason)
        found = directory.search_services_in_database(text=text, page=page, per_page=per_page)
        return Found(list(found.services), found.total, page, per_page)
    return Found(_services_by_id(outcome.ids, _service_list_options()), outcome.total, page, per_page)


def _nearest_places(conditions: Sequence, near: Point, within: float | None) -> dict[uuid.UUID, float]:
    """{service id: metres to its nearest place} for services matching ``conditions`` (within ``within``)."""
    nearest: dict[uuid.UUID, float] = {}
    for service_id, metres in _place_distances(conditions, near, within, OutwardCentres()).values():
        nearest[service_id] = min(metres, nearest.get(service_id, math.inf))
    return nearest


def list_services(query: ServiceQuery, page: int, per_page: int) -> Found[Service]:
    """One page of public services matching ``query``. Raises UnknownPostcode."""
    conditions = service_conditions(query)
    if not query.text and not query.postcode:
        return _alphabetical_services(conditions, page, per_page)
    if query.text and not query.postcode and not query.has_structured_filters:
        return _words_only(query.text, page, per_page)
    nearest: dict[uuid.UUID, float] | None = None
    if query.postcode:
        nearest = _nearest_places(conditions, place_of_postcode(query.postcode), query.proximity_metres)
    if query.proximity_metres is not None:
        allowed = set(nearest)  # the filters were applied to the places already
    else:
        allowed = set(db.session.scalars(sa.select(Service.id).where(*conditions)))
    if query.text:
        order = [service_id for service_id in _ranked_by_text(query.text, conditions) if service_id in allowed]
    else:  # near a postcode: nearest first, services without a place last
        order = sorted(allowed, key=lambda service_id: (nearest.get(service_id, math.inf), str(service_id)))
    start = (page - 1) * per_page
    return Found(_services_by_id(order[start:start + per_page], _service_list_options()), len(order), page,
                 per_page)


def public_service(service_id: uuid.UUID) -> Service | None:
    return db.session.scalar(sa.select(Service).where(Service.id == service_id, public_services_clause())
                             .options(*_service_full_options()))


# --- services at locations ------------------------------------------------------------------------------


def _links_by_id(ids: Sequence[uuid.UUID], options: tuple) -> list[ServiceAtLocation]:
    if not ids:
        return []
    found = {link.id: link for link in db.session.scalars(
        sa.select(ServiceAtLocation).join(ServiceAtLocation.service)
        .where(ServiceAtLocation.id.in_(list(ids)), public_services_clause()).options(*options))}
    return [found[link_id] for link_id in ids if link_id in found]


def _link_list_options() -> tuple:
    return (selectinload(ServiceAtLocation.location),
            selectinload(ServiceAtLocation.service).selectinload(Service.organisation))


def list_services_at_locations(query: ServiceQuery, page: int, per_page: int) -> Found[ServiceAtLocation]:
    """One page of the places of public services matching ``query``: by the service's relevance when words
    are given, else nearest first when a postcode is, else by service then place name. Raises
    UnknownPostcode."""
    conditions = service_conditions(query)
    rows = db.session.execute(
        sa.select(ServiceAtLocation.id, ServiceAtLocation.service_id)
        .join(Service, Service.id == ServiceAtLocation.service_id)
        .join(Location, Location.id == ServiceAtLocation.location_id)
        .where(*conditions)
        .order_by(sa.func.lower(Service.name), sa.func.lower(Location.name), ServiceAtLocation.id)
    ).all()
    order = [link_id for link_id, _ in rows]
    if query.text:
        rank = {service_id: position for position, service_id in
                enumerate(_ranked_by_text(query.text, conditions))}
        service_of = dict(rows)
        order = sorted((link_id for link_id in order if service_of[link_id] in rank),
                       key=lambda link_id: rank[service_of[link_id]])  # stable: name order within a service
    if query.postcode:
        near = place_of_postcode(query.postcode)
        distances = _place_distances(conditions, near, query.proximity_metres, OutwardCentres())
        if query.proximity_metres is not None:
            order = [link_id for link_id in order if link_id in distances]
        if not query.text:
            order = sorted(order, key=lambda link_id: distances.get(link_id, (None, math.inf))[1])
    start = (page - 1) * per_page
    return Found(_links_by_id(order[start:start + per_page], _link_list_options()), len(order), page, per_page)


def public_service_at_location(link_id: uuid.UUID) -> ServiceAtLocation | None:
    return db.session.scalar(
        sa.select(ServiceAtLocation).join(ServiceAtLocation.service)
        .where(ServiceAtLocation.id == link_id, public_services_clause())
        .options(selectinload(ServiceAtLocation.location),
                 *_service_full_options(selectinload(ServiceAtLocation.service))))


# --- organisations --------------------------------------------------------------------------------------


def _approved() -> sa.ColumnElement[bool]:
    return Organisation.verification_status == VerificationStatus.APPROVED


def list_organisations(*, text: str, page: int, per_page: int) -> Found[Organisation]:
    base = sa.select(Organisation).where(_approved())
    for word in directory.search_words(text):
        base = base.where(Organisation.name.ilike(f"%{directory.escape_like(word)}%", escape="/"))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(base.subquery())) or 0
    items = db.session.scalars(base.order_by(sa.func.lower(Organisation.name), Organisation.id)
                               .limit(per_page).offset((page - 1) * per_page)).all()
    return Found(list(items), total, page, per_page)


def approved_organisation(organisation_id: uuid.UUID) -> tuple[Organisation, list[Service]] | None:
    """The approved organisation and its public services in full, or None."""
    organisation = db.session.scalar(sa.select(Organisation).where(Organisation.id == organisation_id, _approved()))
    if organisation is None:
        return None
    services = db.session.scalars(
        sa.select(Service).where(Service.organisation_id == organisation_id, public_services_clause())
        .order_by(sa.func.lower(Service.name), Service.id).options(*_service_full_options())).all()
    return organisation, list(services)


# --- taxonomies -----------------------------------------------------------------------------------------


def _page_of(statement: sa.Select, page: int, per_page: int) -> Found:
    total = db.session.scalar(sa.select(sa.func.count()).select_from(statement.subquery())) or 0
    items = db.session.scalars(statement.limit(per_page).offset((page - 1) * per_page)).all()
    return Found(list(items), total, page, per_page)


def list_taxonomies(page: int, per_page: int) -> Found[Taxonomy]:
    return _page_of(sa.select(Taxonomy).order_by(sa.func.lower(Taxonomy.name), Taxonomy.id), page, per_page)


def _term_order() -> tuple:
    return TaxonomyTerm.position, sa.func.lower(TaxonomyTerm.name), TaxonomyTerm.id


def taxonomy_with_terms(taxonomy_id: uuid.UUID) -> tuple[Taxonomy, list[TaxonomyTerm]] | None:
    taxonomy = db.session.get(Taxonomy, taxonomy_id)
    if taxonomy is None:
        return None
    terms = db.session.scalars(sa.select(TaxonomyTerm).where(TaxonomyTerm.taxonomy_id == taxonomy_id)
                               .order_by(*_term_order()).options(selectinload(TaxonomyTerm.taxonomy))).all()
    return taxonomy, list(terms)


@dataclass(frozen=True)
class TermQuery:
    taxonomy_id: uuid.UUID | None = None
    parent_id: uuid.UUID | None = None
    vocabulary: str = ""
    top_only: bool = False


def list_taxonomy_terms(query: TermQuery, page: int, per_page: int) -> Found[TaxonomyTerm]:
    statement = sa.select(TaxonomyTerm).options(selectinload(TaxonomyTerm.taxonomy))
    if query.taxonomy_id:
        statement = statement.where(TaxonomyTerm.taxonomy_id == query.taxonomy_id)
    if query.parent_id:
        statement = statement.where(TaxonomyTerm.parent_id == query.parent_id)
    if query.vocabulary:
        statement = statement.where(TaxonomyTerm.taxonomy_id.in_(
            sa.select(Taxonomy.id).where(sa.func.lower(Taxonomy.name) == query.vocabulary.lower())))
    if query.top_only:
        statement = statement.where(TaxonomyTerm.parent_id.is_(None))
    return _page_of(statement.order_by(*_term_order()), page, per_page)


def taxonomy_term(term_id: uuid.UUID) -> TaxonomyTerm | None:
    return db.session.scalar(sa.select(TaxonomyTerm).where(TaxonomyTerm.id == term_id)
                             .options(selectinload(TaxonomyTerm.taxonomy)))

