"""The demonstration borough as plain values: organisations, places and services, generated deterministically.

Everything comes from the JSON files in ``data/`` and one seeded ``random.Random``: the same seed and the
same ``today`` give the same borough, ids included (``uuid5`` of stable names). Nothing here touches the
database; ``portal.demo.loader`` writes the result through ``portal.data.listings``.
"""

from __future__ import annotations

import json
import random
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from pathlib import Path

from portal.data.listings import (
    AnswerData,
    ContactData,
    CostData,
    LanguageData,
    ListingData,
    LocationData,
    OrganisationData,
    PhoneData,
    ScheduleData,
)
from portal.models import CostUnit, RegulatorBody, ServiceStatus, VerificationStatus, Weekday

DATA_DIR = Path(__file__).with_name("data")
SEED = 20250401
TARGET_SERVICES = 300
PENDING_ORGANISATIONS = 4
POSTCODE_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # the letters Royal Mail uses in the inward code


@cache
def load_json(name: str) -> dict:
    return json.loads((DATA_DIR / f"{name}.json").read_text(encoding="utf-8"))


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower().replace("'", "")).strip("-")


def demo_uuid(*parts: str) -> uuid.UUID:
    namespace = uuid.uuid5(uuid.NAMESPACE_URL, load_json("borough")["namespace"])
    return uuid.uuid5(namespace, "/".join(parts))


@dataclass
class DemoLocation:
    id: uuid.UUID
    locality: str
    data: LocationData


@dataclass
class DemoService:
    id: uuid.UUID
    category: str
    listing: ListingData  # vocabulary lists left empty: the slugs below name them
    term_slugs: list[str] = field(default_factory=list)
    need_slugs: list[str] = field(default_factory=list)
    feature_slugs: list[str] = field(default_factory=list)
    location_ids: list[uuid.UUID] = field(default_factory=list)
    area_localities: list[str | None] = field(default_factory=list)  # None: the whole borough


@dataclass
class DemoOrganisation:
    id: uuid.UUID
    slug: str
    kind: str
    data: OrganisationData
    locations: list[DemoLocation] = field(default_factory=list)
    services: list[DemoService] = field(default_factory=list)
    person: str = ""
    audience: str = "adults"


@dataclass
class Borough:
    name: str
    localities: list[dict]
    taxonomy: dict
    organisations: list[DemoOrganisation]

    @property
    def services(self) -> list[DemoService]:
        return [service for organisation in self.organisations for service in organisation.services]


class _Numbers:
    """Unique numbers from Ofcom's drama ranges, handed out in order."""

    def __init__(self) -> None:
        self.landline = 1  # 01632 960000 is the council's own number
        self.mobile = 0

    def next_landline(self) -> str:
        self.landline += 1
        return f"01632 960{self.landline % 1000:03d}"

    def next_mobile(self) -> str:
        self.mobile += 1
        return f"07700 900{self.mobile % 1000:03d}"


class _Generator:
    def __init__(self, today: date, seed: int) -> None:
        self.rng = random.Random(seed)
        self.anchor = datetime(today.year, today.month, today.day, 9, 0, tzinfo=UTC)
        self.borough = load_json("borough")
        self.orgs_data = load_json("organisations")
        self.categories = load_json("categories")
        self.people = load_json("people")
        self.vocab = load_json("vocabularies")
        self.local_offer = load_json("local_offer")
        self.localities = {item["slug"]: item for item in self.borough["localities"]}
        self.parents = {
            term["slug"]: group["slug"]
            for group in load_json("taxonomy")["groups"]
            for term in group["terms"]
        }
        self.numbers = _Numbers()
        self.used_postcodes: set[str] = set()
        self.used_org_names: set[str] = set()
        self.used_service_names: set[str] = set()

    # --- small helpers ---

    def person(self) -> str:
        return f"{self.rng.choice(self.people['first_names'])} {self.rng.choice(self.people['surnames'])}"

    def fill(self, template: str, **values: str) -> str:
        values.setdefault("borough", self.borough["name"])
        return template.format(**values)

    def postcode(self, locality: dict) -> str:
        while True:
            letters = self.rng.choice(POSTCODE_LETTERS) + self.rng.choice(POSTCODE_LETTERS)
            inward = f"{self.rng.randint(1, 9)}{letters}"
            code = f"{locality['outward']} {inward}"
            if code not in self.used_postcodes:
                self.used_postcodes.add(code)
                return code

    def place(self, locality: dict, name: str, hide: bool = False) -> LocationData:
        # Within about a kilometre of the locality's centre, so every outward code has a coherent centre.
        return LocationData(
            name=name,
            address_1=f"{self.rng.randint(1, 120)} {self.rng.choice(locality['streets'])}",
            city=self.borough["name"] if locality["slug"] != "aldermoor-town-centre" else "",
            state_province=self.borough["county"],
            postcode=self.postcode(locality),
            latitude=round(locality["latitude"] + self.rng.uniform(-0.008, 0.008), 6),
            longitude=round(locality["longitude"] + self.rng.uniform(-0.012, 0.012), 6),
            hide_exact_address=hide,
        )

    # --- organisations ---

    def organisation_name(self, kind: dict, person: str) -> str:
        parts = self.orgs_data["name_parts"]
        for _ in range(50):
            name = self.fill(
                self.rng.choice(kind["names"]),
                adj=self.rng.choice(parts["adjectives"]),
                place=self.rng.choice(parts["places"]),
                person=person,
            )
            if name not in self.used_org_names:
                self.used_org_names.add(name)
                return name
        raise RuntimeError(f"ran out of names for {kind['kind']}")

    def organisation(self, kind: dict) -> DemoOrganisation:
        person = self.person()
        name = self.organisation_name(kind, person)
        slug = slugify(name)
        sole_trader = kind["legal"] == "sole_trader"
        data = OrganisationData(
            name=name,
            description=self.fill(kind["description"]),
            website=None if sole_trader and self.rng.random() < 0.6 else f"https://{slug}.example.org",
            email=f"{slug[:40]}@example.org",
            phone=self.numbers.next_mobile() if sole_trader else self.numbers.next_landline(),
            verification_status=VerificationStatus.APPROVED,
            verified_at=self.anchor - timedelta(days=self.rng.randint(30, 900)),
        )
        if kind["legal"] == "charity":
            data.charity_number = str(self.rng.randint(1010000, 1209999))
        if kind["legal"] == "company" or (kind["legal"] == "charity" and self.rng.random() < 0.5):
            data.company_number = f"{self.rng.randint(1000000, 15999999):08d}"
        if kind.get("regulator") == "cqc":
            data.regulator = RegulatorBody.CQC
            data.registration_id = f"1-{self.rng.randint(100000000, 999999999)}"
            data.registration_rating = self.rng.choice(self.orgs_data["ratings"]["cqc"])
        elif kind.get("regulator") == "ofsted":
            data.regulator = RegulatorBody.OFSTED
            data.registration_id = f"EY{self.rng.randint(300000, 599999)}"
            data.registration_rating = self.rng.choice(self.orgs_data["ratings"]["ofsted"])
        organisation = DemoOrganisation(
            id=demo_uuid("organisation", slug),
            slug=slug,
            kind=kind["kind"],
            data=data,
            person=person,
            audience=kind["audience"],
        )
        self.add_locations(organisation, kind)
        return organisation

    def add_locations(self, organisation: DemoOrganisation, kind: dict) -> None:
        if kind["kind"] == "personal_assistant":
            return  # personal assistants come to you: no public address
        locality = self.localities[self.rng.choice(sorted(self.localities))]
        hide = kind["kind"] in ("childminder", "domestic_abuse_charity")
        short = short_name(organisation.data.name)
        venue = (
            short
            if kind["kind"] in ("childminder", "nursery", "cqc_agency")
            else self.rng.choice(locality["venues"])
        )
        places = [(locality, self.place(locality, venue, hide=hide))]
        if kind["services"][1] >= 3 and self.rng.random() < 0.5:
            second = self.localities[self.rng.choice(sorted(self.localities))]
            places.append((second, self.place(second, self.rng.choice(second["venues"]))))
        for index, (where, place) in enumerate(places):
            organisation.locations.append(
                DemoLocation(
                    id=demo_uuid("location", organisation.slug, str(index)),
                    locality=where["slug"],
                    data=place,
                )
            )

    # --- services ---

    def pick_categories(self, kind: dict, count: int) -> list[str]:
        weights = kind["categories"]
        names = list(weights)
        chosen: list[str] = []
        for _ in range(count):
            pool = [name for name in names if name not in chosen] or names
            chosen.append(self.rng.choices(pool, weights=[weights[name] for name in pool])[0])
        return chosen

    def service_name(self, template: str, organisation: DemoOrganisation, locality: dict) -> str:
        parts = self.orgs_data["name_parts"]
        name = self.fill(
            template,
            short=short_name(organisation.data.name),
            locality=locality["name"],
            place=self.rng.choice(parts["adjectives"] + parts["places"]),
            person=organisation.person,
        )
        if name in self.used_service_names:
            name = f"{name} ({locality['name']})"
        suffix = 2
        base = name
        while name in self.used_service_names:
            name, suffix = f"{base} {suffix}", suffix + 1
        self.used_service_names.add(name)
        return name

    def service(self, organisation: DemoOrganisation, category: str) -> DemoService:
        rng = self.rng
        bank = dict(self.categories[category])
        children = "children" in bank and (
            organisation.audience == "children" or (organisation.audience == "mixed" and rng.random() < 0.5)
        )
        if children:
            bank.update(bank["children"])
        home = (
            organisation.locations[0].locality
            if organisation.locations
            else rng.choice(sorted(self.localities))
        )
        locality = self.localities[home]
        name = self.service_name(rng.choice(bank["names"]), organisation, locality)
        values = {"org": organisation.data.name, "service": name, "locality": locality["name"]}
        listing = ListingData(name=name, summary=self.fill(rng.choice(bank["summaries"]), **values))
        listing.description = self.description(bank, values)
        listing.status = self.status()
        listing.minimum_age, listing.maximum_age = rng.choice(bank["ages"])
        listing.eligibility_description = self.fill(rng.choice(bank["eligibility"]), **values)
        listing.referral_required = rng.random() < bank["referral"]
        self.costs(listing, bank["cost"])
        self.attending(listing, bank["attend"], has_place=bool(organisation.locations))
        listing.languages = self.languages(bank["languages"])
        self.schedules(listing, bank["schedule"])
        listing.email = organisation.data.email
        listing.url = f"{organisation.data.website}/{slugify(name)}" if organisation.data.website else None
        listing.contacts = [self.contact(organisation)]
        days_ago = rng.randint(400, 540) if rng.random() < 0.06 else rng.randint(3, 360)
        listing.last_checked_at = self.anchor - timedelta(days=days_ago, minutes=rng.randint(0, 480))
        listing.assured_date = listing.last_checked_at.date() if rng.random() < 0.6 else None
        service = DemoService(
            id=demo_uuid("service", organisation.slug, slugify(name)),
            category=category,
            listing=listing,
            term_slugs=[category],
            need_slugs=self.needs(bank, children or (listing.maximum_age or 99) <= 25),
        )
        if listing.in_person and organisation.locations:
            count = 2 if len(organisation.locations) > 1 and rng.random() < 0.5 else 1
            service.location_ids = [location.id for location in organisation.locations[:count]]
            service.feature_slugs = self.features()
        service.area_localities = self.areas(home)
        if self.is_childrens(listing) and rng.random() < bank.get("local_offer", 0.6):
            self.send_local_offer(listing)
        return service

    def description(self, bank: dict, values: dict) -> str:
        shared = self.orgs_data["shared_paragraphs"]
        paragraphs = [self.rng.choice(bank["intro"]), self.rng.choice(bank["detail"])]
        if self.rng.random() < 0.7:
            paragraphs.append(self.rng.choice(shared["access"]))
        if self.rng.random() < 0.4:
            paragraphs.append(self.rng.choice(shared["closing"]))
        return "\n\n".join(self.fill(paragraph, **values) for paragraph in paragraphs)

    def status(self) -> ServiceStatus:
        roll = self.rng.random()
        if roll < 0.03:
            return ServiceStatus.TEMPORARILY_CLOSED
        if roll < 0.04:
            return ServiceStatus.INACTIVE
        return ServiceStatus.ACTIVE

    def costs(self, listing: ListingData, cost: dict) -> None:
        if self.rng.random() < cost["free"] or not cost.get("options"):
            listing.is_free = True
            return
        options = cost["options"][: self.rng.randint(1, len(cost["options"]))]
        listing.cost_options = [
            CostData(
                option=label,
                amount_pence=self.rng.randrange(low, high + 1, 10) if high > low else low,
                unit=CostUnit(unit),
            )
            for label, low, high, unit in options
        ]
        listing.fees_description = self.fill(cost.get("fees", ""))

    def attending(self, listing: ListingData, attend: dict, has_place: bool) -> None:
        listing.in_person = self.rng.random() < attend["in_person"]
        listing.online = self.rng.random() < attend["online"]
        listing.by_phone = self.rng.random() < attend["by_phone"]
        if not (listing.in_person or listing.online or listing.by_phone):
            listing.by_phone = True

    def languages(self, chance: float) -> list[LanguageData]:
        codes = ["en"]
        if self.rng.random() < 0.15:
            codes.append("cy")
        if self.rng.random() < chance:
            codes += self.rng.sample(self.vocab["languages"]["common"], self.rng.randint(1, 2))
        unique = sorted(set(codes), key=codes.index)
        return [LanguageData(code=code) for code in unique]

    def schedules(self, listing: ListingData, kind: str) -> None:
        rng = self.rng
        weekdays = [Weekday.MO, Weekday.TU, Weekday.WE, Weekday.TH, Weekday.FR]
        rows: list[ScheduleData] = []
        if kind == "office":
            close = rng.choice([time(16, 30), time(17, 0)])
            rows = [ScheduleData(day, time(9, 0), close) for day in weekdays]
            listing.schedule_note = "Closed on bank holidays."
        elif kind == "always":
            rows = [ScheduleData(day, time(7, 0), time(22, 0)) for day in Weekday]
            listing.schedule_note = "Support is available at any time of the day or night in an emergency."
        elif kind == "childcare":
            rows = [ScheduleData(day, time(7, 30), time(18, 0)) for day in weekdays]
            listing.schedule_note = "Open 51 weeks a year. Closed between Christmas and New Year."
        elif kind == "clinic":
            rows = [
                ScheduleData(day, time(9, 0), time(12, 0), "Walk-in")
                for day in (Weekday.MO, Weekday.WE, Weekday.FR)
            ]
            rows.append(ScheduleData(Weekday.TU, time(16, 0), time(19, 0), "Under-25s only"))
        elif kind == "daytime":
            for day in sorted(rng.sample(weekdays, rng.randint(1, 3)), key=weekdays.index):
                rows.append(ScheduleData(day, time(10, 0), time(15, 0)))
        elif kind == "evening":
            note = rng.choice(["", "Every week", "First and third week of the month"])
            rows = [ScheduleData(rng.choice(weekdays), time(18, 30), time(20, 30), note)]
        elif kind == "term":
            day = rng.choice(weekdays)
            rows = [ScheduleData(day, time(15, 30), time(17, 30), "Term time only")]
            if rng.random() < 0.4:
                rows.append(ScheduleData(Weekday.SA, time(10, 0), time(12, 0), "Term time only"))
            listing.schedule_note = "Term time only. Holiday activities are advertised separately."
        else:
            listing.schedule_note = rng.choice(
                ["By arrangement.", "Times agreed with you.", "Days and times to suit you."]
            )
        listing.schedules = rows

    def contact(self, organisation: DemoOrganisation) -> ContactData:
        if organisation.kind in ("personal_assistant", "childminder"):
            return ContactData(
                name=organisation.person,
                title="",
                email=organisation.data.email,
                phones=[PhoneData(number=organisation.data.phone)],
            )
        phones = [PhoneData(number=organisation.data.phone, description="Office")]
        if self.rng.random() < 0.3:
            phones.append(PhoneData(number=self.numbers.next_mobile(), description="Text or call"))
        return ContactData(
            name=self.person(),
            title=self.rng.choice(self.people["job_titles"]),
            email=organisation.data.email,
            phones=phones,
        )

    def needs(self, bank: dict, childrens: bool) -> list[str]:
        needs = list(bank["needs"])
        chosen = self.rng.sample(needs, min(len(needs), self.rng.randint(1, 3))) if needs else []
        if childrens:
            send = [item["slug"] for item in self.vocab["send_needs"]]
            chosen += [slug for slug in self.rng.sample(send, self.rng.randint(1, 4)) if slug not in chosen]
        return chosen

    def features(self) -> list[str]:
        slugs = [item["slug"] for item in self.vocab["accessibility"]]
        chosen = self.rng.sample(slugs, self.rng.randint(2, 5))
        if "wheelchair-accessible-entrance" in chosen and "partial-wheelchair-access" in chosen:
            chosen.remove("partial-wheelchair-access")
        return chosen

    def areas(self, home: str) -> list[str | None]:
        if self.rng.random() < 0.5:
            return [None]
        others = [slug for slug in sorted(self.localities) if slug != home]
        return [home, *self.rng.sample(others, self.rng.randint(0, 2))]

    @staticmethod
    def is_childrens(listing: ListingData) -> bool:
        return (
            listing.maximum_age is not None and listing.maximum_age <= 25 and (listing.minimum_age or 0) < 18
        )

    def send_local_offer(self, listing: ListingData) -> None:
        listing.local_offer = True
        listing.local_offer_description = self.rng.choice(self.local_offer["description"])
        listing.local_offer_answers = [
            AnswerData(question=item["question"], answer=self.rng.choice(item["answers"]))
            for item in self.local_offer["questions"]
        ]

    # --- the whole borough ---

    def run(self) -> Borough:
        organisations: list[DemoOrganisation] = []
        plans: list[tuple[DemoOrganisation, dict, int]] = []
        for kind in self.orgs_data["kinds"]:
            for _ in range(kind["count"]):
                organisation = self.organisation(kind)
                organisations.append(organisation)
                plans.append((organisation, kind, self.rng.randint(*kind["services"])))
        # Top up (or trim) to the target so the borough always has the same number of services.
        total = sum(count for _, _, count in plans)
        while total != TARGET_SERVICES:
            index = self.rng.randrange(len(plans))
            organisation, kind, count = plans[index]
            if total < TARGET_SERVICES and count < kind["services"][1] + 1 and kind["services"][1] > 1:
                plans[index], total = (organisation, kind, count + 1), total + 1
            elif total > TARGET_SERVICES and count > 1:
                plans[index], total = (organisation, kind, count - 1), total - 1
        for organisation, kind, count in plans:
            organisation.services = [
                self.service(organisation, category) for category in self.pick_categories(kind, count)
            ]
        self.mark_pending(organisations)
        return Borough(
            name=self.borough["name"],
            localities=self.borough["localities"],
            taxonomy=load_json("taxonomy"),
            organisations=organisations,
        )

    def mark_pending(self, organisations: list[DemoOrganisation]) -> None:
        # Never the first of a kind: the demo logins belong to those.
        firsts = {
            next(o.id for o in organisations if o.kind == kind) for kind in {o.kind for o in organisations}
        }
        candidates = [o for o in organisations if o.id not in firsts]
        for organisation in self.rng.sample(candidates, PENDING_ORGANISATIONS):
            organisation.data.verification_status = VerificationStatus.PENDING
            organisation.data.verified_at = None


def short_name(name: str) -> str:
    """An organisation's name without its legal suffix: "Heather Home Care Ltd" -> "Heather Home Care"."""
    return re.sub(r"\s+(Ltd|CIC|Limited)$", "", name)


def generate(*, today: date | None = None, seed: int = SEED) -> Borough:
    """The demo borough. Same ``today`` and ``seed``: same borough."""
    return _Generator(today or date.today(), seed).run()
