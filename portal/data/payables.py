"""What the council owes providers, and paying it: payout runs, the BACS file, PAYOUT journals, provider takings.

A capture moves a holder's held money to the provider's *payable* account. A payout run is a snapshot of every
provider whose payable balance (less what earlier unpaid runs already include) is positive and whose bank details
the council has VERIFIED: the lines keep the bank details as they were, so the BACS file can be downloaded again
unchanged. When finance has paid the file, an officer marks the run paid: one PAYOUT journal per line, key
``payout:{run.id}:{organisation.id}``, payable -> paid. Marking twice posts nothing twice. With
STRIPE_CONNECT_PAYOUTS on, marking paid also transfers each line through Stripe Connect (portal/payments/connect.py)
under the same key.

Every function stages its changes in the caller's transaction, writes an audit event and never commits.
"""

from __future__ import annotations

import math
import secrets
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from portal.data import access, audit
from portal.data.documents import csv_text, pounds
from portal.data.statements import uk_date
from portal.extensions import db
from portal.ledger import balance, ledger_account, transfer
from portal.models import (
    Entry,
    Journal,
    JournalKind,
    LedgerAccount,
    LedgerAccountKind,
    Order,
    OrderState,
    Organisation,
    PayoutDetails,
    PayoutDetailsStatus,
    PayoutRun,
    User,
    utcnow,
)

REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"  # no 0/O, 1/I/L, U: read aloud over the phone


class PayablesError(Exception):
    pass


class NothingToPay(PayablesError):
    """No provider has a positive payable balance with verified bank details outside an unpaid run."""


class PayoutRunNotFound(PayablesError, LookupError):
    pass


class ConnectAccountMissing(PayablesError):
    """Stripe Connect payouts are on but a provider in the run has no connected account."""

    def __init__(self, organisation_name: str) -> None:
        super().__init__(organisation_name)
        self.organisation_name = organisation_name


# --- What is owed ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProviderPayable:
    organisation: Organisation
    payable_pence: int  # the payable account's balance: captured, not yet paid
    in_unpaid_runs_pence: int  # already in a run finance has not paid yet
    details: PayoutDetails | None

    @property
    def outstanding_pence(self) -> int:
        return self.payable_pence - self.in_unpaid_runs_pence

    @property
    def can_be_paid(self) -> bool:
        return self.outstanding_pence > 0 and self.details is not None and \
            self.details.status is PayoutDetailsStatus.VERIFIED


def _unpaid_run_pence() -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for lines in db.session.scalars(sa.select(PayoutRun.lines).where(PayoutRun.paid_at.is_(None))):
        for line in lines or []:
            totals[line["organisation_id"]] += int(line["pence"])
    return totals


def provider_payables() -> list[ProviderPayable]:
    """Every provider with money owed or in an unpaid run, largest first."""
    rows = db.session.execute(
        sa.select(Organisation, sa.func.coalesce(sa.func.sum(Entry.amount_pence), 0))
        .join(LedgerAccount, LedgerAccount.organisation_id == Organisation.id)
        .outerjoin(Entry, Entry.account_id == LedgerAccount.id)
        .where(LedgerAccount.kind == LedgerAccountKind.PROVIDER_PAYABLE)
        .group_by(Organisation.id)
    ).all()
    in_runs = _unpaid_run_pence()
    details = {row.organisation_id: row for row in db.session.scalars(sa.select(PayoutDetails))}
    payables = [
        ProviderPayable(organisation=organisation, payable_pence=int(pence),
                        in_unpaid_runs_pence=in_runs.get(str(organisation.id), 0),
                        details=details.get(organisation.id))
        for organisation, pence in rows
        if pence or in_runs.get(str(organisation.id))
    ]
    return sorted(payables, key=lambda payable: (-payable.payable_pence, payable.organisation.name))


# --- Payout runs -----------------------------------------------------------------------------------------------


def _new_reference() -> str:
    while True:
        reference = "PR-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))
        if db.session.scalar(sa.select(PayoutRun.id).where(PayoutRun.reference == reference)) is None:
            return reference


def _lock_payables() -> None:
    """Serialise run creation: a second officer's run waits, then sees the first run's lines (PostgreSQL row locks;
    SQLite's write transaction serialises anyway)."""
    db.session.execute(
        sa.select(LedgerAccount.id).where(LedgerAccount.kind == LedgerAccountKind.PROVIDER_PAYABLE).with_for_update()
    ).all()


def create_payout_run(*, actor: User) -> PayoutRun:
    """A run of every provider that can be paid now. Raises NothingToPay."""
    _lock_payables()
    lines = [
        {
            "organisation_id": str(payable.organisation.id),
            "organisation_name": payable.organisation.name,
            "account_name": payable.details.account_name,
            "sort_code": payable.details.sort_code,
            "account_number": payable.details.account_number,
            "pence": payable.outstanding_pence,
        }
        for payable in provider_payables()
        if payable.can_be_paid
    ]
    if not lines:
        raise NothingToPay()
    lines.sort(key=lambda line: line["organisation_name"])
    run = PayoutRun(reference=_new_reference(), created_by_id=actor.id, lines=lines,
                    total_pence=sum(line["pence"] for line in lines))
    db.session.add(run)
    db.session.flush()
    audit.record(actor=actor, action="payout_run.created", subject=run, after={
        "reference": run.reference, "total_pence": run.total_pence,
        # Bank details stay out of the audit log: who and how much is enough to trace it.
        "lines": [{"organisation_id": line["organisation_id"], "pence": line["pence"]} for line in lines],
    })
    return run


@dataclass(frozen=True)
class RunsPage:
    runs: list[PayoutRun]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def payout_runs(*, page: int = 1, per_page: int = 25) -> RunsPage:
    total = db.session.scalar(sa.select(sa.func.count(PayoutRun.id)))
    runs = db.session.scalars(
        sa.select(PayoutRun).order_by(PayoutRun.created_at.desc(), PayoutRun.reference)
        .limit(per_page).offset((page - 1) * per_page)
    ).all()
    return RunsPage(runs=list(runs), total=total, page=page, per_page=per_page)


def payout_run(run_id: uuid.UUID, *, for_update: bool = False) -> PayoutRun:
    query = sa.select(PayoutRun).where(PayoutRun.id == run_id)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    run = db.session.scalar(query)
    if run is None:
        raise PayoutRunNotFound(run_id)
    return run


def bacs_csv(run: PayoutRun) -> str:
    """The run as a BACS-style file: sort code, account number, account name, amount in pounds, reference."""
    header = ["Sort code", "Account number", "Account name", "Amount", "Reference"]
    rows = [[line["sort_code"], line["account_number"], line["account_name"], pounds(line["pence"]), run.reference]
            for line in run.lines]
    return csv_text([header, *rows])


def mark_run_paid(*, actor: User, run_id: uuid.UUID) -> PayoutRun:
    """Post the run's PAYOUT journals (payable -> paid) and mark it paid. Marking a paid run again changes nothing.

    Raises PayoutRunNotFound, ConnectAccountMissing, InsufficientFunds (a payable reversed since the run was made),
    and with Stripe Connect on, PaymentUnavailable or PaymentError (nothing is marked; a retry uses the same keys).
    """
    run = payout_run(run_id, for_update=True)
    if run.paid_at is not None:
        return run
    connect = bool(current_app.config.get("STRIPE_CONNECT_PAYOUTS"))
    organisations = {organisation.id: organisation for organisation in db.session.scalars(
        sa.select(Organisation).where(Organisation.id.in_([uuid.UUID(line["organisation_id"]) for line in run.lines]))
    )}
    lines = [dict(line) for line in run.lines]
    for line in lines:
        organisation = organisations[uuid.UUID(line["organisation_id"])]
        key = f"payout:{run.id}:{organisation.id}"
        transfer_id = _connect_transfer(run, organisation, line, key) if connect else None
        if transfer_id:
            line["transfer_id"] = transfer_id
        transfer(
            kind=JournalKind.PAYOUT, key=key, pence=int(line["pence"]),
            source=ledger_account(LedgerAccountKind.PROVIDER_PAYABLE, organisation=organisation),
            destination=ledger_account(LedgerAccountKind.PROVIDER_PAID, organisation=organisation),
            memo=f"Payout run {run.reference}", actor=actor, stripe_object_id=transfer_id,
        )
    before = {"paid_at": None}
    run.lines = lines
    run.paid_at = utcnow()
    audit.record(actor=actor, action="payout_run.paid", subject=run, before=before, after={
        "paid_at": run.paid_at, "total_pence": run.total_pence, "stripe_connect": connect,
    })
    return run


def _connect_transfer(run: PayoutRun, organisation: Organisation, line: dict, key: str) -> str:
    from portal.payments import connect

    if line.get("transfer_id"):
        return line["transfer_id"]
    details = db.session.scalar(sa.select(PayoutDetails).where(PayoutDetails.organisation_id == organisation.id))
    if details is None or not details.stripe_connect_account_id:
        raise ConnectAccountMissing(organisation.name)
    made = connect.create_transfer(
        amount_pence=int(line["pence"]), destination=details.stripe_connect_account_id, idempotency_key=key,
        metadata={"payout_run": run.reference, "organisation_id": str(organisation.id)},
    )
    return made.id


# --- A provider's takings --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StateCount:
    state: OrderState
    orders: int
    pence: int  # what was taken for captured orders; the amount ordered for the rest


@dataclass(frozen=True)
class MonthTakings:
    month: date  # the first day of the month (UK time)
    orders: int
    pence: int


@dataclass(frozen=True)
class Payout:
    run_reference: str
    paid_at: object
    pence: int


@dataclass(frozen=True)
class Takings:
    organisation: Organisation
    by_state: list[StateCount] = field(default_factory=list)
    by_month: list[MonthTakings] = field(default_factory=list)  # newest first
    captured_pence: int = 0  # all time
    payable_pence: int = 0  # owed now
    paid_pence: int = 0  # paid out, all time
    payouts: list[Payout] = field(default_factory=list)  # newest first


def takings_for(*, user: User, organisation_id: uuid.UUID) -> Takings:
    """The organisation's orders and money, for one of its members. Raises NotPermitted."""
    organisation = access.organisation_for(user, organisation_id)
    by_state = [
        StateCount(state=state, orders=count, pence=int(pence))
        for state, count, pence in db.session.execute(
            sa.select(Order.state, sa.func.count(Order.id), sa.func.coalesce(sa.func.sum(sa.case(
                (Order.state == OrderState.CAPTURED, Order.captured_pence), else_=Order.amount_pence)), 0))
            .where(Order.organisation_id == organisation.id)
            .group_by(Order.state)
        )
    ]
    by_state.sort(key=lambda row: list(OrderState).index(row.state))
    payable = db.session.scalar(sa.select(LedgerAccount).where(
        LedgerAccount.kind == LedgerAccountKind.PROVIDER_PAYABLE, LedgerAccount.organisation_id == organisation.id))
    if payable is None:  # nothing captured yet: a page view creates no ledger account
        return Takings(organisation=organisation, by_state=by_state)
    entries = db.session.execute(
        sa.select(Journal.kind, Journal.idempotency_key, Journal.occurred_at, Entry.amount_pence)
        .join(Entry, Entry.journal_id == Journal.id)
        .where(Entry.account_id == payable.id, Journal.kind.in_([JournalKind.CAPTURE, JournalKind.PAYOUT]))
    ).all()
    months: dict[date, list[int]] = {}
    paid_by_run: dict[str, int] = defaultdict(int)
    for kind, key, occurred_at, pence in entries:
        if kind is JournalKind.CAPTURE:
            month = months.setdefault(uk_date(occurred_at).replace(day=1), [0, 0])
            month[0] += 1
            month[1] += pence
        else:  # payout:{run id}:{organisation id}
            paid_by_run[key.split(":")[1]] += -pence
    runs = db.session.scalars(sa.select(PayoutRun).where(
        PayoutRun.id.in_([uuid.UUID(run_id) for run_id in paid_by_run]))).all() if paid_by_run else []
    payouts = sorted(
        (Payout(run_reference=run.reference, paid_at=run.paid_at, pence=paid_by_run[str(run.id)]) for run in runs),
        key=lambda payout: payout.paid_at, reverse=True,
    )
    return Takings(
        organisation=organisation,
        by_state=by_state,
        by_month=[MonthTakings(month=month, orders=count, pence=pence)
                  for month, (count, pence) in sorted(months.items(), reverse=True)],
        captured_pence=sum(pence for kind, _key, _when, pence in entries if kind is JournalKind.CAPTURE),
        payable_pence=balance(payable),
        paid_pence=sum(payout.pence for payout in payouts),
        payouts=payouts,
    )


def payout_run_label(run: PayoutRun) -> str:
    return _("Paid") if run.paid_at else _("Waiting for payment")
