"""Audit events and the listing change log: append-only records written in the same transaction as the change."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, UUIDPrimaryKey, enum_column, utcnow


class AuditEvent(UUIDPrimaryKey, Base):
    """Who did what to which record, when, with the fields before and after."""

    __tablename__ = "audit_events"

    occurred_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    action: Mapped[str] = mapped_column(sa.String(100), index=True)
    subject_type: Mapped[str] = mapped_column(sa.String(50))
    subject_id: Mapped[str | None] = mapped_column(sa.String(64))
    organisation_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    before: Mapped[dict | None] = mapped_column(sa.JSON)
    after: Mapped[dict | None] = mapped_column(sa.JSON)
    details: Mapped[dict | None] = mapped_column(sa.JSON)

    __table_args__ = (sa.Index("ix_audit_events_subject", "subject_type", "subject_id"),)


class ChangeKind(enum.Enum):
    UPSERT = "upsert"
    DELETE = "delete"


class ListingChange(Base):
    """One published change to a listing; the search indexer applies rows past its high-water mark."""

    __tablename__ = "listing_changes"

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    subject_type: Mapped[str] = mapped_column(sa.String(30), default="service")
    subject_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, index=True)
    kind: Mapped[ChangeKind] = mapped_column(enum_column(ChangeKind), default=ChangeKind.UPSERT)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
