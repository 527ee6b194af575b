"""Direct-payment accounts as the council's direct-payments team runs them: opening one for a resident (and the
person who acts for them), the care-and-support plan, suspending, reopening and closing, and what the officer's
pages show (balances, plan, card, recent journals).

Money itself moves in portal/data/budget_periods.py and the ledger; balances are always sums of ledger entries.
Functions stage changes and audit events in the caller's transaction and never commit.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask import url_for
from flask_babel import _
from flask_babel import lazy_gettext as _l

from portal import passwords
from portal.data import accounts
from portal.data.audit import record
from portal.extensions import db
from portal.ledger import HOLDING_STATES, dp_balances, ledger_account, lock_dp_account, transfer
from portal.mail import send_templated_email
from portal.models import (
    CardStatus,
    DirectPaymentAccount,
    DPAccountStatus,
    Entry,
    Journal,
    JournalKind,
    LedgerAccount,
    LedgerAccountKind,
    Order,
    Organisation,
    PaymentCard,
    Role,
    TaxonomyTerm,
    User,
    UserRole,
    VerificationStatus,
    utcnow,
)

# No 0/O, 1/I/L, U or V/W look-alikes: a reference read out over the phone is understood first time.
REFERENCE_ALPHABET = "2345679ACDEFGHJKMNPQRTXYZ"
REFERENCE_LENGTH = 6

STATUS_LABELS = {
    DPAccountStatus.ACTIVE: _l("Active"),
    DPAccountStatus.SUSPENDED: _l("Suspended"),
    DPAccountStatus.CLOSED: _l("Closed"),
}

JOURNAL_LABELS = {
    JournalKind.ALLOCATION: _l("Budget for the period"),
    JournalKind.TOP_UP: _l("Emergency top-up"),
    JournalKind.CONTRIBUTION: _l("Client contribution received"),
    JournalKind.HOLD: _l("Held for an order"),
    JournalKind.RELEASE: _l("Hold released"),
    JournalKind.CAPTURE: _l("Paid to a provider"),
    JournalKind.RECLAIM: _l("Surplus returned to the council"),
    JournalKind.PAYOUT: _l("Provider paid"),
    JournalKind.REVERSAL: _l("Correction"),
}

PLAN_FIELDS = ("period_budget_pence", "client_contribution_pence", "contingency_pence", "start_date",
               "allow_any_provider", "notes")


class DPAccountError(Exception):
    """Something about a direct-payment account the officer's page explains."""


class DPAccountNotFound(DPAccountError):
    pass


class InvalidPlan(DPAccountError):
    """The plan does not add up; ``field`` names the form field at fault."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


class HolderAlreadyHasAccount(DPAccountError):
    """The person already holds an open direct-payment account."""


class InvalidTransition(DPAccountError):
    """The account is not in a state that allows this."""


class OrdersStillOpen(DPAccountError):
    """An account with orders in progress (money held on the card) cannot be closed."""

    def __init__(self, count: int) -> None:
        super().__init__(count)
        self.count = count


class MoneyStillHeld(DPAccountError):
    """Money is held for orders: it must be captured or released before the account closes."""


# --- Plans ---------------------------------------------------------------------------------------------------


@dataclass
class Plan:
    """The care-and-support plan as typed by the officer (money already in pence)."""

    period_budget_pence: int
    client_contribution_pence: int
    contingency_pence: int
    start_date: date
    category_ids: list[uuid.UUID] = field(default_factory=list)
    allow_any_provider: bool = True
    provider_ids: list[uuid.UUID] = field(default_factory=list)
    notes: str = ""


def _check_plan(plan: Plan) -> tuple[list[TaxonomyTerm], list[Organisation]]:
    if plan.period_budget_pence <= 0:
        raise InvalidPlan("budget", _("Budget for each 4-week period must be more than £0"))
    if plan.client_contribution_pence > plan.period_budget_pence:
        raise InvalidPlan("contribution", _("Client contribution must not be more than the budget"))
    if plan.contingency_pence > plan.period_budget_pence:
        raise InvalidPlan("contingency", _("Contingency must not be more than the budget"))
    terms = list(db.session.scalars(sa.select(TaxonomyTerm).where(TaxonomyTerm.id.in_(plan.category_ids))))
    if not terms or len(terms) != len(set(plan.category_ids)):
        raise InvalidPlan("categories", _("Select what the direct payment may be spent on"))
    providers: list[Organisation] = []
    if not plan.allow_any_provider:
        providers = list(db.session.scalars(sa.select(Organisation).where(
            Organisation.id.in_(plan.provider_ids), Organisation.verification_status == VerificationStatus.APPROVED)))
        if not providers or len(providers) != len(set(plan.provider_ids)):
            raise InvalidPlan("providers", _("Select the approved providers the holder may buy from"))
    return sorted(terms, key=lambda t: t.name), sorted(providers, key=lambda o: o.name.casefold())


def plan_snapshot(dp_account: DirectPaymentAccount) -> dict:
    """The plan as the audit trail records it, before and after a change."""
    snapshot = {name: getattr(dp_account, name) for name in PLAN_FIELDS}
    snapshot["categories"] = sorted(term.slug for term in dp_account.categories)
    snapshot["providers"] = sorted(str(organisation.id) for organisation in dp_account.providers)
    return snapshot


def _apply_plan(dp_account: DirectPaymentAccount, plan: Plan) -> None:
    terms, providers = _check_plan(plan)
    dp_account.period_budget_pence = plan.period_budget_pence
    dp_account.client_contribution_pence = plan.client_contribution_pence
    dp_account.contingency_pence = plan.contingency_pence
    dp_account.start_date = plan.start_date
    dp_account.allow_any_provider = plan.allow_any_provider
    dp_account.notes = (plan.notes or "").strip()
    dp_account.categories = terms
    dp_account.providers = providers


def _has_journals(dp_account: DirectPaymentAccount) -> bool:
    return db.session.scalar(sa.select(sa.func.count(Journal.id)).where(Journal.dp_account_id == dp_account.id)) > 0


def update_plan(*, actor: User, dp_account: DirectPaymentAccount, plan: Plan) -> bool:
    """Change the care-and-support plan, audited with the plan before and after. Returns whether anything changed.

    Raises InvalidPlan, or InvalidTransition for a closed account. The start date fixes where every period begins,
    so it cannot move once money has moved.
    """
    if dp_account.status is DPAccountStatus.CLOSED:
        raise InvalidTransition(dp_account.status.value)
    if plan.start_date != dp_account.start_date and _has_journals(dp_account):
        raise InvalidPlan("start_date", _("Start date cannot change once money has been paid into the account"))
    before = plan_snapshot(dp_account)
    _apply_plan(dp_account, plan)
    db.session.flush()
    after = plan_snapshot(dp_account)
    if before == after:
        return False
    changed = sorted(name for name in after if after[name] != before[name])
    record(actor=actor, action="dp.plan_changed", subject=dp_account,
           before={name: before[name] for name in changed}, after={name: after[name] for name in changed})
    return True


# --- Opening an account -----------------------------------------------------------------------------------------


def new_reference() -> str:
    """A reference like DP-7K3M9Q, not yet used."""
    while True:
        reference = "DP-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))
        if db.session.scalar(sa.select(DirectPaymentAccount.id).where(DirectPaymentAccount.reference == reference)) \
                is None:
            return reference


@dataclass(frozen=True)
class Person:
    name: str
    email: str


def _person(*, actor: User, person: Person, role: Role) -> tuple[User, bool]:
    """The user with this email (given ``role`` if they lack it), or a new one. Returns (user, created)."""
    user = accounts.find_user(email=person.email)
    if user is None:
        user = User(email=accounts.normalise_email(person.email), name=person.name.strip(),
                    # Nobody knows this password: the person sets their own from the emailed link.
                    password_hash=passwords.hash_password(secrets.token_urlsafe(32)))
        user.role_grants = [UserRole(role=role)]
        db.session.add(user)
        db.session.flush()
        record(actor=actor, action="account.created_for_direct_payment", subject=user,
               after={"email": user.email, "name": user.name, "roles": [role.value]})
        return user, True
    if role not in user.roles:
        before = sorted(r.value for r in user.roles)
        user.role_grants.append(UserRole(role=role))
        db.session.flush()
        record(actor=actor, action="account.role_granted", subject=user, before={"roles": before},
               after={"roles": sorted(r.value for r in user.roles)})
    return user, False


def _open_account_for(holder: User) -> DirectPaymentAccount | None:
    return db.session.scalar(sa.select(DirectPaymentAccount).where(
        DirectPaymentAccount.holder_id == holder.id, DirectPaymentAccount.status != DPAccountStatus.CLOSED))


def open_account(*, actor: User, holder: Person, nominee: Person | None, plan: Plan) -> DirectPaymentAccount:
    """Open an ACTIVE account for ``holder`` (found by email, or created) with an optional nominated person, and
    email each of them: a new person gets a link to set their password, someone with an account a note to sign in.

    Raises InvalidPlan, or HolderAlreadyHasAccount when the holder already has an account that is not closed.
    Money arrives with the next `flask dp allocate`.
    """
    _check_plan(plan)
    if nominee is not None and accounts.normalise_email(nominee.email) == accounts.normalise_email(holder.email):
        raise InvalidPlan("nominee_email", _("The nominated person must be someone other than the holder"))
    existing = accounts.find_user(email=holder.email)
    if existing is not None and _open_account_for(existing) is not None:
        raise HolderAlreadyHasAccount(existing.email)
    holder_user, holder_created = _person(actor=actor, person=holder, role=Role.DP_HOLDER)
    nominee_user, nominee_created = (None, False)
    if nominee is not None:
        nominee_user, nominee_created = _person(actor=actor, person=nominee, role=Role.NOMINATED_PERSON)
    dp_account = DirectPaymentAccount(
        reference=new_reference(), holder=holder_user, nominated_person=nominee_user, opened_by_id=actor.id,
        status=DPAccountStatus.ACTIVE, period_budget_pence=0, start_date=plan.start_date,
    )
    _apply_plan(dp_account, plan)
    db.session.add(dp_account)
    db.session.flush()
    record(actor=actor, action="dp.account_opened", subject=dp_account,
           after={"reference": dp_account.reference, "holder": holder_user.email,
                  "nominated_person": nominee_user.email if nominee_user else None, **plan_snapshot(dp_account)})
    _send_welcome(holder_user, dp_account, created=holder_created, acting_for=None)
    if nominee_user is not None:
        _send_welcome(nominee_user, dp_account, created=nominee_created, acting_for=holder_user)
    return dp_account


def _send_welcome(user: User, dp_account: DirectPaymentAccount, *, created: bool, acting_for: User | None) -> None:
    send_templated_email(
        to=user.email,
        subject=_("Your direct payment account is open") if acting_for is None
        else _("You can now manage a direct payment for %(name)s", name=acting_for.name),
        template="dp_account_opened",
        user=user,
        acting_for=acting_for,
        reference=dp_account.reference,
        # The same signed, single-use link a password reset sends: it sets the first password.
        set_password_url=url_for("account.reset_password", token=accounts.password_reset_token(user),
                                 _external=True) if created else None,
        forgot_password_url=url_for("account.forgot_password", _external=True),
        sign_in_url=url_for("account.sign_in", _external=True),
    )


# --- Suspending, reopening, closing ----------------------------------------------------------------------------


def _set_status(*, actor: User, dp_account: DirectPaymentAccount, allowed_from: set[DPAccountStatus],
                to: DPAccountStatus, action: str, reason: str = "") -> None:
    if dp_account.status not in allowed_from:
        raise InvalidTransition(dp_account.status.value)
    before = dp_account.status
    dp_account.status = to
    record(actor=actor, action=action, subject=dp_account, before={"status": before}, after={"status": to},
           details={"reason": reason} if reason else None)


def suspend(*, actor: User, dp_account: DirectPaymentAccount, reason: str = "") -> None:
    """No new orders and no new budget; orders already placed run their course. Raises InvalidTransition."""
    _set_status(actor=actor, dp_account=dp_account, allowed_from={DPAccountStatus.ACTIVE},
                to=DPAccountStatus.SUSPENDED, action="dp.account_suspended", reason=reason)


def reopen(*, actor: User, dp_account: DirectPaymentAccount) -> None:
    """A suspended account becomes active again. Raises InvalidTransition."""
    _set_status(actor=actor, dp_account=dp_account, allowed_from={DPAccountStatus.SUSPENDED},
                to=DPAccountStatus.ACTIVE, action="dp.account_reopened")


def open_orders_count(dp_account: DirectPaymentAccount) -> int:
    return db.session.scalar(sa.select(sa.func.count(Order.id)).where(
        Order.dp_account_id == dp_account.id, Order.state.in_(HOLDING_STATES)))


def close(*, actor: User, dp_account_id: uuid.UUID) -> int:
    """Close the account for good, returning whatever is still available to the council in one reclaim journal.
    Returns the pence returned.

    Raises OrdersStillOpen or MoneyStillHeld (orders must finish or be released first), or InvalidTransition.
    """
    dp_account = lock_dp_account(dp_account_id)
    if dp_account.status is DPAccountStatus.CLOSED:
        raise InvalidTransition(dp_account.status.value)
    orders = open_orders_count(dp_account)
    if orders:
        raise OrdersStillOpen(orders)
    balances = dp_balances(dp_account)
    held, available = int(balances.held), int(balances.available)  # PostgreSQL sums bigints as numeric
    if held:
        raise MoneyStillHeld(held)
    if available:
        transfer(kind=JournalKind.RECLAIM, key=f"reclaim:{dp_account.id}:close",
                 source=ledger_account(LedgerAccountKind.DP_AVAILABLE, dp_account=dp_account),
                 destination=ledger_account(LedgerAccountKind.COUNCIL_RECOVERED), pence=available,
                 memo="Account closed: the balance returns to the council", actor=actor, dp_account=dp_account)
    _set_status(actor=actor, dp_account=dp_account, allowed_from={DPAccountStatus.ACTIVE, DPAccountStatus.SUSPENDED},
                to=DPAccountStatus.CLOSED, action="dp.account_closed")
    dp_account.closed_at = utcnow()
    return available


# --- What the officer's pages show ----------------------------------------------------------------------------


def account_for_council(dp_account_id: uuid.UUID) -> DirectPaymentAccount:
    """Raises DPAccountNotFound."""
    dp_account = db.session.get(DirectPaymentAccount, dp_account_id)
    if dp_account is None:
        raise DPAccountNotFound(dp_account_id)
    return dp_account


@dataclass(frozen=True)
class AccountRow:
    dp_account: DirectPaymentAccount
    available: int
    held: int


def accounts_overview(*, status: DPAccountStatus | None = None, search: str = "") -> list[AccountRow]:
    """Accounts by reference with their available and held balances (two grouped sums, not a query per row)."""
    query = (sa.select(DirectPaymentAccount).join(User, User.id == DirectPaymentAccount.holder_id)
             .order_by(DirectPaymentAccount.reference))
    if status is not None:
        query = query.where(DirectPaymentAccount.status == status)
    words = search.strip().casefold()
    if words:
        pattern = f"%{words}%"
        query = query.where(sa.or_(sa.func.lower(DirectPaymentAccount.reference).like(pattern),
                                   sa.func.lower(User.name).like(pattern), User.email.like(pattern)))
    found = list(db.session.scalars(query))
    sums = db.session.execute(
        sa.select(LedgerAccount.dp_account_id, LedgerAccount.kind, sa.func.sum(Entry.amount_pence))
        .join(Entry, Entry.account_id == LedgerAccount.id)
        .where(LedgerAccount.dp_account_id.in_([account.id for account in found]),
               LedgerAccount.kind.in_([LedgerAccountKind.DP_AVAILABLE, LedgerAccountKind.DP_HELD]))
        .group_by(LedgerAccount.dp_account_id, LedgerAccount.kind)
    )
    by_account = {(dp_id, kind): int(pence) for dp_id, kind, pence in sums}
    return [AccountRow(account, by_account.get((account.id, LedgerAccountKind.DP_AVAILABLE), 0),
                       by_account.get((account.id, LedgerAccountKind.DP_HELD), 0)) for account in found]


def active_card(dp_account: DirectPaymentAccount) -> PaymentCard | None:
    return db.session.scalar(sa.select(PaymentCard).where(
        PaymentCard.dp_account_id == dp_account.id, PaymentCard.status == CardStatus.ACTIVE)
        .order_by(PaymentCard.created_at.desc()).limit(1))


@dataclass(frozen=True)
class JournalLine:
    journal: Journal
    label: str
    available_change: int  # pence in (+) or out (-) of the holder's available money
    held_change: int


def recent_journals(dp_account: DirectPaymentAccount, *, limit: int = 20) -> list[JournalLine]:
    """The account's latest journals, newest first, with what each did to available and held money."""
    journals = list(db.session.scalars(
        sa.select(Journal).where(Journal.dp_account_id == dp_account.id)
        .order_by(Journal.occurred_at.desc(), Journal.id.desc()).limit(limit)))
    mine = dict(db.session.execute(sa.select(LedgerAccount.id, LedgerAccount.kind).where(
        LedgerAccount.dp_account_id == dp_account.id,
        LedgerAccount.kind.in_([LedgerAccountKind.DP_AVAILABLE, LedgerAccountKind.DP_HELD]))).all())
    lines = []
    for journal in journals:
        change = {LedgerAccountKind.DP_AVAILABLE: 0, LedgerAccountKind.DP_HELD: 0}
        for entry in journal.entries:
            if entry.account_id in mine:
                change[mine[entry.account_id]] += entry.amount_pence
        lines.append(JournalLine(journal, str(JOURNAL_LABELS[journal.kind]),
                                 change[LedgerAccountKind.DP_AVAILABLE], change[LedgerAccountKind.DP_HELD]))
    return lines


def approved_providers() -> list[Organisation]:
    return list(db.session.scalars(sa.select(Organisation).where(
        Organisation.verification_status == VerificationStatus.APPROVED).order_by(Organisation.name)))
