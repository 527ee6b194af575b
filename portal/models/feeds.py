"""Provenance of records imported from other directories' feeds (Open Referral UK)."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, UUIDPrimaryKey, utcnow


class FeedRecord(UUIDPrimaryKey, Base):
    """One record of one feed: where it came from, when we saw it, what it became, and its last content hash,
    so a re-import of an unchanged record does nothing and a changed one is recognised."""

    __tablename__ = "feed_records"

    feed: Mapped[str] = mapped_column(sa.String(500))  # the feed's URL or file name
    record_type: Mapped[str] = mapped_column(sa.String(30), default="service")  # service / organization
    source_id: Mapped[str] = mapped_column(sa.String(100))
    service_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("services.id", ondelete="SET NULL"), index=True)
    organisation_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str] = mapped_column(sa.Text, default="")

    __table_args__ = (sa.UniqueConstraint("feed", "record_type", "source_id"),)
