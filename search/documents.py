"""A listing as a search document. Takes loaded rows, returns a dict (no writes; places without coordinates
are looked up through search.geo)."""

from __future__ import annotations

from collections.abc import Callable

from portal.models import Location, Service
from search import geo
from search.schema import age_bands_overlapping

Point = tuple[float, float]


def _category_slugs(service: Service) -> list[str]:
    # A parent category includes its children: index every ancestor's slug too.
    slugs: list[str] = []
    for term in service.taxonomy_terms:
        for each in [term, *term.ancestors()]:
            if each.slug not in slugs:
                slugs.append(each.slug)
    return slugs


def _category_words(service: Service) -> list[str]:
    words: list[str] = []
    for term in service.taxonomy_terms:
        for each in [term, *term.ancestors()]:
            words.extend(filter(None, [each.name, each.name_cy]))
    return words


# Said of every service in the SEND Local Offer or supporting a SEND need, so "SEND", "SEN" and "special
# educational needs" find them: the needs themselves are named "Hearing", "Autism", "Visual".
SEND_WORDS = "Special educational needs and disabilities (SEND)"


def _need_words(service: Service) -> list[str]:
    """The names of the needs a service supports, English and Welsh. A SEND need's name is short ("Hearing",
    "Visual"): it is also indexed as "Hearing needs", a phrase the care vocabulary links to "deaf"."""
    words: list[str] = []
    for need in service.needs:
        words.extend(filter(None, [need.name, need.name_cy]))
        if need.send and "need" not in need.name.casefold():
            words.append(f"{need.name} needs")
    if service.local_offer or any(need.send for need in service.needs):
        words.append(SEND_WORDS)
    return words


def _resolved(text: str) -> Point | None:
    place = geo.resolve_place(text)
    return (place.latitude, place.longitude) if place is not None else None


def location_point(location: Location, resolve: Callable[[str], Point | None] = _resolved) -> Point | None:
    """Where a place is for distances. A hidden address (a refuge) counts as the centre of its outward code,
    so neither a distance shown nor a radius search can pinpoint it; a place without coordinates counts as
    its postcode's centre."""
    if location.hide_exact_address:
        return resolve(location.outward_code) if location.outward_code else None
    if location.latitude is not None and location.longitude is not None:
        return location.latitude, location.longitude
    return resolve(location.postcode) if location.postcode else None


def service_points(service: Service, resolve: Callable[[str], Point | None] = _resolved) -> list[Point]:
    points: list[Point] = []
    for location in service.locations:
        point = location_point(location, resolve)
        if point is not None and point not in points:
            points.append(point)
    return points


def _lowest_price(service: Service) -> int | None:
    prices = [option.amount_pence for option in service.cost_options if option.amount_pence is not None]
    if service.is_free:
        prices.append(0)
    return min(prices) if prices else None


def _attending(service: Service) -> list[str]:
    ways = [("in-person", service.in_person), ("online", service.online), ("phone", service.by_phone)]
    return [name for name, offered in ways if offered]


def encode_points(points: list[Point]) -> bytes:
    return ";".join(f"{lat:.6f},{lon:.6f}" for lat, lon in points).encode()


def decode_points(value: bytes | None) -> list[Point]:
    if not value:
        return []
    pairs = (part.split(",") for part in value.decode().split(";") if part)
    return [(float(lat), float(lon)) for lat, lon in pairs]


def service_document(service: Service, resolve: Callable[[str], Point | None] = _resolved) -> dict:
    localities = [area.locality for area in service.service_areas if area.locality is not None]
    body_parts = [
        service.summary,
        service.description,
        service.organisation.name,
        service.eligibility_description,
        *_category_words(service),
        *_need_words(service),
        *(locality.name for locality in localities),
        *(locality.name_cy for locality in localities if locality.name_cy),
        *(location.city for location in service.locations if not location.hide_exact_address),
    ]
    body = "\n".join(part for part in body_parts if part)
    points = service_points(service, resolve)
    price = _lowest_price(service)
    document = {
        "id": str(service.id),
        "kind": "service",
        "name": service.name,
        "sort_name": service.name.casefold()[:200],
        "body": body,
        "spelling": f"{service.name}\n{body}",
        "organisation": str(service.organisation_id),
        "categories": ",".join(_category_slugs(service)),
        "needs": ",".join(need.slug for need in service.needs),
        "localities": ",".join(locality.slug for locality in localities),
        "languages": ",".join(language.code for language in service.languages),
        "ages": ",".join(age_bands_overlapping(service.minimum_age, service.maximum_age)),
        "days": ",".join(sorted({schedule.byday.value for schedule in service.schedules})),
        "attending": ",".join(_attending(service)),
        "cells": ",".join(sorted({geo.cell_of(lat, lon) for lat, lon in points})),
        "points": encode_points(points),
        "min_age": service.minimum_age if service.minimum_age is not None else 0,
        "max_age": service.maximum_age if service.maximum_age is not None else 200,
        "is_free": bool(service.is_free),
        "in_person": bool(service.in_person),
        "online": bool(service.online),
        "by_phone": bool(service.by_phone),
        "local_offer": bool(service.local_offer),
        "dp_purchasable": False,  # the marketplace has no offers yet
        "updated": int(service.updated_at.timestamp()) if service.updated_at else 0,
    }
    if points:
        document["latitude"] = round(points[0][0] * 1_000_000)
        document["longitude"] = round(points[0][1] * 1_000_000)
    if price is not None:
        document["price"] = price
    return document
