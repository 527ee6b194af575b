"""Provider self-service and council moderation: invitations, join requests, listing revisions and published
versions, problem reports and check reminders."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.accounts import MembershipRole, User
from portal.models.base import Base, Timestamps, UUIDPrimaryKey, enum_column, utcnow
from portal.models.directory import Organisation, Service


class OrganisationInvitation(UUIDPrimaryKey, Base):
    """An emailed invitation to join an organisation. Only a hash of the token is stored."""

    __tablename__ = "organisation_invitations"

    organisation_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(sa.String(320), index=True)
    role: Mapped[MembershipRole] = mapped_column(enum_column(MembershipRole), default=MembershipRole.EDITOR)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    invited_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    accepted_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None]

    organisation: Mapped[Organisation] = relationship()
    invited_by: Mapped[User | None] = relationship(foreign_keys=[invited_by_id])


class RequestState(enum.Enum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class JoinRequest(UUIDPrimaryKey, Base):
    """A provider user asking to join an organisation already in the directory."""

    __tablename__ = "join_requests"

    organisation_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    message: Mapped[str] = mapped_column(sa.Text, default="")
    state: Mapped[RequestState] = mapped_column(enum_column(RequestState), default=RequestState.PENDING)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    decision_reason: Mapped[str] = mapped_column(sa.Text, default="")

    organisation: Mapped[Organisation] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])


class RevisionState(enum.Enum):
    DRAFT = "draft"  # the provider is still editing
    SUBMITTED = "submitted"  # waiting in the council's queue
    APPROVED = "approved"  # every changed field published
    PARTLY_APPROVED = "partly_approved"  # some fields published, the rest rejected with a reason
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"  # the provider took it back, or a newer revision replaced it


class ListingRevision(UUIDPrimaryKey, Timestamps, Base):
    """A proposed version of a listing: the whole listing as JSON (see portal/data/revision_format.py).

    The published listing stays live, unchanged, until a moderator approves the revision or some of its fields.
    """

    __tablename__ = "listing_revisions"

    service_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("services.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    author_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    state: Mapped[RevisionState] = mapped_column(enum_column(RevisionState), default=RevisionState.DRAFT, index=True)
    data: Mapped[dict] = mapped_column(sa.JSON)
    base_version: Mapped[int | None]  # the published version number it started from (None: a new listing)
    sections_saved: Mapped[list] = mapped_column(sa.JSON, default=list)
    source: Mapped[str | None] = mapped_column(sa.String(100))  # e.g. an import feed, for provenance
    submitted_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    decision_reason: Mapped[str] = mapped_column(sa.Text, default="")
    approved_fields: Mapped[list | None] = mapped_column(sa.JSON)

    service: Mapped[Service] = relationship()
    organisation: Mapped[Organisation] = relationship()
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])


class ListingVersion(UUIDPrimaryKey, Base):
    """A published version of a listing, kept for history and restore. Append-only."""

    __tablename__ = "listing_versions"

    service_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("services.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    data: Mapped[dict] = mapped_column(sa.JSON)
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    revision_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("listing_revisions.id", ondelete="SET NULL")
    )
    note: Mapped[str] = mapped_column(sa.String(255), default="")

    published_by: Mapped[User | None] = relationship()

    __table_args__ = (sa.UniqueConstraint("service_id", "number"),)


class ReportState(enum.Enum):
    NEW = "new"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"


class ProblemReport(UUIDPrimaryKey, Timestamps, Base):
    """Someone told us a listing is wrong. Reaches the provider and the council."""

    __tablename__ = "problem_reports"

    service_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("services.id", ondelete="CASCADE"), index=True)
    reference: Mapped[str] = mapped_column(sa.String(12), unique=True)
    description: Mapped[str] = mapped_column(sa.Text)
    reporter_name: Mapped[str] = mapped_column(sa.String(255), default="")
    reporter_email: Mapped[str | None] = mapped_column(sa.String(320))
    state: Mapped[ReportState] = mapped_column(enum_column(ReportState), default=ReportState.NEW, index=True)
    resolved_at: Mapped[datetime | None]
    handled_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    response_note: Mapped[str] = mapped_column(sa.Text, default="")

    service: Mapped[Service] = relationship()


class ListingReminder(UUIDPrimaryKey, Base):
    """A "check your listing is still accurate" reminder, at most one per listing per kind and check date."""

    __tablename__ = "listing_reminders"

    service_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("services.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(30))  # "six_months"; "twelve_months" flags to the council
    checked_on: Mapped[date]  # the last-checked date the reminder is about: a new check means a new reminder
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    recipients: Mapped[list] = mapped_column(sa.JSON, default=list)

    __table_args__ = (sa.UniqueConstraint("service_id", "kind", "checked_on"),)
