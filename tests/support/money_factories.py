"""Direct-payment accounts with money in them, for tests. Money is put in through the ledger, never by hand."""

from __future__ import annotations

import itertools
from datetime import date

from portal.extensions import db
from portal.ledger import ledger_account, transfer
from portal.models import (
    DirectPaymentAccount,
    JournalKind,
    LedgerAccountKind,
    Organisation,
    Role,
    TaxonomyTerm,
    User,
)
from tests.support.factories import make_user

_sequence = itertools.count(1)


def make_dp_account(
    *,
    holder: User | None = None,
    nominated_person: User | None = None,
    budget_pence: int = 50_000,
    funded_pence: int | None = None,
    categories: list[TaxonomyTerm] = (),
    providers: list[Organisation] = (),
    start_date: date | None = None,
    **fields,
) -> DirectPaymentAccount:
    """An open account; ``funded_pence`` (default: the budget) is posted as an allocation for period 0."""
    n = next(_sequence)
    account = DirectPaymentAccount(
        reference=f"DP-T{n:05d}",
        holder=holder or make_user(name=f"Holder {n}", roles=(Role.DP_HOLDER,)),
        nominated_person=nominated_person,
        period_budget_pence=budget_pence,
        start_date=start_date or date(2026, 11, 2),
        allow_any_provider=not providers,
        categories=list(categories),
        providers=list(providers),
        **fields,
    )
    db.session.add(account)
    db.session.flush()
    pence = budget_pence if funded_pence is None else funded_pence
    if pence:
        fund(account, pence, key=f"test-allocation:{account.id}:0")
    return account


def fund(account: DirectPaymentAccount, pence: int, *, key: str) -> None:
    transfer(
        kind=JournalKind.ALLOCATION,
        key=key,
        source=ledger_account(LedgerAccountKind.COUNCIL_FUNDING),
        destination=ledger_account(LedgerAccountKind.DP_AVAILABLE, dp_account=account),
        pence=pence,
        dp_account=account,
        period_number=0,
    )
    db.session.flush()
