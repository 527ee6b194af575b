"""Our directory as Open Referral UK (HSDS 3.0 UK profile) JSON objects.

Pure functions from loaded models to dicts shaped as the profile's compiled schemas
(../shared/oruk/uk-profile/schema/compiled/): ``service_full`` (service.json), ``service_list_item``
(service_list.json), ``service_at_location_*``, ``organization_*``, ``taxonomy`` and ``taxonomy_term``.
Callers load the relationships (see portal.api.queries) and pass only what is public: nothing here checks.

Choices worth knowing:
- Empty values are left out rather than sent as "" or null: the schemas type most fields as plain strings,
  and a missing optional field is what consumers expect.
- Money is integer pence with us and pounds in ORUK (``amount`` 18.5 for 1850 pence, currency GBP).
- Categories are ``attributes`` linking the service to a taxonomy term (the UK profile has no
  ``taxonomy_terms`` list on a service); accessibility features are ``accessibility`` on each place.
- A place whose exact address is hidden (a refuge, a carer's home) shows what the public site shows: the
  outward code of its postcode, and the centre of that outward code rounded to about a kilometre, never its
  own coordinates, street or town.
- URLs and emails typed by providers are sent only when they are well formed: the schemas check formats.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time
from urllib.parse import quote, urlsplit

from portal.models import (
    AccessibilityFeature,
    Contact,
    CostOption,
    CostUnit,
    Location,
    Organisation,
    RegulatorBody,
    Schedule,
    Service,
    ServiceArea,
    ServiceAtLocation,
    ServiceLanguage,
    Taxonomy,
    TaxonomyTerm,
)

# Derived ids: uuid5 of this namespace and what the object links, stable across runs and machines.
ID_NAMESPACE = uuid.UUID("6f1f6d2e-7a4b-4c1d-9f0e-3b8a2c5d7e91")
HIDDEN_PLACE_DECIMALS = 2  # ~1.1 km of latitude: an area, not a door
CURRENCY = "GBP"

# The outward code's centre (latitude, longitude), or None when unknown: how a hidden place is located.
OutwardCentre = Callable[[str], "tuple[float, float] | None"]

_UNIT_WORDS = {
    CostUnit.HOUR: "per hour",
    CostUnit.SESSION: "per session",
    CostUnit.DAY: "per day",
    CostUnit.WEEK: "per week",
    CostUnit.MONTH: "per month",
    CostUnit.ITEM: "each",
    CostUnit.ONE_OFF: "one-off payment",
}
_IDENTIFIER_SCHEMES = {
    # (our field, org-id.guide scheme, what it is)
    "charity_number": ("GB-CHC", "Charity number"),
    "company_number": ("GB-COH", "Company number"),
}
_REGULATORS = {RegulatorBody.CQC: "CQC registration", RegulatorBody.OFSTED: "Ofsted registration"}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Characters a URI may hold as they are; anything else (spaces, accents) is percent-encoded.
_URI_SAFE = ":/?#[]@!$&'()*+,;=%-._~"


def derived_id(*parts: object) -> str:
    return str(uuid.uuid5(ID_NAMESPACE, ":".join(str(part) for part in parts)))


def _compact(values: dict) -> dict:
    """Drop empty optional fields (None, "", []); ids and required fields are never empty."""
    return {key: value for key, value in values.items() if value not in (None, "", [])}


def timestamp(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _date(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _time(value: time | None) -> str | None:
    return value.strftime("%H:%M") if value else None


def web_address(value: str | None) -> str | None:
    """An absolute http(s) URI for a provider's typed web address ("www.example.org" gains https://), or
    None when it cannot be one."""
    text = (value or "").strip()
    if not text or any(char.isspace() for char in text):
        return None
    if "://" not in text:
        text = "https://" + text
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or "." not in parts.hostname:
        return None
    return quote(text, safe=_URI_SAFE)


def email_address(value: str | None) -> str | None:
    text = (value or "").strip()
    return text if _EMAIL.match(text) else None


def amount_in_pounds(pence: int | None) -> float | int | None:
    """1850 -> 18.5, 2000 -> 20: pounds as a JSON number, without float noise."""
    if pence is None:
        return None
    pounds, remainder = divmod(pence, 100)
    return pounds if remainder == 0 else round(pence / 100, 2)


# --- vocabulary -------------------------------------------------------------------------------------------


def taxonomy_term(term: TaxonomyTerm) -> dict:
    """taxonomy_term.json: the term, its parent and its taxonomy."""
    return _compact({
        "id": str(term.id),
        "name": term.name,
        "description": term.description or "",
        "code": term.code,
        "parent_id": str(term.parent_id) if term.parent_id else None,
        "taxonomy": term.taxonomy.name,
        "taxonomy_id": str(term.taxonomy_id),
        "term_uri": _term_uri(term),
        "term": term.name,
        "language": "en",
    }) | {"description": term.description or ""}


def _term_uri(term: TaxonomyTerm) -> str | None:
    base = web_address(term.taxonomy.uri)
    return f"{base.rstrip('/')}/{quote(term.code or term.slug)}" if base else None


def taxonomy(item: Taxonomy, terms: Iterable[TaxonomyTerm] | None = None) -> dict:
    """taxonomy.json; with ``terms`` given, its ``taxonomy_terms`` too."""
    result = _compact({
        "id": str(item.id),
        "name": item.name,
        "uri": web_address(item.uri),
        "version": item.version,
    }) | {"description": item.description or ""}
    if terms is not None:
        result["taxonomy_terms"] = [taxonomy_term(term) for term in terms]
    return result


def _attribute(link_type: str, link_id: uuid.UUID, term: TaxonomyTerm) -> dict:
    return {
        "id": derived_id("attribute", link_id, term.id),
        "link_id": str(link_id),
        "link_type": link_type,
        "taxonomy_term_id": str(term.id),
        "taxonomy_term": taxonomy_term(term),
    }


# --- organisation -----------------------------------------------------------------------------------------


def organization_list_item(organisation: Organisation) -> dict:
    """organization_list.json: the organisation's own fields."""
    return _compact({
        "id": str(organisation.id),
        "name": organisation.name,
        "email": email_address(organisation.email),
        "website": web_address(organisation.website),
    }) | {"description": organisation.description or ""}


def organization_identifiers(organisation: Organisation) -> list[dict]:
    identifiers = []
    for field, (scheme, kind) in _IDENTIFIER_SCHEMES.items():
        value = (getattr(organisation, field) or "").strip()
        if value:
            identifiers.append({"id": derived_id("identifier", organisation.id, scheme), "organization_id":
                                str(organisation.id), "identifier_scheme": scheme, "identifier_type": kind,
                                "identifier": value})
    if organisation.regulator is not None and (organisation.registration_id or "").strip():
        identifiers.append({"id": derived_id("identifier", organisation.id, organisation.regulator.value),
                            "organization_id": str(organisation.id),
                            "identifier_type": _REGULATORS[organisation.regulator],
                            "identifier": organisation.registration_id.strip()})
    return identifiers


def organization_nested(organisation: Organisation) -> dict:
    """The organisation as it appears inside a full service: with its identifiers."""
    return organization_list_item(organisation) | _compact(
        {"organization_identifiers": organization_identifiers(organisation)}
    )


def organization_full(organisation: Organisation, services: Iterable[Service],
                      outward_centre: OutwardCentre | None = None,
                      language_name: Callable[[str], str] = str) -> dict:
    """organization.json: the organisation with its (public) services in full."""
    return organization_nested(organisation) | {
        "services": [service_full(service, outward_centre, language_name) for service in services],
    }


# --- places -----------------------------------------------------------------------------------------------


def _coordinates(location: Location, outward_centre: OutwardCentre | None) -> tuple[float, float] | None:
    if location.hide_exact_address:
        centre = outward_centre(location.outward_code) if outward_centre and location.outward_code else None
        if centre is None:
            return None
        return round(centre[0], HIDDEN_PLACE_DECIMALS), round(centre[1], HIDDEN_PLACE_DECIMALS)
    if location.latitude is None or location.longitude is None:
        return None
    return location.latitude, location.longitude


def _address(location: Location) -> dict | None:
    if location.hide_exact_address:
        if not location.outward_code:
            return None
        return {"id": derived_id("address", location.id), "location_id": str(location.id), "address_1": "",
                "city": "", "state_province": "", "postal_code": location.outward_code,
                "country": location.country or "GB", "address_type": "physical"}
    if not (location.address_1 or location.postcode):
        return None
    return _compact({
        "id": derived_id("address", location.id),
        "location_id": str(location.id),
        "address_2": location.address_2,
    }) | {
        "address_1": location.address_1 or "",
        "city": location.city or "",
        "state_province": location.state_province or "",
        "postal_code": location.postcode or "",
        "country": location.country or "GB",
        "address_type": "physical",
    }


def location_list_item(location: Location, outward_centre: OutwardCentre | None = None) -> dict:
    """A location's one-to-one fields (service_at_location_list.json's ``location``)."""
    point = _coordinates(location, outward_centre)
    return _compact({
        "id": str(location.id),
        "location_type": "physical",
        "name": location.name,
        "description": location.description,
        "latitude": point[0] if point else None,
        "longitude": point[1] if point else None,
    })


def location_full(location: Location, accessibility: Iterable[AccessibilityFeature] = (),
                  outward_centre: OutwardCentre | None = None) -> dict:
    address = _address(location)
    return location_list_item(location, outward_centre) | _compact({
        "addresses": [address] if address else [],
        "accessibility": [
            {"id": derived_id("accessibility", location.id, feature.id), "location_id": str(location.id),
             "description": feature.name, "accessibility": feature.name}
            for feature in accessibility
        ],
    })


# --- service ----------------------------------------------------------------------------------------------


def _accreditations(organisation: Organisation) -> str | None:
    if organisation.regulator is None:
        return None
    body = organisation.regulator.value.upper() if organisation.regulator is RegulatorBody.CQC else "Ofsted"
    text = f"Registered with {body}"
    if organisation.registration_rating:
        text += f", rated {organisation.registration_rating}"
    return text


def _fees(service: Service) -> str | None:
    if service.fees_description:
        return service.fees_description
    return "Free" if service.is_free else None


def service_list_item(service: Service) -> dict:
    """service_list.json: the service's one-to-one fields and its organisation."""
    return _compact({
        "id": str(service.id),
        "organization_id": str(service.organisation_id),
        "name": service.name,
        "description": service.description or service.summary,
        "url": web_address(service.url),
        "email": email_address(service.email),
        "status": service.status.value,
        "fees": _fees(service),
        "accreditations": _accreditations(service.organisation),
        "minimum_age": service.minimum_age,
        "maximum_age": service.maximum_age,
        "assured_date": _date(service.assured_date),
        "last_modified": timestamp(service.updated_at),
        "organization": organization_list_item(service.organisation),
    })


def _schedule(schedule: Schedule) -> dict:
    return _compact({
        "id": str(schedule.id),
        "service_id": str(schedule.service_id),
        "service_at_location_id": str(schedule.service_at_location_id) if schedule.service_at_location_id else None,
        "freq": "WEEKLY",
        "interval": 1,
        "byday": schedule.byday.value,
        "opens_at": _time(schedule.opens_at),
        "closes_at": _time(schedule.closes_at),
        "notes": schedule.notes,
    })


def _service_area(area: ServiceArea) -> dict:
    name = area.locality.name if area.locality is not None else area.name
    return _compact({"id": str(area.id), "service_id": str(area.service_id), "name": name,
                     "service_area": name})


def _language(language: ServiceLanguage, name_of: Callable[[str], str]) -> dict:
    return _compact({"id": str(language.id), "service_id": str(language.service_id),
                     "name": name_of(language.code), "code": language.code, "note": language.note})


def _cost_option(option: CostOption) -> dict:
    described = " ".join(part for part in (_UNIT_WORDS.get(option.unit) if option.amount_pence is not None
                                           else None, option.amount_description) if part)
    return _compact({
        "id": str(option.id),
        "service_id": str(option.service_id),
        "option": option.option,
        "amount": amount_in_pounds(option.amount_pence),
        "currency": CURRENCY if option.amount_pence is not None else None,
        "amount_description": described,
    })


def _contact(contact: Contact) -> dict:
    return _compact({
        "id": str(contact.id),
        "service_id": str(contact.service_id),
        "name": contact.name,
        "title": contact.title,
        "email": email_address(contact.email),
        "phones": [_compact({"id": str(phone.id), "contact_id": str(contact.id), "number": phone.number,
                             "extension": phone.extension, "description": phone.description})
                   for phone in contact.phones],
    })


def service_at_location_nested(link: ServiceAtLocation, accessibility: Iterable[AccessibilityFeature] = (),
                               outward_centre: OutwardCentre | None = None) -> dict:
    """A service_at_location inside a full service: the place in full."""
    return _compact({
        "id": str(link.id),
        "service_id": str(link.service_id),
        "location_id": str(link.location_id),
        "description": link.description,
        "location": location_full(link.location, accessibility, outward_centre),
    })


def service_full(service: Service, outward_centre: OutwardCentre | None = None,
                 language_name: Callable[[str], str] = str) -> dict:
    """service.json: everything public about the service."""
    return service_list_item(service) | _compact({
        "organization": organization_nested(service.organisation),
        "schedules": [_schedule(schedule) for schedule in service.schedules],
        "service_areas": [_service_area(area) for area in service.service_areas],
        "service_at_locations": [service_at_location_nested(link, service.accessibility_features, outward_centre)
                                 for link in service.locations_at],
        "languages": [_language(language, language_name) for language in service.languages],
        "cost_options": [_cost_option(option) for option in service.cost_options],
        "contacts": [_contact(contact) for contact in service.contacts],
        "attributes": [_attribute("service", service.id, term) for term in service.taxonomy_terms],
    })


# --- service at location --------------------------------------------------------------------------------


def service_at_location_list_item(link: ServiceAtLocation, outward_centre: OutwardCentre | None = None) -> dict:
    """service_at_location_list.json: the link, its place and its service, one-to-one fields only."""
    return {
        "id": str(link.id),
        "service_id": str(link.service_id),
        "location_id": str(link.location_id),
        "location": location_list_item(link.location, outward_centre),
        "service": service_list_item(link.service),
    }


def service_at_location_full(link: ServiceAtLocation, outward_centre: OutwardCentre | None = None,
                             language_name: Callable[[str], str] = str) -> dict:
    """service_at_location.json: the place in full and the service in full."""
    service = service_full(link.service, outward_centre, language_name)
    service.pop("service_at_locations", None)  # the link itself is the one place that matters here
    return _compact({
        "id": str(link.id),
        "service_id": str(link.service_id),
        "location_id": str(link.location_id),
        "description": link.description,
        "location": location_full(link.location, link.service.accessibility_features, outward_centre),
        "service": service,
    })


def newest(*stamps: datetime | None) -> datetime | None:
    """The latest of the timestamps given (None ignored): a response's Last-Modified."""
    present = [stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC) for stamp in stamps if stamp is not None]
    return max(present) if present else None
