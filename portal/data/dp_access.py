"""Which direct-payment account a signed-in person acts for: the holder's own, or the one they are the nominated
person for. Anything else is "not found" (NotPermitted -> 404), so account ids cannot be probed."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from portal.data.access import NotPermitted
from portal.extensions import db
from portal.models import DirectPaymentAccount, DPAccountStatus, User


def accounts_for(user: User) -> list[DirectPaymentAccount]:
    """Every open account the person may act for, their own first."""
    accounts = db.session.scalars(
        sa.select(DirectPaymentAccount)
        .where(
            sa.or_(DirectPaymentAccount.holder_id == user.id, DirectPaymentAccount.nominated_person_id == user.id),
            DirectPaymentAccount.status != DPAccountStatus.CLOSED,
        )
        .order_by(DirectPaymentAccount.created_at)
    ).all()
    return sorted(accounts, key=lambda account: account.holder_id != user.id)


def dp_account_for(user: User, dp_account_id: uuid.UUID | None = None) -> DirectPaymentAccount:
    """The account ``user`` acts for (the given one, or their first). Raises NotPermitted."""
    accounts = accounts_for(user)
    if dp_account_id is None:
        if not accounts:
            raise NotPermitted("no direct-payment account")
        return accounts[0]
    for account in accounts:
        if account.id == dp_account_id:
            return account
    raise NotPermitted(dp_account_id)


def acts_as_nominee(user: User, dp_account: DirectPaymentAccount) -> bool:
    return dp_account.nominated_person_id == user.id and dp_account.holder_id != user.id
