"""The directory: organisations, services, locations and vocabularies, aligned with Open Referral UK (HSDS 3.0).

Field names follow ORUK where it has one, so the API is a mapping. Money is integer pence.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime, time

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, Timestamps, UUIDPrimaryKey, enum_column


class VerificationStatus(enum.Enum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUSPENDED = "suspended"


class RegulatorBody(enum.Enum):
    CQC = "cqc"
    OFSTED = "ofsted"


class OrganisationKind(enum.Enum):
    CHARITY = "charity"
    COMPANY = "company"
    SOLE_TRADER = "sole_trader"  # e.g. a self-employed personal assistant
    COMMUNITY_GROUP = "community_group"
    PUBLIC_BODY = "public_body"


class ServiceStatus(enum.Enum):
    """ORUK service.status values."""

    ACTIVE = "active"
    INACTIVE = "inactive"
    DEFUNCT = "defunct"
    TEMPORARILY_CLOSED = "temporarily closed"


class CostUnit(enum.Enum):
    HOUR = "hour"
    SESSION = "session"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    ITEM = "item"
    ONE_OFF = "one-off"


class Weekday(enum.Enum):
    """iCal BYDAY codes, as ORUK schedules use."""

    MO = "MO"
    TU = "TU"
    WE = "WE"
    TH = "TH"
    FR = "FR"
    SA = "SA"
    SU = "SU"


class Organisation(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "organisations"

    name: Mapped[str] = mapped_column(sa.String(255))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    website: Mapped[str | None] = mapped_column(sa.String(500))
    email: Mapped[str | None] = mapped_column(sa.String(320))
    phone: Mapped[str | None] = mapped_column(sa.String(50))
    charity_number: Mapped[str | None] = mapped_column(sa.String(20))
    company_number: Mapped[str | None] = mapped_column(sa.String(20))
    regulator: Mapped[RegulatorBody | None] = mapped_column(enum_column(RegulatorBody))
    registration_id: Mapped[str | None] = mapped_column(sa.String(50))
    registration_rating: Mapped[str | None] = mapped_column(sa.String(50))
    verification_status: Mapped[VerificationStatus] = mapped_column(
        enum_column(VerificationStatus), default=VerificationStatus.PENDING
    )
    verified_at: Mapped[datetime | None]
    kind: Mapped[OrganisationKind | None] = mapped_column(enum_column(OrganisationKind))
    # What the council checks before approving a provider.
    insurance_expires_on: Mapped[date | None]  # public liability insurance
    dbs_checked_on: Mapped[date | None]  # sole-trader personal assistants: date of the DBS check
    # The council's reason on its last decision.
    verification_note: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    # Provenance for imported records: which feed, and the record's id there.
    source: Mapped[str | None] = mapped_column(sa.String(100))
    source_id: Mapped[str | None] = mapped_column(sa.String(100))

    services: Mapped[list[Service]] = relationship(back_populates="organisation", order_by="Service.name")
    locations: Mapped[list[Location]] = relationship(back_populates="organisation")

    __table_args__ = (sa.UniqueConstraint("source", "source_id"),)

    @property
    def is_approved(self) -> bool:
        return self.verification_status is VerificationStatus.APPROVED


service_taxonomy_terms = sa.Table(
    "service_taxonomy_terms",
    Base.metadata,
    sa.Column("service_id", sa.Uuid, sa.ForeignKey("services.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("taxonomy_term_id", sa.Uuid, sa.ForeignKey("taxonomy_terms.id", ondelete="CASCADE"), primary_key=True),
)

service_needs = sa.Table(
    "service_needs",
    Base.metadata,
    sa.Column("service_id", sa.Uuid, sa.ForeignKey("services.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("need_id", sa.Uuid, sa.ForeignKey("needs.id", ondelete="CASCADE"), primary_key=True),
)

service_accessibility = sa.Table(
    "service_accessibility",
    Base.metadata,
    sa.Column("service_id", sa.Uuid, sa.ForeignKey("services.id", ondelete="CASCADE"), primary_key=True),
    sa.Column(
        "accessibility_feature_id",
        sa.Uuid,
        sa.ForeignKey("accessibility_features.id", ondelete="CASCADE"),
        primary_key=True,
    ),
)


class Service(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "services"

    organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(255))
    summary: Mapped[str] = mapped_column(sa.String(500), default="")
    description: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[ServiceStatus] = mapped_column(enum_column(ServiceStatus), default=ServiceStatus.ACTIVE)
    url: Mapped[str | None] = mapped_column(sa.String(500))
    email: Mapped[str | None] = mapped_column(sa.String(320))
    # How people attend: any combination.
    in_person: Mapped[bool] = mapped_column(default=True)
    online: Mapped[bool] = mapped_column(default=False)
    by_phone: Mapped[bool] = mapped_column(default=False)
    minimum_age: Mapped[int | None]
    maximum_age: Mapped[int | None]
    eligibility_description: Mapped[str] = mapped_column(sa.Text, default="")
    referral_required: Mapped[bool] = mapped_column(default=False)
    is_free: Mapped[bool] = mapped_column(default=False)
    fees_description: Mapped[str] = mapped_column(sa.Text, default="")
    schedule_note: Mapped[str] = mapped_column(sa.Text, default="")
    # SEND Local Offer: whether the service is part of it, its summary and link; answers are rows below.
    local_offer: Mapped[bool] = mapped_column(default=False)
    local_offer_description: Mapped[str] = mapped_column(sa.Text, default="")
    local_offer_url: Mapped[str | None] = mapped_column(sa.String(500))
    assured_date: Mapped[date | None]
    last_checked_at: Mapped[datetime | None]
    # Null until a moderator first approves it: a provider's new listing is not public before then.
    published_at: Mapped[datetime | None]
    # Emergency unpublish by the council: off the site at once, whatever its status.
    unpublished_at: Mapped[datetime | None]
    unpublished_reason: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    source: Mapped[str | None] = mapped_column(sa.String(100))
    source_id: Mapped[str | None] = mapped_column(sa.String(100))

    organisation: Mapped[Organisation] = relationship(back_populates="services")
    taxonomy_terms: Mapped[list[TaxonomyTerm]] = relationship(secondary=service_taxonomy_terms)
    needs: Mapped[list[Need]] = relationship(secondary=service_needs, order_by="Need.name")
    accessibility_features: Mapped[list[AccessibilityFeature]] = relationship(
        secondary=service_accessibility, order_by="AccessibilityFeature.name"
    )
    languages: Mapped[list[ServiceLanguage]] = relationship(
        back_populates="service", cascade="all, delete-orphan", order_by="ServiceLanguage.code"
    )
    cost_options: Mapped[list[CostOption]] = relationship(
        back_populates="service", cascade="all, delete-orphan", order_by="CostOption.position"
    )
    locations_at: Mapped[list[ServiceAtLocation]] = relationship(
        back_populates="service", cascade="all, delete-orphan"
    )
    schedules: Mapped[list[Schedule]] = relationship(
        back_populates="service",
        cascade="all, delete-orphan",
        order_by="(Schedule.position, Schedule.opens_at)",
    )
    contacts: Mapped[list[Contact]] = relationship(back_populates="service", cascade="all, delete-orphan")
    service_areas: Mapped[list[ServiceArea]] = relationship(back_populates="service", cascade="all, delete-orphan")
    local_offer_answers: Mapped[list[LocalOfferAnswer]] = relationship(
        back_populates="service", cascade="all, delete-orphan", order_by="LocalOfferAnswer.position"
    )

    __table_args__ = (
        sa.UniqueConstraint("source", "source_id"),
        sa.CheckConstraint(
            "minimum_age IS NULL OR maximum_age IS NULL OR minimum_age <= maximum_age", name="age_range"
        ),
    )

    @property
    def locations(self) -> list[Location]:
        return [link.location for link in self.locations_at]

    @property
    def is_public(self) -> bool:
        """Shown to residents and in search: published, not unpublished, active, from an approved organisation."""
        return (
            self.published_at is not None
            and self.unpublished_at is None
            and self.status is ServiceStatus.ACTIVE
            and self.organisation.is_approved
        )


def public_services_clause() -> sa.ColumnElement[bool]:
    """The SQL form of ``Service.is_public``, for queries."""
    return sa.and_(
        Service.published_at.is_not(None),
        Service.unpublished_at.is_(None),
        Service.status == ServiceStatus.ACTIVE,
        # EXISTS, not IN (SELECT ...): SQLite built the list of every approved organisation for each query
        # (~15 ms at 50,000 listings) where a look-up by primary key per service row is all it needs.
        sa.select(Organisation.id)
        .where(Organisation.id == Service.organisation_id,
               Organisation.verification_status == VerificationStatus.APPROVED)
        .correlate_except(Organisation)  # its own organisations, even when the outer query joins them too
        .exists(),
    )


class ServiceLanguage(UUIDPrimaryKey, Base):
    """A language the service is offered in, as a BCP 47 code (names come from Babel in the reader's language)."""

    __tablename__ = "service_languages"

    service_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("services.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(sa.String(20))
    note: Mapped[str] = mapped_column(sa.String(255), default="")

    service: Mapped[Service] = relationship(back_populates="languages")

    __table_args__ = (sa.UniqueConstraint("service_id", "code"),)


class CostOption(UUIDPrimaryKey, Base):
    __tablename__ = "cost_options"

    service_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("services.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    option: Mapped[str] = mapped_column(sa.String(255), default="")
    amount_pence: Mapped[int | None]
    unit: Mapped[CostUnit | None] = mapped_column(enum_column(CostUnit))
    amount_description: Mapped[str] = mapped_column(sa.Text, default="")

    service: Mapped[Service] = relationship(back_populates="cost_options")

    __table_args__ = (sa.CheckConstraint("amount_pence IS NULL OR amount_pence >= 0", name="amount_not_negative"),)


class Location(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "locations"

    organisation_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(255), default="")
    description: Mapped[str] = mapped_column(sa.Text, default="")
    address_1: Mapped[str] = mapped_column(sa.String(255), default="")
    address_2: Mapped[str] = mapped_column(sa.String(255), default="")
    city: Mapped[str] = mapped_column(sa.String(100), default="")
    state_province: Mapped[str] = mapped_column(sa.String(100), default="")
    postcode: Mapped[str] = mapped_column(sa.String(10), default="", index=True)
    country: Mapped[str] = mapped_column(sa.String(2), default="GB")
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    # Some services (refuges, carers' homes) must not show their exact address: only the outward code.
    hide_exact_address: Mapped[bool] = mapped_column(default=False)
    source: Mapped[str | None] = mapped_column(sa.String(100))
    source_id: Mapped[str | None] = mapped_column(sa.String(100))

    organisation: Mapped[Organisation | None] = relationship(back_populates="locations")
    services_at: Mapped[list[ServiceAtLocation]] = relationship(back_populates="location")

    __table_args__ = (sa.UniqueConstraint("source", "source_id"),)

    @property
    def outward_code(self) -> str:
        return self.postcode.split(" ")[0] if self.postcode else ""


class ServiceAtLocation(UUIDPrimaryKey, Base):
    __tablename__ = "service_at_locations"

    service_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("services.id", ondelete="CASCADE"), index=True)
    location_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("locations.id", ondelete="CASCADE"), index=True)
    description: Mapped[str] = mapped_column(sa.Text, default="")

    service: Mapped[Service] = relationship(back_populates="locations_at")
    location: Mapped[Location] = relationship(back_populates="services_at")
    schedules: Mapped[list[Schedule]] = relationship(back_populates="service_at_location")

    __table_args__ = (sa.UniqueConstraint("service_id", "location_id"),)


class Schedule(UUIDPrimaryKey, Base):
    """One weekly opening: a day with opening and closing times, optionally at one location."""

    __tablename__ = "schedules"

    service_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("services.id", ondelete="CASCADE"), index=True)
    service_at_location_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("service_at_locations.id", ondelete="CASCADE"), index=True
    )
    byday: Mapped[Weekday] = mapped_column(enum_column(Weekday))
    position: Mapped[int] = mapped_column(default=0)  # Monday 0 .. Sunday 6, for ordering
    opens_at: Mapped[time | None]
    closes_at: Mapped[time | None]
    notes: Mapped[str] = mapped_column(sa.String(500), default="")

    service: Mapped[Service] = relationship(back_populates="schedules")
    service_at_location: Mapped[ServiceAtLocation | None] = relationship(back_populates="schedules")


class Contact(UUIDPrimaryKey, Base):
    __tablename__ = "contacts"

    service_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("services.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(255), default="")
    title: Mapped[str] = mapped_column(sa.String(255), default="")
    email: Mapped[str | None] = mapped_column(sa.String(320))

    service: Mapped[Service] = relationship(back_populates="contacts")
    phones: Mapped[list[Phone]] = relationship(back_populates="contact", cascade="all, delete-orphan")


class Phone(UUIDPrimaryKey, Base):
    __tablename__ = "phones"

    contact_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(sa.String(50))
    extension: Mapped[str] = mapped_column(sa.String(20), default="")
    description: Mapped[str] = mapped_column(sa.String(255), default="")

    contact: Mapped[Contact] = relationship(back_populates="phones")


class Taxonomy(UUIDPrimaryKey, Base):
    __tablename__ = "taxonomies"

    name: Mapped[str] = mapped_column(sa.String(255), unique=True)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    uri: Mapped[str | None] = mapped_column(sa.String(500))
    version: Mapped[str | None] = mapped_column(sa.String(50))

    terms: Mapped[list[TaxonomyTerm]] = relationship(back_populates="taxonomy")


class TaxonomyTerm(UUIDPrimaryKey, Base):
    """A category. Terms form a hierarchy through parent_id; a parent includes its children."""

    __tablename__ = "taxonomy_terms"

    taxonomy_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("taxonomies.id"), index=True)
    parent_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("taxonomy_terms.id"), index=True)
    slug: Mapped[str] = mapped_column(sa.String(120), unique=True)
    code: Mapped[str | None] = mapped_column(sa.String(100))
    name: Mapped[str] = mapped_column(sa.String(255))
    name_cy: Mapped[str] = mapped_column(sa.String(255), default="")
    description: Mapped[str] = mapped_column(sa.Text, default="")
    description_cy: Mapped[str] = mapped_column(sa.Text, default="")
    position: Mapped[int] = mapped_column(default=0)

    taxonomy: Mapped[Taxonomy] = relationship(back_populates="terms")
    parent: Mapped[TaxonomyTerm | None] = relationship(back_populates="children", remote_side="TaxonomyTerm.id")
    children: Mapped[list[TaxonomyTerm]] = relationship(
        back_populates="parent", order_by="(TaxonomyTerm.position, TaxonomyTerm.name)"
    )

    def ancestors(self) -> list[TaxonomyTerm]:
        chain, term = [], self.parent
        while term is not None:
            chain.append(term)
            term = term.parent
        return chain


class Need(UUIDPrimaryKey, Base):
    """A need a service supports; ``send`` marks the SEND needs of the Local Offer."""

    __tablename__ = "needs"

    slug: Mapped[str] = mapped_column(sa.String(120), unique=True)
    name: Mapped[str] = mapped_column(sa.String(255))
    name_cy: Mapped[str] = mapped_column(sa.String(255), default="")
    send: Mapped[bool] = mapped_column(default=False)


class AccessibilityFeature(UUIDPrimaryKey, Base):
    __tablename__ = "accessibility_features"

    slug: Mapped[str] = mapped_column(sa.String(120), unique=True)
    name: Mapped[str] = mapped_column(sa.String(255))
    name_cy: Mapped[str] = mapped_column(sa.String(255), default="")


class LocalOfferAnswer(UUIDPrimaryKey, Base):
    """One answer to the SEND Local Offer questions (Children and Families Act 2014 s.30)."""

    __tablename__ = "local_offer_answers"

    service_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("services.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    question: Mapped[str] = mapped_column(sa.Text)
    answer: Mapped[str] = mapped_column(sa.Text, default="")

    service: Mapped[Service] = relationship(back_populates="local_offer_answers")


class Locality(UUIDPrimaryKey, Base):
    """A named part of the borough (a town, ward or village) with its centre."""

    __tablename__ = "localities"

    slug: Mapped[str] = mapped_column(sa.String(120), unique=True)
    name: Mapped[str] = mapped_column(sa.String(255))
    name_cy: Mapped[str] = mapped_column(sa.String(255), default="")
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]


class ServiceArea(UUIDPrimaryKey, Base):
    """Where a service is available: a locality of ours, or a described area (e.g. "the whole borough")."""

    __tablename__ = "service_areas"

    service_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("services.id", ondelete="CASCADE"), index=True)
    locality_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("localities.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(255), default="")

    service: Mapped[Service] = relationship(back_populates="service_areas")
    locality: Mapped[Locality | None] = relationship()
