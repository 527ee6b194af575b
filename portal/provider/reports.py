"""Provider pages: problem reports about their listings, and confirming listings are still accurate.

Reports and listings are reached through portal.data (which asks portal.data.access): another organisation's
report or listing raises NotPermitted, which this blueprint answers with 404."""

from __future__ import annotations

import uuid

from flask import flash, redirect, render_template, request, url_for
from flask_babel import _
from flask_login import current_user

from portal.data import reminders, reports
from portal.extensions import db
from portal.models import ReportState
from portal.provider import bp
from portal.public.report_forms import MarkStillAccurateForm, ReportStateForm, apply_report_state_form


def _state_filter() -> ReportState | None:
    try:
        return ReportState(request.args.get("state", ""))
    except ValueError:
        return None


@bp.get("/reports", endpoint="reports")  # named for the URL; the function name would shadow the module
def reports_list():
    state = _state_filter()
    return render_template(
        "provider/reports.html",
        reports=reports.reports_for_provider(current_user, state=state),
        state=state,
        states=list(ReportState),
    )


@bp.route("/reports/<uuid:report_id>", methods=["GET", "POST"])
def report(report_id: uuid.UUID):
    found = reports.report_for_provider(current_user, report_id)
    form = ReportStateForm(data={"state": found.state.value, "response_note": found.response_note})
    if apply_report_state_form(form, actor=current_user, report=found):
        return redirect(url_for("provider.report", report_id=found.id))
    return render_template("provider/report.html", report=found, form=form)


@bp.get("/listings/check")
def check_listings():
    return render_template(
        "provider/check_listings.html",
        checks=reminders.listings_to_check(current_user),
        form=MarkStillAccurateForm(),
    )


@bp.post("/listings/<uuid:service_id>/still-accurate")
def mark_still_accurate(service_id: uuid.UUID):
    form = MarkStillAccurateForm()
    if not form.validate_on_submit():
        flash(_("Your session expired. Try again."), "error")
        return redirect(url_for("provider.check_listings"))
    service = reminders.mark_still_accurate(actor=current_user, service_id=service_id)
    db.session.commit()
    flash(_("%(name)s is marked as checked today", name=service.name), "success")
    return redirect(url_for("provider.check_listings"))
