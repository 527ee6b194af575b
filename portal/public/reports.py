"""Public pages that keep the directory right: "report a problem with this listing" and the one-click
"still accurate" link emailed to providers (the signed link is the authority, so no sign-in is needed)."""

from __future__ import annotations

import uuid

from flask import abort, current_app, redirect, render_template, session, url_for
from markupsafe import Markup

from portal.data import directory, reminders, reports
from portal.extensions import db, limiter
from portal.models import Service, utcnow
from portal.public import bp, presenters
from portal.public.report_forms import STATE_LABELS, STATE_TAG_CLASSES, ProblemReportForm, StillAccurateForm
from portal.security import public

REPORT_REFERENCE_KEY = "problem_report_reference"


def _public_form_limit() -> str:
    return current_app.config["PUBLIC_FORM_RATE_LIMIT"]


@bp.app_template_filter("report_state_label")
def report_state_label(state) -> str:
    return str(STATE_LABELS.get(state, state))


@bp.app_template_filter("report_state_tag")
def report_state_tag(state) -> Markup:
    return Markup('<strong class="govuk-tag {}">{}</strong>').format(
        STATE_TAG_CLASSES.get(state, ""), report_state_label(state)
    )


@bp.context_processor
def freshness_helpers() -> dict:
    """For result lists: whether a listing was last checked over a year ago (the service page says so too)."""
    today = utcnow().date()

    def checked_over_a_year_ago(service: Service) -> bool:
        return presenters.is_out_of_date(presenters.last_checked(service), today)

    return {"checked_over_a_year_ago": checked_over_a_year_ago}


# --- Report a problem -------------------------------------------------------------------------------------


@bp.route("/services/<uuid:service_id>/report", methods=["GET", "POST"])
@public
@limiter.limit(_public_form_limit, methods=["POST"])
def report_problem(service_id: uuid.UUID):
    listing = directory.public_service(service_id) or abort(404)
    form = ProblemReportForm()
    if form.validate_on_submit():
        if form.is_spam:
            # Looks accepted, so a robot learns nothing; nothing is stored or sent.
            reference = reports.new_reference()
        else:
            reference = reports.submit_report(
                service=listing,
                description=form.description.data,
                reporter_name=form.name.data or "",
                reporter_email=form.email.data or None,
            ).reference
            db.session.commit()
        session[REPORT_REFERENCE_KEY] = reference
        return redirect(url_for("public.report_problem_sent", service_id=listing.id))
    return render_template("public/report_problem.html", form=form, service=listing)


@bp.get("/services/<uuid:service_id>/report/sent")
@public
def report_problem_sent(service_id: uuid.UUID):
    listing = directory.public_service(service_id) or abort(404)
    reference = session.get(REPORT_REFERENCE_KEY)
    if not reference:
        return redirect(url_for("public.report_problem", service_id=listing.id))
    return render_template("public/report_problem_sent.html", service=listing, reference=reference)


# --- One-click "still accurate" ---------------------------------------------------------------------------


def _link_failed(error: reminders.StillAccurateLinkError):
    if isinstance(error, reminders.LinkExpired):
        reason = "expired"
    elif isinstance(error, reminders.LinkUsed):
        reason = "used"
    else:
        reason = "invalid"
    return render_template("provider/check_link_failed.html", reason=reason), 400


@bp.route("/listings/<uuid:service_id>/still-accurate/<token>", methods=["GET", "POST"])
@public
def still_accurate(service_id: uuid.UUID, token: str):
    """GET shows the button and changes nothing (mail scanners follow links); POST, with CSRF, confirms."""
    form = StillAccurateForm()
    try:
        if form.validate_on_submit():
            reminders.confirm_by_token(service_id=service_id, token=token)
            db.session.commit()
            return redirect(url_for("public.still_accurate_confirmed", service_id=service_id))
        listing = reminders.service_for_token(service_id=service_id, token=token)
    except reminders.StillAccurateLinkError as error:
        return _link_failed(error)
    return render_template(
        "provider/check_still_accurate.html", form=form, service=listing,
        checked_on=reminders.checked_on(listing),
    )


@bp.get("/listings/<uuid:service_id>/still-accurate/confirmed")
@public
def still_accurate_confirmed(service_id: uuid.UUID):
    listing = db.session.get(Service, service_id) or abort(404)
    return render_template("provider/check_still_accurate_done.html", service=listing,
                           checked_on=reminders.checked_on(listing))
