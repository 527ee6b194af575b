"""Importing Open Referral UK feeds (HSDS 3.0 UK profile) as listings, through moderation or published at once.

Each record is validated (portal/oruk/parsing.py), then imported inside its own savepoint, so a record is
either imported whole or not at all. Records are matched to what an earlier import made by (feed, source id)
through ``FeedRecord``: a record whose content hash has not changed is left alone.

Organisations, places and vocabulary entries (categories, accessibility features) are created or updated as
they come, like an Outpost import; the listing itself goes through the same moderation as a provider's edit.
By default each new or changed listing becomes a ``ListingRevision`` waiting in the council's queue (a new
service is created unpublished); with ``publish=True`` (a trusted feed) it is published at once through
``revision_format.publish``, which writes the version, the change-log row and the audit events.

Never commits: the caller does, once.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from portal.data import audit, listings
from portal.data import revision_format as fmt
from portal.data.listings import ListingData, ListingError, LocationData, OrganisationData
from portal.extensions import db
from portal.importers.oruk_feed import FeedError, FeedItem
from portal.importers.oruk_validation import RecordValidator
from portal.models import (
    AccessibilityFeature,
    FeedRecord,
    ListingRevision,
    Locality,
    Location,
    Organisation,
    RevisionState,
    Service,
    Taxonomy,
    TaxonomyTerm,
    VerificationStatus,
    utcnow,
)
from portal.oruk import parsing
from portal.oruk.parsing import InvalidRecord, ParsedService

# The place fields a listing snapshot carries (portal/data/revision_format.py), in its order.
SNAPSHOT_LOCATION_FIELDS = (
    "name", "description", "address_1", "address_2", "city", "postcode", "latitude", "longitude",
    "hide_exact_address",
)
SOURCE_PREFIX = "oruk:"
SOURCE_LENGTH = 100
ID_NAMESPACE = uuid.UUID("5b0e7a3c-3f51-4d0e-9a43-2f7f5e3f0b61")


@dataclass
class ImportReport:
    feed: str
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    rejected: list[tuple[str, list[str]]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "feed": self.feed,
            "created": len(self.created),
            "updated": len(self.updated),
            "unchanged": len(self.unchanged),
            "rejected": [{"record": label, "reasons": reasons} for label, reasons in self.rejected],
            "warnings": len(self.warnings),
        }


def source_for(feed: str) -> str:
    """The short provenance label stored on listings, places and revisions (their columns hold 100 characters)."""
    label = SOURCE_PREFIX + feed
    if len(label) <= SOURCE_LENGTH:
        return label
    digest = uuid.uuid5(ID_NAMESPACE, feed).hex[:10]
    return f"{label[: SOURCE_LENGTH - 11]}~{digest}"


def import_feed(
    items: Sequence[FeedItem],
    *,
    feed: str,
    publish: bool = False,
    actor: Any | None = None,
    schema_dir: Path | None = None,
    fetch_organisation: Callable[[str], Any] | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import every item of ``feed``, each in its own savepoint; returns what happened. Never commits."""
    report = ImportReport(feed=feed)
    validator = RecordValidator(schema_dir)
    if not validator.uses_schema:
        report.notes.append(
            f"The ORUK schemas were not found in {schema_dir}: records were checked with the portal's own "
            "structural checks only (set ORUK_SCHEMA_DIR to validate against the profile)."
        )
    seen: set[str] = set()
    for item in items:
        if progress:
            progress(1)
        _import_item(item, report=report, validator=validator, seen=seen, context=_Context(
            feed=feed, source=source_for(feed), publish=publish, actor=actor, fetch_organisation=fetch_organisation,
        ))
    audit.record(
        actor=actor,
        action="import.oruk",
        subject_type="import",
        subject_id=feed[-64:],
        details={**report.as_dict(), "published": publish},
    )
    return report


@dataclass
class _Context:
    feed: str
    source: str
    publish: bool
    actor: Any | None
    fetch_organisation: Callable[[str], Any] | None


def _import_item(item: FeedItem, *, report: ImportReport, validator: RecordValidator, seen: set[str],
                 context: _Context) -> None:
    try:
        record = item.load()
    except FeedError as error:
        report.rejected.append((item.label, [str(error)]))
        return
    problems = validator.problems(record)
    feed_record = _feed_record(context.feed, "service", str(record.get("id"))) if isinstance(record, dict) else None
    try:
        if problems:
            raise InvalidRecord(problems)
        parsed = parsing.parse_service(record)
    except InvalidRecord as error:
        report.rejected.append((item.label, error.reasons))
        if feed_record is not None:
            feed_record.last_error = "; ".join(error.reasons)
            feed_record.last_seen_at = utcnow()
        return
    if parsed.source_id in seen:
        report.warnings.append(f"{item.label}: the feed lists this id more than once; the later copy wins")
    seen.add(parsed.source_id)
    digest = parsing.content_hash(record)
    if feed_record is not None and feed_record.content_hash == digest and feed_record.service_id is not None:
        feed_record.last_seen_at = utcnow()
        report.unchanged.append(item.label)
        return
    warnings = list(parsed.warnings)
    try:
        with db.session.begin_nested():
            outcome = _RecordImport(parsed, context, warnings).run(digest)
    except InvalidRecord as error:
        report.rejected.append((item.label, error.reasons))
        return
    except ListingError as error:
        report.rejected.append((item.label, [str(error)]))
        return
    except SQLAlchemyError as error:
        detail = str(getattr(error, "orig", None) or error).splitlines()[0]
        report.rejected.append((item.label, [f"the database refused it: {error.__class__.__name__}: {detail}"]))
        return
    getattr(report, outcome).append(item.label)
    report.warnings += [f"{item.label}: {warning}" for warning in warnings]


def _feed_record(feed: str, record_type: str, source_id: str) -> FeedRecord | None:
    return db.session.scalar(
        sa.select(FeedRecord).where(
            FeedRecord.feed == feed, FeedRecord.record_type == record_type, FeedRecord.source_id == source_id
        )
    )


def _slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _free_id(model, wanted: str, fallback_key: str) -> uuid.UUID:
    """The feed's own UUID when no row of ours has it yet (ORUK ids are UUIDs), else one derived from the feed."""
    try:
        candidate = uuid.UUID(str(wanted))
    except ValueError:
        candidate = None
    if candidate is not None and db.session.get(model, candidate) is None:
        return candidate
    return uuid.uuid5(ID_NAMESPACE, fallback_key)


class _RecordImport:
    """One validated ORUK service to one listing. ``run`` raises InvalidRecord or ListingError."""

    def __init__(self, parsed: ParsedService, context: _Context, warnings: list[str]) -> None:
        self.parsed = parsed
        self.context = context
        self.warnings = warnings

    def run(self, digest: str) -> str:
        parsed, context = self.parsed, self.context
        organisation = self.organisation()
        service = listings.find_listing_by_source(source=context.source, source_id=parsed.source_id)
        created = service is None
        if service is None:
            service = listings.create_listing(
                actor=context.actor, organisation=organisation, data=ListingData(name=parsed.name),
                service_id=_free_id(Service, parsed.source_id, f"{context.source}|service|{parsed.source_id}"),
                source=context.source, source_id=parsed.source_id,
            )
            service.published_at = None  # like a provider's new listing: not public until approved
        else:
            listings.move_listing(actor=context.actor, service=service, organisation=organisation)
        places = self.locations(organisation)
        db.session.flush()  # publishing checks each place's owner by id
        proposed = self.proposal(fmt.snapshot(service), places)
        if context.publish:
            changed = self.publish(service, proposed, created)
        else:
            changed = self.submit(service, proposed, created)
        self.remember(service, digest)
        if created:
            return "created"
        return "updated" if changed else "unchanged"

    # --- the listing through moderation, or published ---

    def publish(self, service: Service, proposed: dict, created: bool) -> bool:
        for revision in self.open_revisions(service):
            if revision.source == self.context.source:
                self.withdraw(revision, "published directly from the feed")
        if not created and service.published_at is not None and _same(fmt.snapshot(service), proposed):
            return False
        fmt.publish(actor=self.context.actor, service=service, data=proposed,
                    note=f"imported from {self.context.feed}"[:255])
        return True

    def submit(self, service: Service, proposed: dict, created: bool) -> bool:
        source = self.context.source
        waiting = self.open_revisions(service)
        others = [revision for revision in waiting if revision.source != source]
        if others:
            raise InvalidRecord(
                "the listing has a change of its own waiting (a provider's draft or a revision in moderation): "
                "import it again once that is decided"
            )
        if any(_same(revision.data, proposed) for revision in waiting):
            return False
        if not created and service.published_at is not None and _same(fmt.snapshot(service), proposed):
            for revision in waiting:
                self.withdraw(revision, "the feed went back to the published listing")
            return bool(waiting)
        for revision in waiting:
            self.withdraw(revision, "replaced by a newer import")
        base = fmt.latest_version_number(service)
        revision = ListingRevision(
            service=service, organisation_id=service.organisation_id, author_id=None,
            state=RevisionState.SUBMITTED, data=proposed, base_version=base or None,
            sections_saved=[section.key for section in fmt.SECTIONS], source=source, submitted_at=utcnow(),
        )
        db.session.add(revision)
        db.session.flush()  # the audit event names the revision by id
        audit.record(
            actor=self.context.actor, action="listing_revision.imported", subject=revision,
            organisation_id=service.organisation_id,
            after={"state": revision.state, "base_version": revision.base_version},
            details={"service_id": service.id, "feed": self.context.feed, "source_id": self.parsed.source_id},
        )
        return True

    @staticmethod
    def open_revisions(service: Service) -> list[ListingRevision]:
        return list(db.session.scalars(
            sa.select(ListingRevision).where(
                ListingRevision.service_id == service.id,
                ListingRevision.state.in_((RevisionState.DRAFT, RevisionState.SUBMITTED)),
            )
        ))

    def withdraw(self, revision: ListingRevision, why: str) -> None:
        before = revision.state
        revision.state = RevisionState.WITHDRAWN
        audit.record(
            actor=self.context.actor, action="listing_revision.withdrawn", subject=revision,
            organisation_id=revision.organisation_id, before={"state": before},
            after={"state": revision.state}, details={"service_id": revision.service_id, "reason": why},
        )

    def remember(self, service: Service, digest: str) -> None:
        now = utcnow()
        row = _feed_record(self.context.feed, "service", self.parsed.source_id)
        if row is None:
            row = FeedRecord(feed=self.context.feed, record_type="service", source_id=self.parsed.source_id,
                             first_seen_at=now)
            db.session.add(row)
        row.service_id, row.organisation_id = service.id, service.organisation_id
        row.content_hash, row.last_seen_at, row.last_changed_at, row.last_error = digest, now, now, ""

    # --- what the listing should say ---

    def proposal(self, base: dict, places: list[tuple[Location, LocationData]]) -> dict:
        """The listing as the feed describes it: the current snapshot with every field ORUK carries replaced."""
        parsed = self.parsed
        data = dict(base)
        data.update(
            name=parsed.name, summary=parsed.summary, description=parsed.description, status=parsed.status.value,
            url=parsed.url, email=parsed.email, minimum_age=parsed.minimum_age, maximum_age=parsed.maximum_age,
            fees_description=parsed.fees_description, is_free=parsed.is_free, schedule_note=parsed.schedule_note,
        )
        data["in_person"] = bool(places)
        data["online"] = parsed.has_virtual_location or (not places and not base.get("by_phone"))
        # Each place as the feed now describes it: approving the listing brings the stored place up to date.
        data["locations"] = sorted(
            ({"id": str(place.id), **{name: getattr(wanted, name) for name in SNAPSHOT_LOCATION_FIELDS}}
             for place, wanted in places),
            key=lambda loc: (loc["name"], loc["postcode"], loc["id"]),
        )
        position = listings.WEEKDAY_POSITION
        data["schedules"] = [
            {"byday": row.byday.value, "opens_at": _clock(row.opens_at), "closes_at": _clock(row.closes_at),
             "notes": row.notes}
            for row in sorted(parsed.schedules, key=lambda row: (position[row.byday], _clock(row.opens_at) or ""))
        ]
        data["cost_options"] = [
            {"option": row.option, "amount_pence": row.amount_pence, "unit": row.unit.value if row.unit else None,
             "amount_description": row.amount_description}
            for row in parsed.cost_options
        ]
        data["contacts"] = [
            {"name": row.name, "title": row.title, "email": row.email,
             "phones": [{"number": p.number, "extension": p.extension, "description": p.description}
                        for p in row.phones]}
            for row in parsed.contacts
        ]
        data["languages"] = sorted(({"code": row.code, "note": row.note} for row in parsed.languages),
                                   key=lambda lang: lang["code"])
        data["service_areas"] = self.areas()
        data["taxonomy_terms"] = sorted({term.slug for term in self.terms()})
        data["accessibility_features"] = sorted({feature.slug for feature in self.features()})
        return data

    def areas(self) -> list[dict]:
        localities = {row.name.lower(): row.slug for row in db.session.scalars(sa.select(Locality))}
        return sorted(
            ({"name": name, "locality": localities.get(name.lower())} for name in self.parsed.service_areas),
            key=lambda area: (area["locality"] or "", area["name"]),
        )

    # --- organisation ---

    def organisation(self) -> Organisation:
        parsed, source = self.parsed, self.context.source
        given = parsed.organisation
        key = given.source_id if given else (parsed.organisation_source_id or f"service:{parsed.source_id}")
        existing = db.session.scalar(
            sa.select(Organisation).where(Organisation.source == source, Organisation.source_id == key)
        )
        if given is None and parsed.organisation_source_id and existing is None:
            given = self.fetched_organisation(parsed.organisation_source_id)
        if given is None and existing is not None:
            return existing
        if given is None:
            self.warnings.append("no organisation in the feed: filed under a placeholder named after the service "
                                 "(give it its real name)")
            given = parsing.ParsedOrganisation(source_id=key, name=parsed.name)
        data = OrganisationData(
            name=given.name or parsed.name, description=given.description, website=given.website,
            email=given.email, charity_number=given.charity_number, company_number=given.company_number,
            verification_status=existing.verification_status if existing else VerificationStatus.APPROVED,
            verified_at=existing.verified_at if existing else utcnow(),
        )
        if existing is not None:
            # Keep what the council recorded that ORUK does not carry.
            for name in ("phone", "regulator", "registration_id", "registration_rating"):
                setattr(data, name, getattr(existing, name))
            data.charity_number = data.charity_number or existing.charity_number
            data.company_number = data.company_number or existing.company_number
        organisation, _ = listings.save_organisation(
            actor=self.context.actor, data=data, organisation=existing, source=source, source_id=key,
            organisation_id=None if existing else _free_id(Organisation, key, f"{source}|organisation|{key}"),
        )
        self.remember_organisation(organisation, key, given)
        return organisation

    def fetched_organisation(self, organisation_id: str) -> parsing.ParsedOrganisation | None:
        if self.context.fetch_organisation is None:
            return None
        try:
            given = self.context.fetch_organisation(organisation_id)
        except FeedError as error:
            self.warnings.append(f"organization {organisation_id} could not be fetched: {error}")
            return None
        if not isinstance(given, dict) or not parsing.clean_line(given.get("name")):
            self.warnings.append(f"organization {organisation_id} as fetched has no name")
            return None
        return parsing.parse_organisation({**given, "id": organisation_id}, self.warnings)

    def remember_organisation(self, organisation: Organisation, key: str, given: Any) -> None:
        now = utcnow()
        digest = parsing.content_hash(given.__dict__)
        row = _feed_record(self.context.feed, "organization", key)
        if row is None:
            row = FeedRecord(feed=self.context.feed, record_type="organization", source_id=key, first_seen_at=now,
                             last_changed_at=now, content_hash=digest)
            db.session.add(row)
        elif row.content_hash != digest:
            row.content_hash, row.last_changed_at = digest, now
        row.organisation_id, row.last_seen_at = organisation.id, now

    # --- places ---

    def locations(self, organisation: Organisation) -> list[tuple[Location, LocationData]]:
        """Each place with what the feed says about it. A new place is created as given (no listing shows it
        until one is approved); a known one is changed only when its listing is published."""
        places: list[tuple[Location, LocationData]] = []
        for given in self.parsed.locations:
            place = self.location(given, organisation)
            if place is None or any(place is seen for seen, _ in places):
                continue
            wanted = location_data_of(place) if given.data is None else given.data
            # ORUK cannot say an address is hidden: keep what the council decided.
            wanted = LocationData(**{**wanted.__dict__, "hide_exact_address": place.hide_exact_address})
            places.append((place, wanted))
        return places

    def location(self, given: parsing.ParsedLocation, organisation: Organisation) -> Location | None:
        source = self.context.source
        # A place belongs to one organisation of ours: a feed's place shared by two organisations becomes two.
        keys = (given.source_id, f"{given.source_id}@{organisation.source_id}")
        for key in keys:
            existing = db.session.scalar(
                sa.select(Location).where(Location.source == source, Location.source_id == key)
            )
            if existing is not None and existing.organisation_id in (None, organisation.id):
                if existing.organisation_id is None:
                    existing.organisation = organisation
                return existing
            if existing is None:
                break
        if given.data is None:
            self.warnings.append(f"location {given.source_id} is named by id only and is not known: left out")
            return None
        place, _ = listings.save_location(
            actor=self.context.actor, data=given.data, organisation=organisation, source=source, source_id=key,
            location_id=_free_id(Location, given.source_id, f"{source}|location|{key}"),
        )
        return place

    # --- vocabularies ---

    def terms(self) -> list[TaxonomyTerm]:
        made: dict[str, TaxonomyTerm] = {}
        for given in self.parsed.terms:
            term = self.term(given)
            if term is not None:
                made[given.source_id] = term
        for given in self.parsed.terms:
            term, parent = made.get(given.source_id), made.get(given.parent_source_id or "")
            if term is not None and parent is not None and parent is not term and term.parent is not parent \
                    and term not in parent.ancestors():
                term.parent = parent
                listings.record_changes_for_terms([term])
        return list(made.values())

    def term(self, given: parsing.ParsedTerm) -> TaxonomyTerm | None:
        if not given.name:
            known = db.session.scalar(sa.select(TaxonomyTerm).where(TaxonomyTerm.code == given.code).limit(1))
            if known is None:
                self.warnings.append(f"taxonomy term {given.source_id} is named by id only and is not known: left out")
            return known
        taxonomy = self.taxonomy(given.vocabulary or f"{self.context.feed} categories", given.vocabulary_uri)
        slug = f"oruk-{_slugify(taxonomy.name)[:30]}-{_slugify(given.code)[:80]}".replace("--", "-")
        term = db.session.scalar(sa.select(TaxonomyTerm).where(TaxonomyTerm.slug == slug))
        if term is not None and term.taxonomy_id != taxonomy.id:
            slug = f"{slug[:108]}-{uuid.uuid5(ID_NAMESPACE, taxonomy.name).hex[:10]}"
            term = db.session.scalar(sa.select(TaxonomyTerm).where(TaxonomyTerm.slug == slug))
        if term is None:
            term = TaxonomyTerm(
                id=_free_id(TaxonomyTerm, given.source_id, f"term|{slug}"), taxonomy=taxonomy, slug=slug,
                code=given.code, name=given.name, description=given.description,
            )
            db.session.add(term)
        elif (term.name, term.description) != (given.name, given.description):
            # The feed's own category renamed: its listings are re-indexed under the new name.
            term.name, term.description = given.name, given.description
            listings.record_changes_for_terms([term])
        return term

    def taxonomy(self, name: str, uri: str | None) -> Taxonomy:
        name = name[:255]
        taxonomy = db.session.scalar(sa.select(Taxonomy).where(Taxonomy.name == name))
        if taxonomy is None:
            taxonomy = Taxonomy(id=uuid.uuid5(ID_NAMESPACE, f"taxonomy|{name}"), name=name, uri=uri,
                                description=f"Categories imported from the Open Referral UK feed {self.context.feed}")
            if db.session.get(Taxonomy, taxonomy.id) is not None:
                taxonomy.id = uuid.uuid4()
            db.session.add(taxonomy)
            db.session.flush()
        return taxonomy

    def features(self) -> list[AccessibilityFeature]:
        features = []
        for name in self.parsed.accessibility:
            feature = db.session.scalar(
                sa.select(AccessibilityFeature).where(sa.func.lower(AccessibilityFeature.name) == name.lower())
                .limit(1)
            )
            slug = f"oruk-{_slugify(name)[:100]}"
            if feature is None:
                feature = db.session.scalar(sa.select(AccessibilityFeature).where(AccessibilityFeature.slug == slug))
            if feature is None:
                feature = AccessibilityFeature(id=uuid.uuid4(), slug=slug, name=name)
                db.session.add(feature)
                db.session.flush()
            features.append(feature)
        return features


def _clock(value) -> str | None:
    return value.strftime("%H:%M") if value else None


def _normal(data: dict) -> dict:
    """A snapshot with its unordered parts sorted, for "did anything change" (contacts have no order of their own)."""
    result = dict(data)
    contacts = data.get("contacts") or []
    result["contacts"] = sorted(
        ({**contact, "phones": sorted(contact.get("phones") or [], key=repr)} for contact in contacts), key=repr
    )
    return result


def _same(before: dict, after: dict) -> bool:
    return not fmt.differences(_normal(before), _normal(after))


def location_data_of(place: Location) -> LocationData:
    return LocationData(**{name: getattr(place, name) for name in LocationData.__dataclass_fields__})
