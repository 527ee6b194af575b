"""Listing drafts: a provider's proposed change to a listing, saved section by section, then submitted.

A listing has at most one open revision (draft or submitted) at a time. A draft holds the whole listing as
JSON (portal/data/revision_format.py); each section the provider saves is merged into it and named in
``sections_saved``. Submitting puts it in the council's moderation queue (state SUBMITTED, ``submitted_at``
set); the published listing stays live, unchanged, until a moderator approves. A new listing is a Service row
with ``published_at`` None (not public) and a draft started from an empty listing.

Functions stage changes in the caller's transaction, write audit events, and never commit.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import time
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal import richtext
from portal.data import audit, listings, revision_format
from portal.data.access import organisation_for, organisation_ids_of
from portal.extensions import db
from portal.models import (
    AccessibilityFeature,
    CostUnit,
    ListingRevision,
    Locality,
    Need,
    Organisation,
    RevisionState,
    Service,
    TaxonomyTerm,
    User,
    VerificationStatus,
    Weekday,
    utcnow,
)

OPEN_STATES = (RevisionState.DRAFT, RevisionState.SUBMITTED)
SECTION_KEYS = tuple(section.key for section in revision_format.SECTIONS)
# What must be complete before the council sees a listing; accessibility and languages are encouraged only.
REQUIRED_SECTIONS = ("about", "who", "where", "costs", "contact", "categories")
SUMMARY_MAX = 200
DESCRIPTION_MIN_WORDS = 50

# The standard SEND Local Offer questions. Answers are stored with the English question, so a listing reads
# the same whatever language its editor used; the labels are translated for the editor.
LOCAL_OFFER_QUESTIONS: tuple[tuple[str, Any], ...] = (
    ("Who is the service for, and how does it support children and young people with special educational "
     "needs and disabilities (SEND)?",
     _l("Who is the service for, and how does it support children and young people with special educational "
        "needs and disabilities (SEND)?")),
    ("How do you find out what my child needs and agree how to support them?",
     _l("How do you find out what my child needs and agree how to support them?")),
    ("What training and experience do your staff have in supporting children with SEND?",
     _l("What training and experience do your staff have in supporting children with SEND?")),
    ("How accessible is the setting, and what changes can you make?",
     _l("How accessible is the setting, and what changes can you make?")),
    ("How do you involve parents and carers and share information about my child's progress?",
     _l("How do you involve parents and carers and share information about my child's progress?")),
    ("How do you help children and young people move on to their next setting or into adult life?",
     _l("How do you help children and young people move on to their next setting or into adult life?")),
)


class DraftError(Exception):
    """A draft cannot be changed as asked."""


class UnknownSection(DraftError, LookupError):
    """There is no editor section of that name."""


class InvalidTransition(DraftError):
    """The revision is not in a state that allows this (editing a submitted draft, submitting twice, ...)."""


class NotReadyToSubmit(DraftError):
    """Required sections are not complete yet."""

    def __init__(self, sections: list[str]) -> None:
        super().__init__(f"incomplete sections: {', '.join(sections)}")
        self.sections = sections


class NothingToSubmit(DraftError):
    """The draft is the same as the published listing."""


class OrganisationNotAllowed(DraftError):
    """The organisation was rejected or suspended: it cannot add listings."""


class SectionStatus(enum.Enum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


# --- Reading ----------------------------------------------------------------------------------------------


def open_revision(service: Service) -> ListingRevision | None:
    """The listing's draft or submitted revision, if it has one."""
    return db.session.scalar(
        sa.select(ListingRevision)
        .where(ListingRevision.service_id == service.id, ListingRevision.state.in_(OPEN_STATES))
        .order_by(ListingRevision.created_at.desc())
        .limit(1)
    )


def latest_decided_revision(service: Service) -> ListingRevision | None:
    return db.session.scalar(
        sa.select(ListingRevision)
        .where(ListingRevision.service_id == service.id, ListingRevision.decided_at.is_not(None))
        .order_by(ListingRevision.decided_at.desc())
        .limit(1)
    )


@dataclass
class ListingRow:
    service: Service
    name: str
    revision: ListingRevision | None
    rejected: ListingRevision | None  # the latest decision, when it turned changes down


@dataclass
class OrganisationListings:
    organisation: Organisation
    listings: list[ListingRow]

    @property
    def can_add(self) -> bool:
        return self.organisation.verification_status in (VerificationStatus.APPROVED, VerificationStatus.PENDING)


def listings_of(user: User) -> list[OrganisationListings]:
    """Every organisation the user belongs to, with its listings and their open or last-decided revision."""
    ids = organisation_ids_of(user)
    if not ids:
        return []
    organisations = db.session.scalars(
        sa.select(Organisation).where(Organisation.id.in_(ids)).order_by(Organisation.name)
    ).all()
    result = []
    for organisation in organisations:
        rows = []
        for service in organisation.services:
            revision = open_revision(service)
            decided = latest_decided_revision(service)
            rejected = decided if decided and decided.state is RevisionState.REJECTED else None
            if rejected and revision is not None:
                rejected = None  # a newer draft replaces the rejected one
            name = revision.data.get("name") if revision and service.published_at is None else service.name
            rows.append(ListingRow(service=service, name=name or service.name, revision=revision,
                                   rejected=rejected))
        result.append(OrganisationListings(organisation=organisation, listings=rows))
    return result


def section_by_key(key: str) -> revision_format.Section:
    for section in revision_format.SECTIONS:
        if section.key == key:
            return section
    raise UnknownSection(key)


# --- Validity and completeness --------------------------------------------------------------------------


def _has_text(value: Any) -> bool:
    return bool(value and str(value).strip())


def _about_problems(data: dict) -> list[Any]:
    problems: list[Any] = []
    if not _has_text(data.get("name")):
        problems.append(_l("Enter the name of the service"))
    if not _has_text(data.get("summary")):
        problems.append(_l("Enter a short summary"))
    elif len(data["summary"]) > SUMMARY_MAX:
        problems.append(_l("Summary must be 200 characters or fewer"))
    if richtext.bad_links(data.get("description")):
        problems.append(_l("Links must start with http://, https://, mailto: or tel:"))
    return problems


def _who_problems(data: dict) -> list[Any]:
    problems: list[Any] = []
    low, high = data.get("minimum_age"), data.get("maximum_age")
    if any(age is not None and not 0 <= age <= listings.MAX_AGE for age in (low, high)):
        problems.append(_l("Ages must be between 0 and 130"))
    if low is not None and high is not None and low > high:
        problems.append(_l("Minimum age must be the same as or lower than the maximum age"))
    if data.get("local_offer_url") and not _is_web_address(data["local_offer_url"]):
        problems.append(_l("Local Offer link must start with http:// or https://"))
    return problems


def _where_problems(data: dict) -> list[Any]:
    problems: list[Any] = []
    if not (data.get("in_person") or data.get("online") or data.get("by_phone")):
        problems.append(_l("Select how people use the service"))
    if any(row.get("opens_at") and row.get("closes_at") and row["opens_at"] >= row["closes_at"]
           for row in data.get("schedules", [])):
        problems.append(_l("Closing time must be after opening time"))
    return problems


def _costs_problems(data: dict) -> list[Any]:
    if data.get("is_free") or data.get("cost_options") or _has_text(data.get("fees_description")):
        return []
    return [_l("Say whether the service is free or what it costs")]


def _has_contact(data: dict) -> bool:
    return bool(
        data.get("url") or data.get("email")
        or any(contact.get("phones") or contact.get("email") for contact in data.get("contacts", []))
    )


def _contact_problems(data: dict) -> list[Any]:
    problems: list[Any] = []
    if data.get("url") and not _is_web_address(data["url"]):
        problems.append(_l("Website must start with http:// or https://"))
    if not _has_contact(data):
        problems.append(_l("Give at least one way to contact the service"))
    return problems


def _categories_problems(data: dict) -> list[Any]:
    return [] if data.get("taxonomy_terms") else [_l("Select at least one category")]


def _is_web_address(url: str) -> bool:
    return url.lower().startswith(("http://", "https://")) and richtext.link_allowed(url)


_SECTION_CHECKS = {
    "about": _about_problems,
    "who": _who_problems,
    "where": _where_problems,
    "costs": _costs_problems,
    "contact": _contact_problems,
    "categories": _categories_problems,
}


def section_problems(key: str, data: dict) -> list[Any]:
    """What stops section ``key`` of ``data`` from being complete (empty: it is complete)."""
    check = _SECTION_CHECKS.get(key)
    return check(data) if check else []


def section_statuses(revision: ListingRevision) -> dict[str, SectionStatus]:
    """Each section's status. A section is completed when saved and valid: saved in this draft, or, for a
    listing already published, carried over from the approved version."""
    statuses = {}
    empty = revision_format.empty_listing()
    for section in revision_format.SECTIONS:
        saved = section.key in (revision.sections_saved or []) or revision.base_version is not None
        valid = not section_problems(section.key, revision.data)
        touched = any(revision.data.get(name) != empty.get(name) for name in section.fields)
        if saved and valid:
            statuses[section.key] = SectionStatus.COMPLETED
        elif saved or touched:
            statuses[section.key] = SectionStatus.IN_PROGRESS
        else:
            statuses[section.key] = SectionStatus.NOT_STARTED
    return statuses


def incomplete_required_sections(revision: ListingRevision) -> list[str]:
    statuses = section_statuses(revision)
    return [key for key in REQUIRED_SECTIONS if statuses[key] is not SectionStatus.COMPLETED]


@dataclass(frozen=True)
class Check:
    done: bool
    missing: Any  # what to tell the provider when it is not done
    section: str


@dataclass(frozen=True)
class Completeness:
    checks: tuple[Check, ...]

    @property
    def done(self) -> int:
        return sum(check.done for check in self.checks)

    @property
    def total(self) -> int:
        return len(self.checks)

    @property
    def missing(self) -> list[Check]:
        return [check for check in self.checks if not check.done]


def completeness(data: dict) -> Completeness:
    """How much of what residents look for the listing gives: ten things, and what is missing."""
    has_contact = _has_contact(data)
    description_words = richtext.word_count(data.get("description"))
    checks = (
        Check(_has_text(data.get("summary")), _l("No summary"), "about"),
        Check(description_words >= DESCRIPTION_MIN_WORDS,
              _l("Description under 50 words"), "about"),
        Check(data.get("minimum_age") is not None or data.get("maximum_age") is not None
              or _has_text(data.get("eligibility_description")) or bool(data.get("needs")),
              _l("Nothing about who it is for"), "who"),
        Check(bool(data.get("locations")) or bool(data.get("online")) or bool(data.get("by_phone")),
              _l("No place, and not online or by phone"), "where"),
        Check(bool(data.get("schedules")) or _has_text(data.get("schedule_note")), _l("No opening times"), "where"),
        Check(bool(data.get("is_free") or data.get("cost_options") or _has_text(data.get("fees_description"))),
              _l("No costs"), "costs"),
        Check(has_contact, _l("No contact"), "contact"),
        Check(bool(data.get("accessibility_features")), _l("No accessibility information"), "accessibility"),
        Check(bool(data.get("taxonomy_terms")), _l("No category"), "categories"),
        Check(bool(data.get("languages")), _l("No languages"), "languages"),
    )
    return Completeness(checks)


# --- Changing ---------------------------------------------------------------------------------------------


def _section_values(data: dict, key: str) -> dict:
    return {name: data.get(name) for name in section_by_key(key).fields}


def _new_revision(*, actor: User, service: Service, data: dict, base_version: int | None) -> ListingRevision:
    revision = ListingRevision(
        service=service,
        organisation_id=service.organisation_id,
        author_id=actor.id,
        state=RevisionState.DRAFT,
        data=data,
        base_version=base_version,
        sections_saved=[],
    )
    db.session.add(revision)
    db.session.flush()  # the audit event names the revision by id
    audit.record(
        actor=actor,
        action="listing_draft.started",
        subject=revision,
        organisation_id=service.organisation_id,
        after={"state": revision.state, "base_version": base_version},
        details={"service_id": service.id},
    )
    return revision


def start_draft(*, actor: User, service: Service) -> ListingRevision:
    """The listing's open revision, or a new draft copied from the published listing."""
    revision = open_revision(service)
    if revision is not None:
        return revision
    base = revision_format.latest_version_number(service)
    return _new_revision(actor=actor, service=service, data=revision_format.snapshot(service),
                         base_version=base or None)


def start_listing(*, actor: User, organisation_id: Any, about: dict) -> ListingRevision:
    """A new, unpublished listing for one of the actor's organisations, with its first section saved.

    Raises NotPermitted (not a member), OrganisationNotAllowed, InvalidListing."""
    organisation = organisation_for(actor, organisation_id)
    if organisation.verification_status not in (VerificationStatus.APPROVED, VerificationStatus.PENDING):
        raise OrganisationNotAllowed(organisation.id)
    service = listings.create_listing(
        actor=actor, organisation=organisation, data=listings.ListingData(name=about["name"])
    )
    service.published_at = None  # not public until the council approves its first version
    db.session.flush()
    revision = _new_revision(actor=actor, service=service, data=revision_format.empty_listing(), base_version=None)
    return save_section(actor=actor, revision=revision, section="about", values=about)


def save_section(*, actor: User, revision: ListingRevision, section: str, values: dict) -> ListingRevision:
    """Merge one section's values into the draft. Raises UnknownSection, InvalidTransition."""
    fields = section_by_key(section).fields
    if revision.state is not RevisionState.DRAFT:
        raise InvalidTransition(f"the revision is {revision.state.value}")
    if section == "about" and "description" in values:
        values = {**values, "description": richtext.sanitise(values["description"])}
    before = _section_values(revision.data, section)
    # A new dict (not an in-place change) so the JSON column knows it changed.
    revision.data = {**revision.data, **{name: values[name] for name in fields if name in values}}
    revision.sections_saved = sorted({*(revision.sections_saved or []), section})
    revision.author_id = actor.id
    audit.record(
        actor=actor,
        action="listing_draft.section_saved",
        subject=revision,
        organisation_id=revision.organisation_id,
        before=before,
        after=_section_values(revision.data, section),
        details={"service_id": revision.service_id, "section": section},
    )
    return revision


def submit(*, actor: User, revision: ListingRevision) -> ListingRevision:
    """Send the draft to the council's moderation queue.

    Raises InvalidTransition, NotReadyToSubmit, NothingToSubmit."""
    if revision.state is not RevisionState.DRAFT:
        raise InvalidTransition(f"the revision is {revision.state.value}")
    missing = incomplete_required_sections(revision)
    if missing:
        raise NotReadyToSubmit(missing)
    service = revision.service
    if service.published_at is not None and not revision_format.differences(
        revision_format.snapshot(service), revision.data
    ):
        raise NothingToSubmit(revision.id)
    revision.state = RevisionState.SUBMITTED
    revision.submitted_at = utcnow()
    audit.record(
        actor=actor,
        action="listing_draft.submitted",
        subject=revision,
        organisation_id=revision.organisation_id,
        before={"state": RevisionState.DRAFT},
        after={"state": revision.state, "submitted_at": revision.submitted_at},
        details={"service_id": revision.service_id},
    )
    return revision


def withdraw(*, actor: User, revision: ListingRevision) -> ListingRevision:
    """Take a submitted revision back out of the queue, as a draft again. Raises InvalidTransition."""
    if revision.state is not RevisionState.SUBMITTED:
        raise InvalidTransition(f"the revision is {revision.state.value}")
    submitted_at = revision.submitted_at
    revision.state = RevisionState.DRAFT
    revision.submitted_at = None
    audit.record(
        actor=actor,
        action="listing_draft.withdrawn",
        subject=revision,
        organisation_id=revision.organisation_id,
        before={"state": RevisionState.SUBMITTED, "submitted_at": submitted_at},
        after={"state": revision.state},
        details={"service_id": revision.service_id},
    )
    return revision


# --- Vocabularies and preview --------------------------------------------------------------------------


def needs() -> list[Need]:
    return list(db.session.scalars(sa.select(Need).order_by(Need.send.desc(), Need.name)))


def accessibility_features() -> list[AccessibilityFeature]:
    return list(db.session.scalars(sa.select(AccessibilityFeature).order_by(AccessibilityFeature.name)))


def localities() -> list[Locality]:
    return list(db.session.scalars(sa.select(Locality).order_by(Locality.name)))


def category_groups() -> list[tuple[TaxonomyTerm, list[TaxonomyTerm]]]:
    """Top-level categories with every term below them (flattened, in order), for grouped checkboxes."""
    roots = db.session.scalars(
        sa.select(TaxonomyTerm).where(TaxonomyTerm.parent_id.is_(None))
        .order_by(TaxonomyTerm.position, TaxonomyTerm.name)
    ).all()

    def below(term: TaxonomyTerm) -> list[TaxonomyTerm]:
        return [found for child in term.children for found in (child, *below(child))]

    return [(root, below(root)) for root in roots]


def _by_slug(model, slugs: list[str]) -> list:
    if not slugs:
        return []
    rows = {row.slug: row for row in db.session.scalars(sa.select(model).where(model.slug.in_(slugs)))}
    return [rows[slug] for slug in slugs if slug in rows]


def _parse_clock(value: str | None) -> time | None:
    return time.fromisoformat(value) if value else None


def preview_of(*, service: Service, data: dict) -> SimpleNamespace:
    """A listing's JSON shaped like a Service for the public service template: nothing is written."""
    localities_by_slug = {row.slug: row for row in localities()}
    locations = []
    for item in data.get("locations", []):
        postcode = item.get("postcode") or ""
        location = SimpleNamespace(state_province="", outward_code=postcode.split(" ")[0] if postcode else "",
                                   **{name: item.get(name) or "" for name in (
                                       "name", "description", "address_1", "address_2", "city", "postcode")},
                                   hide_exact_address=bool(item.get("hide_exact_address")))
        locations.append(SimpleNamespace(location=location, description=""))
    return SimpleNamespace(
        id=service.id,
        organisation=service.organisation,
        **{name: data.get(name) for name in (
            "name", "summary", "description", "minimum_age", "maximum_age", "eligibility_description",
            "referral_required", "schedule_note", "in_person", "online", "by_phone", "is_free",
            "fees_description", "url", "email", "local_offer", "local_offer_description", "local_offer_url")},
        needs=_by_slug(Need, data.get("needs", [])),
        accessibility_features=_by_slug(AccessibilityFeature, data.get("accessibility_features", [])),
        taxonomy_terms=_by_slug(TaxonomyTerm, data.get("taxonomy_terms", [])),
        schedules=[
            SimpleNamespace(byday=Weekday(row["byday"]), opens_at=_parse_clock(row.get("opens_at")),
                            closes_at=_parse_clock(row.get("closes_at")), notes=row.get("notes") or "")
            for row in data.get("schedules", [])
        ],
        locations_at=locations,
        service_areas=[
            SimpleNamespace(name=area.get("name") or "", locality=localities_by_slug.get(area.get("locality")))
            for area in data.get("service_areas", [])
        ],
        cost_options=[
            SimpleNamespace(option=row.get("option") or "", amount_pence=row.get("amount_pence"),
                            unit=CostUnit(row["unit"]) if row.get("unit") else None,
                            amount_description=row.get("amount_description") or "")
            for row in data.get("cost_options", [])
        ],
        contacts=[
            SimpleNamespace(name=row.get("name") or "", title=row.get("title") or "", email=row.get("email"),
                            phones=[SimpleNamespace(number=p.get("number") or "", extension=p.get("extension") or "",
                                                    description=p.get("description") or "")
                                    for p in row.get("phones", [])])
            for row in data.get("contacts", [])
        ],
        languages=[SimpleNamespace(code=row["code"], note=row.get("note") or "") for row in data.get("languages", [])],
        local_offer_answers=[SimpleNamespace(question=row.get("question") or "", answer=row.get("answer") or "")
                             for row in data.get("local_offer_answers", [])],
    )
