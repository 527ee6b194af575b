"""Forms for moderation, version history, emergency unpublish and the audit filter, in GOV.UK wording."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSelect, GovSubmitInput, GovTextArea, GovTextInput
from wtforms import (
    DateField,
    Form,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from portal.data.moderation import Decision

REASON_MAX = 2000


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class ReviewForm(FlaskForm):
    """One form for the three decisions: the button pressed says which. ``changed`` (set by the view) is the
    fields that differ, so the form knows whether everything was ticked."""

    fields = SelectMultipleField(_l("Changes to approve"), choices=[], validate_choice=False)
    reason = TextAreaField(
        _l("Reason for rejecting"),
        widget=GovTextArea(),
        description=_l("Needed when you reject all or some of the changes. The provider will see it."),
        filters=[_strip],
        validators=[Length(max=REASON_MAX, message=_l("Reason must be 2000 characters or fewer"))],
    )
    seen_version = HiddenField()
    approve_all = SubmitField(_l("Approve all changes"), widget=GovSubmitInput())
    approve_selected = SubmitField(_l("Approve ticked changes only"), widget=GovSubmitInput())
    reject = SubmitField(_l("Reject all changes"), widget=GovSubmitInput())

    def __init__(self, *args, changed: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.changed = changed

    @property
    def decision(self) -> Decision | None:
        if self.reject.data:
            return Decision.REJECT
        if self.approve_selected.data:
            ticked = self.ticked
            # Everything ticked is simply "approve all": no reason needed.
            return Decision.APPROVE_ALL if ticked == set(self.changed) else Decision.APPROVE_SELECTED
        if self.approve_all.data:
            return Decision.APPROVE_ALL
        return None

    @property
    def ticked(self) -> set[str]:
        return set(self.fields.data or []) & set(self.changed)

    @property
    def seen_version_number(self) -> int | None:
        try:
            return int(self.seen_version.data)
        except (TypeError, ValueError):
            return None

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        decision = self.decision
        if decision is None:
            self.form_errors.append(_l("Choose whether to approve or reject the changes"))
            return False
        if decision is Decision.APPROVE_SELECTED and not self.ticked:
            self.fields.errors.append(_l("Select the changes to approve"))
            valid = False
        if decision is Decision.APPROVE_SELECTED and self.ticked and not self.reason.data:
            self.reason.errors.append(_l("Enter a reason for rejecting the changes you did not tick"))
            valid = False
        if decision is Decision.REJECT and not self.reason.data:
            self.reason.errors.append(_l("Enter a reason for rejecting the changes"))
            valid = False
        return valid


class RestoreForm(FlaskForm):
    submit = SubmitField(_l("Restore this version"), widget=GovSubmitInput())


class UnpublishForm(FlaskForm):
    reason = TextAreaField(
        _l("Why are you unpublishing this listing?"),
        widget=GovTextArea(),
        description=_l("The provider and other moderators will see this."),
        filters=[_strip],
        validators=[
            DataRequired(message=_l("Enter why you are unpublishing this listing")),
            Length(max=REASON_MAX, message=_l("Reason must be 2000 characters or fewer")),
        ],
    )
    submit = SubmitField(_l("Unpublish listing"), widget=GovSubmitInput())


class RepublishForm(FlaskForm):
    submit = SubmitField(_l("Republish listing"), widget=GovSubmitInput())


class _IsoDate(DateField):
    """A date typed as 2025-11-20 (what a browser's date picker sends)."""

    def __init__(self, label, **kwargs):
        super().__init__(label, format="%Y-%m-%d", widget=GovTextInput(), **kwargs)

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_l("Enter a real date, like 2025-11-20")) from None


class AuditFilterForm(Form):
    """The audit view's filters: a GET form, so a filtered view can be bookmarked (no CSRF: it changes nothing)."""

    # Choices come from the database; an unknown value (an old bookmark) just matches nothing.
    organisation = SelectField(_l("Organisation"), widget=GovSelect(), choices=[], validate_choice=False)
    user = StringField(
        _l("User email address"), widget=GovTextInput(), filters=[_strip],
        description=_l("All or part of the address"),
        validators=[Length(max=320, message=_l("Email address must be 320 characters or fewer"))],
    )
    action = SelectField(_l("Action"), widget=GovSelect(), choices=[], validate_choice=False)
    date_from = _IsoDate(
        _l("From"), description=_l("For example, 2025-11-20"), validators=[Optional()],
    )
    date_to = _IsoDate(_l("To"), description=_l("For example, 2025-11-27"), validators=[Optional()])

    def validate_date_to(self, field) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end date must be the same as or after the start date"))
