"""Services for indexing from plain SQL rows, not ORM object graphs.

``search.documents.service_document`` reads a service's attributes and its related rows; building those as
ORM objects (identity map, instance state, relationship loaders) was most of a rebuild's time. Here each
batch is a handful of Core selects (one per related table, by ``service_id IN (...)``) assembled into light
read-only records with the same attribute names, so the very same function builds the same documents.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from uuid import UUID

import sqlalchemy as sa

from portal.models import (
    CostOption,
    Locality,
    Location,
    Need,
    Organisation,
    Schedule,
    Service,
    ServiceArea,
    ServiceAtLocation,
    ServiceLanguage,
    TaxonomyTerm,
    public_services_clause,
)
from portal.models.directory import service_needs, service_taxonomy_terms


@dataclass(frozen=True)
class Term:
    slug: str
    name: str
    name_cy: str
    parent: Term | None

    def ancestors(self) -> list[Term]:  # as TaxonomyTerm.ancestors: the parent, its parent, ...
        chain, term = [], self.parent
        while term is not None:
            chain.append(term)
            term = term.parent
        return chain


@dataclass
class Record:
    """A row's columns as attributes (what service_document reads of a Need, a Location, a Schedule...)."""

    values: dict

    def __getattr__(self, name: str):
        try:
            return self.__dict__["values"][name]
        except KeyError:
            raise AttributeError(name) from None


@dataclass
class ServiceRow:
    values: dict
    organisation: Record
    taxonomy_terms: list[Term] = field(default_factory=list)
    needs: list[Record] = field(default_factory=list)
    languages: list[Record] = field(default_factory=list)
    service_areas: list[Record] = field(default_factory=list)
    locations: list[Record] = field(default_factory=list)
    schedules: list[Record] = field(default_factory=list)
    cost_options: list[Record] = field(default_factory=list)

    def __getattr__(self, name: str):
        try:
            return self.__dict__["values"][name]
        except KeyError:
            raise AttributeError(name) from None


_SERVICE_COLUMNS = ("id", "name", "summary", "description", "eligibility_description", "organisation_id",
                    "minimum_age", "maximum_age", "is_free", "in_person", "online", "by_phone", "local_offer",
                    "updated_at")


def _terms(session) -> dict[UUID, Term]:
    """Every taxonomy term with its parent chain (the taxonomy is small: hundreds of terms)."""
    rows = {row.id: row for row in session.execute(
        sa.select(TaxonomyTerm.id, TaxonomyTerm.parent_id, TaxonomyTerm.slug, TaxonomyTerm.name,
                  TaxonomyTerm.name_cy))}
    built: dict[UUID, Term] = {}

    def build(term_id: UUID, depth: int = 0) -> Term | None:
        if term_id in built:
            return built[term_id]
        row = rows.get(term_id)
        if row is None or depth > 50:  # a missing or cyclic parent ends the chain
            return None
        parent = build(row.parent_id, depth + 1) if row.parent_id is not None else None
        built[term_id] = Term(row.slug, row.name, row.name_cy, parent)
        return built[term_id]

    for term_id in rows:
        build(term_id)
    return built


class ServiceRows:
    """Loads public services for indexing, batch by batch; the taxonomy is read once."""

    def __init__(self, session) -> None:
        self.session = session
        self._taxonomy: dict[UUID, Term] | None = None

    def _grouped(self, statement) -> dict[UUID, list[Record]]:
        grouped: dict[UUID, list[Record]] = defaultdict(list)
        for row in self.session.execute(statement).mappings():
            values = dict(row)
            grouped[values.pop("service_id")].append(Record(values))
        return grouped

    def load(self, ids: Iterable[UUID]) -> dict[UUID, ServiceRow]:
        """The public services among ``ids`` (others are left out), with what their documents need."""
        wanted = list(ids)
        if not wanted:
            return {}
        if self._taxonomy is None:
            self._taxonomy = _terms(self.session)
        columns = [getattr(Service, name) for name in _SERVICE_COLUMNS]
        services: dict[UUID, ServiceRow] = {}
        for row in self.session.execute(
            sa.select(*columns, Organisation.name.label("organisation_name"))
            .join(Organisation, Organisation.id == Service.organisation_id)
            .where(Service.id.in_(wanted), public_services_clause())
        ).mappings():
            values = dict(row)
            organisation = Record({"name": values.pop("organisation_name")})
            services[values["id"]] = ServiceRow(values, organisation)
        if not services:
            return {}
        found = list(services)
        taxonomy = self._taxonomy
        for service_id, term_id in self.session.execute(
            sa.select(service_taxonomy_terms.c.service_id, service_taxonomy_terms.c.taxonomy_term_id)
            .where(service_taxonomy_terms.c.service_id.in_(found))
        ):
            term = taxonomy.get(term_id)
            if term is not None:
                services[service_id].taxonomy_terms.append(term)
        related = {
            "needs": sa.select(service_needs.c.service_id, Need.slug, Need.name, Need.name_cy, Need.send)
            .join(Need, Need.id == service_needs.c.need_id)
            .where(service_needs.c.service_id.in_(found)).order_by(Need.name),
            "languages": sa.select(ServiceLanguage.service_id, ServiceLanguage.code)
            .where(ServiceLanguage.service_id.in_(found)).order_by(ServiceLanguage.code),
            "service_areas": sa.select(ServiceArea.service_id, Locality.slug, Locality.name, Locality.name_cy)
            .join(Locality, Locality.id == ServiceArea.locality_id)
            .where(ServiceArea.service_id.in_(found)),
            "schedules": sa.select(Schedule.service_id, Schedule.byday)
            .where(Schedule.service_id.in_(found)),
            "cost_options": sa.select(CostOption.service_id, CostOption.amount_pence)
            .where(CostOption.service_id.in_(found)).order_by(CostOption.position),
        }
        for service_id, place in self._places(found):
            services[service_id].locations.append(place)
        for name, statement in related.items():
            for service_id, records in self._grouped(statement).items():
                if name == "service_areas":  # service_document reads area.locality
                    records = [Record({"locality": record}) for record in records]
                getattr(services[service_id], name).extend(records)
        return services

    def _places(self, found: list[UUID]) -> list[tuple[UUID, Record]]:
        """(service id, place) in the order the ORM's loaders gave: links first, then their places (the first
        place is stored apart)."""
        links = self.session.execute(
            sa.select(ServiceAtLocation.service_id, ServiceAtLocation.location_id, ServiceAtLocation.id)
            .where(ServiceAtLocation.service_id.in_(found))
        ).all()
        if not links:
            return []
        places = {}
        for row in self.session.execute(
            sa.select(Location.id, Location.hide_exact_address, Location.latitude, Location.longitude,
                      Location.postcode, Location.city)
            .where(Location.id.in_({link.location_id for link in links}))
        ).mappings():
            values = dict(row)
            postcode = values["postcode"]
            values["outward_code"] = postcode.split(" ")[0] if postcode else ""  # as Location.outward_code
            places[values.pop("id")] = Record(values)
        return [(service_id, places[location_id]) for service_id, location_id, _ in links if location_id in places]
