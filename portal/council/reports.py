"""Council pages: every problem report (filter by state and organisation, change state) and the listings not
checked for over a year. Moderators only."""

from __future__ import annotations

import uuid

from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user

from portal.council import bp
from portal.data import reminders, reports
from portal.models import ReportState, Role, utcnow
from portal.public.report_forms import ReportStateForm, apply_report_state_form
from portal.security import roles_required


def _filters() -> tuple[ReportState | None, uuid.UUID | None]:
    try:
        state = ReportState(request.args.get("state", ""))
    except ValueError:
        state = None
    try:
        organisation_id = uuid.UUID(request.args.get("organisation", ""))
    except ValueError:
        organisation_id = None
    return state, organisation_id


@bp.get("/reports", endpoint="reports")  # named for the URL; the function name would shadow the module
@roles_required(Role.COUNCIL_MODERATOR)
def reports_list():
    state, organisation_id = _filters()
    return render_template(
        "council/reports.html",
        reports=reports.reports_for_council(state=state, organisation_id=organisation_id),
        state=state,
        organisation_id=organisation_id,
        states=list(ReportState),
        organisations=reports.organisations_with_reports(),
    )


@bp.route("/reports/<uuid:report_id>", methods=["GET", "POST"])
@roles_required(Role.COUNCIL_MODERATOR)
def report(report_id: uuid.UUID):
    found = reports.report_by_id(report_id) or abort(404)
    form = ReportStateForm(data={"state": found.state.value, "response_note": found.response_note})
    if apply_report_state_form(form, actor=current_user, report=found):
        return redirect(url_for("council.report", report_id=found.id))
    return render_template("council/report.html", report=found, form=form)


@bp.get("/listings/stale")
@roles_required(Role.COUNCIL_MODERATOR)
def stale_listings():
    return render_template("council/stale_listings.html", checks=reminders.stale_listings(today=utcnow().date()))
