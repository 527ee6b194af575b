"""Council moderation of listings: the queue of submitted revisions, field-level decisions, version history with
restore, and emergency unpublish.

The published listing stays live, untouched, until a moderator approves a revision (or some of its fields):
approval goes through ``revision_format.publish``, which updates the service, appends a ``ListingVersion`` and
a change-log row in the caller's transaction, so the listing is searchable once the request commits.

Every function stages its changes and audit events in the caller's transaction and never commits.
"""

from __future__ import annotations

import enum
import re
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from babel.dates import get_day_names
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from portal import richtext
from portal.data import audit, listings
from portal.data import revision_format as fmt
from portal.data.paging import Page
from portal.extensions import db
from portal.i18n import money
from portal.mail import send_templated_email
from portal.models import (
    AccessibilityFeature,
    CostUnit,
    ListingRevision,
    ListingVersion,
    Locality,
    Need,
    Organisation,
    OrganisationMembership,
    RevisionState,
    Service,
    ServiceStatus,
    TaxonomyTerm,
    User,
    Weekday,
    utcnow,
)
from portal.public import presenters


class ModerationError(Exception):
    """A moderation step cannot be taken."""


class AlreadyDecided(ModerationError):
    """The revision is no longer waiting for a decision (decided already, or withdrawn)."""


class ReasonRequired(ModerationError):
    """Rejecting all or some of a revision needs a reason the provider can read."""


class NothingChosen(ModerationError):
    """"Approve the ticked changes" with nothing ticked."""


class ListingChangedMeanwhile(ModerationError):
    """Another version was published after the moderator opened the review: they must look again."""


class VersionNotFound(ModerationError):
    """The listing has no version with that number."""


class AlreadyUnpublished(ModerationError):
    """The listing is already off the site."""


class NotUnpublished(ModerationError):
    """The listing was not unpublished, so there is nothing to republish."""


class Decision(enum.Enum):
    APPROVE_ALL = "approve_all"
    APPROVE_SELECTED = "approve_selected"
    REJECT = "reject"


STATE_LABELS = {
    RevisionState.DRAFT: _l("Draft"),
    RevisionState.SUBMITTED: _l("Waiting for review"),
    RevisionState.APPROVED: _l("Approved"),
    RevisionState.PARTLY_APPROVED: _l("Partly approved"),
    RevisionState.REJECTED: _l("Rejected"),
    RevisionState.WITHDRAWN: _l("Withdrawn"),
}


# --- The queue ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueItem:
    revision_id: uuid.UUID
    service_id: uuid.UUID
    service_name: str
    proposed_name: str
    organisation_name: str
    submitted_at: datetime | None
    is_new: bool


def submitted_revisions(*, page: int = 1, per_page: int = 25) -> Page:
    """Revisions waiting for a decision, the longest-waiting first."""
    waiting = ListingRevision.state == RevisionState.SUBMITTED
    total = db.session.scalar(sa.select(sa.func.count()).select_from(ListingRevision).where(waiting))
    rows = db.session.execute(
        sa.select(ListingRevision, Service, Organisation)
        .join(Service, Service.id == ListingRevision.service_id)
        .join(Organisation, Organisation.id == ListingRevision.organisation_id)
        .where(waiting)
        .order_by(
            ListingRevision.submitted_at.is_(None),  # a revision without a date sorts last, not first
            ListingRevision.submitted_at,
            ListingRevision.created_at,
            ListingRevision.id,
        )
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    items = [
        QueueItem(
            revision_id=revision.id,
            service_id=service.id,
            service_name=service.name,
            proposed_name=str((revision.data or {}).get("name") or service.name),
            organisation_name=organisation.name,
            submitted_at=revision.submitted_at,
            is_new=service.published_at is None,
        )
        for revision, service, organisation in rows
    ]
    return Page(items=items, total=total, page=page, per_page=per_page)


def waiting_count() -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(ListingRevision).where(ListingRevision.state == RevisionState.SUBMITTED)
    )


# --- Reviewing one revision -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Review:
    revision: ListingRevision
    service: Service
    published: dict
    differences: list[fmt.FieldDifference]
    current_version: int  # the latest published version number (0: none yet)
    changed_meanwhile: bool  # another version was published after the provider started this revision
    is_new: bool

    @property
    def is_open(self) -> bool:
        return self.revision.state is RevisionState.SUBMITTED

    @property
    def changed_fields(self) -> list[str]:
        return [difference.field for difference in self.differences]


def find_revision(revision_id: uuid.UUID) -> ListingRevision | None:
    return db.session.get(ListingRevision, revision_id)


def review_of(revision: ListingRevision) -> Review:
    """The revision against what is live now (never against its possibly outdated starting point)."""
    service = revision.service
    published = fmt.snapshot(service)
    current = fmt.latest_version_number(service)
    return Review(
        revision=revision,
        service=service,
        published=published,
        differences=fmt.differences(published, revision.data or {}),
        current_version=current,
        changed_meanwhile=(revision.base_version or 0) != current,
        is_new=service.published_at is None,
    )


def _locked_revision(revision_id: uuid.UUID) -> ListingRevision:
    # The row lock makes two moderators pressing "approve" at once decide one after the other: the second sees
    # the first's decision and stops (AlreadyDecided). SQLite serialises writers anyway.
    revision = db.session.scalar(
        sa.select(ListingRevision)
        .where(ListingRevision.id == revision_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if revision is None:
        raise LookupError(revision_id)
    db.session.scalar(
        sa.select(Service).where(Service.id == revision.service_id).with_for_update()
        .execution_options(populate_existing=True)
    )
    return revision


def decide(
    *,
    actor: User,
    revision_id: uuid.UUID,
    decision: Decision,
    fields: Collection[str] = (),
    reason: str = "",
    seen_version: int | None = None,
) -> ListingRevision:
    """Approve all of a submitted revision, approve some fields (rejecting the rest), or reject it, and email the
    organisation's members the outcome.

    ``seen_version`` is the published version the moderator reviewed against; if another was published since,
    nothing is decided. Raises AlreadyDecided, ListingChangedMeanwhile, NothingChosen, ReasonRequired,
    InvalidListing (the proposal cannot be published) and LookupError (no such revision)."""
    revision = _locked_revision(revision_id)
    if revision.state is not RevisionState.SUBMITTED:
        raise AlreadyDecided(revision.state)
    review = review_of(revision)
    if seen_version is not None and seen_version != review.current_version:
        raise ListingChangedMeanwhile(review.current_version)
    reason = (reason or "").strip()
    changed = review.changed_fields
    if decision is Decision.REJECT:
        if not reason:
            raise ReasonRequired()
        approved: list[str] = []
        state = RevisionState.REJECTED
    else:
        chosen = set(fields)
        approved = changed if decision is Decision.APPROVE_ALL else [name for name in changed if name in chosen]
        if decision is Decision.APPROVE_SELECTED and changed and not approved:
            raise NothingChosen()
        state = RevisionState.APPROVED if len(approved) == len(changed) else RevisionState.PARTLY_APPROVED
        if state is RevisionState.PARTLY_APPROVED and not reason:
            raise ReasonRequired()
        note = "approved" if state is RevisionState.APPROVED else "partly approved"
        fmt.publish(
            actor=actor, service=review.service, data=fmt.merge(review.published, revision.data, approved),
            revision=revision, note=note,
        )
    rejected = [name for name in changed if name not in approved]
    revision.state = state
    revision.decided_at = utcnow()
    revision.decided_by_id = actor.id
    revision.decision_reason = reason
    revision.approved_fields = approved
    audit.record(
        actor=actor,
        action=f"listing_revision.{state.value}",
        subject=revision,
        organisation_id=revision.organisation_id,
        before={"state": RevisionState.SUBMITTED.value},
        after={"state": state.value, "approved_fields": approved, "rejected_fields": rejected, "reason": reason},
        details={"service_id": revision.service_id},
    )
    _email_outcome(revision, review.service, approved=approved, rejected=rejected)
    return revision


def organisation_member_emails(organisation_id: uuid.UUID) -> list[str]:
    return list(
        db.session.scalars(
            sa.select(User.email)
            .join(OrganisationMembership, OrganisationMembership.user_id == User.id)
            .where(OrganisationMembership.organisation_id == organisation_id, User.active.is_(True))
            .order_by(User.email)
        )
    )


_OUTCOME_SUBJECTS = {
    RevisionState.APPROVED: _l("Your changes to %(name)s are approved"),
    RevisionState.PARTLY_APPROVED: _l("Some of your changes to %(name)s are approved"),
    RevisionState.REJECTED: _l("Your changes to %(name)s were not approved"),
}


def _email_outcome(revision: ListingRevision, service: Service, *, approved: list[str], rejected: list[str]) -> None:
    labels = fmt.FIELD_LABELS
    public_url = url_for("public.service", service_id=service.id, _external=True) if service.is_public else None
    for email in organisation_member_emails(revision.organisation_id):
        send_templated_email(
            to=email,
            subject=str(_OUTCOME_SUBJECTS[revision.state]) % {"name": service.name},
            template=f"moderation_{revision.state.value}",
            service_name=service.name,
            approved=[str(labels[name]) for name in approved],
            rejected=[str(labels[name]) for name in rejected],
            reason=revision.decision_reason,
            public_url=public_url,
        )


# --- Version history ------------------------------------------------------------------------------------------


def find_listing(service_id: uuid.UUID) -> Service | None:
    return db.session.get(Service, service_id)


def versions_of(service: Service) -> list[ListingVersion]:
    """Published versions, newest first."""
    return list(
        db.session.scalars(
            sa.select(ListingVersion)
            .where(ListingVersion.service_id == service.id)
            .order_by(ListingVersion.number.desc())
        )
    )


def version_of(service: Service, number: int) -> ListingVersion:
    """Raises VersionNotFound."""
    version = db.session.scalar(
        sa.select(ListingVersion).where(ListingVersion.service_id == service.id, ListingVersion.number == number)
    )
    if version is None:
        raise VersionNotFound(number)
    return version


def restore_version(*, actor: User, service: Service, number: int) -> ListingVersion:
    """Publish an earlier version's listing again, as a new version. Raises VersionNotFound, InvalidListing (the
    old version names something that no longer exists)."""
    old = version_of(service, number)
    current = fmt.latest_version_number(service)
    version = fmt.publish(actor=actor, service=service, data=old.data, note=f"restored from version {number}")
    audit.record(
        actor=actor,
        action="listing.restored",
        subject=service,
        organisation_id=service.organisation_id,
        before={"version": current},
        after={"version": version.number, "restored_from": number},
    )
    return version


# --- Emergency unpublish --------------------------------------------------------------------------------------


def unpublish(*, actor: User, service: Service, reason: str) -> None:
    """Take a listing off the site and out of search at once. Raises ReasonRequired, AlreadyUnpublished."""
    reason = (reason or "").strip()
    if not reason:
        raise ReasonRequired()
    if service.unpublished_at is not None:
        raise AlreadyUnpublished(service.id)
    service.unpublished_at = utcnow()
    service.unpublished_reason = reason
    audit.record(
        actor=actor,
        action="listing.unpublished",
        subject=service,
        organisation_id=service.organisation_id,
        before={"unpublished_at": None, "unpublished_reason": ""},
        after={"unpublished_at": service.unpublished_at, "unpublished_reason": reason},
    )
    listings.record_listing_change(service)


def republish(*, actor: User, service: Service) -> None:
    """Undo an emergency unpublish. Raises NotUnpublished."""
    if service.unpublished_at is None:
        raise NotUnpublished(service.id)
    before = {"unpublished_at": service.unpublished_at, "unpublished_reason": service.unpublished_reason}
    service.unpublished_at = None
    service.unpublished_reason = ""
    audit.record(
        actor=actor,
        action="listing.republished",
        subject=service,
        organisation_id=service.organisation_id,
        before=before,
        after={"unpublished_at": None, "unpublished_reason": ""},
    )
    listings.record_listing_change(service)


# --- Listing values as people read them -----------------------------------------------------------------------

_STATUS_LABELS = {
    ServiceStatus.ACTIVE.value: _l("Active"),
    ServiceStatus.INACTIVE.value: _l("Inactive"),
    ServiceStatus.DEFUNCT.value: _l("Closed for good"),
    ServiceStatus.TEMPORARILY_CLOSED.value: _l("Temporarily closed"),
}
_VOCABULARIES = {"needs": Need, "accessibility_features": AccessibilityFeature, "taxonomy_terms": TaxonomyTerm}
_DAY_INDEX = {day.value: index for index, day in enumerate(Weekday)}
_BLANK_LINES = re.compile(r"\n\s*\n")
RICH_TEXT_FIELDS = frozenset({"description"})


def _rich_text(value: str) -> str:
    """Rich text (limited Markdown or HTML) as the words a reader sees, paragraphs kept apart by a blank line."""
    paragraphs = (Markup(richtext.to_html(block)).striptags() for block in _BLANK_LINES.split(value))
    return "\n\n".join(paragraph for paragraph in paragraphs if paragraph)


def _vocabulary_names(model, slugs: list[str], language: str) -> list[str]:
    rows = {row.slug: row for row in db.session.scalars(sa.select(model).where(model.slug.in_(slugs)))}
    names = []
    for slug in slugs:
        row = rows.get(slug)
        if row is None:
            names.append(slug)
        else:
            names.append(row.name_cy if language == "cy" and row.name_cy else row.name)
    return names


def _schedule_line(row: dict, day_names) -> str:
    day = day_names[_DAY_INDEX[row["byday"]]] if row.get("byday") in _DAY_INDEX else str(row.get("byday"))
    opens, closes = row.get("opens_at"), row.get("closes_at")
    if opens and closes:
        line = _("%(day)s %(opens)s to %(closes)s", day=day, opens=opens, closes=closes)
    elif opens:
        line = _("%(day)s from %(opens)s", day=day, opens=opens)
    elif closes:
        line = _("%(day)s until %(closes)s", day=day, closes=closes)
    else:
        line = day
    return _("%(times)s (%(note)s)", times=line, note=row["notes"]) if row.get("notes") else line


def _place_line(row: dict) -> str:
    place = SimpleNamespace(
        hide_exact_address=False, address_1=row.get("address_1") or "", address_2=row.get("address_2") or "",
        city=row.get("city") or "", state_province="", postcode=row.get("postcode") or "",
    )
    parts = [row["name"]] if row.get("name") else []
    parts += [line for line in presenters.address_lines(place) if line not in parts]
    line = ", ".join(parts)
    return _("%(address)s (exact address hidden)", address=line) if row.get("hide_exact_address") else line


def _cost_line(row: dict) -> str:
    option = SimpleNamespace(
        option=row.get("option") or "", amount_pence=row.get("amount_pence"),
        unit=CostUnit(row["unit"]) if row.get("unit") else None,
        amount_description=row.get("amount_description") or "",
    )
    return presenters.cost_text(option, money)


def _contact_line(row: dict) -> str:
    parts = [row.get("name"), row.get("title"), row.get("email")]
    for phone in row.get("phones") or []:
        number = phone.get("number", "")
        if phone.get("extension"):
            number = _("%(number)s extension %(extension)s", number=number, extension=phone["extension"])
        parts.append(number)
    return ", ".join(part for part in parts if part)


def _area_lines(rows: list[dict], language: str) -> list[str]:
    slugs = [row["locality"] for row in rows if row.get("locality")]
    names = dict(zip(slugs, _vocabulary_names(Locality, slugs, language), strict=True))
    return [names.get(row.get("locality")) or row.get("name") or "" for row in rows]


def _list_lines(field: str, value: list, language: str) -> list[str]:
    if field in _VOCABULARIES:
        return _vocabulary_names(_VOCABULARIES[field], value, language)
    if field == "schedules":
        day_names = get_day_names("wide", locale=language)
        return [_schedule_line(row, day_names) for row in value]
    if field == "locations":
        return [_place_line(row) for row in value]
    if field == "cost_options":
        return [_cost_line(row) for row in value]
    if field == "contacts":
        return [_contact_line(row) for row in value]
    if field == "service_areas":
        return _area_lines(value, language)
    if field == "languages":
        return [
            _("%(language)s (%(note)s)", language=presenters.language_name(row["code"], language), note=row["note"])
            if row.get("note") else presenters.language_name(row["code"], language)
            for row in value
        ]
    if field == "local_offer_answers":
        return [_("%(question)s: %(answer)s", question=row.get("question", ""), answer=row.get("answer", ""))
                for row in value]
    return [str(item) for item in value]


def describe(field: str, value: Any, language: str) -> list[str]:
    """A field's value as lines of plain text a moderator can read (never HTML: templates escape it)."""
    if value is None or value == "" or value == []:
        return [_("None") if isinstance(value, list) else _("Not given")]
    if isinstance(value, bool):
        return [_("Yes") if value else _("No")]
    if field == "status":
        return [str(_STATUS_LABELS.get(value, value))]
    if isinstance(value, list):
        return [line for line in _list_lines(field, value, language) if line]
    if isinstance(value, str):
        # Plain-text fields are shown exactly as typed (the page escapes them), tags and all.
        return [_rich_text(value) if field in RICH_TEXT_FIELDS else value.strip()]
    return [str(value)]


@dataclass(frozen=True)
class ReadableSection:
    title: str
    rows: list[tuple[str, list[str]]]  # (field label, lines)


def readable_listing(data: dict, language: str) -> list[ReadableSection]:
    """A whole listing snapshot, section by section, as plain text (a version's page)."""
    return [
        ReadableSection(
            title=str(section.title),
            rows=[(str(fmt.FIELD_LABELS[name]), describe(name, data.get(name), language)) for name in section.fields],
        )
        for section in fmt.SECTIONS
    ]
