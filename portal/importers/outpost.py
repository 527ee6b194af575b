"""Importing the JSON of Outpost, the open-source directory several councils run (wearefuturegov/outpost).

Accepts a search results page (``{"content": [...]}``), a single service record or a list of records.
Records become real listings through ``portal.data.listings``: organisation, places, categories with their
parents, SEND needs, ages, schedules, costs, contacts and Local Offer answers. Services, organisations and
places are upserted by ``(source="outpost", source_id)``, so importing again changes only what changed.
Each record is imported inside its own savepoint: a bad record is rejected with its reason and leaves
nothing behind. Never commits: the caller does, once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from portal.data import audit, listings, vocabularies
from portal.data.listings import (
    AnswerData,
    ContactData,
    CostData,
    ListingData,
    ListingError,
    LocationData,
    OrganisationData,
    PhoneData,
    ScheduleData,
)
from portal.extensions import db
from portal.importers.text import clean, clean_line, first_sentence
from portal.models import (
    CostUnit,
    Location,
    Organisation,
    ServiceStatus,
    TaxonomyTerm,
    VerificationStatus,
    Weekday,
)

SOURCE = "outpost"
TAXONOMY_NAME = "Outpost directory categories"
TERM_SLUG_PREFIX = "outpost-"
SUMMARY_LENGTH = 250
WEEKDAYS = {day.value: day for day in Weekday}
COST_UNITS = {
    "hour": CostUnit.HOUR,
    "session": CostUnit.SESSION,
    "day": CostUnit.DAY,
    "week": CostUnit.WEEK,
    "month": CostUnit.MONTH,
    "item": CostUnit.ITEM,
    "one off": CostUnit.ONE_OFF,
    "one-off": CostUnit.ONE_OFF,
}
# Outpost marks online and nationwide services with a place at 0,0 and no postcode.
NOWHERE_CITIES = {"online", "nationwide", ""}


class ImportFileError(Exception):
    """The file is not Outpost JSON we can read."""


class InvalidRecord(Exception):
    """One record cannot become a listing; the message says why."""


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    placeholder_organisations: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": len(self.created),
            "updated": len(self.updated),
            "unchanged": len(self.unchanged),
            "rejected": [{"record": label, "reason": reason} for label, reason in self.rejected],
            "placeholder_organisations": self.placeholder_organisations,
            "warnings": len(self.warnings),
        }


# --- reading ---------------------------------------------------------------------------------------------


def read_records(path: Path | str) -> list[dict]:
    """The service records in an Outpost JSON file. Raises ImportFileError."""
    try:
        payload = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ImportFileError(f"cannot read {path}: {error}") from None
    if isinstance(payload, dict) and isinstance(payload.get("content"), list):
        payload = payload["content"]
    elif isinstance(payload, dict):
        payload = [payload]
    if not isinstance(payload, list):
        raise ImportFileError(f"{path} holds neither an Outpost service, a list of them nor a results page")
    return payload


def summary_of(description: str) -> str:
    return first_sentence(description, limit=SUMMARY_LENGTH)


def _slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


# --- importing -------------------------------------------------------------------------------------------


def import_records(
    records: list[Any],
    *,
    actor: Any | None = None,
    file_name: str = "",
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import every record, each in its own savepoint; returns what happened. Never commits."""
    report = ImportReport()
    for position, record in enumerate(records, start=1):
        if progress:
            progress(1)
        label = _label(record, position)
        warnings: list[str] = []
        try:
            with db.session.begin_nested():
                work = _RecordImport(record, warnings)
                outcome = work.run()
        except (InvalidRecord, ListingError) as reason:
            report.rejected.append((label, str(reason)))
            continue
        except SQLAlchemyError as error:
            report.rejected.append(
                (
                    label,
                    f"the database refused it: {error.__class__.__name__}: "
                    f"{str(error.orig if hasattr(error, 'orig') else error).splitlines()[0]}",
                )
            )
            continue
        getattr(report, outcome).append(label)
        report.placeholder_organisations += work.placeholders
        report.warnings += [f"{label}: {warning}" for warning in warnings]
    audit.record(
        actor=actor,
        action="import.outpost",
        subject_type="import",
        subject_id=file_name or None,
        details=report.as_dict(),
    )
    return report


def import_taxonomy_tree(items: list[dict]) -> int:
    """Create or update the Outpost categories from its taxonomies.json tree; returns how many terms."""
    taxonomy = _taxonomy()
    count = 0
    moved: list[TaxonomyTerm] = []

    def walk(nodes: list[dict], parent: TaxonomyTerm | None) -> None:
        nonlocal count
        for position, node in enumerate(nodes):
            slug = clean_line(node.get("slug")) or _slugify(clean_line(node.get("label") or node.get("name")))
            existing = db.session.scalar(
                sa.select(TaxonomyTerm).where(TaxonomyTerm.slug == TERM_SLUG_PREFIX + slug)
            )
            old_parent = existing.parent if existing is not None else None
            term = vocabularies.ensure_term(
                taxonomy=taxonomy,
                slug=TERM_SLUG_PREFIX + slug,
                code=slug,
                parent=parent,
                name=clean_line(node.get("label") or node.get("name")),
                position=position,
            )
            if existing is not None and old_parent is not parent:
                moved.append(term)
            count += 1
            walk(node.get("children") or [], term)

    walk(items, None)
    # Listings are found under their categories' parents too: re-index those whose category moved.
    listings.record_changes_for_terms(moved)
    return count


def _label(record: Any, position: int) -> str:
    if isinstance(record, dict):
        name = clean_line(record.get("name"))
        if record.get("id") is not None:
            return f"{name or 'unnamed'} (id {record['id']})"
    return f"record {position}"


def _taxonomy():
    return vocabularies.ensure_taxonomy(
        name=TAXONOMY_NAME,
        description="Categories imported from Outpost directories.",
        uri="https://github.com/wearefuturegov/outpost",
    )


class _RecordImport:
    """One Outpost record to one listing. ``run`` raises InvalidRecord or ListingError."""

    def __init__(self, record: Any, warnings: list[str]) -> None:
        if not isinstance(record, dict):
            raise InvalidRecord("the record is not a JSON object")
        self.record = record
        self.warnings = warnings
        self.placeholders: list[str] = []

    def run(self) -> str:
        record = self.record
        if record.get("id") in (None, ""):
            raise InvalidRecord("the record has no id")
        source_id = str(record["id"])
        name = clean_line(record.get("name"))
        if not name:
            raise InvalidRecord("the service has no name")
        organisation = self.organisation(name)
        places, nowhere = self.locations(organisation)
        data = self.listing(name, places, nowhere)
        service = listings.find_listing_by_source(source=SOURCE, source_id=source_id)
        if service is None:
            listings.create_listing(
                actor=None, organisation=organisation, data=data, source=SOURCE, source_id=source_id
            )
            return "created"
        changed = listings.update_listing(actor=None, service=service, data=data)
        moved = listings.move_listing(actor=None, service=service, organisation=organisation)
        return "updated" if changed or moved else "unchanged"

    # --- organisation ---

    def organisation(self, service_name: str) -> Organisation:
        given = self.record.get("organisation") or {}
        if not isinstance(given, dict):
            raise InvalidRecord("the organisation is not a JSON object")
        source_id = str(given["id"]) if given.get("id") is not None else f"service-{self.record['id']}"
        existing = db.session.scalar(
            sa.select(Organisation).where(Organisation.source == SOURCE, Organisation.source_id == source_id)
        )
        name = clean_line(given.get("name"))
        if not name:
            # Outpost allows services whose organisation has no name: keep them under a placeholder named
            # after the (first) service, and say so, so the council can put the real name in.
            name = existing.name if existing is not None else service_name
            if existing is None:
                self.placeholders.append(f"{name} (Outpost organisation {source_id})")
        data = OrganisationData(
            name=name[:255],
            description=clean(given.get("description")),
            website=clean_line(given.get("url"))[:500] or None,
            email=clean_line(given.get("email"))[:320] or None,
            verification_status=existing.verification_status if existing else VerificationStatus.APPROVED,
            verified_at=existing.verified_at if existing else datetime.now(UTC),
        )
        if existing is not None:
            # Keep what the council recorded here that Outpost does not carry.
            for key in (
                "phone",
                "charity_number",
                "company_number",
                "regulator",
                "registration_id",
                "registration_rating",
            ):
                setattr(data, key, getattr(existing, key))
        organisation, _ = listings.save_organisation(
            actor=None, data=data, organisation=existing, source=SOURCE, source_id=source_id
        )
        return organisation

    # --- places ---

    def locations(self, organisation: Organisation) -> tuple[list[Location], bool]:
        """The physical places, and whether the record also had a non-place (online or nationwide)."""
        places, nowhere = [], False
        for index, given in enumerate(self.record.get("locations") or []):
            if not isinstance(given, dict):
                raise InvalidRecord(f"location {index + 1} is not a JSON object")
            data = self.location_data(given, index)
            if data is None:
                nowhere = True
                continue
            source_id = (
                str(given["id"]) if given.get("id") is not None else f"service-{self.record['id']}-{index}"
            )
            existing = db.session.scalar(
                sa.select(Location).where(Location.source == SOURCE, Location.source_id == source_id)
            )
            location, _ = listings.save_location(
                actor=None,
                data=data,
                location=existing,
                organisation=organisation,
                source=SOURCE,
                source_id=source_id,
            )
            places.append(location)
        return places, nowhere

    def location_data(self, given: dict, index: int) -> LocationData | None:
        label = f"location {given.get('id', index + 1)}"
        latitude, longitude = self.coordinates(given.get("geometry"), label)
        postcode = self.postcode(given.get("postal_code"), label)
        city = clean_line(given.get("city"))
        if not postcode and latitude is None:
            if city.lower() not in NOWHERE_CITIES:
                self.warnings.append(f"{label} has no postcode or coordinates, so it is not shown as a place")
            return None
        return LocationData(
            name=clean_line(given.get("name"))[:255],
            address_1=clean_line(given.get("address_1"))[:255],
            address_2=clean_line(given.get("address_2"))[:255],
            city=city[:100],
            state_province=clean_line(given.get("state_province"))[:100],
            postcode=postcode,
            country=(clean_line(given.get("country")) or "GB")[:2].upper(),
            latitude=latitude,
            longitude=longitude,
            hide_exact_address=bool(given.get("mask_exact_address")),
        )

    @staticmethod
    def coordinates(geometry: Any, label: str) -> tuple[float | None, float | None]:
        """GeoJSON gives [longitude, latitude]. 0,0 is Outpost's "no place"; anything impossible rejects."""
        if not geometry:
            return None, None
        coordinates = geometry.get("coordinates") if isinstance(geometry, dict) else None
        if not isinstance(coordinates, list | tuple) or len(coordinates) < 2:
            raise InvalidRecord(f"{label} has coordinates that are not a [longitude, latitude] pair")
        try:
            longitude, latitude = float(coordinates[0]), float(coordinates[1])
        except (TypeError, ValueError):
            raise InvalidRecord(
                f"{label} has coordinates that are not numbers: {coordinates[:2]!r}"
            ) from None
        if longitude == 0 and latitude == 0:
            return None, None
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise InvalidRecord(
                f"{label} has impossible coordinates: longitude {longitude}, latitude {latitude}"
            )
        return round(latitude, 6), round(longitude, 6)

    def postcode(self, value: Any, label: str) -> str:
        text = re.sub(r"\s+", "", clean_line(value)).upper()
        if not text:
            return ""
        if not re.fullmatch(r"[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}", text):
            self.warnings.append(f"{label} has a postcode that does not look like one: {value!r}")
            return clean_line(value)[:10]
        return f"{text[:-3]} {text[-3:]}"

    # --- the listing ---

    def listing(self, name: str, places: list[Location], nowhere: bool) -> ListingData:
        record = self.record
        description = clean(record.get("description"))
        minimum, maximum = self.ages()
        data = ListingData(
            name=name[:255],
            summary=summary_of(description)[:500],
            description=description,
            status=self.status(),
            url=self.url(),
            in_person=bool(places),
            online=nowhere or not places,
            minimum_age=minimum,
            maximum_age=maximum,
            referral_required=bool(record.get("needs_referral")),
            is_free=bool(record.get("free")),
            last_checked_at=self.updated_at(),
            taxonomy_terms=self.terms(),
            needs=self.send_needs(),
            accessibility_features=self.accessibility(),
            cost_options=self.costs(),
            locations=places,
            schedules=self.schedules(),
            contacts=self.contacts(),
        )
        self.local_offer(data)
        return data

    def status(self) -> ServiceStatus:
        visible_to = self.timestamp(self.record.get("visible_to"), "visible_to")
        if visible_to is not None and visible_to < datetime.now(UTC):
            return ServiceStatus.INACTIVE
        return ServiceStatus.ACTIVE

    def url(self) -> str | None:
        url = clean_line(self.record.get("url"))
        if not url:
            # Outpost keeps social and web links apart; with no website, the first link is the best we have.
            links = [
                clean_line(link.get("url"))
                for link in self.record.get("links") or []
                if isinstance(link, dict)
            ]
            url = next((link for link in links if link), "")
        return url[:500] or None

    def updated_at(self) -> datetime | None:
        return self.timestamp(self.record.get("updated_at"), "updated_at")

    def timestamp(self, value: Any, label: str) -> datetime | None:
        if not value:
            return None
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            self.warnings.append(f"{label} is not a date and time: {value!r}")
            return None
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)

    def ages(self) -> tuple[int | None, int | None]:
        ages = []
        for key in ("min_age", "max_age"):
            value = self.record.get(key)
            if value in (None, ""):
                ages.append(None)
                continue
            try:
                age = int(value)
            except (TypeError, ValueError):
                self.warnings.append(f"{key} {value!r} is not a number and was left out")
                ages.append(None)
                continue
            if not 0 <= age <= listings.MAX_AGE:
                self.warnings.append(f"{key} {age} is not a possible age and was left out")
                age = None
            ages.append(age)
        minimum, maximum = ages
        if minimum is not None and maximum is not None and minimum > maximum:
            self.warnings.append(f"the age range {minimum} to {maximum} was reversed and has been swapped")
            minimum, maximum = maximum, minimum
        return minimum, maximum

    def terms(self) -> list[TaxonomyTerm]:
        given = [item for item in self.record.get("taxonomies") or [] if isinstance(item, dict)]
        by_id = {item.get("id"): item for item in given if item.get("id") is not None}
        taxonomy = _taxonomy()
        made: dict[str, TaxonomyTerm] = {}

        def term_for(item: dict, depth: int = 0) -> TaxonomyTerm:
            slug = clean_line(item.get("slug")) or _slugify(clean_line(item.get("name")))
            if not slug:
                raise InvalidRecord("a category has neither a slug nor a name")
            if slug in made:
                return made[slug]
            parent_item = by_id.get(item.get("parent_id"))
            if depth > 10:
                raise InvalidRecord("the categories' parents form a loop")
            if parent_item is not None:
                parent = term_for(parent_item, depth + 1)
            elif item.get("parent_id") is not None:
                # The parent is not in this record: keep the parent the term already has, if any.
                existing = db.session.scalar(
                    sa.select(TaxonomyTerm).where(TaxonomyTerm.slug == TERM_SLUG_PREFIX + slug)
                )
                parent = existing.parent if existing is not None else None
            else:
                parent = None
            made[slug] = vocabularies.ensure_term(
                taxonomy=taxonomy,
                slug=TERM_SLUG_PREFIX + slug,
                code=slug,
                name=clean_line(item.get("name")) or slug,
                parent=parent,
            )
            return made[slug]

        terms = {}
        for item in given:
            term = term_for(item)
            terms[term.slug] = term
        return list(terms.values())

    def send_needs(self) -> list:
        needs = {}
        for item in self.record.get("send_needs") or []:
            slug = clean_line(item.get("slug")) if isinstance(item, dict) else ""
            name = clean_line(item.get("name") or item.get("label")) if isinstance(item, dict) else ""
            if not slug and not name:
                continue
            need = vocabularies.need_for(slug=slug or _slugify(name), name=name or slug, send=True)
            needs[need.slug] = need
        return list(needs.values())

    def accessibility(self) -> list:
        features = {}
        for location in self.record.get("locations") or []:
            for item in (location or {}).get("accessibilities") or []:
                name = clean_line(item.get("name") or item.get("label")) if isinstance(item, dict) else ""
                if name:
                    slug = clean_line(item.get("slug")) or _slugify(name)
                    features[slug] = vocabularies.feature_for(slug=slug, name=name)
        return list(features.values())

    def costs(self) -> list[CostData]:
        costs = []
        for item in self.record.get("cost_options") or []:
            if not isinstance(item, dict):
                continue
            amount = item.get("amount")
            pence = None
            if amount not in (None, ""):
                try:
                    pence = int(
                        (Decimal(str(amount).replace("£", "").replace(",", "")) * 100).to_integral_value()
                    )
                except InvalidOperation:
                    raise InvalidRecord(f"the cost {amount!r} is not an amount of money") from None
                if pence < 0:
                    raise InvalidRecord(f"the cost {amount!r} is negative")
            kind = clean_line(item.get("cost_type")).lower().removeprefix("per ").strip()
            unit = COST_UNITS.get(kind)
            costs.append(
                CostData(
                    option=clean_line(item.get("option"))[:255],
                    amount_pence=pence,
                    unit=unit,
                    amount_description="" if unit or not kind else clean_line(item.get("cost_type")),
                )
            )
        return costs

    def schedules(self) -> list[ScheduleData]:
        rows = []
        for item in self.record.get("regular_schedules") or []:
            if not isinstance(item, dict):
                continue
            day = WEEKDAYS.get(clean_line(item.get("weekday"))[:2].upper())
            if day is None:
                self.warnings.append(
                    f"the opening day {item.get('weekday')!r} is not a weekday and was left out"
                )
                continue
            opens, closes = self.clock(item.get("opens_at")), self.clock(item.get("closes_at"))
            if opens and closes and opens > closes:
                self.warnings.append(
                    f"{day.value} opens at {opens} after it closes at {closes}: times left out"
                )
                opens = closes = None
            rows.append(
                ScheduleData(
                    byday=day,
                    opens_at=opens,
                    closes_at=closes,
                    notes=clean_line(item.get("description"))[:500],
                )
            )
        return rows

    def clock(self, value: Any) -> time | None:
        text = clean_line(value)
        if not text:
            return None
        match = re.search(r"(\d{1,2}):(\d{2})", text)
        if match is None or int(match[1]) > 23 or int(match[2]) > 59:
            self.warnings.append(f"{value!r} is not a time of day and was left out")
            return None
        return time(int(match[1]), int(match[2]))

    def contacts(self) -> list[ContactData]:
        contacts = []
        for item in self.record.get("contacts") or []:
            if not isinstance(item, dict):
                continue
            phones = [phone_from(item.get("phone"))] if clean_line(item.get("phone")) else []
            contact = ContactData(
                name=clean_line(item.get("name"))[:255],
                title=clean_line(item.get("title"))[:255],
                email=clean_line(item.get("email"))[:320] or None,
                phones=phones,
            )
            if contact.name or contact.title or contact.email or contact.phones:
                contacts.append(contact)
        return contacts

    def local_offer(self, data: ListingData) -> None:
        offer = self.record.get("local_offer")
        if not isinstance(offer, dict):
            return
        data.local_offer = True
        data.local_offer_description = clean(offer.get("description"))
        data.local_offer_url = clean_line(offer.get("link"))[:500] or None
        data.local_offer_answers = [
            AnswerData(question=clean(item.get("question")), answer=clean(item.get("answer")))
            for item in offer.get("survey_answers") or []
            if isinstance(item, dict) and clean(item.get("question")) and clean(item.get("answer"))
        ]


def phone_from(value: Any) -> PhoneData:
    """ "0203 289 6420 Ext 303" -> number "0203 289 6420", extension "303"."""
    text = clean_line(value)
    match = re.match(r"(.*?)\s*(?:ext\.?|extension|x)\s*(\d+)\s*$", text, flags=re.IGNORECASE)
    if match and match[1]:
        return PhoneData(number=match[1][:50], extension=match[2][:20])
    return PhoneData(number=text[:50])
