"""Demo direct-payment accounts for the demo holders (``holder@``, ``holder2@``, ``holder3@example.org``), the first
managed by the demo nominated person, each with this period's budget paid in.

Ids are uuid5 of the holder's email and references are fixed, so loading again changes nothing. The start date is
set only when an account is created (periods never move once money has), a few days or weeks before ``today``.
Budgets are paid in through ``budget_periods.allocate`` like the daily timer would, once per period. Never commits.
"""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from portal.data import budget_periods
from portal.demo.generator import demo_uuid
from portal.extensions import db
from portal.models import (
    DirectPaymentAccount,
    DPAccountStatus,
    Offer,
    OfferStatus,
    Organisation,
    TaxonomyTerm,
    User,
)

ACCOUNTS = [
    {"holder": "holder@example.org", "nominee": "nominated@example.org", "reference": "DP-7K3M9Q",
     "budget": 48_000, "contribution": 4_000, "contingency": 5_000, "started_days_ago": 10,
     "categories": ["care-at-home", "breaks-and-days-out"], "providers": "any",
     "notes": "Plan reviewed with Margaret and her daughter Sian, who manages the account."},
    {"holder": "holder2@example.org", "nominee": None, "reference": "DP-4XR2PC",
     "budget": 32_000, "contribution": 0, "contingency": 3_000, "started_days_ago": 40,
     "categories": ["personal-assistants", "day-opportunities", "befriending"], "providers": "any",
     "notes": ""},
    {"holder": "holder3@example.org", "nominee": None, "reference": "DP-9HTD3N",
     "budget": 26_000, "contribution": 2_500, "contingency": 0, "started_days_ago": 3,
     "categories": ["short-breaks-and-respite", "carers-support"], "providers": "selling",
     "notes": "Only providers agreed at the review."},
]


def _user(email: str | None) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == email)) if email else None


def _selling_providers() -> list[Organisation]:
    """Up to three providers with published offers, by name: the list a plan with chosen providers names."""
    return list(db.session.scalars(
        sa.select(Organisation).where(Organisation.id.in_(
            sa.select(Offer.organisation_id).where(Offer.status == OfferStatus.PUBLISHED)))
        .order_by(Organisation.name).limit(3)))


def load_dp_accounts(*, today: date) -> dict[str, int]:
    """Create the demo accounts that are missing and pay in this period's budgets: counts created and allocated."""
    counts = {"created": 0, "allocated": 0}
    for spec in ACCOUNTS:
        holder = _user(spec["holder"])
        if holder is None:
            continue
        account = db.session.get(DirectPaymentAccount, demo_uuid("dp_account", spec["holder"]))
        if account is None:
            account = _create(spec, holder, today)
            counts["created"] += 1
        db.session.flush()
        result = budget_periods.allocate(dp_account_id=account.id, on=today)
        counts["allocated"] += result.outcome is budget_periods.Outcome.POSTED
    return counts


def _create(spec: dict, holder: User, today: date) -> DirectPaymentAccount:
    terms = list(db.session.scalars(sa.select(TaxonomyTerm).where(TaxonomyTerm.slug.in_(spec["categories"]))))
    providers = _selling_providers() if spec["providers"] == "selling" else []
    account = DirectPaymentAccount(
        id=demo_uuid("dp_account", spec["holder"]), reference=spec["reference"], holder=holder,
        nominated_person=_user(spec["nominee"]), status=DPAccountStatus.ACTIVE,
        period_budget_pence=spec["budget"], client_contribution_pence=spec["contribution"],
        contingency_pence=spec["contingency"], start_date=today - timedelta(days=spec["started_days_ago"]),
        allow_any_provider=not providers, categories=terms, providers=providers, notes=spec["notes"],
    )
    db.session.add(account)
    return account
