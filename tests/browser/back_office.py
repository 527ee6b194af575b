"""The signed-in side of the portal in the browser: the records its pages show, which pages there are, signing
in through the real form, and checking a page the way the public pages are checked.

The pages come from the URL map (every GET endpoint of the provider and council blueprints), so a new page is
checked as soon as it is routed; an argument nobody taught ``RECORD_FOR_ARGUMENT`` fails with a message.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import sqlalchemy as sa
from flask import Flask
from playwright.sync_api import Page, Response

from portal.data import drafts, revision_format
from portal.data.organisation_members import hash_token
from portal.extensions import db
from portal.models import (
    JoinRequest,
    ListingVersion,
    MembershipRole,
    Organisation,
    OrganisationInvitation,
    OrganisationMembership,
    PayoutDetails,
    ProblemReport,
    ReportState,
    Role,
    Service,
    User,
)
from portal.security import public, rule_for_endpoint
from tests.browser import accessibility
from tests.browser.live_server import LiveServer
from tests.browser.watch import PageProblems
from tests.support.factories import DEFAULT_PASSWORD, make_organisation, make_user

MODERATOR_EMAIL = "moderator@aldermoor.example.gov.uk"
DP_OFFICER_EMAIL = "dp.officer@aldermoor.example.gov.uk"
HOLDER_EMAIL = "hana.holder@example.org"
INVITATION_TOKEN = "browser-invitation-token-for-riverside"
BLUEPRINTS = ("provider", "council")


@dataclass(frozen=True)
class BackOfficeRecords:
    """Ids the provider and council pages are opened with (the borough's Riverside Home Care Ltd is "ours")."""

    organisation_id: uuid.UUID  # Riverside: the provider owns it; it has an editor, an invitation, a request
    pending_organisation_id: uuid.UUID  # waiting for the council's check
    other_organisation_id: uuid.UUID  # approved, the provider is not a member: "ask to join"
    draft_service_id: uuid.UUID  # a new listing being written
    submitted_service_id: uuid.UUID  # Riverside home care visits, with a change waiting for the council
    untouched_service_id: uuid.UUID  # published, no open change: the "start editing" page
    revision_id: uuid.UUID  # the submitted change
    version_number: int
    report_id: uuid.UUID
    editor_membership_id: uuid.UUID
    invitation_token: str
    provider_email: str
    moderator_email: str
    guide_id: uuid.UUID | None = None  # a published guide with a draft waiting
    # Direct payments (statements, takings, the council's audit): see _add_direct_payment_records.
    dp_officer_email: str = ""
    holder_email: str = ""
    payout_run_id: uuid.UUID | None = None
    exception_id: uuid.UUID | None = None
    # Priced offers and bank details: see _add_offer_records.
    offer_id: uuid.UUID | None = None  # a draft offer on Riverside home care visits
    payout_id: uuid.UUID | None = None  # the waiting provider's bank details, for the council's check
    # The holder's direct-payment account as the council sees it, and an emergency top-up on it.
    dp_account_id: uuid.UUID | None = None
    top_up_journal_id: int | None = None
    # The holder's orders with Riverside at each stage a page acts on: see _add_order_records.
    requested_order_id: uuid.UUID | None = None
    accepted_order_id: uuid.UUID | None = None
    delivered_order_id: uuid.UUID | None = None
    disputed_order_id: uuid.UUID | None = None  # frozen for the council's decision
    resolved_order_id: uuid.UUID | None = None  # a dispute the council settled (everything released)


def _user(email: str) -> User:
    return db.session.scalar(sa.select(User).where(User.email == email))


def add_back_office_records(server: LiveServer) -> BackOfficeRecords:
    """Add to the live server's borough what the signed-in pages have to show, and commit.

    Nothing here is public (a draft, a change waiting for review, a report, an invitation, a provider waiting
    for its check), so the public page and search tests sharing the server see the same borough."""
    borough = server.borough
    with server.app.app_context():
        provider = _user(borough.provider_email)
        agency = db.session.get(Organisation, borough.organisation_id)
        home_care = db.session.get(Service, borough.service_id)
        play = db.session.get(Service, borough.send_service_id)
        refuge = db.session.get(Service, borough.hidden_address_service_id)
        # Also a council editor, so the one council sign-in opens the guide pages too.
        make_user(email=MODERATOR_EMAIL, name="Morgan Moderator",
                  roles=(Role.COUNCIL_MODERATOR, Role.COUNCIL_EDITOR))
        editor = make_user(email="colleague@riverside-care.example.org", name="Cai Colleague",
                           roles=(Role.PROVIDER,), organisations=[agency], membership_role=MembershipRole.EDITOR)
        # The provider also owns the play club, whose listing has no open change.
        db.session.add(OrganisationMembership(user=provider, organisation=play.organisation,
                                              role=MembershipRole.OWNER))
        joiner = make_user(email="joiner@example.org", name="Jordan Joiner", roles=(Role.PROVIDER,))
        db.session.add(JoinRequest(organisation=agency, user=joiner, message="I coordinate the weekend visits."))
        db.session.add(OrganisationInvitation(
            organisation=agency, email="invited.person@example.org", role=MembershipRole.EDITOR,
            token_hash=hash_token(INVITATION_TOKEN), invited_by_id=provider.id,
            expires_at=datetime.now(UTC) + timedelta(days=7),
        ))
        pending = make_organisation(name="Oakfield Befriending", approved=False, charity_number="1122334")
        make_user(email="owner@oakfield.example.org", name="Olive Oakfield", roles=(Role.PROVIDER,),
                  organisations=[pending])

        # The published listing's history starts with what is live now.
        version = ListingVersion(service_id=home_care.id, number=1, data=revision_format.snapshot(home_care),
                                 note="Imported")
        db.session.add(version)
        db.session.flush()
        change = drafts.start_draft(actor=provider, service=home_care)
        drafts.save_section(actor=provider, revision=change, section="about", values={
            **{name: change.data.get(name) for name in drafts.section_by_key("about").fields},
            "summary": "Care workers visit you at home, seven days a week.",
        })
        drafts.submit(actor=provider, revision=change)
        draft = drafts.start_listing(actor=provider, organisation_id=agency.id, about={
            "name": "Riverside night sitting", "summary": "A care worker stays overnight so your carer can rest.",
            "description": "We sit with you through the night.", "status": "active",
        })
        report = ProblemReport(service_id=home_care.id, reference="RVSD2345", state=ReportState.IN_PROGRESS,
                               description="The Saturday phone line rang out.", reporter_name="Pat Resident")
        db.session.add(report)
        db.session.flush()
        records = BackOfficeRecords(
            organisation_id=agency.id, pending_organisation_id=pending.id,
            other_organisation_id=refuge.organisation_id, draft_service_id=draft.service_id,
            submitted_service_id=home_care.id, untouched_service_id=play.id, revision_id=change.id,
            version_number=version.number, report_id=report.id,
            editor_membership_id=db.session.scalar(sa.select(OrganisationMembership.id).where(
                OrganisationMembership.user_id == editor.id)),
            invitation_token=INVITATION_TOKEN, provider_email=provider.email, moderator_email=MODERATOR_EMAIL,
            guide_id=_guide_with_draft(borough.guide_slug),
        )
        records = _add_direct_payment_records(records, provider_organisation=agency, service=home_care)
        records = _add_offer_records(records, service=home_care, waiting=pending)
        records = _add_top_up(records)
        records = _add_order_records(records, service=home_care)
        db.session.commit()
        db.session.remove()
    return records


def _add_direct_payment_records(records: BackOfficeRecords, *, provider_organisation: Organisation,
                                service: Service) -> BackOfficeRecords:
    """A holder whose statement has money in, held, spent and reclaimed; a payout run; an exception to review.
    Orders are for an existing listing (nothing new becomes public)."""
    from dataclasses import replace

    from portal.data import payables
    from portal.models import ExceptionKind, JournalKind
    from portal.payments.spending import record_exception
    from tests.support.ledger_stories import capture, credit, make_order, verified_payout_details
    from tests.support.money_factories import make_dp_account

    officer = make_user(email=DP_OFFICER_EMAIL, name="Dara DP Officer", roles=(Role.COUNCIL_DP_OFFICER,))
    holder = make_user(email=HOLDER_EMAIL, name="Hana Holder", roles=(Role.DP_HOLDER,))
    dp = make_dp_account(holder=holder, budget_pence=40_000, funded_pence=0)
    credit(dp, JournalKind.ALLOCATION, 40_000, period=0, key=f"allocate:{dp.id}:0")
    category = service.taxonomy_terms[0] if getattr(service, "taxonomy_terms", None) else None
    spent = make_order(dp, pence=6_000, service=service, organisation=provider_organisation, category=category)
    make_order(dp, pence=2_000, service=service, organisation=provider_organisation, category=category)
    capture(spent, 4_500)
    if db.session.scalar(sa.select(PayoutDetails).where(
            PayoutDetails.organisation_id == provider_organisation.id)) is None:
        verified_payout_details(provider_organisation)
    run = payables.create_payout_run(actor=officer)
    exception = record_exception(ExceptionKind.OUTSIDE_PLAN, dp_account=dp, actor=holder,
                                 details={"offer": "Gym membership"})
    db.session.flush()
    return replace(records, dp_officer_email=officer.email, holder_email=holder.email, payout_run_id=run.id,
                   exception_id=exception.id)


def _add_top_up(records: BackOfficeRecords) -> BackOfficeRecords:
    """The holder's account, with an emergency top-up the council added (its confirmation page is checked)."""
    from dataclasses import replace

    from portal.data import budget_periods
    from portal.data.dp_access import dp_account_for

    account = dp_account_for(_user(records.holder_email))
    journal, _ = budget_periods.top_up(actor=_user(records.dp_officer_email), dp_account_id=account.id,
                                       pence=2_500, reason="The main carer is in hospital.", token="browser")
    return replace(records, dp_account_id=account.id, top_up_journal_id=journal.id)


def _add_order_records(records: BackOfficeRecords, *, service: Service) -> BackOfficeRecords:
    """The holder's orders with Riverside waiting for it to accept, accepted, and delivered (money held for each;
    their offers are drafts, so the public pages stay as they were)."""
    from dataclasses import replace

    from portal.data.dp_access import dp_account_for
    from portal.marketplace import orders as lifecycle
    from portal.models import ExceptionKind, OrderState, utcnow
    from portal.payments.spending import record_exception
    from tests.support.ledger_stories import make_order

    account = dp_account_for(_user(records.holder_email))
    category = service.taxonomy_terms[0] if service.taxonomy_terms else None
    orders = {state: make_order(account, pence=1_800, service=service, category=category, state=state,
                                title="Personal care visits")
              for state in (OrderState.REQUESTED, OrderState.ACCEPTED, OrderState.DELIVERED)}
    delivered = orders[OrderState.DELIVERED]
    delivered.delivered_units, delivered.delivered_at = 1, utcnow()
    disputed, resolved = (make_order(account, pence=1_800, service=service, category=category,
                                     state=OrderState.DISPUTED, title="Personal care visits") for _ in range(2))
    for order in (disputed, resolved):
        order.delivered_units, order.delivered_at, order.disputed_at = 1, utcnow(), utcnow()
        order.dispute_reason = "Nobody came on Tuesday."
        record_exception(ExceptionKind.DISPUTE, order=order, details={"reference": order.reference,
                                                                      "reason": order.dispute_reason})
    lifecycle.end_with_release(resolved, OrderState.CANCELLED, actor=None, action="dispute_released",
                               memo="dispute resolved: nothing to pay", cancel_card=False)
    resolved.cancelled_at = resolved.dispute_resolved_at = utcnow()
    db.session.flush()
    return replace(records, requested_order_id=orders[OrderState.REQUESTED].id,
                   accepted_order_id=orders[OrderState.ACCEPTED].id, delivered_order_id=delivered.id,
                   disputed_order_id=disputed.id, resolved_order_id=resolved.id)


def _add_offer_records(records: BackOfficeRecords, *, service: Service,
                       waiting: Organisation) -> BackOfficeRecords:
    """A draft offer (so the public pages stay as they were) and bank details waiting for the council."""
    from dataclasses import replace

    from portal.models import OfferStatus, PayoutDetailsStatus
    from tests.support.offer_factories import make_offer, make_payout_details

    offer = make_offer(service=service, status=OfferStatus.DRAFT, title="Personal care visits",
                       title_cy="Ymweliadau gofal personol", min_units=1, max_units=14)
    payout = make_payout_details(waiting, status=PayoutDetailsStatus.SUBMITTED, account_name="Oakfield Befriend")
    return replace(records, offer_id=offer.id, payout_id=payout.id)


def _guide_with_draft(slug: str) -> uuid.UUID:
    from portal.data import guides

    guide = guides.public_guide(slug)
    values = guides.published_content(guide)
    guides.save_draft(actor=None, guide=guide, values={**values, "body": values["body"] + "\n\nA new paragraph."})
    return guide.id


# --- Which pages ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    label: str
    values: dict  # URL argument -> BackOfficeRecords attribute, or a literal in LITERALS
    query: dict | None = None


# A URL argument -> the record that fills it when the endpoint names no variants of its own.
RECORD_FOR_ARGUMENT = {
    "organisation_id": "organisation_id",
    "service_id": "submitted_service_id",
    "revision_id": "revision_id",
    "number": "version_number",
    "report_id": "report_id",
    "membership_id": "editor_membership_id",
    "token": "invitation_token",
    "guide_id": "guide_id",
    "run_id": "payout_run_id",
    "exception_id": "exception_id",
    "offer_id": "offer_id",
    "payout_id": "payout_id",
    "dp_account_id": "dp_account_id",
    "journal_id": "top_up_journal_id",
    "order_id": "requested_order_id",
}
# Signed-in pages outside the provider and council blueprints that are checked too (the holder's area joins as its
# pages are taught here).
EXTRA_ENDPOINTS = {"holder.statement", "holder.home", "holder.basket_page", "holder.orders", "holder.order",
                   "holder.dispute_order"}
DOWNLOADS = (".csv", ".pdf")
SECTIONS = [section.key for section in revision_format.SECTIONS]
# Pages that look different for different records: each variant is checked.
ENDPOINT_VARIANTS: dict[str, list[Variant]] = {
    "provider.edit_listing": [
        Variant("new-listing-draft", {"service_id": "draft_service_id"}),
        Variant("change-waiting-for-review", {"service_id": "submitted_service_id"}),
        Variant("no-open-change", {"service_id": "untouched_service_id"}),
    ],
    "provider.edit_listing_section": [
        Variant(key, {"service_id": "draft_service_id", "section": key}) for key in SECTIONS
    ],
    "provider.preview_listing": [
        Variant("draft", {"service_id": "draft_service_id"}),
        Variant("published", {"service_id": "untouched_service_id"}),
    ],
    "provider.join_organisation": [Variant("approved-organisation", {"organisation_id": "other_organisation_id"})],
    "provider.find_organisation": [
        Variant("empty", {}),
        Variant("results", {}, {"q": "Aldermoor"}),
    ],
    "council.providers": [
        Variant("waiting", {}),
        Variant("approved", {}, {"status": "approved"}),
    ],
    "council.providers_detail": [
        Variant("waiting", {"organisation_id": "pending_organisation_id"}),
        Variant("approved", {"organisation_id": "organisation_id"}),
    ],
    "provider.deliver_order": [Variant("accepted", {"order_id": "accepted_order_id"})],
    "provider.order": [
        Variant("requested", {"order_id": "requested_order_id"}),
        Variant("accepted", {"order_id": "accepted_order_id"}),
    ],
    "holder.order": [
        Variant("requested", {"order_id": "requested_order_id"}),
        Variant("delivered", {"order_id": "delivered_order_id"}),
    ],
    "holder.dispute_order": [Variant("delivered", {"order_id": "delivered_order_id"})],
    "council.dp_order": [
        Variant("disputed", {"order_id": "disputed_order_id"}),
        Variant("resolved", {"order_id": "resolved_order_id"}),
    ],
    "council.dp_resolve_dispute": [Variant("disputed", {"order_id": "disputed_order_id"})],
    "council.dp_resolve_dispute_check": [Variant("nothing-to-check", {"order_id": "disputed_order_id"})],
    "council.dp_dispute_resolved": [Variant("released", {"order_id": "resolved_order_id"})],
    "council.reports": [
        Variant("all", {}),
        Variant("in-progress", {}, {"state": "in_progress"}),
    ],
}


@dataclass(frozen=True)
class BackOfficePage:
    endpoint: str
    variant: Variant | None = None
    problem: str = ""  # why the URL cannot be built
    person: str = ""  # who opens it, when not the provider or the moderator (see _person_for)

    @property
    def id(self) -> str:
        return f"{self.endpoint}[{self.variant.label}]" if self.variant and self.variant.label else self.endpoint

    @property
    def signs_in_as(self) -> str:
        if self.person:
            return self.person
        return "moderator" if self.endpoint.startswith("council.") else "provider"

    def path(self, app: Flask, records: BackOfficeRecords) -> str:
        values = {argument: getattr(records, attribute, attribute)
                  for argument, attribute in (self.variant.values if self.variant else {}).items()}
        path = app.url_map.bind("localhost").build(self.endpoint, values)
        query = self.variant.query if self.variant else None
        return path + ("?" + urlencode(query) if query else "")


def _signed_in_page(app: Flask, rule) -> bool:
    """The provider and council areas, and the account pages that need signing in (your account, password)."""
    blueprint = rule.endpoint.partition(".")[0]
    if blueprint in BLUEPRINTS or rule.endpoint in EXTRA_ENDPOINTS:
        return True
    with app.app_context():
        return blueprint == "account" and rule_for_endpoint(rule.endpoint) not in (public, None)


def _person_for(app: Flask, endpoint: str) -> str:
    """The holder for the holder's pages; a direct-payments officer for council pages only they may open."""
    if endpoint.startswith("holder."):
        return "holder"
    if endpoint.startswith("council."):
        with app.app_context():
            rule = rule_for_endpoint(endpoint)
        if rule is not None and Role.COUNCIL_DP_OFFICER in rule.roles and Role.COUNCIL_MODERATOR not in rule.roles:
            return "dp_officer"
    return ""


def back_office_pages(app: Flask) -> list[BackOfficePage]:
    """Every GET page of the provider and council blueprints and the signed-in account pages, once per variant,
    in URL order."""
    rules = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (len(r.arguments), r.rule)):
        if rule.rule.endswith(DOWNLOADS):  # files, not pages: their own tests read them
            continue
        if _signed_in_page(app, rule) and "GET" in (rule.methods or ()):
            rules.setdefault(rule.endpoint, rule)
    pages = []
    for rule in sorted(rules.values(), key=lambda r: r.rule):
        person = _person_for(app, rule.endpoint)
        if rule.endpoint in ENDPOINT_VARIANTS:
            pages.extend(BackOfficePage(rule.endpoint, variant, person=person)
                         for variant in ENDPOINT_VARIANTS[rule.endpoint])
            continue
        unknown = sorted(argument for argument in rule.arguments if argument not in RECORD_FOR_ARGUMENT)
        if unknown:
            pages.append(BackOfficePage(rule.endpoint, problem=(
                f"{rule.endpoint} ({rule.rule}) takes {', '.join(unknown)}: teach RECORD_FOR_ARGUMENT or "
                "ENDPOINT_VARIANTS in tests/browser/back_office.py (and add the record there)")))
            continue
        values = {argument: RECORD_FOR_ARGUMENT[argument] for argument in rule.arguments}
        pages.append(BackOfficePage(rule.endpoint, Variant("", values) if values else None, person=person))
    return pages


# --- Signing in and checking pages ------------------------------------------------------------------------


def sign_in(page: Page, server: LiveServer, email: str, password: str = DEFAULT_PASSWORD) -> None:
    """Sign in through the real sign-in form, as a person would."""
    page.goto(server("/account/sign-in?lang=en"))
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    assert page.url.startswith(server("/account")) and "sign-in" not in page.url, (
        f"signing in as {email} ended at {page.url}:\n{page.locator('main').inner_text()}")


def clear_problems(problems: PageProblems) -> None:
    """Forget what was seen so far: the next page is judged on its own (a tab reused for many pages)."""
    for kind in ("console_errors", "page_errors", "failed_requests", "error_responses"):
        getattr(problems, kind).clear()


def with_language(url: str, language: str) -> str:
    return url + ("&" if "?" in url else "?") + f"lang={language}"


def page_problems(page: Page, problems: PageProblems, server: LiveServer, response: Response | None,
                  language: str, *, expected_status: int = 200, errors_before: int = 0) -> list[str]:
    """What is wrong with the page ``page`` shows: status, language, axe-core, console and server errors."""
    if response is None:
        return [f"no response for {page.url}"]
    found = []
    if response.status != expected_status:
        found.append(f"answered HTTP {response.status}, expected {expected_status}")
    lang = page.get_attribute("html", "lang") or ""
    if lang.split("-")[0] != language:
        found.append(f'<html lang="{lang}">, expected "{language}"')
    violations = accessibility.violations(page)
    if violations:
        found.append(f"{len(violations)} axe-core violation(s):\n" + accessibility.describe(violations))
    found += problems.report(document_url=response.url, document_status=expected_status)
    found += [f"server error: {entry}" for entry in server.errors[errors_before:]]
    return found
