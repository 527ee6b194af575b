"""Open Referral UK JSON -> our values: reading a feed's (validated) service records as plain values.

Nothing here touches the database: ``parse_service`` turns one ORUK service (HSDS 3.0 UK profile) into a
``ParsedService`` the importer (portal/importers/oruk.py) stores; portal/importers/oruk_validation.py checks a
record against the profile first. Reasons are plain English for the person running the import: a path into
the record and what is wrong there.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, time
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from portal.data.listings import (
    MAX_AGE,
    ContactData,
    CostData,
    LanguageData,
    LocationData,
    PhoneData,
    ScheduleData,
)
from portal.importers.text import clean, clean_line, first_sentence
from portal.models import CostUnit, ServiceStatus, Weekday

SUMMARY_LENGTH = 200
WEEKDAYS = {day.value: day for day in Weekday}
STATUSES = {status.value: status for status in ServiceStatus}
UK_POSTCODE = re.compile(r"[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}")
COST_UNIT_WORDS = {
    "hour": CostUnit.HOUR,
    "session": CostUnit.SESSION,
    "day": CostUnit.DAY,
    "week": CostUnit.WEEK,
    "month": CostUnit.MONTH,
    "item": CostUnit.ITEM,
}
# org-id.guide schemes that carry the numbers we keep.
COMPANY_SCHEMES = {"GB-COH"}
CHARITY_SCHEMES = {"GB-CHC", "GB-SC", "GB-NIC"}

class InvalidRecord(Exception):
    """A record cannot be imported. ``reasons`` lists every problem found, each in plain English."""

    def __init__(self, reasons: list[str] | str) -> None:
        self.reasons = [reasons] if isinstance(reasons, str) else list(reasons)
        super().__init__("; ".join(self.reasons))


# --- Reading a record ----------------------------------------------------------------------------------------


@dataclass
class ParsedOrganisation:
    source_id: str
    name: str
    description: str = ""
    website: str | None = None
    email: str | None = None
    charity_number: str | None = None
    company_number: str | None = None


@dataclass
class ParsedLocation:
    source_id: str
    data: LocationData | None  # None: the feed gave only the location's id


@dataclass
class ParsedTerm:
    source_id: str
    code: str
    name: str
    description: str = ""
    vocabulary: str | None = None  # the taxonomy's name, when the feed gives one
    vocabulary_uri: str | None = None
    parent_source_id: str | None = None


@dataclass
class ParsedService:
    source_id: str
    name: str
    status: ServiceStatus = ServiceStatus.ACTIVE
    description: str = ""
    summary: str = ""
    url: str | None = None
    email: str | None = None
    minimum_age: int | None = None
    maximum_age: int | None = None
    fees_description: str = ""
    is_free: bool = False
    assured_date: date | None = None
    organisation: ParsedOrganisation | None = None
    organisation_source_id: str | None = None
    locations: list[ParsedLocation] = field(default_factory=list)
    has_virtual_location: bool = False
    schedules: list[ScheduleData] = field(default_factory=list)
    schedule_note: str = ""
    cost_options: list[CostData] = field(default_factory=list)
    contacts: list[ContactData] = field(default_factory=list)
    languages: list[LanguageData] = field(default_factory=list)
    service_areas: list[str] = field(default_factory=list)
    terms: list[ParsedTerm] = field(default_factory=list)
    accessibility: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def summary_of(description: str) -> str:
    return first_sentence(description, limit=SUMMARY_LENGTH)


def content_hash(record: Any) -> str:
    """A digest of the record's content, the same whatever order its keys came in."""
    import hashlib

    canonical = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def parse_service(record: dict) -> ParsedService:
    """Read a record that passed validation. Raises InvalidRecord for what the schema cannot express (a reversed
    age range, a negative price, a day that closes before it opens); dubious details are dropped with a warning."""
    reader = _ServiceReader(record)
    parsed = reader.read()
    if reader.reasons:
        raise InvalidRecord(reader.reasons)
    return parsed


class _ServiceReader:
    def __init__(self, record: dict) -> None:
        self.record = record
        self.reasons: list[str] = []
        self.warnings: list[str] = []

    def read(self) -> ParsedService:
        record = self.record
        name = clean_line(record.get("name"))
        if not name:
            self.reasons.append("name: is empty")
        if len(name) > 255:
            self.warnings.append("name: longer than 255 characters, shortened")
            name = name[:254].rstrip() + "…"
        description = clean(record.get("description"))
        minimum, maximum = self.ages()
        costs = self.costs()
        fees = clean(record.get("fees"))
        parsed = ParsedService(
            source_id=str(record.get("id")),
            name=name,
            status=STATUSES.get(record.get("status"), ServiceStatus.ACTIVE),
            description=description,
            summary=summary_of(description),
            url=self.limited(record.get("url"), 500, "url"),
            email=self.limited(record.get("email"), 320, "email"),
            minimum_age=minimum,
            maximum_age=maximum,
            fees_description=fees,
            is_free=fees.lower() in ("free", "free of charge", "no charge")
            or (bool(costs) and all(cost.amount_pence == 0 for cost in costs)),
            assured_date=self.day(record.get("assured_date"), "assured_date"),
            organisation=self.organisation(),
            organisation_source_id=self.organisation_id(),
            cost_options=costs,
            contacts=self.contacts(),
            languages=self.languages(),
            service_areas=self.areas(),
            terms=self.terms(),
        )
        parsed.locations, parsed.has_virtual_location, parsed.accessibility = self.locations()
        parsed.schedules, parsed.schedule_note = self.schedules()
        parsed.warnings = self.warnings
        return parsed

    # --- simple values ---

    def limited(self, value: Any, length: int, label: str) -> str | None:
        text = clean_line(value)
        if len(text) > length:
            self.warnings.append(f"{label}: longer than {length} characters, left out")
            return None
        return text or None

    def day(self, value: Any, label: str) -> date | None:
        if not value:
            return None
        try:
            return date.fromisoformat(str(value)[:10])
        except ValueError:
            self.warnings.append(f"{label}: {value!r} is not a date, left out")
            return None

    def ages(self) -> tuple[int | None, int | None]:
        ages = []
        for name in ("minimum_age", "maximum_age"):
            value = self.record.get(name)
            if value is None:
                ages.append(None)
                continue
            age = int(value)  # validation made it a number; ORUK ages are whole years
            if not 0 <= age <= MAX_AGE:
                self.reasons.append(f"{name}: {value} is not an age between 0 and {MAX_AGE}")
            ages.append(age)
        minimum, maximum = ages
        if minimum is not None and maximum is not None and minimum > maximum:
            self.reasons.append(
                f"minimum_age {minimum} is above maximum_age {maximum}: the age range is reversed"
            )
        return minimum, maximum

    # --- organisation ---

    def organisation_id(self) -> str | None:
        given = self.record.get("organization")
        if isinstance(given, dict) and given.get("id"):
            return str(given["id"])
        return str(self.record["organization_id"]) if self.record.get("organization_id") else None

    def organisation(self) -> ParsedOrganisation | None:
        given = self.record.get("organization")
        if not isinstance(given, dict) or not given.get("id"):
            return None
        return parse_organisation(given, self.warnings)

    # --- places ---

    def locations(self) -> tuple[list[ParsedLocation], bool, list[str]]:
        places: list[ParsedLocation] = []
        virtual = False
        accessibility: list[str] = []
        for index, link in enumerate(self.record.get("service_at_locations") or []):
            location = link.get("location")
            if not isinstance(location, dict):
                if link.get("location_id"):
                    places.append(ParsedLocation(source_id=str(link["location_id"]), data=None))
                continue
            if location.get("location_type") == "virtual":
                virtual = True
                continue
            label = f"service_at_locations[{index}].location"
            places.append(ParsedLocation(source_id=str(location["id"]), data=self.location_data(location, label)))
            for item in location.get("accessibility") or []:
                text = clean_line(item.get("description") or item.get("accessibility"))
                if text and text[:255] not in accessibility:
                    accessibility.append(text[:255])
        return places, virtual, accessibility

    def location_data(self, location: dict, label: str) -> LocationData:
        addresses = [a for a in location.get("addresses") or [] if isinstance(a, dict)]
        address = next((a for a in addresses if a.get("address_type") == "physical"), addresses[0] if addresses else {})
        latitude, longitude = self.coordinates(location, label)
        country = clean_line(address.get("country")).upper()
        return LocationData(
            name=clean_line(location.get("name"))[:255],
            description=clean(location.get("description")),
            address_1=clean_line(address.get("address_1"))[:255],
            address_2=clean_line(address.get("address_2"))[:255],
            city=clean_line(address.get("city"))[:100],
            state_province=clean_line(address.get("state_province") or address.get("region"))[:100],
            postcode=self.postcode(address.get("postal_code"), label),
            country=country if re.fullmatch(r"[A-Z]{2}", country) else "GB",
            latitude=latitude,
            longitude=longitude,
        )

    def coordinates(self, location: dict, label: str) -> tuple[float | None, float | None]:
        latitude, longitude = location.get("latitude"), location.get("longitude")
        if latitude is None and longitude is None:
            return None, None
        if latitude is None or longitude is None:
            self.warnings.append(f"{label}: has only one of latitude and longitude, both left out")
            return None, None
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            self.warnings.append(f"{label}: impossible coordinates ({latitude}, {longitude}), left out")
            return None, None
        return round(float(latitude), 6), round(float(longitude), 6)

    def postcode(self, value: Any, label: str) -> str:
        text = re.sub(r"\s+", "", clean_line(value)).upper()
        if UK_POSTCODE.fullmatch(text):
            return f"{text[:-3]} {text[-3:]}"
        raw = clean_line(value)
        if len(raw) > 10:
            self.warnings.append(f"{label}: postal code {raw!r} is too long to be a postcode, left out")
            return ""
        return raw

    # --- when ---

    def schedules(self) -> tuple[list[ScheduleData], str]:
        rows: list[ScheduleData] = []
        notes: list[str] = []
        for index, item in enumerate(self.record.get("schedules") or []):
            label = f"schedules[{index}]"
            text = clean(item.get("description"))
            if text and text not in notes:
                notes.append(text)
            days = [token.strip().upper() for token in str(item.get("byday") or "").split(",") if token.strip()]
            weekly = (item.get("freq") or "WEEKLY") == "WEEKLY"
            if not days or not weekly or any(day not in WEEKDAYS for day in days):
                # Monthly patterns ("1MO") and days we cannot read stay as words in the note.
                if not text and item.get("notes"):
                    notes.append(clean(item["notes"]))
                continue
            opens = self.clock(item.get("opens_at"), f"{label}.opens_at")
            closes = self.clock(item.get("closes_at"), f"{label}.closes_at")
            if opens and closes and opens > closes:
                self.reasons.append(f"{label}: opens at {opens:%H:%M}, after it closes at {closes:%H:%M}")
            for day in days:
                rows.append(ScheduleData(byday=WEEKDAYS[day], opens_at=opens, closes_at=closes,
                                         notes=clean_line(item.get("notes"))[:500]))
        return rows, "\n\n".join(notes)

    def clock(self, value: Any, label: str) -> time | None:
        if not value:
            return None
        match = re.fullmatch(r"(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})?", str(value).strip())
        if match is None or int(match[1]) > 23 or int(match[2]) > 59:
            self.warnings.append(f"{label}: {value!r} is not a time of day, left out")
            return None
        return time(int(match[1]), int(match[2]))

    # --- costs, contacts, languages, areas ---

    def costs(self) -> list[CostData]:
        costs = []
        for index, item in enumerate(self.record.get("cost_options") or []):
            amount, pence = item.get("amount"), None
            if amount is not None:
                try:
                    pence = int((Decimal(str(amount)) * 100).to_integral_value())
                except InvalidOperation:
                    self.reasons.append(f"cost_options[{index}].amount: {amount!r} is not an amount of money")
                    continue
                if pence < 0:
                    self.reasons.append(f"cost_options[{index}].amount: {amount} is negative")
            description = clean_line(item.get("amount_description"))
            unit = _cost_unit(description)
            costs.append(CostData(option=clean_line(item.get("option"))[:255], amount_pence=pence, unit=unit,
                                  amount_description="" if unit else description))
        return costs

    def contacts(self) -> list[ContactData]:
        contacts = []
        for item in self.record.get("contacts") or []:
            email = clean_line(item.get("email"))
            contact = ContactData(
                name=clean_line(item.get("name"))[:255],
                title=clean_line(item.get("title"))[:255],
                email=email[:320] if "@" in email else None,
                phones=self.phones(item.get("phones")),
            )
            if contact.name or contact.title or contact.email or contact.phones:
                contacts.append(contact)
        service_phones = self.phones(self.record.get("phones"))
        if service_phones:
            contacts.append(ContactData(phones=service_phones))
        return contacts

    @staticmethod
    def phones(items: Any) -> list[PhoneData]:
        phones = []
        for item in items if isinstance(items, list) else []:
            number = clean_line(item.get("number")) if isinstance(item, dict) else ""
            if number:
                phones.append(PhoneData(number=number[:50], extension=clean_line(item.get("extension"))[:20],
                                        description=clean_line(item.get("description"))[:255]))
        return phones

    def languages(self) -> list[LanguageData]:
        found: dict[str, LanguageData] = {}
        for item in self.record.get("languages") or []:
            code = language_code(item.get("code") or item.get("name"))
            if code is None:
                if item.get("code") or item.get("name"):
                    self.warnings.append(f"language {item.get('code') or item.get('name')!r} not recognised, left out")
                continue  # the UK profile's language rows may carry nothing but an id
            found.setdefault(code, LanguageData(code=code, note=clean_line(item.get("note"))[:255]))
        return list(found.values())

    def areas(self) -> list[str]:
        names = []
        for item in self.record.get("service_areas") or []:
            name = clean_line(item.get("name") or item.get("service_area"))[:255]
            if name and name not in names:
                names.append(name)
        return names

    # --- categories ---

    def terms(self) -> list[ParsedTerm]:
        terms: dict[str, ParsedTerm] = {}
        for item in self.record.get("attributes") or []:
            given = item.get("taxonomy_term")
            if isinstance(given, dict) and given.get("id"):
                term = parse_term(given)
            elif item.get("taxonomy_term_id"):
                term = ParsedTerm(source_id=str(item["taxonomy_term_id"]), code=str(item["taxonomy_term_id"]), name="")
            else:
                continue
            terms.setdefault(term.source_id, term)
        return list(terms.values())


def parse_organisation(given: dict, warnings: list[str]) -> ParsedOrganisation:
    numbers: dict[str, str] = {}
    for item in given.get("organization_identifiers") or []:
        scheme = clean_line(item.get("identifier_scheme")).upper()
        kind = clean_line(item.get("identifier_type")).lower()
        value = clean_line(item.get("identifier"))[:20]
        if scheme in COMPANY_SCHEMES or "company" in kind:
            numbers.setdefault("company_number", value)
        elif scheme in CHARITY_SCHEMES or "charity" in kind:
            numbers.setdefault("charity_number", value)
    website = clean_line(given.get("website") or given.get("url"))
    email = clean_line(given.get("email"))
    name = clean_line(given.get("name"))
    if len(name) > 255:
        warnings.append("organization.name: longer than 255 characters, shortened")
        name = name[:254].rstrip() + "…"
    return ParsedOrganisation(
        source_id=str(given["id"]),
        name=name,
        description=clean(given.get("description")),
        website=website if website and len(website) <= 500 else None,
        email=email if email and len(email) <= 320 else None,
        **numbers,
    )


def parse_term(given: dict) -> ParsedTerm:
    detail = given.get("taxonomy_detail") if isinstance(given.get("taxonomy_detail"), dict) else {}
    code = clean_line(given.get("code")) or str(given["id"])
    return ParsedTerm(
        source_id=str(given["id"]),
        code=code[:100],
        name=(clean_line(given.get("name") or given.get("term")) or code)[:255],
        description=clean(given.get("description")),
        vocabulary=(clean_line(given.get("taxonomy") or detail.get("name")) or None),
        vocabulary_uri=clean_line(detail.get("uri"))[:500] or None,
        parent_source_id=str(given["parent_id"]) if given.get("parent_id") else None,
    )


def _cost_unit(description: str) -> CostUnit | None:
    match = re.fullmatch(r"(?:per|a|an|each)\s+(\w+?)s?", description.lower())
    return COST_UNIT_WORDS.get(match[1]) if match else None


@lru_cache(maxsize=1)
def _language_names() -> dict[str, str]:
    from babel import Locale

    english = Locale("en")
    return {name.lower(): code for code, name in english.languages.items()}


def language_code(value: Any) -> str | None:
    """A BCP 47 code for a code or an English language name ("cy", "Welsh", "en-GB"), or None."""
    text = clean_line(value)
    if not text:
        return None
    if re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*", text) and len(text) <= 20:
        primary = text.split("-")[0].lower()
        from babel import Locale

        if primary in Locale("en").languages:
            return text.lower() if "-" not in text else f"{primary}-{text.split('-', 1)[1]}"
    return _language_names().get(text.lower())
