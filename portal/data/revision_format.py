"""A listing as plain JSON: the one format drafts, moderation, version history and restore share.

A listing is a flat dict of field name -> JSON value (``snapshot``). Fields are grouped into the editor's
sections (``SECTIONS``); moderation compares two snapshots field by field (``differences``), approves some
fields by merging them into the published snapshot (``merge``), and ``publish`` makes a snapshot the live
listing, appending a ``ListingVersion`` and a change-log row in the caller's transaction.

Vocabularies are referred to by slug and places by id, so a snapshot stays readable after renames and can be
stored, compared and restored without the rows it was taken from.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import time
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.data import listings
from portal.data.listings import (
    AnswerData,
    AreaData,
    ContactData,
    CostData,
    InvalidListing,
    LanguageData,
    ListingData,
    LocationData,
    PhoneData,
    ScheduleData,
)
from portal.extensions import db
from portal.models import (
    AccessibilityFeature,
    CostUnit,
    ListingRevision,
    ListingVersion,
    Locality,
    Location,
    Need,
    Organisation,
    Service,
    ServiceStatus,
    TaxonomyTerm,
    Weekday,
    utcnow,
)


@dataclass(frozen=True)
class Section:
    key: str
    title: Any  # lazy string
    fields: tuple[str, ...]


# The editor's task list, in order. Every editable field is in exactly one section.
SECTIONS: tuple[Section, ...] = (
    Section("about", _l("About the service"), ("name", "summary", "description", "status")),
    Section(
        "who",
        _l("Who it is for"),
        (
            "minimum_age", "maximum_age", "eligibility_description", "referral_required", "needs",
            "local_offer", "local_offer_description", "local_offer_url", "local_offer_answers",
        ),
    ),
    Section(
        "where",
        _l("Where and when"),
        ("in_person", "online", "by_phone", "locations", "schedules", "schedule_note", "service_areas"),
    ),
    Section("costs", _l("Costs"), ("is_free", "fees_description", "cost_options")),
    Section("contact", _l("Contact details"), ("url", "email", "contacts")),
    Section("accessibility", _l("Accessibility"), ("accessibility_features",)),
    Section("categories", _l("Categories"), ("taxonomy_terms",)),
    Section("languages", _l("Languages"), ("languages",)),
)
SECTION_OF = {name: section.key for section in SECTIONS for name in section.fields}
FIELDS: tuple[str, ...] = tuple(SECTION_OF)

FIELD_LABELS = {
    "name": _l("Service name"),
    "summary": _l("Short summary"),
    "description": _l("Description"),
    "status": _l("Status"),
    "minimum_age": _l("Minimum age"),
    "maximum_age": _l("Maximum age"),
    "eligibility_description": _l("Who can use it"),
    "referral_required": _l("Referral needed"),
    "needs": _l("Needs it supports"),
    "local_offer": _l("Part of the SEND Local Offer"),
    "local_offer_description": _l("Local Offer description"),
    "local_offer_url": _l("Local Offer link"),
    "local_offer_answers": _l("Local Offer answers"),
    "in_person": _l("In person"),
    "online": _l("Online"),
    "by_phone": _l("By phone"),
    "locations": _l("Places"),
    "schedules": _l("Opening times"),
    "schedule_note": _l("Opening times note"),
    "service_areas": _l("Areas served"),
    "is_free": _l("Free"),
    "fees_description": _l("About the costs"),
    "cost_options": _l("Prices"),
    "url": _l("Website"),
    "email": _l("Email address"),
    "contacts": _l("Contacts"),
    "accessibility_features": _l("Accessibility"),
    "taxonomy_terms": _l("Categories"),
    "languages": _l("Languages"),
}

_SCALARS = (
    "name", "summary", "description", "minimum_age", "maximum_age", "eligibility_description",
    "referral_required", "local_offer", "local_offer_description", "local_offer_url", "in_person", "online",
    "by_phone", "schedule_note", "is_free", "fees_description", "url", "email",
)
_LOCATION_FIELDS = (
    "name", "description", "address_1", "address_2", "city", "postcode", "latitude", "longitude",
    "hide_exact_address",
)


class UnknownReference(InvalidListing):
    """A snapshot names a category, need, feature, locality or place that does not exist (or is not ours)."""


# --- Listing -> JSON ----------------------------------------------------------------------------------------


def _clock(value: time | None) -> str | None:
    return value.strftime("%H:%M") if value else None


def empty_listing() -> dict:
    """A new listing's first draft: every field present, nothing filled in."""
    data: dict[str, Any] = {name: "" for name in _SCALARS}
    data.update(
        minimum_age=None, maximum_age=None, referral_required=False, local_offer=False, local_offer_url=None,
        in_person=True, online=False, by_phone=False, is_free=False, url=None, email=None,
        status=ServiceStatus.ACTIVE.value,
    )
    for name in ("needs", "local_offer_answers", "locations", "schedules", "service_areas", "cost_options",
                 "contacts", "accessibility_features", "taxonomy_terms", "languages"):
        data[name] = []
    return data


def snapshot(service: Service) -> dict:
    """The listing as stored, as JSON."""
    data: dict[str, Any] = {name: getattr(service, name) for name in _SCALARS}
    data["status"] = service.status.value
    data["needs"] = sorted(need.slug for need in service.needs)
    data["accessibility_features"] = sorted(feature.slug for feature in service.accessibility_features)
    data["taxonomy_terms"] = sorted(term.slug for term in service.taxonomy_terms)
    data["local_offer_answers"] = [
        {"question": row.question, "answer": row.answer} for row in service.local_offer_answers
    ]
    data["locations"] = [
        {"id": str(location.id), **{name: getattr(location, name) for name in _LOCATION_FIELDS}}
        for location in sorted(service.locations, key=lambda loc: (loc.name, loc.postcode, str(loc.id)))
    ]
    data["schedules"] = [
        {"byday": row.byday.value, "opens_at": _clock(row.opens_at), "closes_at": _clock(row.closes_at),
         "notes": row.notes}
        for row in sorted(service.schedules, key=lambda row: (row.position, _clock(row.opens_at) or ""))
    ]
    data["service_areas"] = sorted(
        ({"name": row.name, "locality": row.locality.slug if row.locality else None} for row in service.service_areas),
        key=lambda area: (area["locality"] or "", area["name"]),
    )
    data["cost_options"] = [
        {"option": row.option, "amount_pence": row.amount_pence, "unit": row.unit.value if row.unit else None,
         "amount_description": row.amount_description}
        for row in service.cost_options
    ]
    data["contacts"] = [
        {"name": row.name, "title": row.title, "email": row.email,
         "phones": [{"number": p.number, "extension": p.extension, "description": p.description} for p in row.phones]}
        for row in service.contacts
    ]
    data["languages"] = sorted(
        ({"code": row.code, "note": row.note} for row in service.languages), key=lambda lang: lang["code"]
    )
    return data


# --- JSON -> listing ----------------------------------------------------------------------------------------


def _by_slugs(model, slugs: list[str], label: str) -> list:
    if not slugs:
        return []
    rows = {row.slug: row for row in db.session.scalars(sa.select(model).where(model.slug.in_(slugs)))}
    missing = [slug for slug in slugs if slug not in rows]
    if missing:
        raise UnknownReference(f"unknown {label}: {', '.join(missing)}")
    return [rows[slug] for slug in slugs]


def _parse_time(value: str | None) -> time | None:
    return time.fromisoformat(value) if value else None


def _belongs_to(location: Location, organisation: Organisation) -> bool:
    if location.organisation_id is not None:
        return location.organisation_id == organisation.id
    # An imported place may have no owner: it is ours only if one of our listings already uses it.
    return any(link.service.organisation_id == organisation.id for link in location.services_at)


def _locations(items: list[dict], organisation: Organisation, actor: Any | None) -> list[Location]:
    """Existing places (by id, only the organisation's own) updated in place; new ones created."""
    result = []
    for item in items:
        fields = LocationData(**{name: item.get(name, "") for name in _LOCATION_FIELDS if name in item})
        existing = None
        if item.get("id"):
            existing = db.session.get(Location, uuid.UUID(str(item["id"])))
            if existing is None or not _belongs_to(existing, organisation):
                raise UnknownReference(f"unknown place {item['id']}")
        location, _ = listings.save_location(actor=actor, data=fields, location=existing, organisation=organisation)
        result.append(location)
    return result


def to_listing_data(data: dict, *, organisation: Organisation, actor: Any | None = None) -> ListingData:
    """A snapshot as ``ListingData`` ready for ``listings.update_listing``. Creates or updates its places.

    Raises InvalidListing (UnknownReference for names that do not resolve)."""
    localities = {row.slug: row for row in db.session.scalars(sa.select(Locality))}
    areas = []
    for area in data.get("service_areas", []):
        locality = None
        if area.get("locality"):
            locality = localities.get(area["locality"])
            if locality is None:
                raise UnknownReference(f"unknown locality: {area['locality']}")
        areas.append(AreaData(name=area.get("name", ""), locality=locality))
    try:
        return ListingData(
            **{name: data.get(name) for name in _SCALARS if name in data},
            status=ServiceStatus(data.get("status", ServiceStatus.ACTIVE.value)),
            needs=_by_slugs(Need, data.get("needs", []), "need"),
            accessibility_features=_by_slugs(
                AccessibilityFeature, data.get("accessibility_features", []), "accessibility feature"
            ),
            taxonomy_terms=_by_slugs(TaxonomyTerm, data.get("taxonomy_terms", []), "category"),
            local_offer_answers=[AnswerData(**row) for row in data.get("local_offer_answers", [])],
            locations=_locations(data.get("locations", []), organisation, actor),
            schedules=[
                ScheduleData(byday=Weekday(row["byday"]), opens_at=_parse_time(row.get("opens_at")),
                             closes_at=_parse_time(row.get("closes_at")), notes=row.get("notes", ""))
                for row in data.get("schedules", [])
            ],
            service_areas=areas,
            cost_options=[
                CostData(option=row.get("option", ""), amount_pence=row.get("amount_pence"),
                         unit=CostUnit(row["unit"]) if row.get("unit") else None,
                         amount_description=row.get("amount_description", ""))
                for row in data.get("cost_options", [])
            ],
            contacts=[
                ContactData(name=row.get("name", ""), title=row.get("title", ""), email=row.get("email"),
                            phones=[PhoneData(**phone) for phone in row.get("phones", [])])
                for row in data.get("contacts", [])
            ],
            languages=[LanguageData(code=row["code"], note=row.get("note", "")) for row in data.get("languages", [])],
        )
    except (KeyError, TypeError, ValueError) as error:
        raise InvalidListing(f"the listing data is malformed: {error}") from error


# --- Comparing and merging ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldDifference:
    field: str
    section: str
    label: Any
    before: Any
    after: Any


def _normal(name: str, value: Any) -> Any:
    # Places are compared without their ids: a re-created identical place is no change to a reader.
    if name == "locations" and isinstance(value, list):
        return [{k: v for k, v in item.items() if k != "id"} for item in value]
    if value == "" and name in ("url", "email", "local_offer_url"):
        return None
    return value


def differences(before: dict, after: dict) -> list[FieldDifference]:
    """Fields whose values differ, in the editor's order."""
    return [
        FieldDifference(name, SECTION_OF[name], FIELD_LABELS[name], before.get(name), after.get(name))
        for name in FIELDS
        if _normal(name, before.get(name)) != _normal(name, after.get(name))
    ]


def merge(published: dict, proposed: dict, fields: set[str] | list[str]) -> dict:
    """The published listing with only ``fields`` taken from the proposal (field-level approval)."""
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise InvalidListing(f"unknown fields: {', '.join(sorted(unknown))}")
    return {name: (proposed.get(name) if name in fields else published.get(name)) for name in FIELDS}


# --- Publishing -------------------------------------------------------------------------------------------


def latest_version_number(service: Service) -> int:
    return db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.max(ListingVersion.number), 0))
        .where(ListingVersion.service_id == service.id)
    )


def publish(
    *,
    actor: Any | None,
    service: Service,
    data: dict,
    revision: ListingRevision | None = None,
    note: str = "",
) -> ListingVersion:
    """Make ``data`` the live listing: updates the service (audit event and change-log row included), marks it
    published and checked, and appends the next ``ListingVersion``. Raises InvalidListing."""
    listing_data = to_listing_data(data, organisation=service.organisation, actor=actor)
    listing_data.last_checked_at = utcnow()
    listing_data.assured_date = service.assured_date
    listings.update_listing(actor=actor, service=service, data=listing_data)
    if service.published_at is None:
        service.published_at = utcnow()
        listings.record_listing_change(service)
    version = ListingVersion(
        service_id=service.id,
        number=latest_version_number(service) + 1,
        data=snapshot(service),
        published_by_id=getattr(actor, "id", None),
        revision_id=revision.id if revision is not None else None,
        note=note,
    )
    db.session.add(version)
    return version
