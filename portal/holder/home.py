"""The holder's home at /direct-payment/: what is left to spend this period, what the plan allows, and the way to
the card, basket, orders and statement. A nominated person sees whose account they act for; someone with no open
account is told so plainly instead of "not found"."""

from __future__ import annotations

from flask import render_template
from flask_login import current_user

from portal.data import budget_periods
from portal.data.access import NotPermitted
from portal.data.dp_access import acts_as_nominee, dp_account_for
from portal.holder import bp
from portal.ledger import dp_balances
from portal.public.pages import url_if_exists

# Pages other parts of the holder's area provide: each link shows once its page exists.
LINKS = ("holder.card", "holder.basket_page", "holder.orders", "holder.statement")


@bp.get("/")
def home():
    try:
        account = dp_account_for(current_user)
    except NotPermitted:
        return render_template("holder/home.html", account=None)
    period = budget_periods.current_period(account)
    return render_template(
        "holder/home.html",
        account=account,
        nominee=acts_as_nominee(current_user, account),
        balances=dp_balances(account),
        period=period,
        spent_this_period=budget_periods.spent_in_period(account, period) if period else 0,
        links={endpoint: url_if_exists(endpoint) for endpoint in LINKS},
    )
