"""All models, importable from one place (Alembic autogenerate reads this)."""

from portal.models.accounts import MembershipRole, OrganisationMembership, OutboxMessage, Role, User, UserRole
from portal.models.audit import AuditEvent, ChangeKind, ListingChange
from portal.models.base import Base, utcnow
from portal.models.directory import (
    AccessibilityFeature,
    Contact,
    CostOption,
    CostUnit,
    Locality,
    LocalOfferAnswer,
    Location,
    Need,
    Organisation,
    OrganisationKind,
    Phone,
    RegulatorBody,
    Schedule,
    Service,
    ServiceArea,
    ServiceAtLocation,
    ServiceLanguage,
    ServiceStatus,
    Taxonomy,
    TaxonomyTerm,
    VerificationStatus,
    Weekday,
    public_services_clause,
)
from portal.models.feeds import FeedRecord
from portal.models.insights import Postcode, SearchLog
from portal.models.workflow import (
    JoinRequest,
    ListingReminder,
    ListingRevision,
    ListingVersion,
    OrganisationInvitation,
    ProblemReport,
    ReportState,
    RequestState,
    RevisionState,
)

__all__ = [
    "FeedRecord",
    "JoinRequest", "ListingReminder", "ListingRevision", "ListingVersion", "OrganisationInvitation",
    "OrganisationKind", "ProblemReport", "ReportState", "RequestState", "RevisionState",
    "AccessibilityFeature", "AuditEvent", "Base", "ChangeKind", "Contact", "CostOption", "CostUnit",
    "ListingChange", "LocalOfferAnswer", "Locality", "Location", "MembershipRole", "Need", "Organisation",
    "OrganisationMembership", "OutboxMessage", "Phone", "Postcode", "RegulatorBody", "Role", "Schedule",
    "SearchLog", "Service",
    "ServiceArea", "ServiceAtLocation", "ServiceLanguage", "ServiceStatus", "Taxonomy", "TaxonomyTerm",
    "User", "UserRole", "VerificationStatus", "Weekday", "public_services_clause", "utcnow",
]
