"""Forms about problem reports and listing checks, for every audience: the public "report a problem" form,
the provider's and council's state change, and the one-button "still accurate" confirmations."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSubmitInput, GovTextArea, GovTextInput
from wtforms import RadioField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional

from portal.data.reports import DESCRIPTION_MAX, RESPONSE_MAX
from portal.models import ReportState

STATE_LABELS = {
    ReportState.NEW: _l("New"),
    ReportState.IN_PROGRESS: _l("In progress"),
    ReportState.RESOLVED: _l("Resolved"),
}
# GOV.UK tag colours for each state.
STATE_TAG_CLASSES = {
    ReportState.NEW: "govuk-tag--blue",
    ReportState.IN_PROGRESS: "govuk-tag--yellow",
    ReportState.RESOLVED: "govuk-tag--green",
}


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class ProblemReportForm(FlaskForm):
    description = TextAreaField(
        _l("What is wrong with this listing?"),
        widget=GovTextArea(),
        description=_l("For example, the phone number no longer works or the service has closed. "
                       "Do not include personal or medical information. Up to 2000 characters."),
        filters=[_strip],
        validators=[
            DataRequired(message=_l("Enter what is wrong with this listing")),
            Length(max=DESCRIPTION_MAX, message=_l("What is wrong must be 2000 characters or fewer")),
        ],
    )
    name = StringField(
        _l("Your name (optional)"),
        widget=GovTextInput(),
        filters=[_strip],
        validators=[Optional(), Length(max=255, message=_l("Your name must be 255 characters or fewer"))],
    )
    email = StringField(
        _l("Your email address (optional)"),
        widget=GovTextInput(),
        description=_l("Only if you are happy for the provider or the council to contact you about it."),
        filters=[_strip],
        validators=[
            Optional(),
            Length(max=320, message=_l("Email address must be 320 characters or fewer")),
            Email(message=_l("Enter an email address in the correct format, like name@example.com")),
        ],
    )
    # A field people never see (the template hides it with the `hidden` attribute, which also hides it
    # from screen readers); form-filling robots fill it in. A filled one is thanked and thrown away.
    website = StringField(_l("Leave this field empty"))
    submit = SubmitField(_l("Send report"), widget=GovSubmitInput())

    @property
    def is_spam(self) -> bool:
        return bool((self.website.data or "").strip())


class ReportStateForm(FlaskForm):
    state = RadioField(
        _l("State"),
        widget=GovRadioInput(),
        choices=[SelectChoice(state.value, label) for state, label in STATE_LABELS.items()],
        validators=[InputRequired(message=_l("Select the state of the report"))],
    )
    response_note = TextAreaField(
        _l("Response (optional)"),
        widget=GovTextArea(),
        description=_l("What you did about the report. The provider and the council can read it. "
                       "Up to 2000 characters."),
        filters=[_strip],
        validators=[Length(max=RESPONSE_MAX, message=_l("Response must be 2000 characters or fewer"))],
    )
    submit = SubmitField(_l("Save"), widget=GovSubmitInput())

    @property
    def chosen_state(self) -> ReportState:
        return ReportState(self.state.data)


class StillAccurateForm(FlaskForm):
    """One button: the CSRF token is the only other thing posted."""

    submit = SubmitField(_l("Yes, it is still accurate"), widget=GovSubmitInput())


class MarkStillAccurateForm(FlaskForm):
    submit = SubmitField(_l("Mark as still accurate"), widget=GovSubmitInput())


def apply_report_state_form(form: ReportStateForm, *, actor, report) -> bool:
    """Save a valid state change from ``form`` (commit, success message); returns whether it was saved.

    Shared by the provider's and the council's report pages, which differ only in where they go next."""
    from flask import flash
    from flask_babel import _

    from portal.data import reports
    from portal.extensions import db

    if not form.validate_on_submit():
        return False
    try:
        reports.change_state(actor=actor, report=report, state=form.chosen_state,
                             response_note=form.response_note.data or "")
    except reports.ReportUnchanged:
        form.state.errors.append(_("Choose a different state or change the response"))
        return False
    db.session.commit()
    flash(_("Report %(reference)s updated", reference=report.reference), "success")
    return True
