"""Council pages for direct payments: the accounts, opening one, the care-and-support plan, emergency top-ups,
client contributions, and suspending, reopening or closing an account. Direct-payments officers only (and
admins, who have every council role)."""

from __future__ import annotations

import uuid
from datetime import date

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import _, format_date
from flask_login import current_user
from werkzeug.exceptions import NotFound

from portal.council import bp
from portal.council.dp_forms import (
    ConfirmTopUpForm,
    ContributionForm,
    OpenAccountForm,
    PlanForm,
    StatusForm,
    TopUpForm,
)
from portal.data import budget_periods, dp_accounts
from portal.extensions import db
from portal.i18n import money
from portal.ledger import dp_balances
from portal.models import DPAccountStatus, Journal, JournalKind, Role
from portal.provider.listing_forms import pence_to_pounds
from portal.security import roles_required

dp_officers_only = roles_required(Role.COUNCIL_DP_OFFICER)
STATUS_FILTERS = {"active": DPAccountStatus.ACTIVE, "suspended": DPAccountStatus.SUSPENDED,
                  "closed": DPAccountStatus.CLOSED}
TOP_UPS_KEPT = 5  # answers of this many unfinished top-up forms are kept in the session


@bp.errorhandler(dp_accounts.DPAccountNotFound)
def dp_account_not_found(error):
    return render_template("errors/404.html", error=NotFound()), 404


def _me():
    return current_user._get_current_object()


@bp.get("/direct-payments")
@dp_officers_only
def dp_accounts_list():
    shown = request.args.get("status", "")
    if shown and shown not in STATUS_FILTERS:
        abort(404)
    search = request.args.get("q", "")[:100]
    return render_template("council/dp/accounts.html", shown=shown, search=search,
                           rows=dp_accounts.accounts_overview(status=STATUS_FILTERS.get(shown), search=search),
                           labels=dp_accounts.STATUS_LABELS)


def _plan_error(form: PlanForm, error: dp_accounts.InvalidPlan) -> None:
    field = {"budget": form.budget, "contribution": form.contribution, "contingency": form.contingency,
             "categories": form.categories, "providers": form.providers, "start_date": form.start_date}.get(
        error.field) or getattr(form, error.field, None)
    if field is None:
        form.form_errors.append(error.message)
    else:
        field.errors = [*field.errors, error.message]


@bp.route("/direct-payments/new", methods=["GET", "POST"])
@dp_officers_only
def dp_open_account():
    form = OpenAccountForm()
    form.configure()
    if form.validate_on_submit():
        try:
            dp_account = dp_accounts.open_account(actor=_me(), holder=form.holder(), nominee=form.nominee(),
                                                  plan=form.plan())
        except dp_accounts.InvalidPlan as error:
            _plan_error(form, error)
        except dp_accounts.HolderAlreadyHasAccount:
            form.holder_email.errors = [*form.holder_email.errors,
                                        _("This person already has a direct payment account. Change that "
                                          "account's plan instead")]
        else:
            db.session.commit()
            flash(_("Account %(reference)s is open. We have emailed %(name)s. The budget is paid in when the next "
                    "allocation runs.", reference=dp_account.reference, name=dp_account.holder.name), "success")
            return redirect(url_for("council.dp_account", dp_account_id=dp_account.id))
    return render_template("council/dp/open_account.html", form=form), 400 if form.errors else 200


@bp.get("/direct-payments/<uuid:dp_account_id>")
@dp_officers_only
def dp_account(dp_account_id: uuid.UUID):
    account = dp_accounts.account_for_council(dp_account_id)
    return render_template(
        "council/dp/account.html", account=account, balances=dp_balances(account),
        period=budget_periods.current_period(account), card=dp_accounts.active_card(account),
        journals=dp_accounts.recent_journals(account), open_orders=dp_accounts.open_orders_count(account),
        labels=dp_accounts.STATUS_LABELS, status_form=StatusForm(),
        allocation=budget_periods.allocation_pence(account),
    )


@bp.route("/direct-payments/<uuid:dp_account_id>/plan", methods=["GET", "POST"])
@dp_officers_only
def dp_edit_plan(dp_account_id: uuid.UUID):
    account = dp_accounts.account_for_council(dp_account_id)
    form = PlanForm()
    form.configure()
    if request.method == "GET":
        form.load(account)
    elif form.validate_on_submit():
        try:
            changed = dp_accounts.update_plan(actor=_me(), dp_account=account, plan=form.plan())
        except dp_accounts.InvalidPlan as error:
            _plan_error(form, error)
        except dp_accounts.InvalidTransition:
            flash(_("The plan of a closed account cannot change."), "error")
            return redirect(url_for("council.dp_account", dp_account_id=account.id))
        else:
            db.session.commit()
            flash(_("The plan is saved.") if changed else _("Nothing in the plan changed."), "success")
            return redirect(url_for("council.dp_account", dp_account_id=account.id))
    return render_template("council/dp/edit_plan.html", form=form, account=account), 400 if form.errors else 200


# --- Emergency top-up: question, check answers, confirmation -------------------------------------------------------


def _top_up_answers() -> dict:
    return session.get("dp_top_ups", {})


def _keep_answers(token: str, answers: dict) -> None:
    kept = {key: value for key, value in _top_up_answers().items() if key != token}
    session["dp_top_ups"] = dict(list(kept.items())[-(TOP_UPS_KEPT - 1):] + [(token, answers)])


@bp.route("/direct-payments/<uuid:dp_account_id>/top-up", methods=["GET", "POST"])
@dp_officers_only
def dp_top_up(dp_account_id: uuid.UUID):
    account = dp_accounts.account_for_council(dp_account_id)
    form = TopUpForm()
    if request.method == "GET":
        form.token.data = request.args.get("token") or budget_periods.new_top_up_token()
        answers = _top_up_answers().get(form.token.data, {})  # "Change" from the check page
        if answers:
            form.amount.data, form.reason.data = pence_to_pounds(answers["pence"]), answers["reason"]
    elif form.validate_on_submit() and form.token.data:
        _keep_answers(form.token.data, {"pence": form.amount.pence, "reason": form.reason.data})
        return redirect(url_for("council.dp_top_up_check", dp_account_id=account.id, token=form.token.data))
    return render_template("council/dp/top_up.html", form=form, account=account), 400 if form.errors else 200


@bp.route("/direct-payments/<uuid:dp_account_id>/top-up/check", methods=["GET", "POST"])
@dp_officers_only
def dp_top_up_check(dp_account_id: uuid.UUID):
    account = dp_accounts.account_for_council(dp_account_id)
    form = ConfirmTopUpForm()
    token = form.token.data if request.method == "POST" else request.args.get("token", "")
    done = budget_periods.journal_by_key(budget_periods.top_up_key(account.id, token)) if token else None
    if done is not None:  # submitted already (a double click, or back and submit again): show what was posted
        return redirect(url_for("council.dp_top_up_done", dp_account_id=account.id, journal_id=done.id))
    answers = _top_up_answers().get(token)
    if not answers:  # the session ended, or the page was bookmarked: nothing to check, start again
        return render_template("council/dp/top_up_check.html", form=form, account=account, token=token,
                               answers=None)
    if form.validate_on_submit():
        try:
            journal, _posted = budget_periods.top_up(actor=_me(), dp_account_id=account.id, token=token,
                                                     pence=answers["pence"],
                                                     reason=answers["reason"])
        except budget_periods.BudgetPeriodError:
            db.session.rollback()
            flash(_("A top-up can only be added to an active account that has started."), "error")
            return redirect(url_for("council.dp_account", dp_account_id=account.id))
        db.session.commit()
        session["dp_top_ups"] = {key: value for key, value in _top_up_answers().items() if key != token}
        return redirect(url_for("council.dp_top_up_done", dp_account_id=account.id, journal_id=journal.id))
    form.token.data = token
    return render_template("council/dp/top_up_check.html", form=form, account=account, token=token,
                           answers=answers)


@bp.get("/direct-payments/<uuid:dp_account_id>/top-ups/<int:journal_id>")
@dp_officers_only
def dp_top_up_done(dp_account_id: uuid.UUID, journal_id: int):
    account = dp_accounts.account_for_council(dp_account_id)
    journal = db.session.get(Journal, journal_id)
    if journal is None or journal.dp_account_id != account.id or journal.kind is not JournalKind.TOP_UP:
        abort(404)
    pence = sum(entry.amount_pence for entry in journal.entries if entry.amount_pence > 0)
    return render_template("council/dp/top_up_done.html", account=account, journal=journal, pence=pence,
                           balances=dp_balances(account))


# --- Client contribution ------------------------------------------------------------------------------------------


@bp.route("/direct-payments/<uuid:dp_account_id>/contribution", methods=["GET", "POST"])
@dp_officers_only
def dp_contribution(dp_account_id: uuid.UUID):
    account = dp_accounts.account_for_council(dp_account_id)
    periods = budget_periods.contribution_periods(account)
    form = ContributionForm()
    form.period.choices = [
        (str(p.number), _("Period %(number)d: %(start)s to %(end)s", number=p.label_number,
                          start=_date(p.starts_on), end=_date(p.ends_on))) for p in periods]
    if form.validate_on_submit():
        try:
            budget_periods.record_contribution(actor=_me(), dp_account_id=account.id,
                                               period_number=int(form.period.data))
        except budget_periods.BudgetPeriodError:
            db.session.rollback()
            flash(_("That contribution cannot be recorded: it may have been recorded already."), "error")
        else:
            db.session.commit()
            flash(_("The client contribution of %(amount)s is recorded and can now be spent.",
                    amount=money(account.client_contribution_pence)), "success")
        return redirect(url_for("council.dp_account", dp_account_id=account.id))
    return render_template("council/dp/contribution.html", form=form, account=account,
                           periods=periods), 400 if form.errors else 200


def _date(day: date) -> str:
    return format_date(day, "long")


# --- Suspend, reopen, close -------------------------------------------------------------------------------------


@bp.post("/direct-payments/<uuid:dp_account_id>/suspend")
@dp_officers_only
def dp_suspend(dp_account_id: uuid.UUID):
    account = dp_accounts.account_for_council(dp_account_id)
    form = StatusForm()
    if form.validate_on_submit():
        try:
            dp_accounts.suspend(actor=_me(), dp_account=account, reason=form.reason.data or "")
        except dp_accounts.InvalidTransition:
            flash(_("Only an active account can be suspended."), "error")
        else:
            db.session.commit()
            flash(_("Account %(reference)s is suspended: nothing new can be bought with it.",
                    reference=account.reference), "success")
    return redirect(url_for("council.dp_account", dp_account_id=account.id))


@bp.post("/direct-payments/<uuid:dp_account_id>/reopen")
@dp_officers_only
def dp_reopen(dp_account_id: uuid.UUID):
    account = dp_accounts.account_for_council(dp_account_id)
    if StatusForm().validate_on_submit():
        try:
            dp_accounts.reopen(actor=_me(), dp_account=account)
        except dp_accounts.InvalidTransition:
            flash(_("Only a suspended account can be reopened."), "error")
        else:
            db.session.commit()
            flash(_("Account %(reference)s is active again.", reference=account.reference), "success")
    return redirect(url_for("council.dp_account", dp_account_id=account.id))


@bp.route("/direct-payments/<uuid:dp_account_id>/close", methods=["GET", "POST"])
@dp_officers_only
def dp_close(dp_account_id: uuid.UUID):
    account = dp_accounts.account_for_council(dp_account_id)
    form = StatusForm()
    if form.validate_on_submit():
        try:
            returned = dp_accounts.close(actor=_me(), dp_account_id=account.id)
        except dp_accounts.OrdersStillOpen as error:
            flash(_("The account cannot close while %(count)d orders are in progress. They must be finished, "
                    "declined or cancelled first.", count=error.count), "error")
        except dp_accounts.MoneyStillHeld:
            flash(_("The account cannot close while money is held for orders."), "error")
        except dp_accounts.InvalidTransition:
            flash(_("The account is already closed."), "error")
        else:
            db.session.commit()
            flash(_("Account %(reference)s is closed. %(amount)s was returned to the council.",
                    reference=account.reference, amount=money(returned)), "success")
        return redirect(url_for("council.dp_account", dp_account_id=account.id))
    return render_template("council/dp/close.html", form=form, account=account, balances=dp_balances(account),
                           open_orders=dp_accounts.open_orders_count(account))
