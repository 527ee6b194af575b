"""A listing or a council guide as a search document. Takes loaded rows, returns a dict (no writes; places
without coordinates are looked up through search.geo)."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable

import bleach

from portal.models import Guide, Location, Service, TaxonomyTerm
from search import geo
from search.schema import KIND_GUIDE, KIND_SERVICE, age_bands_overlapping

Point = tuple[float, float]


def _category_slugs(terms: Iterable[TaxonomyTerm]) -> list[str]:
    # A parent category includes its children: index every ancestor's slug too.
    slugs: list[str] = []
    for term in terms:
        for each in [term, *term.ancestors()]:
            if each.slug not in slugs:
                slugs.append(each.slug)
    return slugs


def _category_words(terms: Iterable[TaxonomyTerm]) -> list[str]:
    words: list[str] = []
    for term in terms:
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


def service_document(service: Service, resolve: Callable[[str], Point | None] = _resolved, *,
                     purchasable: bool = False) -> dict:
    """``purchasable``: the service has a published priced offer a direct payment can buy (the indexer knows;
    offers are not loaded with the service)."""
    localities = [area.locality for area in service.service_areas if area.locality is not None]
    body_parts = [
        service.summary,
        service.description,
        service.organisation.name,
        service.eligibility_description,
        *_category_words(service.taxonomy_terms),
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
        "kind": KIND_SERVICE,
        "name": service.name,
        "sort_name": service.name.casefold()[:200],
        "body": body,
        "spelling": f"{service.name}\n{body}",
        "organisation": str(service.organisation_id),
        "categories": ",".join(_category_slugs(service.taxonomy_terms)),
        "needs": ",".join(need.slug for need in service.needs),
        "localities": ",".join(locality.slug for locality in localities),
        "languages": ",".join(language.code for language in service.languages),
        "ages": ",".join(age_bands_overlapping(service.minimum_age, service.maximum_age)),
        "days": ",".join(sorted({schedule.byday.value for schedule in service.schedules})),
        "attending": ",".join(_attending(service)),
        "points": encode_points(points),
        "min_age": service.minimum_age if service.minimum_age is not None else 0,
        "max_age": service.maximum_age if service.maximum_age is not None else 200,
        "is_free": bool(service.is_free),
        "in_person": bool(service.in_person),
        "online": bool(service.online),
        "by_phone": bool(service.by_phone),
        "local_offer": bool(service.local_offer),
        "dp_purchasable": purchasable,
        "updated": int(service.updated_at.timestamp()) if service.updated_at else 0,
    }
    if points:
        document["latitude"] = round(points[0][0] * 1_000_000)
        document["longitude"] = round(points[0][1] * 1_000_000)
    if price is not None:
        document["price"] = price
    return document


# --- guides -------------------------------------------------------------------------------------------------

# A Markdown link or image: its text is words, its address is not.
_MARKDOWN_LINK = re.compile(r"!?\[([^\]\n]*)\]\([^)\n]*\)")
_CODE_ELEMENTS = re.compile(r"<(script|style)\b[^>]*>.*?(</\1\s*>|$)", re.IGNORECASE | re.DOTALL)
_BARE_ADDRESS = re.compile(r"(?:https?://|mailto:|tel:|www\.)\S+", re.IGNORECASE)
_LINE_MARKS = re.compile(r"^\s{0,3}(?:#{1,6}\s+|>\s?|[-*+]\s+|\d{1,3}[.)]\s+)", re.MULTILINE)
# Emphasis and code marks; an underscore only at a word's edge ("_advice_"), never inside one.
_EMPHASIS = re.compile(r"\*{1,3}|~~|`+|(?<!\w)_+|_+(?!\w)")


def plain_text(source: str | None) -> str:
    """A guide's limited Markdown as the words a reader sees: link text without its address, no markup, no
    heading or list signs, entities decoded. Only for the index: pages render the sanitised Markdown."""
    if not source:
        return ""
    text = _MARKDOWN_LINK.sub(r"\1", source.replace("\r\n", "\n").replace("\r", "\n"))
    text = bleach.clean(_CODE_ELEMENTS.sub(" ", text), tags=set(), strip=True, strip_comments=True)
    text = html.unescape(text)
    text = _BARE_ADDRESS.sub(" ", text)
    text = _LINE_MARKS.sub("", text)
    return _EMPHASIS.sub("", text).strip()


def guide_document(guide: Guide) -> dict:
    """A published guide: its English and Welsh title (the boosted name), summary and body as words, the names
    of its categories; filed under its categories' slugs (ancestors too, as for services)."""
    body_parts = [
        guide.summary,
        plain_text(guide.body),
        guide.summary_cy,
        plain_text(guide.body_cy),
        *_category_words(guide.categories),
    ]
    updated = guide.content_updated_at or guide.published_at
    return {
        "id": str(guide.id),
        "kind": KIND_GUIDE,
        "slug": guide.slug,
        "name": "\n".join(part for part in (guide.title, guide.title_cy) if part),
        "sort_name": guide.title.casefold()[:200],
        "body": "\n".join(part for part in body_parts if part),
        "categories": ",".join(_category_slugs(guide.categories)),
        "updated": int(updated.timestamp()) if updated else 0,
    }
