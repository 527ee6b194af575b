"""Listings: create and update services with everything that hangs off them, and the vocabularies they use.

Every function stages changes in the caller's transaction and never commits. Every created or changed
service appends a ``ListingChange`` row in the same transaction: the search indexer applies those rows after
commit (it reloads the service and drops it from the index when it is no longer public).

Callers describe a listing as a ``ListingData`` value; ``save``-style functions compare it with what is
stored and touch nothing when they are equal, so repeated imports and demo loads are no-ops.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time
from typing import Any

import sqlalchemy as sa

from portal.data import audit
from portal.extensions import db
from portal.models import (
    AccessibilityFeature,
    ChangeKind,
    Contact,
    CostOption,
    CostUnit,
    ListingChange,
    Locality,
    LocalOfferAnswer,
    Location,
    Need,
    Organisation,
    Phone,
    RegulatorBody,
    Schedule,
    Service,
    ServiceArea,
    ServiceAtLocation,
    ServiceLanguage,
    ServiceStatus,
    TaxonomyTerm,
    VerificationStatus,
    Weekday,
    utcnow,
)

WEEKDAY_POSITION = {day: position for position, day in enumerate(Weekday)}
MAX_AGE = 130


class ListingError(Exception):
    """A listing cannot be saved as described."""


class InvalidListing(ListingError):
    """The listing's data breaks a rule (missing name, reversed ages, bad coordinates, ...)."""


# --- Values describing a listing -------------------------------------------------------------------------


@dataclass
class PhoneData:
    number: str
    extension: str = ""
    description: str = ""


@dataclass
class ContactData:
    name: str = ""
    title: str = ""
    email: str | None = None
    phones: list[PhoneData] = field(default_factory=list)


@dataclass
class ScheduleData:
    byday: Weekday
    opens_at: time | None = None
    closes_at: time | None = None
    notes: str = ""


@dataclass
class CostData:
    option: str = ""
    amount_pence: int | None = None
    unit: CostUnit | None = None
    amount_description: str = ""


@dataclass
class LanguageData:
    code: str
    note: str = ""


@dataclass
class AreaData:
    name: str = ""
    locality: Locality | None = None


@dataclass
class AnswerData:
    question: str
    answer: str


@dataclass
class ListingData:
    """Everything about one service that a provider, an import or the demo can set."""

    name: str
    summary: str = ""
    description: str = ""
    status: ServiceStatus = ServiceStatus.ACTIVE
    url: str | None = None
    email: str | None = None
    in_person: bool = True
    online: bool = False
    by_phone: bool = False
    minimum_age: int | None = None
    maximum_age: int | None = None
    eligibility_description: str = ""
    referral_required: bool = False
    is_free: bool = False
    fees_description: str = ""
    schedule_note: str = ""
    local_offer: bool = False
    local_offer_description: str = ""
    local_offer_url: str | None = None
    assured_date: date | None = None
    last_checked_at: datetime | None = None
    taxonomy_terms: list[TaxonomyTerm] = field(default_factory=list)
    needs: list[Need] = field(default_factory=list)
    accessibility_features: list[AccessibilityFeature] = field(default_factory=list)
    languages: list[LanguageData] = field(default_factory=list)
    cost_options: list[CostData] = field(default_factory=list)
    locations: list[Location] = field(default_factory=list)
    schedules: list[ScheduleData] = field(default_factory=list)
    contacts: list[ContactData] = field(default_factory=list)
    service_areas: list[AreaData] = field(default_factory=list)
    local_offer_answers: list[AnswerData] = field(default_factory=list)


SCALAR_FIELDS = (
    "name",
    "summary",
    "description",
    "status",
    "url",
    "email",
    "in_person",
    "online",
    "by_phone",
    "minimum_age",
    "maximum_age",
    "eligibility_description",
    "referral_required",
    "is_free",
    "fees_description",
    "schedule_note",
    "local_offer",
    "local_offer_description",
    "local_offer_url",
    "assured_date",
    "last_checked_at",
)


@dataclass
class LocationData:
    name: str = ""
    description: str = ""
    address_1: str = ""
    address_2: str = ""
    city: str = ""
    state_province: str = ""
    postcode: str = ""
    country: str = "GB"
    latitude: float | None = None
    longitude: float | None = None
    hide_exact_address: bool = False


@dataclass
class OrganisationData:
    name: str
    description: str = ""
    website: str | None = None
    email: str | None = None
    phone: str | None = None
    charity_number: str | None = None
    company_number: str | None = None
    regulator: RegulatorBody | None = None
    registration_id: str | None = None
    registration_rating: str | None = None
    verification_status: VerificationStatus = VerificationStatus.PENDING
    verified_at: datetime | None = None


# --- Validation ------------------------------------------------------------------------------------------


def validate_listing(data: ListingData) -> None:
    """Raises InvalidListing when ``data`` cannot be a listing."""
    if not data.name or not data.name.strip():
        raise InvalidListing("the service has no name")
    if len(data.name) > 255:
        raise InvalidListing("the service name is longer than 255 characters")
    for label, age in (("minimum", data.minimum_age), ("maximum", data.maximum_age)):
        if age is not None and not 0 <= age <= MAX_AGE:
            raise InvalidListing(f"the {label} age {age} is not between 0 and {MAX_AGE}")
    if data.minimum_age is not None and data.maximum_age is not None and data.minimum_age > data.maximum_age:
        raise InvalidListing(
            f"the minimum age {data.minimum_age} is above the maximum age {data.maximum_age}"
        )
    for cost in data.cost_options:
        if cost.amount_pence is not None and cost.amount_pence < 0:
            raise InvalidListing("a cost option has a negative amount")
    for schedule in data.schedules:
        if schedule.opens_at and schedule.closes_at and schedule.opens_at > schedule.closes_at:
            raise InvalidListing(f"{schedule.byday.value} opens after it closes")


def validate_location(data: LocationData) -> None:
    """Raises InvalidListing when the coordinates are incomplete or outside the world."""
    if (data.latitude is None) != (data.longitude is None):
        raise InvalidListing("a location has only one of latitude and longitude")
    if data.latitude is not None and not (-90 <= data.latitude <= 90 and -180 <= data.longitude <= 180):
        raise InvalidListing(f"a location has impossible coordinates ({data.latitude}, {data.longitude})")
    if len(data.postcode) > 10:
        raise InvalidListing(f"the postcode {data.postcode!r} is too long")


# --- Comparing what is stored with what is wanted --------------------------------------------------------


def listing_data_of(service: Service) -> ListingData:
    """The stored listing as a ``ListingData`` value (the inverse of saving)."""
    return ListingData(
        **{name: getattr(service, name) for name in SCALAR_FIELDS},
        taxonomy_terms=list(service.taxonomy_terms),
        needs=list(service.needs),
        accessibility_features=list(service.accessibility_features),
        languages=[LanguageData(code=row.code, note=row.note) for row in service.languages],
        cost_options=[
            CostData(
                option=row.option,
                amount_pence=row.amount_pence,
                unit=row.unit,
                amount_description=row.amount_description,
            )
            for row in service.cost_options
        ],
        locations=service.locations,
        schedules=[
            ScheduleData(byday=row.byday, opens_at=row.opens_at, closes_at=row.closes_at, notes=row.notes)
            for row in service.schedules
        ],
        contacts=[
            ContactData(
                name=row.name,
                title=row.title,
                email=row.email,
                phones=[
                    PhoneData(number=p.number, extension=p.extension, description=p.description)
                    for p in row.phones
                ],
            )
            for row in service.contacts
        ],
        service_areas=[AreaData(name=row.name, locality=row.locality) for row in service.service_areas],
        local_offer_answers=[
            AnswerData(question=row.question, answer=row.answer) for row in service.local_offer_answers
        ],
    )


def _plain(value: Any) -> Any:
    """A comparable, order-stable form of a ListingData part (related rows by id, sets sorted)."""
    if isinstance(value, list) and value and hasattr(value[0], "__tablename__"):
        return sorted(str(item.id) for item in value)
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if hasattr(value, "__tablename__"):
        return str(value.id)
    if hasattr(value, "__dataclass_fields__"):
        return tuple((f.name, _plain(getattr(value, f.name))) for f in fields(value))
    return value


# Collections the database keeps without an order of their own: compared as sorted lists.
UNORDERED = {"languages", "schedules", "contacts", "service_areas"}


def _comparable(name: str, value: Any) -> Any:
    plain = _plain(value)
    if name in UNORDERED:
        if name == "contacts":
            plain = [
                tuple((k, sorted(v, key=repr) if k == "phones" else v) for k, v in contact)
                for contact in plain
            ]
        return sorted(plain, key=repr)
    return plain


def _differences(old: ListingData, new: ListingData) -> list[str]:
    """Names of the ListingData fields that differ."""
    return [
        f.name
        for f in fields(ListingData)
        if _comparable(f.name, getattr(old, f.name)) != _comparable(f.name, getattr(new, f.name))
    ]


# --- Services --------------------------------------------------------------------------------------------


def record_listing_change(service: Service, kind: ChangeKind = ChangeKind.UPSERT) -> None:
    """Append to the change log the search indexer follows (same transaction as the change)."""
    db.session.add(ListingChange(subject_type="service", subject_id=service.id, kind=kind))


def _child_id(parent_id: uuid.UUID, kind: str, index: int | str) -> uuid.UUID:
    # Rows under a service get ids derived from it, so saving the same listing always gives the same rows.
    return uuid.uuid5(parent_id, f"{kind}:{index}")


def _replace(service: Service, collection: str, rows: list) -> None:
    """Swap a child collection; the old rows are deleted first because the new ones reuse their ids."""
    current = getattr(service, collection)
    if current:
        current.clear()
        db.session.flush()
    current.extend(rows)


def _build_children(service: Service, data: ListingData, name: str) -> list:
    sid = service.id
    if name == "languages":
        return [
            ServiceLanguage(id=_child_id(sid, "language", row.code), code=row.code, note=row.note)
            for row in data.languages
        ]
    if name == "cost_options":
        return [
            CostOption(
                id=_child_id(sid, "cost", i),
                position=i,
                option=row.option,
                amount_pence=row.amount_pence,
                unit=row.unit,
                amount_description=row.amount_description,
            )
            for i, row in enumerate(data.cost_options)
        ]
    if name == "schedules":
        return [
            Schedule(
                id=_child_id(sid, "schedule", i),
                byday=row.byday,
                position=WEEKDAY_POSITION[row.byday],
                opens_at=row.opens_at,
                closes_at=row.closes_at,
                notes=row.notes,
            )
            for i, row in enumerate(data.schedules)
        ]
    if name == "contacts":
        contacts = []
        for i, row in enumerate(data.contacts):
            contact_id = _child_id(sid, "contact", f"{i:04d}")
            contacts.append(
                Contact(
                    id=contact_id,
                    name=row.name,
                    title=row.title,
                    email=row.email,
                    phones=[
                        Phone(
                            id=_child_id(contact_id, "phone", f"{j:04d}"),
                            number=p.number,
                            extension=p.extension,
                            description=p.description,
                        )
                        for j, p in enumerate(row.phones)
                    ],
                )
            )
        return contacts
    if name == "service_areas":
        return [
            ServiceArea(id=_child_id(sid, "area", f"{i:04d}"), name=row.name, locality=row.locality)
            for i, row in enumerate(data.service_areas)
        ]
    if name == "local_offer_answers":
        return [
            LocalOfferAnswer(
                id=_child_id(sid, "answer", i), position=i, question=row.question, answer=row.answer
            )
            for i, row in enumerate(data.local_offer_answers)
        ]
    raise KeyError(name)


def _apply(service: Service, data: ListingData, changed: list[str]) -> None:
    for name in SCALAR_FIELDS:
        if name in changed:
            setattr(service, name, getattr(data, name))
    if "taxonomy_terms" in changed:
        service.taxonomy_terms = list(data.taxonomy_terms)
    if "needs" in changed:
        service.needs = list(data.needs)
    if "accessibility_features" in changed:
        service.accessibility_features = list(data.accessibility_features)
    if "locations" in changed:
        wanted = {location.id: location for location in data.locations}
        service.locations_at = [link for link in service.locations_at if link.location_id in wanted]
        have = {link.location_id for link in service.locations_at}
        for location in data.locations:
            if location.id not in have:
                service.locations_at.append(
                    ServiceAtLocation(id=_child_id(service.id, "at", location.id), location=location)
                )
    for name in (
        "languages",
        "cost_options",
        "schedules",
        "contacts",
        "service_areas",
        "local_offer_answers",
    ):
        if name in changed:
            _replace(service, name, _build_children(service, data, name))


def create_listing(
    *,
    actor: Any | None,
    organisation: Organisation,
    data: ListingData,
    service_id: uuid.UUID | None = None,
    source: str | None = None,
    source_id: str | None = None,
    published_at: datetime | None = None,
) -> Service:
    """Stage a new service with everything it has. Raises InvalidListing."""
    validate_listing(data)
    service = Service(
        id=service_id or uuid.uuid4(),
        organisation=organisation,
        source=source,
        source_id=source_id,
        published_at=published_at or utcnow(),
    )
    db.session.add(service)
    # A new service starts with every collection empty, so "changed" is every field the data sets.
    _apply(service, data, [f.name for f in fields(ListingData)])
    audit.record(
        actor=actor,
        action="listing.created",
        subject=service,
        organisation_id=organisation.id,
        after={"name": data.name, "status": data.status, "source": source, "source_id": source_id},
    )
    record_listing_change(service)
    return service


def update_listing(*, actor: Any | None, service: Service, data: ListingData) -> list[str]:
    """Bring ``service`` in line with ``data``; returns the names of the fields that changed (none: no-op).

    Raises InvalidListing."""
    validate_listing(data)
    before = listing_data_of(service)
    changed = _differences(before, data)
    if not changed:
        return []
    _apply(service, data, changed)
    audit.record(
        actor=actor,
        action="listing.updated",
        subject=service,
        organisation_id=service.organisation_id,
        before={name: getattr(before, name) for name in changed if name in SCALAR_FIELDS},
        after={name: getattr(data, name) for name in changed if name in SCALAR_FIELDS},
        details={"fields": changed},
    )
    record_listing_change(service)
    return changed


def record_changes_for_terms(terms: list[TaxonomyTerm]) -> None:
    """Re-index the services filed under ``terms`` (after a category was renamed or moved)."""
    if not terms:
        return
    services = db.session.scalars(
        sa.select(Service).where(Service.taxonomy_terms.any(TaxonomyTerm.id.in_([term.id for term in terms])))
    )
    for service in services:
        record_listing_change(service)


def find_listing_by_source(*, source: str, source_id: str) -> Service | None:
    return db.session.scalar(
        sa.select(Service).where(Service.source == source, Service.source_id == source_id)
    )


def move_listing(*, actor: Any | None, service: Service, organisation: Organisation) -> bool:
    """Give ``service`` to another organisation; returns whether anything changed."""
    if service.organisation_id == organisation.id:
        return False
    before = service.organisation_id
    service.organisation = organisation
    audit.record(
        actor=actor,
        action="listing.moved",
        subject=service,
        organisation_id=organisation.id,
        before={"organisation_id": before},
        after={"organisation_id": organisation.id},
    )
    record_listing_change(service)
    return True


# --- Organisations and locations -------------------------------------------------------------------------


def _differing(obj: Any, data: Any) -> dict[str, tuple[Any, Any]]:
    return {
        f.name: (getattr(obj, f.name), getattr(data, f.name))
        for f in fields(data)
        if getattr(obj, f.name) != getattr(data, f.name)
    }


def _services_changed(services: list[Service]) -> None:
    # A service's search document carries its organisation and places: re-index it when they change.
    for service in services:
        record_listing_change(service)


def save_organisation(
    *,
    actor: Any | None,
    data: OrganisationData,
    organisation: Organisation | None = None,
    organisation_id: uuid.UUID | None = None,
    source: str | None = None,
    source_id: str | None = None,
) -> tuple[Organisation, bool]:
    """Create the organisation (``organisation`` None) or update it; returns it and whether it changed."""
    if not data.name or not data.name.strip():
        raise InvalidListing("the organisation has no name")
    if organisation is None:
        organisation = Organisation(
            id=organisation_id or uuid.uuid4(),
            source=source,
            source_id=source_id,
            **{f.name: getattr(data, f.name) for f in fields(data)},
        )
        db.session.add(organisation)
        # The audit event refers to the organisation by a foreign key with no relationship, so the unit of
        # work cannot know to insert the organisation first.
        db.session.flush()
        audit.record(
            actor=actor,
            action="organisation.created",
            subject=organisation,
            organisation_id=organisation.id,
            after={"name": data.name, "source": source, "source_id": source_id},
        )
        return organisation, True
    differences = _differing(organisation, data)
    if not differences:
        return organisation, False
    for name, (_, new) in differences.items():
        setattr(organisation, name, new)
    audit.record(
        actor=actor,
        action="organisation.updated",
        subject=organisation,
        organisation_id=organisation.id,
        before={k: old for k, (old, _) in differences.items()},
        after={k: new for k, (_, new) in differences.items()},
    )
    _services_changed(organisation.services)
    return organisation, True


def save_location(
    *,
    actor: Any | None,
    data: LocationData,
    location: Location | None = None,
    organisation: Organisation | None = None,
    location_id: uuid.UUID | None = None,
    source: str | None = None,
    source_id: str | None = None,
) -> tuple[Location, bool]:
    """Create or update a place; returns it and whether it changed. Raises InvalidListing."""
    validate_location(data)
    if location is None:
        location = Location(
            id=location_id or uuid.uuid4(),
            organisation=organisation,
            source=source,
            source_id=source_id,
            **{f.name: getattr(data, f.name) for f in fields(data)},
        )
        db.session.add(location)
        return location, True
    differences = _differing(location, data)
    if organisation is not None and location.organisation_id != organisation.id:
        location.organisation = organisation
        differences["organisation_id"] = (None, organisation.id)
    if not differences:
        return location, False
    for name, (_, new) in differences.items():
        if name != "organisation_id":
            setattr(location, name, new)
    audit.record(
        actor=actor,
        action="location.updated",
        subject=location,
        organisation_id=location.organisation_id,
        details={"fields": sorted(differences)},
    )
    _services_changed([link.service for link in location.services_at])
    return location, True
