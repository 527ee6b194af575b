"""A deterministic corpus of realistic listings at any size, loaded fast into SQLite or PostgreSQL.

The demo borough's generator (portal.demo.generator) writes 300 listings from its phrase banks; here the same
generator is scaled: organisations of every kind in proportion, each writing services from its categories'
phrase banks (names, summaries, descriptions, ages, schedules, costs, needs, languages, Local Offer answers),
over the borough's eight localities plus synthetic ones (one per ~400 listings, each with an outward code,
streets, venues and a centre), so postcodes, distances and locality filters stay realistic as it grows.

Rows go in with SQLAlchemy Core ``insert()`` of dicts in large batches (no ORM unit of work), one
``ListingChange`` per service as publishing would write. A generated SQLite file is cached under
``bench/out/`` by size, seed and corpus version; PostgreSQL is loaded by copying that file's rows.

    .venv/bin/python -m bench.corpus --size 10000                      # build (or reuse) the SQLite file
    .venv/bin/python -m bench.corpus --size 10000 --database URL       # load into a database too
"""

from __future__ import annotations

import argparse
import hashlib
import math
import os
import random
import shutil
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from portal.demo.generator import (
    TARGET_SERVICES,
    Borough,
    DemoOrganisation,
    DemoService,
    _Generator,
    demo_uuid,
    load_json,
    short_name,
    slugify,
)
from portal.models import Base, ChangeKind, ServiceStatus, VerificationStatus

BENCH_DIR = Path(__file__).resolve().parent
OUT_DIR = BENCH_DIR / "out"
SIZES = (1_000, 10_000, 50_000, 200_000)
SEED = 20250401
TODAY = date(2025, 4, 1)  # fixed: the same size and seed give the same file, byte for byte in content
CORPUS_VERSION = 1  # bump when the generated content changes, so cached files are rebuilt
LISTINGS_PER_LOCALITY = 400
INSERT_BATCH = 5_000

# Synthetic place names for localities beyond the borough's own eight.
_STEMS = ("Ash", "Brack", "Cald", "Dun", "Elm", "Fern", "Glen", "Holm", "Ivy", "Kirk", "Lang", "Mill", "Nor",
          "Oak", "Pen", "Rad", "Shel", "Thorn", "Wal", "Wych", "Bram", "Cole", "Hart", "Stan", "Whit")
_ENDINGS = ("by", "ford", "ham", "ley", "ton", "wick", "field", "mere", "stead", "bury", "dale", "thorpe",
            "well", "worth", "croft", "brook")
_PREFIXES = ("", "Upper ", "Lower ", "North ", "South ", "East ", "West ", "Little ", "Great ")
_STREETS = ("High Street", "Church Lane", "Station Road", "Mill Lane", "School Road", "The Green", "Park Road",
            "Victoria Road", "Chapel Street", "Manor Way", "Orchard Close", "Queens Road")
_VENUES = ("{name} Library", "{name} Community Centre", "{name} Village Hall", "St Peter's Church Hall, {name}",
           "{name} Health Centre", "{name} Family Hub")
# Outward-code areas for synthetic localities: valid first and second letters, none a real area near ours.
_AREA_CODES = ("AN", "AP", "AR", "AT", "AW", "BG", "BK", "BQ", "BU", "BY", "CK", "CQ", "CX", "DQ", "DU")


def schema_fingerprint() -> str:
    """A short hash of the models' tables and columns: a cached corpus of an older schema is not reused."""
    description = ";".join(f"{table.name}.{column.name}:{column.type!r}:{column.nullable}"
                           for table in Base.metadata.sorted_tables for column in table.columns)
    return hashlib.sha1(description.encode()).hexdigest()[:8]


def corpus_path(size: int, seed: int = SEED) -> Path:
    return OUT_DIR / f"corpus-{size}-s{seed}-v{CORPUS_VERSION}-{schema_fingerprint()}.sqlite3"


# --- generation ----------------------------------------------------------------------------------------


def _synthetic_localities(count: int, rng: random.Random, centre: tuple[float, float]) -> list[dict]:
    """``count`` localities on a jittered grid around the borough, each a few kilometres apart."""
    localities, names = [], set()
    side = max(1, math.ceil(math.sqrt(count + 8)))
    spacing_lat, spacing_lon = 0.045, 0.07  # about 5 km by 4.6 km at latitude 54
    for number in range(count):
        while True:
            name = rng.choice(_PREFIXES) + rng.choice(_STEMS) + rng.choice(_ENDINGS)
            if name not in names:
                names.add(name)
                break
        row, column = divmod(number + 8, side)
        area = _AREA_CODES[number // 98 % len(_AREA_CODES)]
        outward = f"{area}{number % 98 + 1}"
        localities.append({
            "slug": slugify(name),
            "name": name,
            "name_cy": name,
            "outward": outward,
            "latitude": round(centre[0] + (row - side / 2) * spacing_lat + rng.uniform(-0.01, 0.01), 5),
            "longitude": round(centre[1] + (column - side / 2) * spacing_lon + rng.uniform(-0.015, 0.015), 5),
            "streets": rng.sample(_STREETS, 5),
            "venues": [venue.format(name=name) for venue in rng.sample(_VENUES, 4)],
        })
    return localities


class _ScaledGenerator(_Generator):
    """The demo generator at any size: more organisations of each kind, more localities, unique names."""

    def __init__(self, size: int, seed: int) -> None:
        super().__init__(TODAY, seed)
        self.size = size
        self.ids = random.Random(seed ^ 0x5EED)  # a separate stream: ids never shift the content
        extra = max(0, math.ceil(size / LISTINGS_PER_LOCALITY) - len(self.localities))
        base = self.borough["localities"]
        centre = (sum(item["latitude"] for item in base) / len(base),
                  sum(item["longitude"] for item in base) / len(base))
        self.all_localities = list(base) + _synthetic_localities(extra, random.Random(seed + 1), centre)
        self.localities = {item["slug"]: item for item in self.all_localities}
        self._locality_slugs = sorted(self.localities)
        self._name_counts: Counter[str] = Counter()

    def new_id(self) -> uuid.UUID:
        return uuid.UUID(int=self.ids.getrandbits(128), version=4)

    def organisation_name(self, kind: dict, person: str) -> str:
        parts = self.orgs_data["name_parts"]
        for _ in range(8):
            name = self.fill(self.rng.choice(kind["names"]), adj=self.rng.choice(parts["adjectives"]),
                             place=self.rng.choice(parts["places"]), person=person)
            if name not in self.used_org_names:
                self.used_org_names.add(name)
                return name
        # A large region has many organisations of a kind: tell them apart by a place, as real ones do.
        base = short_name(name)
        while True:
            place = self.localities[self.rng.choice(self._locality_slugs)]["name"]
            name = f"{base} {place}"
            if name not in self.used_org_names:
                self.used_org_names.add(name)
                return name

    def areas(self, home: str) -> list[str | None]:
        # As the demo's, without sorting every locality for every service.
        if self.rng.random() < 0.5:
            return [None]
        others = [slug for slug in self._locality_slugs if slug != home]
        return [home, *self.rng.sample(others, self.rng.randint(0, 2))]

    def service_name(self, template: str, organisation: DemoOrganisation, locality: dict) -> str:
        parts = self.orgs_data["name_parts"]
        name = self.fill(template, short=short_name(organisation.data.name), locality=locality["name"],
                         place=self.rng.choice(parts["adjectives"] + parts["places"]), person=organisation.person)
        if name in self.used_service_names:
            name = f"{name} ({locality['name']})"
        while name in self.used_service_names:  # a counter per name: no quadratic search for a free suffix
            self._name_counts[name] += 1
            candidate = f"{name} {self._name_counts[name] + 1}"
            if candidate not in self.used_service_names:
                name = candidate
        self.used_service_names.add(name)
        return name

    def run(self) -> Borough:
        factor = self.size / TARGET_SERVICES
        organisations: list[DemoOrganisation] = []
        plans: list[list] = []
        for kind in self.orgs_data["kinds"]:
            for _ in range(max(1, round(kind["count"] * factor))):
                organisation = self.organisation(kind)
                organisation.id = self.new_id()
                for place in organisation.locations:
                    place.id = self.new_id()
                organisations.append(organisation)
                plans.append([organisation, kind, self.rng.randint(*kind["services"])])
        total = sum(plan[2] for plan in plans)
        while total != self.size:
            plan = plans[self.rng.randrange(len(plans))]
            low, high = plan[1]["services"]
            if total < self.size and plan[2] <= high:
                plan[2], total = plan[2] + 1, total + 1
            elif total > self.size and plan[2] > 1:
                plan[2], total = plan[2] - 1, total - 1
        for organisation, kind, count in plans:
            organisation.services = []
            for category in self.pick_categories(kind, count):
                service = self.service(organisation, category)
                service.id = self.new_id()
                organisation.services.append(service)
        # About as many organisations awaiting approval as in the demo (4 of ~120): their listings stay hidden.
        pending = self.rng.sample(organisations, max(1, round(len(organisations) * 4 / 120)))
        for organisation in pending:
            organisation.data.verification_status = VerificationStatus.PENDING
            organisation.data.verified_at = None
        return Borough(name=self.borough["name"], localities=self.all_localities, taxonomy=load_json("taxonomy"),
                       organisations=organisations)


def generate(size: int, seed: int = SEED) -> Borough:
    return _ScaledGenerator(size, seed).run()


# --- rows ----------------------------------------------------------------------------------------------


def _vocabulary_rows(borough: Borough) -> dict[str, list[dict]]:
    taxonomy = borough.taxonomy
    taxonomy_id = demo_uuid("taxonomy")
    rows: dict[str, list[dict]] = {
        "taxonomies": [{"id": taxonomy_id, "name": taxonomy["name"], "description": taxonomy["description"],
                        "uri": None, "version": taxonomy["version"]}],
        "taxonomy_terms": [], "needs": [], "accessibility_features": [], "localities": [],
    }

    def term(item: dict, position: int, parent: uuid.UUID | None) -> dict:
        return {"id": demo_uuid("term", item["slug"]), "taxonomy_id": taxonomy_id, "parent_id": parent,
                "slug": item["slug"], "code": item["slug"], "name": item["name"], "name_cy": item["name_cy"],
                "description": item["description"], "description_cy": item["description_cy"], "position": position}

    for group_position, group in enumerate(taxonomy["groups"]):
        parent = term(group, group_position, None)
        rows["taxonomy_terms"].append(parent)
        rows["taxonomy_terms"].extend(term(item, position, parent["id"])
                                      for position, item in enumerate(group["terms"]))
    vocab = load_json("vocabularies")
    for send, key in ((False, "needs"), (True, "send_needs")):
        rows["needs"].extend({"id": demo_uuid("need", item["slug"]), "slug": item["slug"], "name": item["name"],
                              "name_cy": item["name_cy"], "send": send} for item in vocab[key])
    rows["accessibility_features"] = [
        {"id": demo_uuid("accessibility", item["slug"]), "slug": item["slug"], "name": item["name"],
         "name_cy": item["name_cy"]} for item in vocab["accessibility"]
    ]
    rows["localities"] = [
        {"id": demo_uuid("locality", item["slug"]), "slug": item["slug"], "name": item["name"],
         "name_cy": item["name_cy"], "latitude": item["latitude"], "longitude": item["longitude"]}
        for item in borough.localities
    ]
    return rows


def _organisation_row(organisation: DemoOrganisation, stamp: datetime) -> dict:
    data = organisation.data
    return {"id": organisation.id, "name": data.name, "description": data.description, "website": data.website,
            "email": data.email, "phone": data.phone, "charity_number": data.charity_number,
            "company_number": data.company_number, "regulator": data.regulator,
            "registration_id": data.registration_id, "registration_rating": data.registration_rating,
            "verification_status": data.verification_status, "verified_at": data.verified_at,
            "source": None, "source_id": None, "created_at": stamp, "updated_at": stamp}


def _location_row(organisation: DemoOrganisation, place, stamp: datetime) -> dict:
    data = place.data
    return {"id": place.id, "organisation_id": organisation.id, "name": data.name, "description": data.description,
            "address_1": data.address_1, "address_2": data.address_2, "city": data.city,
            "state_province": data.state_province, "postcode": data.postcode, "country": data.country,
            "latitude": data.latitude, "longitude": data.longitude, "hide_exact_address": data.hide_exact_address,
            "source": None, "source_id": None, "created_at": stamp, "updated_at": stamp}


_SCALARS = ("name", "summary", "description", "status", "url", "email", "in_person", "online", "by_phone",
            "minimum_age", "maximum_age", "eligibility_description", "referral_required", "is_free",
            "fees_description", "schedule_note", "local_offer", "local_offer_description", "local_offer_url",
            "assured_date", "last_checked_at")
_WEEKDAY_POSITION = {"MO": 0, "TU": 1, "WE": 2, "TH": 3, "FR": 4, "SA": 5, "SU": 6}


class _ServiceRows:
    """Every row one service brings, appended to per-table lists."""

    def __init__(self, generator: _ScaledGenerator, rows: dict[str, list[dict]], borough: Borough) -> None:
        self.new_id, self.rows, self.area_name = generator.new_id, rows, f"All of {borough.name}"
        self.locality_names = {item["slug"]: item["name"] for item in borough.localities}

    def add(self, organisation: DemoOrganisation, service: DemoService, stamp: datetime) -> None:
        listing, sid, rows = service.listing, service.id, self.rows
        row = {name: getattr(listing, name) for name in _SCALARS}
        row.update(id=sid, organisation_id=organisation.id, published_at=stamp, source=None, source_id=None,
                   created_at=stamp, updated_at=stamp)
        rows["services"].append(row)
        rows["service_taxonomy_terms"].extend({"service_id": sid, "taxonomy_term_id": demo_uuid("term", slug)}
                                              for slug in service.term_slugs)
        rows["service_needs"].extend({"service_id": sid, "need_id": demo_uuid("need", slug)}
                                     for slug in service.need_slugs)
        rows["service_accessibility"].extend(
            {"service_id": sid, "accessibility_feature_id": demo_uuid("accessibility", slug)}
            for slug in service.feature_slugs)
        rows["service_languages"].extend({"id": self.new_id(), "service_id": sid, "code": item.code, "note": item.note}
                                         for item in listing.languages)
        rows["cost_options"].extend(
            {"id": self.new_id(), "service_id": sid, "position": i, "option": item.option,
             "amount_pence": item.amount_pence, "unit": item.unit, "amount_description": item.amount_description}
            for i, item in enumerate(listing.cost_options))
        rows["service_at_locations"].extend({"id": self.new_id(), "service_id": sid, "location_id": location_id,
                                             "description": ""} for location_id in service.location_ids)
        rows["schedules"].extend(
            {"id": self.new_id(), "service_id": sid, "service_at_location_id": None, "byday": item.byday,
             "position": _WEEKDAY_POSITION[item.byday.value], "opens_at": item.opens_at,
             "closes_at": item.closes_at, "notes": item.notes} for item in listing.schedules)
        for contact in listing.contacts:
            contact_id = self.new_id()
            rows["contacts"].append({"id": contact_id, "service_id": sid, "name": contact.name,
                                     "title": contact.title, "email": contact.email})
            rows["phones"].extend({"id": self.new_id(), "contact_id": contact_id, "number": phone.number,
                                   "extension": phone.extension, "description": phone.description}
                                  for phone in contact.phones)
        rows["local_offer_answers"].extend(
            {"id": self.new_id(), "service_id": sid, "position": i, "question": item.question, "answer": item.answer}
            for i, item in enumerate(listing.local_offer_answers))
        rows["service_areas"].extend(
            {"id": self.new_id(), "service_id": sid,
             "locality_id": None if slug is None else demo_uuid("locality", slug),
             "name": self.area_name if slug is None else self.locality_names[slug]}
            for slug in service.area_localities)
        rows["listing_changes"].append({"subject_type": "service", "subject_id": sid, "kind": ChangeKind.UPSERT,
                                        "created_at": stamp})


# Parents before children, so foreign keys hold while loading.
TABLE_ORDER = ("taxonomies", "taxonomy_terms", "needs", "accessibility_features", "localities", "organisations",
               "locations", "services", "service_taxonomy_terms", "service_needs", "service_accessibility",
               "service_languages", "cost_options", "service_at_locations", "schedules", "contacts", "phones",
               "local_offer_answers", "service_areas", "listing_changes")


def corpus_rows(size: int, seed: int = SEED, *, chunk: int = 2_000) -> Iterator[dict[str, list[dict]]]:
    """The rows of a corpus of ``size`` listings by table name, in chunks (the vocabularies first, then
    ``chunk`` organisations with everything under them at a time) so 200k listings never sit in memory as
    rows all at once."""
    generator = _ScaledGenerator(size, seed)
    borough = generator.run()
    yield _vocabulary_rows(borough)
    anchor = datetime(TODAY.year, TODAY.month, TODAY.day, 9, 0, tzinfo=UTC)
    for start in range(0, len(borough.organisations), chunk):
        rows: dict[str, list[dict]] = {name: [] for name in TABLE_ORDER}
        service_rows = _ServiceRows(generator, rows, borough)
        for number, organisation in enumerate(borough.organisations[start:start + chunk], start=start):
            stamp = anchor - timedelta(days=number % 700, minutes=number % 600)
            rows["organisations"].append(_organisation_row(organisation, stamp))
            rows["locations"].extend(_location_row(organisation, place, stamp) for place in organisation.locations)
            for service in organisation.services:
                service_rows.add(organisation, service, stamp)
        yield rows


# --- loading -------------------------------------------------------------------------------------------


def _batches(items: list, size: int = INSERT_BATCH) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def create_schema(engine: sa.Engine) -> None:
    Base.metadata.create_all(engine)


def insert_rows(connection: sa.Connection, rows: dict[str, list[dict]]) -> int:
    """Bulk-insert ``rows`` (Core executemany, in batches); returns the number of rows written."""
    written = 0
    for name in TABLE_ORDER:
        table = Base.metadata.tables[name]
        for batch in _batches(rows.get(name, [])):
            connection.execute(table.insert(), batch)
            written += len(batch)
    return written


def _fast_sqlite(engine: sa.Engine) -> None:
    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, record):  # a throwaway file being built: no journal, no fsync
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=OFF")
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.close()


def build_sqlite(size: int, seed: int = SEED, *, log=print) -> Path:
    """The cached SQLite corpus of ``size`` listings, generated and written when missing."""
    path = corpus_path(size, seed)
    if path.exists():
        return path
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    partial = path.with_suffix(f".partial-{os.getpid()}")
    partial.unlink(missing_ok=True)
    engine = sa.create_engine(f"sqlite:///{partial}")
    _fast_sqlite(engine)
    create_schema(engine)
    written = 0
    with engine.begin() as connection:
        for rows in corpus_rows(size, seed):
            written += insert_rows(connection, rows)
    engine.dispose()
    os.replace(partial, path)
    log(f"corpus {size}: {written:,} rows generated and written in {time.perf_counter() - started:.1f} s "
        f"-> {path.relative_to(BENCH_DIR.parent)}")
    return path


def _copy_rows(source: sa.Connection, target: sa.Connection) -> int:
    written = 0
    for name in TABLE_ORDER:
        table = Base.metadata.tables[name]
        result = source.execute(sa.select(table)).mappings()
        while batch := [dict(row) for row in result.fetchmany(INSERT_BATCH)]:
            target.execute(table.insert(), batch)
            written += len(batch)
    if target.dialect.name == "postgresql":
        # Rows came with their ids: move the change log's sequence past them.
        target.execute(sa.text("SELECT setval(pg_get_serial_sequence('listing_changes', 'id'), "
                               "(SELECT coalesce(max(id), 1) FROM listing_changes))"))
    return written


def load_database(url: str, size: int, seed: int = SEED, *, log=print) -> int:
    """Load the corpus into the (empty) database at ``url``; returns rows written."""
    source_path = build_sqlite(size, seed, log=log)
    if url.startswith("sqlite"):
        target_path = Path(sa.make_url(url).database)
        shutil.copyfile(source_path, target_path)
        return 0
    started = time.perf_counter()
    source = sa.create_engine(f"sqlite:///{source_path}")
    target = sa.create_engine(url)
    create_schema(target)
    with source.connect() as reading, target.begin() as writing:
        written = _copy_rows(reading, writing)
    source.dispose()
    target.dispose()
    log(f"corpus {size}: {written:,} rows copied into {sa.make_url(url).get_backend_name()} "
        f"in {time.perf_counter() - started:.1f} s")
    return written


def public_service_count(connection: sa.Connection) -> int:
    return connection.execute(sa.text(
        "SELECT count(*) FROM services s JOIN organisations o ON o.id = s.organisation_id "
        "WHERE s.status = :active AND o.verification_status = :approved"),
        {"active": ServiceStatus.ACTIVE.value, "approved": VerificationStatus.APPROVED.value}).scalar_one()


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--database", help="also load into this database URL (empty schema)")
    args = parser.parse_args(list(argv) if argv is not None else None)
    path = build_sqlite(args.size, args.seed)
    if args.database:
        load_database(args.database, args.size, args.seed)
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
