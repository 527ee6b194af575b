"""Council guides: information and advice written by council editors, in English and Welsh."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.accounts import User
from portal.models.base import Base, Timestamps, UUIDPrimaryKey, enum_column, utcnow
from portal.models.directory import TaxonomyTerm


class GuideState(enum.Enum):
    DRAFT = "draft"  # never published
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"  # was published, taken down


guide_categories = sa.Table(
    "guide_categories",
    Base.metadata,
    sa.Column("guide_id", sa.Uuid, sa.ForeignKey("guides.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("term_id", sa.Uuid, sa.ForeignKey("taxonomy_terms.id", ondelete="CASCADE"), primary_key=True),
)


class Guide(UUIDPrimaryKey, Timestamps, Base):
    """A guide as the public sees it (the published content), plus the editor's unpublished draft.

    The published fields change only when an editor publishes; `draft` holds pending edits as JSON in the same shape
    as a GuideVersion's data, so a draft never leaks onto the public page.
    """

    __tablename__ = "guides"

    slug: Mapped[str] = mapped_column(sa.String(120), unique=True)
    state: Mapped[GuideState] = mapped_column(enum_column(GuideState), default=GuideState.DRAFT, index=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    summary: Mapped[str] = mapped_column(sa.Text, default="")
    body: Mapped[str] = mapped_column(sa.Text, default="")  # limited Markdown, sanitised when rendered
    title_cy: Mapped[str] = mapped_column(sa.String(200), default="")  # empty: no Welsh version yet
    summary_cy: Mapped[str] = mapped_column(sa.Text, default="")
    body_cy: Mapped[str] = mapped_column(sa.Text, default="")
    safeguarding: Mapped[bool] = mapped_column(default=False)  # shows "Exit this page"
    review_by: Mapped[date | None]
    published_at: Mapped[datetime | None]  # first publication
    content_updated_at: Mapped[datetime | None]  # "Last updated": the latest publication
    version: Mapped[int] = mapped_column(default=0)  # number of the published GuideVersion, 0 if none
    draft: Mapped[dict | None] = mapped_column(sa.JSON)
    draft_updated_at: Mapped[datetime | None]
    draft_updated_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    categories: Mapped[list[TaxonomyTerm]] = relationship(secondary=guide_categories, lazy="selectin")
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    draft_updated_by: Mapped[User | None] = relationship(foreign_keys=[draft_updated_by_id])

    @property
    def has_welsh(self) -> bool:
        return bool(self.title_cy.strip() and self.body_cy.strip())


class GuideVersion(UUIDPrimaryKey, Base):
    """A published version of a guide, kept for history. Append-only."""

    __tablename__ = "guide_versions"

    guide_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("guides.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    data: Mapped[dict] = mapped_column(sa.JSON)
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(sa.String(255), default="")

    published_by: Mapped[User | None] = relationship()

    __table_args__ = (sa.UniqueConstraint("guide_id", "number"),)


class GuideFeedback(UUIDPrimaryKey, Base):
    """An answer to "Is this page useful?". The comment is stored only after personal data is stripped from it."""

    __tablename__ = "guide_feedback"

    guide_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("guides.id", ondelete="CASCADE"), index=True)
    useful: Mapped[bool | None]
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    locale: Mapped[str] = mapped_column(sa.String(5), default="en")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
