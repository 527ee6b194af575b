"""Who may open and change what, as a matrix: every provider.* and council.* endpoint x every kind of user.

The endpoints come from the app's URL map, so a new provider or council view fails
``test_every_provider_and_council_endpoint_has_a_row_in_the_matrix`` until someone says who may use it here.
URL arguments are real records of one organisation ("A"); the other provider user belongs to organisation B
and must get "not found" for every one of A's ids. Every POST is sent without a CSRF token (400, nothing
changes) and, for everyone refused, with a token and a form that would work for an allowed user (refused,
nothing changes). ``test_a_valid_form_from_an_allowed_user_changes_something`` proves those forms would work.

Runs on SQLite and PostgreSQL (the ``client`` fixture).
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from flask import Flask

from portal import create_app
from portal.data import revision_format
from portal.data.organisation_members import hash_token
from portal.extensions import db
from portal.models import (
    AuditEvent,
    DirectPaymentAccount,
    DPAccountStatus,
    Guide,
    JoinRequest,
    Journal,
    ListingRevision,
    ListingVersion,
    MembershipRole,
    Offer,
    OfferStatus,
    Order,
    Organisation,
    OrganisationInvitation,
    OrganisationMembership,
    OutboxMessage,
    PayoutDetails,
    PayoutDetailsStatus,
    ProblemReport,
    ReportState,
    RevisionState,
    Role,
    Service,
    UserRole,
)
from tests.support.factories import make_organisation, make_service, make_term, make_user, sign_in
from tests.support.html import csrf_token, parse
from tests.support.localstripe import localstripe_fixture, stripe_app_fixture  # noqa: F401
from tests.support.offer_factories import make_offer, make_payout_details

SIGN_IN_PATH = "/account/sign-in"
DASHBOARD_PATH = "/provider"
INVITATION_TOKEN = "a-real-invitation-token-for-organisation-a"
IN_A_YEAR = date.today() + timedelta(days=365)

# --- Who may do what ----------------------------------------------------------------------------------------

ACTORS = ["anonymous", "provider_a", "editor_of_a", "provider_b", "council_moderator", "council_editor",
          "council_dp_officer", "council_admin"]

ALLOWED = "allowed"  # a page answers 200; an action is not tried with a valid form (it would change things)
SIGN_IN = "sign-in"  # redirected to the sign-in page
TO_DASHBOARD = "dashboard"  # refused with the same answer an unknown id gets: back to the dashboard
COUNCIL = ("council_moderator", "council_editor", "council_dp_officer", "council_admin")
PROVIDERS = ("provider_a", "editor_of_a", "provider_b")


def _audience(*, anonymous, provider_a, editor_of_a, provider_b, council_moderator, council_editor,
              council_admin, council_dp_officer=403) -> dict[str, object]:
    """``council_dp_officer`` is refused unless said otherwise: only pages for all council staff, the
    direct-payments pages and the emailed invitation link let them in."""
    return dict(anonymous=anonymous, provider_a=provider_a, editor_of_a=editor_of_a, provider_b=provider_b,
                council_moderator=council_moderator, council_editor=council_editor,
                council_dp_officer=council_dp_officer, council_admin=council_admin)


AUDIENCES: dict[str, dict[str, object]] = {
    # Organisation A's records, for any of its members; another organisation's provider user gets "not found".
    "members of A": _audience(anonymous=SIGN_IN, provider_a=ALLOWED, editor_of_a=ALLOWED, provider_b=404,
                              council_moderator=403, council_editor=403, council_admin=403),
    # A's owners only: its editors get "not found" too.
    "owners of A": _audience(anonymous=SIGN_IN, provider_a=ALLOWED, editor_of_a=404, provider_b=404,
                             council_moderator=403, council_editor=403, council_admin=403),
    # No record in the URL: every provider user sees only their own organisations' things.
    "any provider": _audience(anonymous=SIGN_IN, provider_a=ALLOWED, editor_of_a=ALLOWED, provider_b=ALLOWED,
                              council_moderator=403, council_editor=403, council_admin=403),
    # Asking to join an approved organisation is open to every provider user by design (owners then decide).
    "join an approved organisation": _audience(
        anonymous=SIGN_IN, provider_a=ALLOWED, editor_of_a=ALLOWED, provider_b=ALLOWED,
        council_moderator=403, council_editor=403, council_admin=403),
    # The emailed invitation link: the token is the secret, so anyone holding it may read the page.
    "invitation link": _audience(anonymous=ALLOWED, provider_a=ALLOWED, editor_of_a=ALLOWED, provider_b=ALLOWED,
                                 council_moderator=ALLOWED, council_editor=ALLOWED, council_dp_officer=ALLOWED,
                                 council_admin=ALLOWED),
    # Accepting it: only the person it was sent to (anyone else signed in is refused with 403).
    "the invitee, by link": _audience(anonymous=SIGN_IN, provider_a=403, editor_of_a=403, provider_b=403,
                                      council_moderator=403, council_editor=403, council_admin=403),
    # Accepting from the dashboard: an invitation addressed to someone else is "no longer usable".
    "the invitee, by id": _audience(anonymous=SIGN_IN, provider_a=TO_DASHBOARD, editor_of_a=TO_DASHBOARD,
                                    provider_b=TO_DASHBOARD, council_moderator=403, council_editor=403,
                                    council_admin=403),
    "council staff": _audience(anonymous=SIGN_IN, provider_a=403, editor_of_a=403, provider_b=403,
                               council_moderator=ALLOWED, council_editor=ALLOWED, council_dp_officer=ALLOWED,
                               council_admin=ALLOWED),
    # Moderation, provider approvals, reports, stale listings, audit: moderators (and admins, who have every
    # council role); other council roles are refused.
    "council moderators": _audience(anonymous=SIGN_IN, provider_a=403, editor_of_a=403, provider_b=403,
                                    council_moderator=ALLOWED, council_editor=403, council_admin=ALLOWED),
    # Guides: council editors (and admins); other council roles are refused.
    "council editors": _audience(anonymous=SIGN_IN, provider_a=403, editor_of_a=403, provider_b=403,
                                 council_moderator=403, council_editor=ALLOWED, council_admin=ALLOWED),
    # Direct payments (accounts, orders and disputes, audit, providers' bank details): council direct-payments
    # officers (and admins); other council roles are refused.
    "council DP officers": _audience(anonymous=SIGN_IN, provider_a=403, editor_of_a=403, provider_b=403,
                                     council_moderator=403, council_editor=403, council_dp_officer=ALLOWED,
                                     council_admin=ALLOWED),
}
# Who sends the valid form in test_a_valid_form_from_an_allowed_user_changes_something.
ALLOWED_POSTER = {
    "members of A": "provider_a", "owners of A": "provider_a", "any provider": "provider_a",
    "join an approved organisation": "provider_b", "the invitee, by link": "invitee",
    "the invitee, by id": "invitee", "council moderators": "council_moderator",
    "council editors": "council_editor", "council DP officers": "council_dp_officer",
}


def _organisation_form(name: str) -> dict:
    return {
        "name": name, "kind": "charity", "description": "Weekly visits for older people who feel lonely.",
        "website": "https://befriending.example.org", "email": "hello@befriending.example.org",
        "phone": "01632 960 001", "charity_number": "1098765", "company_number": "", "regulator": "cqc",
        "registration_id": "1-123456789", "registration_rating": "Good",
        "insurance_expires_on": [str(IN_A_YEAR.day), str(IN_A_YEAR.month), str(IN_A_YEAR.year)],
        "dbs_checked_on": ["", "", ""],
    }


GUIDE_FORM = {
    "title": "Support for carers", "summary": "Help for people who look after someone.",
    "body": "Caring can be hard.\n\n## A carer's assessment\nAsk us for one.",
    "review_by": [str(IN_A_YEAR.day), str(IN_A_YEAR.month), str(IN_A_YEAR.year)],
}

TERM_ID = uuid.UUID("6f1f7d4e-0b7a-4c36-9d8e-4f6a1c2b3d01")  # A's listings' category, named by offer forms
OFFER_FORM = {
    "title": "Befriending visit", "category": str(TERM_ID), "unit": "session", "price": "12.50",
    "min_units": "1", "max_units": "4", "cancellation_terms": "Cancel a day before and you pay nothing.",
}
BANK_DETAILS_FORM = {"account_name": "Acorn Care", "sort_code": "30-94-30", "account_number": "12345678"}

DP_START = date(2026, 11, 2)  # the direct-payment account's start date (money has moved, so it cannot change)
DP_PLAN_FORM = {
    "categories": ["matrix-personal-care"], "provider_choice": "any", "budget": "480", "contribution": "40",
    "contingency": "50", "start_date": [str(DP_START.day), str(DP_START.month), str(DP_START.year)],
}
DP_TOP_UP_FORM = {"token": "matrix-top-up", "amount": "25", "reason": "The main carer is in hospital."}
DISPUTE_FORM = {"outcome": "release", "amount": "", "reason": "The provider agreed nobody came."}

ABOUT_FORM = {
    "name": "Lunch club", "summary": "Hot lunches and company on Tuesdays.", "status": "active",
    "description": "A hot two-course lunch, a quiz and a chat, every Tuesday in the church hall.",
}


@dataclass(frozen=True)
class Row:
    """One endpoint's row: who may use it, which of A's records fill its URL, and a form that would work."""

    audience: str
    arguments: dict[str, str] = field(default_factory=dict)  # URL argument -> World attribute
    form: dict = field(default_factory=dict)  # besides the CSRF token
    before: str | None = None  # a question page whose valid form is sent first (check-answers pages)
    audited: bool = True  # False: a question page that only remembers the answers until they are checked


MATRIX: dict[str, Row] = {
    # Provider pages
    "provider.dashboard": Row("any provider"),
    "provider.listings": Row("any provider"),
    "provider.check_listings": Row("any provider"),
    "provider.reports": Row("any provider"),
    "provider.find_organisation": Row("any provider"),
    "provider.create_organisation": Row("any provider", form=_organisation_form("Willow Befriending")),
    "provider.organisation": Row("members of A", {"organisation_id": "organisation_a"}),
    "provider.edit_organisation": Row("owners of A", {"organisation_id": "organisation_a"},
                                      form=_organisation_form("Acorn Care, renamed")),
    "provider.organisation_members": Row("owners of A", {"organisation_id": "organisation_a"}),
    "provider.invite_member": Row("owners of A", {"organisation_id": "organisation_a"},
                                  form={"email": "new.colleague@example.org", "role": "editor"}),
    "provider.revoke_invitation": Row("owners of A", {"organisation_id": "organisation_a",
                                                      "invitation_id": "invitation"}),
    "provider.change_member_role": Row("owners of A", {"organisation_id": "organisation_a",
                                                       "membership_id": "editor_membership"}, form={"role": "owner"}),
    "provider.remove_member": Row("owners of A", {"organisation_id": "organisation_a",
                                                  "membership_id": "editor_membership"}),
    "provider.decide_join_request": Row("owners of A", {"organisation_id": "organisation_a",
                                                        "request_id": "join_request"}, form={"approve": "y"}),
    "provider.join_organisation": Row("join an approved organisation", {"organisation_id": "organisation_a"},
                                      form={"message": "I run the Tuesday lunch club."}),
    "provider.new_listing": Row("members of A", {"organisation_id": "organisation_a"}, form=ABOUT_FORM),
    "provider.edit_listing": Row("members of A", {"service_id": "published_listing"}),
    "provider.edit_listing_section": Row("members of A", {"service_id": "drafted_listing", "section": "about"},
                                         form=ABOUT_FORM),
    "provider.preview_listing": Row("members of A", {"service_id": "drafted_listing"}),
    "provider.submit_listing": Row("members of A", {"service_id": "drafted_listing"}),
    "provider.listing_submitted": Row("members of A", {"service_id": "submitted_listing"}),
    "provider.withdraw_listing": Row("members of A", {"service_id": "submitted_listing"}),
    "provider.mark_still_accurate": Row("members of A", {"service_id": "published_listing"}),
    "provider.report": Row("members of A", {"report_id": "report"},
                           form={"state": "in_progress", "response_note": "We are checking the number."}),
    "provider.invitation": Row("invitation link", {"token": "invitation_token"}),
    "provider.accept_invitation": Row("the invitee, by link", {"token": "invitation_token"}),
    "provider.accept_my_invitation": Row("the invitee, by id", {"invitation_id": "invitation"}),
    # Council pages
    "council.home": Row("council staff"),
    "council.audit": Row("council moderators"),
    "council.moderation_queue": Row("council moderators"),
    "council.review_revision": Row("council moderators", {"revision_id": "submitted_revision"}),
    "council.decide_revision": Row("council moderators", {"revision_id": "submitted_revision"},
                                   form={"approve_all": "y", "seen_version": "1"}),
    "council.listing_versions": Row("council moderators", {"service_id": "published_listing"}),
    "council.listing_version": Row("council moderators", {"service_id": "published_listing", "number": "first"}),
    "council.restore_version": Row("council moderators", {"service_id": "published_listing", "number": "first"}),
    "council.unpublish_listing": Row("council moderators", {"service_id": "published_listing"},
                                     form={"reason": "The phone number reaches a private house."}),
    "council.republish_listing": Row("council moderators", {"service_id": "unpublished_listing"}),
    "council.stale_listings": Row("council moderators"),
    "council.providers": Row("council moderators"),
    "council.providers_insurance_expiring": Row("council moderators"),
    "council.providers_detail": Row("council moderators", {"organisation_id": "organisation_a"}),
    # Approving and turning down need a provider waiting for its check: A's owner's second organisation.
    "council.providers_approve": Row("council moderators", {"organisation_id": "pending_organisation"}),
    "council.providers_reject": Row("council moderators", {"organisation_id": "pending_organisation"},
                                    form={"reject-reason": "We could not find the charity number."}),
    "council.providers_suspend": Row("council moderators", {"organisation_id": "organisation_a"},
                                     form={"suspend-reason": "Its insurance has lapsed."}),
    "council.providers_checked": Row("council moderators", {"organisation_id": "organisation_a"}),
    "council.reports": Row("council moderators"),
    "council.report": Row("council moderators", {"report_id": "report"},
                          form={"state": "resolved", "response_note": "The provider fixed the number."}),
    # Guides (the guide is published, with a draft waiting and two versions)
    "council.guides_list": Row("council editors"),
    "council.guides_due_for_review": Row("council editors"),
    "council.new_guide": Row("council editors", form=GUIDE_FORM),
    "council.guide": Row("council editors", {"guide_id": "guide"}),
    "council.edit_guide": Row("council editors", {"guide_id": "guide"}, form=GUIDE_FORM),
    "council.preview_guide": Row("council editors", {"guide_id": "guide"}),
    "council.publish_guide": Row("council editors", {"guide_id": "guide"}, form={"note": "Checked"}),
    "council.discard_guide_draft": Row("council editors", {"guide_id": "guide"}),
    "council.withdraw_guide": Row("council editors", {"guide_id": "guide"}),
    "council.guide_history": Row("council editors", {"guide_id": "guide"}),
    "council.guide_version": Row("council editors", {"guide_id": "guide", "number": "first"}),
    "council.restore_guide_version": Row("council editors", {"guide_id": "guide", "number": "first"}),
    # Priced offers and bank details (A's details are verified, so its draft offer can be published)
    "provider.offers": Row("members of A", {"service_id": "published_listing"}),
    "provider.new_offer": Row("members of A", {"service_id": "published_listing"}, form=OFFER_FORM),
    "provider.edit_offer": Row("members of A", {"offer_id": "draft_offer"}, form=OFFER_FORM),
    "provider.publish_offer": Row("members of A", {"offer_id": "draft_offer"}),
    "provider.withdraw_offer": Row("members of A", {"offer_id": "published_offer"}),
    "provider.payout_details": Row("owners of A", {"organisation_id": "organisation_a"}),
    "provider.change_payout_details": Row("owners of A", {"organisation_id": "organisation_a"},
                                          form=BANK_DETAILS_FORM),
    # B's bank details wait for the council's check.
    "council.payout_details": Row("council DP officers"),
    "council.payout_details_review": Row("council DP officers", {"payout_id": "submitted_payout"}),
    "council.verify_payout_details": Row("council DP officers", {"payout_id": "submitted_payout"}),
    "council.reject_payout_details": Row("council DP officers", {"payout_id": "submitted_payout"},
                                         form={"reject-note": "The account is in a person's name."}),
    # Direct-payment accounts (the account is active and funded, with no orders; another is suspended)
    "council.dp_accounts_list": Row("council DP officers"),
    "council.dp_open_account": Row("council DP officers", form={
        **DP_PLAN_FORM, "holder_name": "Megan Price", "holder_email": "megan.price@example.org"}),
    "council.dp_account": Row("council DP officers", {"dp_account_id": "dp_account"}),
    "council.dp_edit_plan": Row("council DP officers", {"dp_account_id": "dp_account"},
                                form={**DP_PLAN_FORM, "budget": "500"}),
    "council.dp_top_up": Row("council DP officers", {"dp_account_id": "dp_account"}, form=DP_TOP_UP_FORM,
                             audited=False),
    "council.dp_top_up_check": Row("council DP officers", {"dp_account_id": "dp_account"},
                                   form={"token": DP_TOP_UP_FORM["token"]}, before="council.dp_top_up"),
    "council.dp_top_up_done": Row("council DP officers", {"dp_account_id": "dp_account",
                                                          "journal_id": "top_up_journal"}),
    "council.dp_contribution": Row("council DP officers", {"dp_account_id": "dp_account"}, form={"period": "0"}),
    "council.dp_suspend": Row("council DP officers", {"dp_account_id": "dp_account"}, form={"reason": "Review"}),
    "council.dp_reopen": Row("council DP officers", {"dp_account_id": "suspended_dp_account"}),
    "council.dp_close": Row("council DP officers", {"dp_account_id": "dp_account"}),
    # Direct-payment orders placed with A (money held; no card authorisation, so nothing reaches Stripe)
    "provider.orders": Row("any provider"),
    "provider.order": Row("members of A", {"order_id": "requested_order"}),
    "provider.accept_order": Row("members of A", {"order_id": "requested_order"}),
    "provider.decline_order": Row("members of A", {"order_id": "requested_order"},
                                  form={"reason": "Nobody is free that week."}),
    "provider.deliver_order": Row("members of A", {"order_id": "accepted_order"}, form={"delivered_units": "1"}),
    "provider.takings": Row("members of A", {"organisation_id": "organisation_a"}),
    # The council's audit of direct payments, and paying providers
    "council.dp_journals": Row("council DP officers"),
    "council.dp_exceptions": Row("council DP officers"),
    "council.dp_review_exception": Row("council DP officers", {"exception_id": "spending_exception"},
                                       form={"note": "Checked with the social worker."}),
    "council.dp_check_patterns": Row("council DP officers"),
    "council.dp_reclaims": Row("council DP officers"),
    "council.dp_payables": Row("council DP officers"),
    "council.dp_create_payout_run": Row("council DP officers"),
    "council.dp_payout_run": Row("council DP officers", {"run_id": "payout_run"}),
    "council.dp_payout_run_csv": Row("council DP officers", {"run_id": "payout_run"}),
    "council.dp_mark_run_paid": Row("council DP officers", {"run_id": "payout_run"}),
    # A disputed order (money held, no card authorisation) and one whose dispute the council already settled
    "council.dp_order": Row("council DP officers", {"order_id": "disputed_order"}),
    "council.dp_resolve_dispute": Row("council DP officers", {"order_id": "disputed_order"}, form=DISPUTE_FORM,
                                      audited=False),
    "council.dp_resolve_dispute_check": Row("council DP officers", {"order_id": "disputed_order"},
                                            before="council.dp_resolve_dispute"),
    "council.dp_dispute_resolved": Row("council DP officers", {"order_id": "resolved_order"}),
}


def _prefixed_csrf(endpoint: str) -> str:
    """The CSRF field's name in the endpoint's form (the provider decision forms carry a prefix)."""
    for prefix in ("approve", "reject", "suspend", "checked"):
        if endpoint == f"council.providers_{prefix}":
            return f"{prefix}-csrf_token"
    for prefix in ("verify", "reject"):
        if endpoint == f"council.{prefix}_payout_details":
            return f"{prefix}-csrf_token"
    return "csrf_token"


def _with_submit(endpoint: str, form: dict) -> dict:
    prefix = {"council.providers_approve": "approve-", "council.providers_checked": "checked-",
              "council.providers_reject": "reject-", "council.providers_suspend": "suspend-",
              "council.verify_payout_details": "verify-", "council.reject_payout_details": "reject-"}.get(endpoint, "")
    return {f"{prefix}submit": "y", **form}


# --- The records: organisation A with everything a URL can point at, and organisation B ---------------------


@dataclass
class World:
    users: dict[str, object]
    organisation_a: uuid.UUID
    organisation_b: uuid.UUID
    pending_organisation: uuid.UUID
    published_listing: uuid.UUID  # two published versions, no open change
    drafted_listing: uuid.UUID  # published, with a draft change
    submitted_listing: uuid.UUID  # published, with a change waiting for the council
    unpublished_listing: uuid.UUID  # taken off the site in an emergency
    submitted_revision: uuid.UUID
    report: uuid.UUID
    invitation: uuid.UUID
    invitation_token: str
    join_request: uuid.UUID
    editor_membership: uuid.UUID
    first: int = 1  # a version number of the published listing
    about: str = "about"  # a section of the listing editor
    b_listing: uuid.UUID | None = None
    guide: uuid.UUID | None = None  # published twice, with a draft
    draft_offer: uuid.UUID | None = None  # on the published listing
    published_offer: uuid.UUID | None = None
    submitted_payout: uuid.UUID | None = None  # B's bank details, waiting for the council
    dp_account: uuid.UUID | None = None  # active, funded, a client contribution due, no orders
    suspended_dp_account: uuid.UUID | None = None
    top_up_journal: int | None = None  # an emergency top-up on dp_account
    requested_order: uuid.UUID | None = None  # a holder's order with A, waiting for A to accept
    accepted_order: uuid.UUID | None = None  # accepted by A, not yet delivered
    disputed_order: uuid.UUID | None = None  # delivered by A, then disputed: waiting for the council
    resolved_order: uuid.UUID | None = None  # disputed, and settled by the council (everything released)
    payout_run: uuid.UUID | None = None  # A's captured takings in a run not yet paid; more owed outside it
    spending_exception: uuid.UUID | None = None  # waiting for review


def _complete_listing(organisation, name: str, term) -> Service:
    """A listing with every required section filled, so a draft of it can be submitted."""
    service = make_service(organisation=organisation, name=name, summary=f"{name}: company and a cup of tea.",
                           description="Friendly volunteers visit you at home every week.", in_person=True,
                           is_free=True, url="https://acorn.example.org", published_at=None)
    service.taxonomy_terms = [term]
    db.session.flush()
    revision_format.publish(actor=None, service=service, data=revision_format.snapshot(service), note="first")
    db.session.flush()
    return service


def _change(service, owner, state: RevisionState) -> ListingRevision:
    revision = ListingRevision(
        service=service, organisation_id=service.organisation_id, author_id=owner.id, state=state,
        data={**revision_format.snapshot(service), "summary": "A new summary, waiting for the council."},
        base_version=revision_format.latest_version_number(service), sections_saved=["about"],
        submitted_at=datetime.now(UTC) if state is RevisionState.SUBMITTED else None,
    )
    db.session.add(revision)
    db.session.flush()
    return revision


def build_world() -> World:
    term = make_term(name="Befriending", id=TERM_ID)
    organisation_a = make_organisation(name="Acorn Care", charity_number="1012345", insurance_expires_on=IN_A_YEAR)
    organisation_b = make_organisation(name="Birch Support", charity_number="1054321")
    provider_a = make_user(email="owner@acorn.example", name="Olu Owner", roles=(Role.PROVIDER,),
                           organisations=[organisation_a])
    editor_of_a = make_user(email="editor@acorn.example", name="Eddie Editor", roles=(Role.PROVIDER,),
                            organisations=[organisation_a], membership_role=MembershipRole.EDITOR)
    provider_b = make_user(email="owner@birch.example", name="Bea Birch", roles=(Role.PROVIDER,),
                           organisations=[organisation_b])
    pending = make_organisation(name="Acorn Young Carers", approved=False)
    db.session.add(OrganisationMembership(user=provider_a, organisation=pending, role=MembershipRole.OWNER))
    users = {
        "anonymous": None,
        "provider_a": provider_a,
        "editor_of_a": editor_of_a,
        "provider_b": provider_b,
        "council_moderator": make_user(name="Mo Moderator", roles=(Role.COUNCIL_MODERATOR,)),
        "council_editor": make_user(name="Ed Council", roles=(Role.COUNCIL_EDITOR,)),
        "council_dp_officer": make_user(name="Dee Officer", roles=(Role.COUNCIL_DP_OFFICER,)),
        "council_admin": make_user(name="Ada Admin", roles=(Role.COUNCIL_ADMIN,)),
        # The person organisation A invited (a provider user already, so the dashboard can accept it too).
        "invitee": make_user(email="invited@example.org", name="Ivy Invitee", roles=(Role.PROVIDER,)),
        "joiner": make_user(email="joiner@example.org", name="Jo Joiner", roles=(Role.PROVIDER,)),
    }
    published = _complete_listing(organisation_a, "Acorn befriending", term)
    revision_format.publish(actor=None, service=published,
                            data={**revision_format.snapshot(published), "summary": "Second version."})
    published.last_checked_at = datetime.now(UTC) - timedelta(days=200)  # due its six-month check
    drafted = _complete_listing(organisation_a, "Acorn lunch club", term)
    submitted = _complete_listing(organisation_a, "Acorn phone friends", term)
    unpublished = _complete_listing(organisation_a, "Acorn garden club", term)
    unpublished.unpublished_at = datetime.now(UTC)
    unpublished.unpublished_reason = "The address was wrong."
    _change(drafted, provider_a, RevisionState.DRAFT)
    revision = _change(submitted, provider_a, RevisionState.SUBMITTED)
    report = ProblemReport(service_id=published.id, reference="ACRN2345", description="The phone number is wrong.",
                           state=ReportState.NEW)
    invitation = OrganisationInvitation(
        organisation=organisation_a, email=users["invitee"].email, role=MembershipRole.EDITOR,
        token_hash=hash_token(INVITATION_TOKEN), invited_by_id=provider_a.id,
        expires_at=datetime.now(UTC) + timedelta(days=7),
    )
    join_request = JoinRequest(organisation=organisation_a, user=users["joiner"], message="Please let me in.")
    b_listing = make_service(organisation=organisation_b, name="Birch day trips")
    db.session.add_all([report, invitation, join_request])
    db.session.flush()
    editor_membership = db.session.scalar(sa.select(OrganisationMembership.id).where(
        OrganisationMembership.user_id == editor_of_a.id))
    return World(
        users=users, organisation_a=organisation_a.id, organisation_b=organisation_b.id,
        pending_organisation=pending.id, published_listing=published.id, drafted_listing=drafted.id,
        submitted_listing=submitted.id, unpublished_listing=unpublished.id, submitted_revision=revision.id,
        report=report.id, invitation=invitation.id, invitation_token=INVITATION_TOKEN,
        join_request=join_request.id, editor_membership=editor_membership, b_listing=b_listing.id,
        guide=_guide().id, **_offers_and_bank_details(organisation_a, organisation_b, published),
        **_direct_payments(users["council_admin"]),
        **_orders_with(published),
        **_payables_and_exceptions(users["council_admin"], published, term),
    )


def _payables_and_exceptions(officer, listing, term) -> dict:
    """A's captured takings: £150 in an unpaid payout run and £10 outside it; one provider took all of a holder's
    spend (an unusual pattern not yet recorded); an exception waiting for review."""
    from portal.data import payables
    from portal.models import ExceptionKind
    from portal.payments.spending import record_exception
    from tests.support.ledger_stories import capture, make_order
    from tests.support.money_factories import make_dp_account

    dp = make_dp_account(budget_pence=20_000, categories=[term])
    capture(make_order(dp, pence=15_000, service=listing, organisation=listing.organisation, category=term), 15_000)
    run = payables.create_payout_run(actor=officer)
    capture(make_order(dp, pence=1_000, service=listing, organisation=listing.organisation, category=term), 1_000)
    exception = record_exception(ExceptionKind.OUTSIDE_PLAN, dp_account=dp, details={"offer": "Gym membership"})
    db.session.flush()
    return {"payout_run": run.id, "spending_exception": exception.id}


def _orders_with(listing) -> dict:
    from portal.marketplace import orders as lifecycle
    from portal.models import OrderState
    from tests.support.money_factories import make_dp_account

    offer = make_offer(service=listing, title="Garden visits")
    dp = make_dp_account(budget_pence=20_000, categories=[offer.category])
    found = {}
    now = datetime.now(UTC)
    for name, state, fields in (
        ("requested_order", OrderState.REQUESTED, {}),
        ("accepted_order", OrderState.ACCEPTED, {}),
        ("disputed_order", OrderState.DISPUTED, {"delivered_units": 2, "disputed_at": now,
                                                 "dispute_reason": "Nobody came."}),
        ("resolved_order", OrderState.DISPUTED, {"delivered_units": 2, "disputed_at": now,
                                                 "dispute_reason": "Nobody came at all."}),
    ):
        order = Order(reference=f"ORD-M{len(found)}", dp_account=dp, offer=offer, organisation_id=offer.organisation_id,
                      category_id=offer.category_id, checkout_reference="CHK-MATRIX", state=state, title=offer.title,
                      unit=offer.unit, unit_price_pence=offer.price_pence, units=2, amount_pence=2 * offer.price_pence,
                      **fields)
        db.session.add(order)
        db.session.flush()
        lifecycle.post_hold(order, actor=None)
        found[name] = order.id
    resolved = db.session.get(Order, found["resolved_order"])
    lifecycle.end_with_release(resolved, OrderState.CANCELLED, actor=None, action="dispute_released",
                               memo="dispute resolved: nothing to pay")
    resolved.cancelled_at = resolved.dispute_resolved_at = now
    return found


def _direct_payments(officer) -> dict:
    from portal.data import budget_periods
    from tests.support.money_factories import make_dp_account

    care = make_term(name="Personal care", slug="matrix-personal-care")
    dp = make_dp_account(budget_pence=48_000, client_contribution_pence=4_000, categories=[care],
                         start_date=DP_START)
    suspended = make_dp_account(categories=[care], status=DPAccountStatus.SUSPENDED)
    journal, _ = budget_periods.top_up(actor=officer, dp_account_id=dp.id, pence=1_000, reason="Boiler broke",
                                       token="world", today=DP_START)
    return {"dp_account": dp.id, "suspended_dp_account": suspended.id, "top_up_journal": journal.id}


def _offers_and_bank_details(organisation_a, organisation_b, listing) -> dict:
    make_payout_details(organisation_a)
    draft = make_offer(service=listing, status=OfferStatus.DRAFT, title="Phone befriending")
    published = make_offer(service=listing, title="Home visits")
    submitted = make_payout_details(organisation_b, status=PayoutDetailsStatus.SUBMITTED)
    return {"draft_offer": draft.id, "published_offer": published.id, "submitted_payout": submitted.id}


def _guide():
    from portal.data import guides

    values = {**GUIDE_FORM, "review_by": IN_A_YEAR}
    guide = guides.create_guide(actor=None, values=values)
    guides.publish(actor=None, guide=guide)
    guides.save_draft(actor=None, guide=guide, values={**values, "body": "Second version."})
    guides.publish(actor=None, guide=guide)
    guides.save_draft(actor=None, guide=guide, values={**values, "body": "A draft waiting."})
    return guide


@pytest.fixture
def world(session) -> World:
    return build_world()


# --- Reading what happened ----------------------------------------------------------------------------------


def fingerprint() -> dict[str, object]:
    """Everything an action here could change, so "nothing changed" means something."""
    def rows(*columns):
        return sorted(tuple(str(value) for value in row) for row in db.session.execute(sa.select(*columns)))

    return {
        "audit events": db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)),
        "emails": db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)),
        "organisations": rows(Organisation.id, Organisation.name, Organisation.verification_status,
                              Organisation.verified_at),
        "memberships": rows(OrganisationMembership.user_id, OrganisationMembership.organisation_id,
                            OrganisationMembership.role),
        "role grants": rows(UserRole.user_id, UserRole.role),
        "invitations": rows(OrganisationInvitation.id, OrganisationInvitation.accepted_at,
                            OrganisationInvitation.revoked_at),
        "join requests": rows(JoinRequest.id, JoinRequest.state),
        "listings": rows(Service.id, Service.name, Service.summary, Service.published_at, Service.unpublished_at,
                         Service.last_checked_at),
        "revisions": rows(ListingRevision.id, ListingRevision.state, ListingRevision.data),
        "versions": rows(ListingVersion.service_id, ListingVersion.number),
        "reports": rows(ProblemReport.id, ProblemReport.state, ProblemReport.response_note),
        "guides": rows(Guide.id, Guide.state, Guide.title, Guide.version, Guide.draft_updated_at),
        "offers": rows(Offer.id, Offer.status, Offer.title, Offer.price_pence),
        "bank details": rows(PayoutDetails.id, PayoutDetails.status, PayoutDetails.account_number),
        "direct-payment accounts": rows(DirectPaymentAccount.id, DirectPaymentAccount.status,
                                        DirectPaymentAccount.period_budget_pence),
        "ledger journals": db.session.scalar(sa.select(sa.func.count()).select_from(Journal)),
        "orders": rows(Order.id, Order.state, Order.delivered_units),
    }


def what_changed(before: dict, after: dict) -> list[str]:
    return [name for name in before if before[name] != after[name]]


def url_for_row(app: Flask, endpoint: str, row: Row, world: World) -> str:
    values = {argument: getattr(world, attribute) for argument, attribute in row.arguments.items()}
    return app.url_map.bind("localhost").build(endpoint, values)


def methods_of(app: Flask, endpoint: str) -> set[str]:
    found: set[str] = set()
    for rule in app.url_map.iter_rules(endpoint):
        found |= set(rule.methods or ()) - {"HEAD", "OPTIONS"}
    return found


def outcome_of(response) -> object:
    """What a response amounts to, in the matrix's words."""
    if response.status_code in (301, 302, 303):
        location = urlsplit(response.headers["Location"]).path
        if location == SIGN_IN_PATH:
            return SIGN_IN
        if location == DASHBOARD_PATH:
            return TO_DASHBOARD
        return f"redirect to {location}"
    if response.status_code == 200:
        return ALLOWED
    return response.status_code


def csrf_for(client) -> str:
    """A CSRF token of the client's session: every page carries one (the sign-out form, or the sign-in form)."""
    response = client.get("/account")
    if response.status_code != 200:  # not signed in
        response = client.get(SIGN_IN_PATH)
    return csrf_token(parse(response))


def client_as(client, world: World, actor: str):
    user = world.users[actor]
    if user is not None:
        sign_in(client, user)
    return client


def _endpoints(app: Flask) -> list[str]:
    return sorted({rule.endpoint for rule in app.url_map.iter_rules()
                   if rule.endpoint.partition(".")[0] in ("provider", "council")})


# --- The tests ---------------------------------------------------------------------------------------------


@functools.cache
def _url_map_app() -> Flask:
    """An app only to read the URL map at collection time (the tests themselves use the ``app`` fixture)."""
    return create_app("testing", SQLALCHEMY_DATABASE_URI="sqlite://")


def test_every_provider_and_council_endpoint_has_a_row_in_the_matrix(app):
    endpoints = set(_endpoints(app))

    missing = sorted(endpoints - MATRIX.keys())
    gone = sorted(MATRIX.keys() - endpoints)

    assert not missing, ("these endpoints have no row in MATRIX (tests/integration/test_access_matrix.py): say "
                         "who may use each and which record fills its URL:\n  " + "\n  ".join(missing))
    assert not gone, "MATRIX has rows for endpoints that no longer exist:\n  " + "\n  ".join(gone)
    unknown = sorted(endpoint for endpoint, row in MATRIX.items() if row.audience not in AUDIENCES)
    assert not unknown, f"rows naming an audience not in AUDIENCES: {unknown}"


@pytest.mark.parametrize("actor", ACTORS)
def test_each_kind_of_user_reaches_only_what_the_matrix_allows(app, client, world, actor):
    client_as(client, world, actor)
    token = csrf_for(client)
    wrong = []
    for endpoint in _endpoints(app):
        row = MATRIX[endpoint]
        expected = AUDIENCES[row.audience][actor]
        url = url_for_row(app, endpoint, row, world)
        methods = methods_of(app, endpoint)
        if "GET" in methods:
            got = outcome_of(client.get(url))
            if got != expected:
                wrong.append(f"GET {endpoint} ({url}): expected {expected}, got {got}")
        if "POST" not in methods:
            continue
        before = fingerprint()
        response = client.post(url, data=_with_submit(endpoint, row.form))
        changed = what_changed(before, fingerprint())
        if response.status_code != 400 or changed:
            wrong.append(f"POST {endpoint} without a CSRF token: expected 400 and no change, got "
                         f"{response.status_code}, changed {changed}")
        if expected == ALLOWED:
            continue
        before = fingerprint()
        got = outcome_of(client.post(url, data={_prefixed_csrf(endpoint): token, **_with_submit(endpoint, row.form)}))
        changed = what_changed(before, fingerprint())
        if got != expected or changed:
            wrong.append(f"POST {endpoint} with a CSRF token: expected {expected} and no change, got {got}, "
                         f"changed {changed}")
    assert not wrong, f"{actor}:\n  " + "\n  ".join(wrong)


def _action_endpoints() -> list[str]:
    app = _url_map_app()
    return [endpoint for endpoint in _endpoints(app) if "POST" in methods_of(app, endpoint)]


@pytest.mark.parametrize("endpoint", _action_endpoints())
def test_a_valid_form_from_an_allowed_user_changes_something(app, client, world, endpoint):
    """The forms the refused users send would work for someone allowed: "nothing changed" is not an accident."""
    row = MATRIX[endpoint]
    client_as(client, world, ALLOWED_POSTER[row.audience])
    token = csrf_for(client)
    url = url_for_row(app, endpoint, row, world)
    if row.before:  # answer the question page first, as a person would before checking their answers
        before = MATRIX[row.before]
        client.post(url_for_row(app, row.before, before, world),
                    data={"csrf_token": token, **_with_submit(row.before, before.form)})
    audit_before = fingerprint()["audit events"]

    response = client.post(url, data={_prefixed_csrf(endpoint): token, **_with_submit(endpoint, row.form)})

    assert response.status_code in (302, 303), f"{endpoint} answered {response.status_code}"
    if row.audited:
        assert fingerprint()["audit events"] > audit_before, f"{endpoint} recorded no audit event"


# Pairing B's own organisation with A's ids in one URL: the inner id must be checked against the organisation.
FOREIGN_IDS = [
    ("provider.change_member_role", "GET", {"membership_id": "editor_membership"}),
    ("provider.change_member_role", "POST", {"membership_id": "editor_membership"}),
    ("provider.remove_member", "GET", {"membership_id": "editor_membership"}),
    ("provider.remove_member", "POST", {"membership_id": "editor_membership"}),
    ("provider.revoke_invitation", "POST", {"invitation_id": "invitation"}),
    ("provider.decide_join_request", "POST", {"request_id": "join_request"}),
]


@pytest.mark.parametrize(("endpoint", "method", "foreign"), FOREIGN_IDS,
                         ids=[f"{endpoint}-{method}" for endpoint, method, _ in FOREIGN_IDS])
def test_an_owner_cannot_reach_another_organisations_members_or_requests_through_their_own(app, client, world,
                                                                                           endpoint, method,
                                                                                           foreign):
    client_as(client, world, "provider_b")
    token = csrf_for(client)
    row = MATRIX[endpoint]
    values = {"organisation_id": world.organisation_b,
              **{argument: getattr(world, attribute) for argument, attribute in foreign.items()}}
    url = app.url_map.bind("localhost").build(endpoint, values)
    before = fingerprint()

    if method == "GET":
        response = client.get(url)
    else:
        response = client.post(url, data={"csrf_token": token, **_with_submit(endpoint, row.form)})

    assert response.status_code == 404
    assert what_changed(before, fingerprint()) == []


# (page, what organisation A's page would show, what B's own page shows: None when B has nothing there)
LIST_PAGES: list[tuple[str, str, str | None]] = [
    ("/provider", "Acorn Care", "Birch Support"),
    ("/provider/listings", "Acorn befriending", "Birch day trips"),
    ("/provider/listings/check", "Acorn befriending", None),
    ("/provider/reports", "ACRN2345", None),
]


@pytest.mark.parametrize(("path", "foreign_text", "own_text"), LIST_PAGES, ids=[path for path, *_ in LIST_PAGES])
def test_a_provider_never_sees_another_organisations_records_in_their_lists(client, world, path, foreign_text,
                                                                            own_text):
    def main_text() -> str:
        response = client.get(path)
        assert response.status_code == 200
        return " ".join(parse(response).xpath("//main")[0].text_content().split())

    client_as(client, world, "provider_a")
    assert foreign_text in main_text(), "organisation A's own page should show it, or this test proves nothing"
    client_as(client, world, "provider_b")
    main = main_text()

    assert foreign_text not in main
    if own_text:
        assert own_text in main


# --- The holder's area (/direct-payment): holders, their nominated person, and everyone else -----------------------
#
# The same checks for every holder.* endpoint, with the people the marketplace adds: the holder, the person they
# nominated, another holder (their own account: pages without a record in the URL are theirs, every record of the
# first holder is "not found"), a provider, a direct-payments officer and a moderator (the council runs the scheme
# but does not act as a holder). Orders carry no card authorisation except the delivered one, which localstripe
# authorised, so a valid form reaches Stripe only where the page itself does.

HOLDER_ACTORS = ["anonymous", "holder", "nominee", "other_holder", "provider_a", "council_dp_officer",
                 "council_moderator"]


def _holder_audience(*, other_holder) -> dict[str, object]:
    return dict(anonymous=SIGN_IN, holder=ALLOWED, nominee=ALLOWED, other_holder=other_holder, provider_a=403,
                council_dp_officer=403, council_moderator=403)


HOLDER_AUDIENCES = {
    # No record in the URL: everyone with a direct payment sees (and changes) only their own account's things.
    "any holder": _holder_audience(other_holder=ALLOWED),
    # The first holder's basket items and orders: another holder gets "not found".
    "the holder and their nominee": _holder_audience(other_holder=404),
}


@dataclass(frozen=True)
class HolderRow:
    audience: str
    arguments: dict[str, str] = field(default_factory=dict)  # URL argument -> HolderWorld attribute
    form: dict = field(default_factory=dict)
    world_form: dict[str, str] = field(default_factory=dict)  # form field -> HolderWorld attribute
    audited: bool = True


BASKET_FORM = {"units": "2", "wanted_on": ["", "", ""], "note": "Mornings suit me best."}

HOLDER_MATRIX: dict[str, HolderRow] = {
    "holder.home": HolderRow("any holder"),
    "holder.card": HolderRow("any holder"),
    "holder.start_card": HolderRow("any holder", audited=False),  # the Stripe customer exists already
    "holder.new_card": HolderRow("any holder", world_form={"payment_method_id": "new_payment_method"}),
    "holder.basket_page": HolderRow("any holder"),
    "holder.add_to_basket": HolderRow("any holder", {"offer_id": "offer"}, form=BASKET_FORM),
    "holder.change_basket_item": HolderRow("the holder and their nominee", {"item_id": "basket_item"},
                                           form=BASKET_FORM),
    "holder.remove_basket_item": HolderRow("the holder and their nominee", {"item_id": "basket_item"}),
    "holder.checkout_page": HolderRow("any holder"),
    "holder.place_order": HolderRow("any holder", world_form={"item": "basket_item"}),
    # Another holder asking for someone else's checkout reference finds no orders of theirs: to their orders.
    "holder.checkout_confirmation": HolderRow("any holder", {"reference": "checkout_reference"}),
    "holder.orders": HolderRow("any holder"),
    "holder.order": HolderRow("the holder and their nominee", {"order_id": "requested_order"}),
    "holder.authenticate_payment": HolderRow("the holder and their nominee", {"order_id": "pending_order"}),
    "holder.check_payment": HolderRow("the holder and their nominee", {"order_id": "pending_order"}),
    "holder.cancel_order": HolderRow("the holder and their nominee", {"order_id": "requested_order"}),
    "holder.confirm_order": HolderRow("the holder and their nominee", {"order_id": "delivered_order"}),
    "holder.dispute_order": HolderRow("the holder and their nominee", {"order_id": "delivered_order"},
                                      form={"reason": "Nobody came on Tuesday."}),
    "holder.statement": HolderRow("any holder"),
    "holder.statement_csv": HolderRow("any holder"),
    "holder.statement_pdf": HolderRow("any holder"),
}


@dataclass
class HolderWorld:
    users: dict[str, object]
    offer: uuid.UUID  # published, in the holder's plan
    basket_item: uuid.UUID
    requested_order: uuid.UUID  # waiting for the provider; no card authorisation
    pending_order: uuid.UUID  # the card was never reached: the retry authorises it
    delivered_order: uuid.UUID  # authorised at localstripe, delivered, waiting for the holder
    checkout_reference: str
    new_payment_method: str  # a card at localstripe not yet saved


def build_holder_world() -> HolderWorld:
    from portal.marketplace import orders as lifecycle
    from portal.models import BasketItem, OrderState
    from portal.payments import gateway
    from tests.support.checkout_factories import register_card, sellable_offer
    from tests.support.localstripe import VISA, card_payment_method
    from tests.support.money_factories import make_dp_account

    term = make_term(name="Personal assistants")
    offer = sellable_offer(category=term)
    holder = make_user(email="hana@example.org", name="Hana Holder", roles=(Role.DP_HOLDER,))
    nominee = make_user(email="nia@example.org", name="Nia Nominee", roles=(Role.NOMINATED_PERSON,))
    dp = make_dp_account(holder=holder, nominated_person=nominee, budget_pence=50_000, categories=[term])
    register_card(dp)
    other = make_dp_account(categories=[term]).holder
    users = {
        "anonymous": None, "holder": holder, "nominee": nominee, "other_holder": other,
        "provider_a": make_user(name="Olu Owner", roles=(Role.PROVIDER,), organisations=[offer.organisation]),
        "council_dp_officer": make_user(name="Dee Officer", roles=(Role.COUNCIL_DP_OFFICER,)),
        "council_moderator": make_user(name="Mo Moderator", roles=(Role.COUNCIL_MODERATOR,)),
    }
    item = BasketItem(dp_account_id=dp.id, offer_id=offer.id, units=1, added_by_id=holder.id)
    db.session.add(item)
    orders = {}
    for name, state in (("requested_order", OrderState.REQUESTED), ("pending_order", OrderState.PENDING_PAYMENT),
                        ("delivered_order", OrderState.PENDING_PAYMENT)):
        order = Order(reference=f"ORD-H{len(orders)}", dp_account=dp, offer=offer,
                      organisation_id=offer.organisation_id, category_id=offer.category_id,
                      checkout_reference="CHK-HOLDER", state=state, title=offer.title,
                      unit=offer.unit, unit_price_pence=offer.price_pence, units=2, amount_pence=2 * offer.price_pence,
                      placed_by_id=holder.id)
        db.session.add(order)
        db.session.flush()
        lifecycle.post_hold(order, actor=None)
        orders[name] = order
    delivered = orders["delivered_order"]
    intent = gateway.create_authorisation(amount_pence=delivered.amount_pence, customer_id=dp.stripe_customer_id,
                                          payment_method_id=dp.cards[0].stripe_payment_method_id,
                                          idempotency_key=lifecycle.hold_key(delivered))
    delivered.payment_intent_id, delivered.payment_status = intent.id, intent.status
    delivered.state, delivered.delivered_units = OrderState.DELIVERED, 2
    delivered.authorised_at = delivered.accepted_at = delivered.delivered_at = datetime.now(UTC)
    db.session.flush()
    return HolderWorld(users=users, offer=offer.id, basket_item=item.id,
                       requested_order=orders["requested_order"].id, pending_order=orders["pending_order"].id,
                       delivered_order=delivered.id, checkout_reference="CHK-HOLDER",
                       new_payment_method=card_payment_method(VISA))


@pytest.fixture
def holder_world(session, stripe_app) -> HolderWorld:
    return build_holder_world()


def holder_fingerprint() -> dict[str, object]:
    from portal.models import BasketItem, PaymentCard, SpendingException

    def rows(*columns):
        return sorted(tuple(str(value) for value in row) for row in db.session.execute(sa.select(*columns)))

    return {
        "audit events": db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)),
        "emails": db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)),
        "basket": rows(BasketItem.id, BasketItem.units, BasketItem.note),
        "orders": rows(Order.id, Order.state, Order.payment_intent_id, Order.dispute_reason),
        "cards": rows(PaymentCard.id, PaymentCard.status),
        "stripe customers": rows(DirectPaymentAccount.id, DirectPaymentAccount.stripe_customer_id),
        "ledger journals": db.session.scalar(sa.select(sa.func.count()).select_from(Journal)),
        "spending exceptions": db.session.scalar(sa.select(sa.func.count()).select_from(SpendingException)),
    }


def _holder_url(app: Flask, endpoint: str, world: HolderWorld) -> str:
    row = HOLDER_MATRIX[endpoint]
    values = {argument: getattr(world, attribute) for argument, attribute in row.arguments.items()}
    return app.url_map.bind("localhost").build(endpoint, values)


def _holder_form(endpoint: str, world: HolderWorld) -> dict:
    row = HOLDER_MATRIX[endpoint]
    return {**row.form, **{name: str(getattr(world, attribute)) for name, attribute in row.world_form.items()}}


def holder_outcome(response) -> object:
    """A redirect to another page of the holder's own area (an empty basket to the basket, a bookmarked 3-D Secure
    page back to its order) still means "let in"."""
    got = outcome_of(response)
    if isinstance(got, str) and got.startswith("redirect to /direct-payment/"):
        return ALLOWED
    return got


def _holder_endpoints(app: Flask) -> list[str]:
    return sorted({rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint.startswith("holder.")})


def test_every_holder_endpoint_has_a_row_in_the_holder_matrix(app):
    endpoints = set(_holder_endpoints(app))

    assert not sorted(endpoints - HOLDER_MATRIX.keys()), "holder endpoints without a row in HOLDER_MATRIX"
    assert not sorted(HOLDER_MATRIX.keys() - endpoints), "HOLDER_MATRIX rows for endpoints that no longer exist"
    assert {row.audience for row in HOLDER_MATRIX.values()} <= HOLDER_AUDIENCES.keys()


@pytest.mark.parametrize("actor", HOLDER_ACTORS)
def test_each_kind_of_user_reaches_only_the_holder_pages_the_matrix_allows(app, client, holder_world, actor):
    client_as(client, holder_world, actor)
    token = csrf_for(client)
    wrong = []
    for endpoint in _holder_endpoints(app):
        row = HOLDER_MATRIX[endpoint]
        expected = HOLDER_AUDIENCES[row.audience][actor]
        url = _holder_url(app, endpoint, holder_world)
        methods = methods_of(app, endpoint)
        if "GET" in methods:
            got = holder_outcome(client.get(url))
            if got != expected:
                wrong.append(f"GET {endpoint} ({url}): expected {expected}, got {got}")
        if "POST" not in methods:
            continue
        form = _holder_form(endpoint, holder_world)
        before = holder_fingerprint()
        response = client.post(url, data=form)
        changed = what_changed(before, holder_fingerprint())
        if response.status_code != 400 or changed:
            wrong.append(f"POST {endpoint} without a CSRF token: expected 400 and no change, got "
                         f"{response.status_code}, changed {changed}")
        if expected == ALLOWED:
            continue
        before = holder_fingerprint()
        got = holder_outcome(client.post(url, data={"csrf_token": token, **form}))
        changed = what_changed(before, holder_fingerprint())
        if got != expected or changed:
            wrong.append(f"POST {endpoint} with a CSRF token: expected {expected} and no change, got {got}, "
                         f"changed {changed}")
    assert not wrong, f"{actor}:\n  " + "\n  ".join(wrong)


def _holder_action_endpoints() -> list[str]:
    app = _url_map_app()
    return [endpoint for endpoint in _holder_endpoints(app) if "POST" in methods_of(app, endpoint)]


@pytest.mark.parametrize("endpoint", _holder_action_endpoints())
@pytest.mark.parametrize("actor", ["holder", "nominee"])
def test_the_holder_and_their_nominee_can_use_every_holder_form(app, client, holder_world, endpoint, actor):
    """The forms the refused users send would work for the holder and the person acting for them."""
    client_as(client, holder_world, actor)
    token = csrf_for(client)
    before = holder_fingerprint()

    response = client.post(_holder_url(app, endpoint, holder_world),
                           data={"csrf_token": token, **_holder_form(endpoint, holder_world)})

    assert response.status_code in (302, 303), f"{endpoint} answered {response.status_code}"
    after = holder_fingerprint()
    if HOLDER_MATRIX[endpoint].audited:
        assert after["audit events"] > before["audit events"], f"{endpoint} recorded no audit event"
