"""Factories for the parts of a listing the public pages show: places, opening times, costs, contacts."""

from __future__ import annotations

import itertools
from datetime import time

from portal.extensions import db
from portal.models import (
    AccessibilityFeature,
    Contact,
    CostOption,
    CostUnit,
    Locality,
    LocalOfferAnswer,
    Location,
    Need,
    Phone,
    Schedule,
    Service,
    ServiceArea,
    ServiceAtLocation,
    ServiceLanguage,
    TaxonomyTerm,
    Weekday,
)

_sequence = itertools.count(1)
_DAY_POSITION = {day: index for index, day in enumerate(Weekday)}


def add_location(service: Service, *, postcode: str = "AM1 1AA", address_1: str = "1 High Street",
                 hide_exact_address: bool = False, **fields) -> Location:
    location = Location(organisation=service.organisation, postcode=postcode, address_1=address_1,
                        hide_exact_address=hide_exact_address, **fields)
    db.session.add(ServiceAtLocation(service=service, location=location))
    db.session.flush()
    return location


def add_opening(service: Service, day: Weekday, opens: time | None, closes: time | None,
                **fields) -> Schedule:
    schedule = Schedule(service=service, byday=day, position=_DAY_POSITION[day], opens_at=opens,
                        closes_at=closes, **fields)
    db.session.add(schedule)
    db.session.flush()
    return schedule


def add_cost(service: Service, *, amount_pence: int | None, unit: CostUnit | None = None,
             **fields) -> CostOption:
    option = CostOption(service=service, amount_pence=amount_pence, unit=unit,
                        position=len(service.cost_options), **fields)
    db.session.add(option)
    db.session.flush()
    return option


def add_contact(service: Service, *, phones: tuple[str, ...] = (), **fields) -> Contact:
    contact = Contact(service=service, **fields)
    contact.phones = [Phone(number=number) for number in phones]
    db.session.add(contact)
    db.session.flush()
    return contact


def add_language(service: Service, code: str, note: str = "") -> ServiceLanguage:
    language = ServiceLanguage(service=service, code=code, note=note)
    db.session.add(language)
    db.session.flush()
    return language


def add_local_offer_answer(service: Service, question: str, answer: str) -> LocalOfferAnswer:
    item = LocalOfferAnswer(service=service, question=question, answer=answer,
                            position=len(service.local_offer_answers))
    db.session.add(item)
    db.session.flush()
    return item


def make_need(*, name: str, name_cy: str = "", send: bool = False) -> Need:
    need = Need(slug=f"need-{next(_sequence)}", name=name, name_cy=name_cy, send=send)
    db.session.add(need)
    db.session.flush()
    return need


def make_accessibility_feature(*, name: str, name_cy: str = "") -> AccessibilityFeature:
    feature = AccessibilityFeature(slug=f"feature-{next(_sequence)}", name=name, name_cy=name_cy)
    db.session.add(feature)
    db.session.flush()
    return feature


def add_locality(service: Service, *, name: str, name_cy: str = "") -> Locality:
    locality = Locality(slug=f"locality-{next(_sequence)}", name=name, name_cy=name_cy)
    db.session.add(ServiceArea(service=service, locality=locality))
    db.session.flush()
    return locality


def file_under(service: Service, *terms: TaxonomyTerm) -> Service:
    service.taxonomy_terms.extend(terms)
    db.session.flush()
    return service
