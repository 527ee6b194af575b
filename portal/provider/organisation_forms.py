"""Forms for organisations, members, invitations and the council's provider decisions, in GOV.UK wording."""

from __future__ import annotations

import re
from datetime import date

from flask_babel import _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from govuk_frontend_wtf import wtforms_widgets as gov
from govuk_frontend_wtf.wtforms_widgets import (
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import DateField, RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from portal.data.organisations import (
    CHARITY_NUMBER,
    COMPANY_NUMBER,
    DBS_VALID_YEARS,
    KIND_LABELS,
    RATING_LABELS,
    REGULATOR_LABELS,
    OrganisationDetails,
    normalise_reference,
    ratings_for,
    years_before,
)
from portal.models import MembershipRole, OrganisationKind, RegulatorBody


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class GovDateInput(gov.GovDateInput):
    """GOV.UK date input with Day/Month/Year in the reader's language.

    Keeps the library's class name: macros/forms.html recognises it by name to point the error summary at the
    day box.
    """

    def map_gov_params(self, field, **kwargs):
        params = super().map_gov_params(field, **kwargs)
        for item, label in zip(params["items"], (_("Day"), _("Month"), _("Year")), strict=True):
            item["label"] = label
        return params


class GovDateField(DateField):
    """A day/month/year date with GOV.UK's error messages: blank is None (add Optional or DataRequired)."""

    def __init__(self, label=None, validators=None, *, invalid_message, **kwargs):
        super().__init__(label, validators, format="%d %m %Y", widget=GovDateInput(), **kwargs)
        self.invalid_message = invalid_message

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        if len(valuelist) != 3:  # not from our three boxes: treat as not a date, never crash the page
            self.raw_data = ["", "", ""]
            self.data = None
            raise ValueError(str(self.invalid_message))
        parts = [part.strip() for part in valuelist]
        if not any(parts):
            self.data = None
            return
        try:
            day, month, year = (int(part) for part in parts)
            if year < 1000:
                raise ValueError
            self.data = date(year, month, day)
        except ValueError:
            self.data = None
            raise ValueError(str(self.invalid_message)) from None


class UKPhone:
    def __call__(self, form, field):
        if field.data and (not re.fullmatch(r"[0-9+() -]{7,25}", field.data)
                           or len(re.sub(r"\D", "", field.data)) < 10):
            raise ValidationError(_("Enter a telephone number, like 01632 960 001 or 07700 900 982"))


class WebAddress:
    """Only http and https addresses: anything else (javascript:, data:) never reaches a page."""

    def __call__(self, form, field):
        if field.data and not re.fullmatch(r"https?://[^\s/$.?#][^\s]*\.[^\s]+", field.data, re.IGNORECASE):
            raise ValidationError(_("Enter a website address in the correct format, like https://www.example.org"))


def _radio_choices(labels: dict) -> list[SelectChoice]:
    return [SelectChoice(key.value, label) for key, label in labels.items()]


RATING_CHOICES = [SelectChoice("", _l("Not yet rated"))] + [
    SelectChoice(value, label) for value, label in RATING_LABELS.items()]


class OrganisationForm(FlaskForm):
    name = StringField(_l("Organisation name"), widget=GovTextInput(), filters=[_strip], validators=[
        DataRequired(message=_l("Enter the name of the organisation")),
        Length(max=255, message=_l("Organisation name must be 255 characters or fewer")),
    ])
    kind = RadioField(_l("What kind of organisation is it?"), widget=GovRadioInput(),
                      choices=_radio_choices(KIND_LABELS),
                      invalid_choice_message=_l("Select what kind of organisation it is"))
    description = TextAreaField(
        _l("Describe what the organisation does"), widget=GovTextArea(), filters=[_strip],
        description=_l("Shown on your organisation's page in the directory."),
        validators=[DataRequired(message=_l("Enter a description of the organisation")),
                    Length(max=5000, message=_l("Description must be 5000 characters or fewer"))])
    website = StringField(_l("Website (optional)"), widget=GovTextInput(), filters=[_strip],
                          validators=[Optional(), Length(max=500, message=_l(
                              "Website address must be 500 characters or fewer")), WebAddress()])
    email = StringField(_l("Email address"), widget=GovTextInput(), filters=[_strip], validators=[
        DataRequired(message=_l("Enter the organisation's email address")),
        Length(max=320, message=_l("Email address must be 320 characters or fewer")),
        Email(message=_l("Enter an email address in the correct format, like name@example.com")),
    ])
    phone = StringField(_l("Telephone number (optional)"), widget=GovTextInput(), filters=[_strip],
                        validators=[Optional(), UKPhone()])
    charity_number = StringField(
        _l("Charity number"), widget=GovTextInput(), filters=[_strip],
        description=_l("If it is a registered charity. For example, 1234567, SC012345 or NIC101234."))
    company_number = StringField(
        _l("Company number"), widget=GovTextInput(), filters=[_strip],
        description=_l("If it is registered at Companies House. 8 characters, for example 01234567 or SC123456."))
    regulator = RadioField(
        _l("Is the organisation registered with a regulator?"), widget=GovRadioInput(),
        choices=[SelectChoice("", _l("No")), *_radio_choices(REGULATOR_LABELS)], default="", validate_choice=True)
    registration_id = StringField(
        _l("Registration ID"), widget=GovTextInput(), filters=[_strip],
        description=_l("If you answered CQC or Ofsted: your CQC provider or location ID (like 1-123456789) "
                       "or your Ofsted URN."))
    registration_rating = SelectField(_l("Latest inspection rating"), widget=GovSelect(), choices=RATING_CHOICES,
                                      default="", validate_choice=True)
    insurance_expires_on = GovDateField(
        _l("When does your public liability insurance end?"),
        description=_l("For example, 27 3 2027"),
        invalid_message=_l("The date your public liability insurance ends must be a real date"),
        validators=[Optional()])
    dbs_checked_on = GovDateField(
        _l("Sole traders: date of your DBS check"),
        description=_l("The date on your Disclosure and Barring Service certificate. For example, 14 6 2024"),
        invalid_message=_l("The date of your DBS check must be a real date"),
        validators=[Optional()])
    submit = SubmitField(_l("Send to the council for checking"), widget=GovSubmitInput())

    def __init__(self, *args, today: date | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.today = today or date.today()

    # Each rule that depends on another answer lives here, after the fields' own checks have run.
    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        kind = self.kind.data
        for check in (self._check_charity_number, self._check_company_number, self._check_registration,
                      self._check_insurance, self._check_dbs):
            message_field = check(kind)
            if message_field is not None:
                field, message = message_field
                field.errors.append(message)
                valid = False
        return valid

    def _check_charity_number(self, kind):
        value = normalise_reference(self.charity_number.data)
        if not value:
            if kind == OrganisationKind.CHARITY.value:
                return self.charity_number, _("Enter the charity number")
            return None
        if not CHARITY_NUMBER.fullmatch(value):
            return self.charity_number, _(
                "Enter a charity number in the correct format, like 1234567, SC012345 or NIC101234")
        return None

    def _check_company_number(self, kind):
        value = normalise_reference(self.company_number.data)
        if not value:
            if kind == OrganisationKind.COMPANY.value:
                return self.company_number, _("Enter the company number")
            return None
        if not COMPANY_NUMBER.fullmatch(value):
            return self.company_number, _(
                "Company number must be 8 characters, like 01234567 or SC123456")
        return None

    def _check_registration(self, kind):
        regulator = RegulatorBody(self.regulator.data) if self.regulator.data else None
        if regulator is None:
            return None
        if not self.registration_id.data:
            return self.registration_id, _("Enter the registration ID")
        if len(self.registration_id.data) > 50:
            return self.registration_id, _("Registration ID must be 50 characters or fewer")
        rating = self.registration_rating.data
        if rating and rating not in ratings_for(regulator):
            if regulator is RegulatorBody.CQC:
                return self.registration_rating, _(
                    "Select a rating the CQC gives: Outstanding, Good, Requires improvement or Inadequate")
            return self.registration_rating, _(
                "Select a rating Ofsted gives: Outstanding, Good, Requires improvement to be good or Inadequate")
        return None

    def _check_insurance(self, kind):
        field = self.insurance_expires_on
        if field.errors:
            return None
        if field.data is None:
            # Public bodies usually insure themselves; everyone else must show cover.
            if kind and kind != OrganisationKind.PUBLIC_BODY.value:
                return field, _("Enter the date your public liability insurance ends")
            return None
        if field.data <= self.today:
            return field, _("The date your public liability insurance ends must be in the future")
        return None

    def _check_dbs(self, kind):
        field = self.dbs_checked_on
        if kind != OrganisationKind.SOLE_TRADER.value or field.errors:
            return None
        if field.data is None:
            return field, _("Enter the date of your DBS check")
        if field.data > self.today:
            return field, _("The date of your DBS check must be today or in the past")
        if field.data < years_before(self.today, DBS_VALID_YEARS):
            return field, _("Your DBS check must be from the last %(years)d years", years=DBS_VALID_YEARS)
        return None

    def details(self) -> OrganisationDetails:
        return OrganisationDetails(
            name=self.name.data,
            kind=OrganisationKind(self.kind.data),
            description=self.description.data or "",
            website=self.website.data,
            email=self.email.data,
            phone=self.phone.data,
            charity_number=self.charity_number.data,
            company_number=self.company_number.data,
            regulator=RegulatorBody(self.regulator.data) if self.regulator.data else None,
            registration_id=self.registration_id.data,
            registration_rating=self.registration_rating.data or None,
            insurance_expires_on=self.insurance_expires_on.data,
            dbs_checked_on=self.dbs_checked_on.data,
        )

    @classmethod
    def for_organisation(cls, organisation, **kwargs) -> OrganisationForm:
        """The form filled in with the organisation's saved details (a GET of the edit page)."""
        data = {
            "name": organisation.name,
            "kind": organisation.kind.value if organisation.kind else None,
            "description": organisation.description,
            "website": organisation.website,
            "email": organisation.email,
            "phone": organisation.phone,
            "charity_number": organisation.charity_number,
            "company_number": organisation.company_number,
            "regulator": organisation.regulator.value if organisation.regulator else "",
            "registration_id": organisation.registration_id,
            "registration_rating": organisation.registration_rating or "",
            "insurance_expires_on": organisation.insurance_expires_on,
            "dbs_checked_on": organisation.dbs_checked_on,
        }
        return cls(data=data, **kwargs)


class FindOrganisationForm(FlaskForm):
    """A GET search form: no CSRF token, so the results page can be bookmarked."""

    class Meta:
        csrf = False

    q = StringField(_l("Organisation name"), widget=GovTextInput(), filters=[_strip],
                    validators=[DataRequired(message=_l("Enter the name of the organisation"))])
    submit = SubmitField(_l("Search"), widget=GovSubmitInput())


class JoinRequestForm(FlaskForm):
    message = TextAreaField(
        _l("Message to the organisation's owners"), widget=GovTextArea(), filters=[_strip],
        description=_l("Say who you are and what you do there, so they know it is you."),
        validators=[DataRequired(message=_l("Enter a message to the organisation's owners")),
                    Length(max=2000, message=_l("Message must be 2000 characters or fewer"))])
    submit = SubmitField(_l("Send request"), widget=GovSubmitInput())


MEMBERSHIP_ROLE_CHOICES = [
    SelectChoice(MembershipRole.EDITOR.value, _l("Editor: can update listings")),
    SelectChoice(MembershipRole.OWNER.value, _l("Owner: can also change the organisation's details and its members")),
]


class InviteForm(FlaskForm):
    email = StringField(_l("Email address"), widget=GovTextInput(), filters=[_strip], validators=[
        DataRequired(message=_l("Enter the email address of the person you want to invite")),
        Length(max=320, message=_l("Email address must be 320 characters or fewer")),
        Email(message=_l("Enter an email address in the correct format, like name@example.com")),
    ])
    role = RadioField(_l("What can they do?"), widget=GovRadioInput(), choices=MEMBERSHIP_ROLE_CHOICES,
                      invalid_choice_message=_l("Select what they can do"))
    submit = SubmitField(_l("Send invitation"), widget=GovSubmitInput())


class MemberRoleForm(FlaskForm):
    role = RadioField(_l("What can they do?"), widget=GovRadioInput(), choices=MEMBERSHIP_ROLE_CHOICES,
                      invalid_choice_message=_l("Select what they can do"))
    submit = SubmitField(_l("Save role"), widget=GovSubmitInput())


class ConfirmForm(FlaskForm):
    """A button that changes something: carries the CSRF token and nothing else."""

    submit = SubmitField(_l("Continue"), widget=GovSubmitInput())


class JoinDecisionForm(FlaskForm):
    approve = SubmitField(_l("Let them join"), widget=GovSubmitInput())
    reject = SubmitField(_l("Turn down"), widget=GovSubmitInput())


class CouncilReasonForm(FlaskForm):
    """A rejection or suspension: the owners are told the reason, so it is required."""

    reason = TextAreaField(_l("Reason"), widget=GovTextArea(), filters=[_strip],
                           validators=[DataRequired(message=_l("Enter the reason")),
                                       Length(max=2000, message=_l("Reason must be 2000 characters or fewer"))])
    submit = SubmitField(_l("Continue"), widget=GovSubmitInput())


class RejectProviderForm(CouncilReasonForm):
    reason = TextAreaField(
        _l("Reason for not approving"), widget=GovTextArea(), filters=[_strip],
        description=_l("The owners see this. Say what they need to do."),
        validators=[DataRequired(message=_l("Enter the reason for not approving the provider")),
                    Length(max=2000, message=_l("Reason must be 2000 characters or fewer"))])
    submit = SubmitField(_l("Do not approve"), widget=GovSubmitInput())


class SuspendProviderForm(CouncilReasonForm):
    reason = TextAreaField(
        _l("Reason for suspending"), widget=GovTextArea(), filters=[_strip],
        description=_l("The owners see this. Their listings leave the directory straight away."),
        validators=[DataRequired(message=_l("Enter the reason for suspending the provider")),
                    Length(max=2000, message=_l("Reason must be 2000 characters or fewer"))])
    submit = SubmitField(_l("Suspend provider"), widget=GovSubmitInput())
