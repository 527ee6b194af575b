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
from portal.models.guides import Guide, GuideFeedback, GuideState, GuideVersion, guide_categories
from portal.models.insights import Postcode, SearchLog
from portal.models.ledger import Entry, Journal, JournalKind, LedgerAccount, LedgerAccountKind
from portal.models.marketplace import (
    PERIOD_DAYS,
    BasketItem,
    CardStatus,
    DirectPaymentAccount,
    DPAccountStatus,
    ExceptionKind,
    Offer,
    OfferStatus,
    OfferUnit,
    Order,
    OrderState,
    PaymentCard,
    PayoutDetails,
    PayoutDetailsStatus,
    PayoutRun,
    SpendingException,
    StripeEvent,
    StripeEventStatus,
    dp_plan_categories,
    dp_plan_providers,
)
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
    "Guide", "GuideFeedback", "GuideState", "GuideVersion", "guide_categories",
    "Entry", "Journal", "JournalKind", "LedgerAccount", "LedgerAccountKind",
    "PERIOD_DAYS", "BasketItem", "CardStatus", "DirectPaymentAccount", "DPAccountStatus", "ExceptionKind", "Offer",
    "OfferStatus", "OfferUnit", "Order", "OrderState", "PaymentCard", "PayoutDetails", "PayoutDetailsStatus",
    "PayoutRun", "SpendingException", "StripeEvent", "StripeEventStatus", "dp_plan_categories", "dp_plan_providers",
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
