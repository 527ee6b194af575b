"""Forms for the council's direct-payment pages, in GOV.UK wording. Money is typed in pounds and kept in pence
(parsed with Decimal, never floats)."""

from __future__ import annotations

import uuid

from flask_babel import _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSubmitInput, GovTextArea, GovTextInput
from wtforms import HiddenField, RadioField, SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional, StopValidation, ValidationError

from portal.data import budget_periods, drafts
from portal.data.dp_accounts import Person, Plan, approved_providers
from portal.i18n import localised
from portal.provider.listing_forms import NotPounds, pence_to_pounds, pounds_to_pence
from portal.provider.organisation_forms import GovDateField


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class Pounds:
    """An amount in pounds and pence, like 480 or 480.50; ``required`` says what to write when it is blank."""

    def __init__(self, *, required, invalid, maximum_pence: int = 100_000_000, too_big=None) -> None:
        self.required, self.invalid = required, invalid
        self.maximum_pence, self.too_big = maximum_pence, too_big

    def __call__(self, form, field) -> None:
        if not field.data:
            raise ValidationError(str(self.required))
        try:
            pence = pounds_to_pence(field.data)
        except NotPounds:
            raise ValidationError(str(self.invalid)) from None
        if pence > self.maximum_pence:
            raise ValidationError(str(self.too_big or self.invalid))
        field.pence = pence


def _pounds_field(label, *, description=None, required, invalid, **kwargs) -> StringField:
    return StringField(label, widget=GovTextInput(), description=description, filters=[_strip],
                       validators=[Pounds(required=required, invalid=invalid, **kwargs)])


def _date_given(form, field) -> None:
    # Not DataRequired: it would replace "must be a real date" (a date that does not exist) with "Enter".
    if field.data is None and not field.process_errors:
        raise StopValidation(_("Enter the start date"))


PROVIDER_CHOICES = [
    SelectChoice("any", _l("Any approved provider")),
    SelectChoice("listed", _l("Only the providers chosen below")),
]


class PlanForm(FlaskForm):
    """The care-and-support plan. ``configure()`` fills the category and provider choices."""

    categories = SelectMultipleField(_l("What may the direct payment be spent on?"), choices=[],
                                     validate_choice=False)
    provider_choice = RadioField(_l("Which providers may the holder buy from?"), widget=GovRadioInput(),
                                 choices=PROVIDER_CHOICES, default="any",
                                 invalid_choice_message=_l("Select which providers the holder may buy from"))
    providers = SelectMultipleField(_l("Approved providers"), choices=[], validate_choice=False)
    budget = _pounds_field(
        _l("Budget for each 4-week period"), description=_l("In pounds, for example 480 or 480.50."),
        required=_l("Enter the budget for each 4-week period"),
        invalid=_l("Budget must be an amount of money, like 480 or 480.50"))
    contribution = _pounds_field(
        _l("Client contribution for each 4-week period"),
        description=_l("What the person pays in themselves. Enter 0 if they pay nothing."),
        required=_l("Enter the client contribution, or 0 if they pay nothing"),
        invalid=_l("Client contribution must be an amount of money, like 40 or 0"))
    contingency = _pounds_field(
        _l("Contingency"),
        description=_l("Money left in the account when the surplus is returned to the council at the end of each "
                       "period. Enter 0 to return all of it."),
        required=_l("Enter the contingency, or 0 for none"),
        invalid=_l("Contingency must be an amount of money, like 50 or 0"))
    start_date = GovDateField(_l("Start date"), description=_l("For example, 2 11 2026. Each 4-week period starts "
                                                               "on this day of the week."),
                              invalid_message=_l("Start date must be a real date"),
                              validators=[_date_given])
    notes = TextAreaField(_l("Notes for the direct payments team (optional)"), widget=GovTextArea(),
                          description=_l("Never shown to the holder."), filters=[_strip],
                          validators=[Length(max=5000, message=_l("Notes must be 5000 characters or fewer"))])
    submit = SubmitField(_l("Save plan"), widget=GovSubmitInput())

    groups: list = []
    term_ids: dict = {}

    def configure(self) -> None:
        groups = drafts.category_groups()
        self.term_ids = {term.slug: term.id for root, below in groups for term in (root, *below)}
        self.groups = [
            (localised(root, "name"), [(term.slug, localised(term, "name")) for term in (root, *below)])
            for root, below in groups
        ]
        self.categories.choices = [choice for _, items in self.groups for choice in items]
        self.providers.choices = [(str(organisation.id), organisation.name) for organisation in approved_providers()]

    def _ids(self, values, choices) -> list[uuid.UUID]:
        known = {value for value, _ in choices}
        return [uuid.UUID(value) for value in values or [] if value in known]

    def _term_ids(self) -> list[uuid.UUID]:
        return [self.term_ids[slug] for slug in self.categories.data or [] if slug in self.term_ids]

    def validate_categories(self, field) -> None:
        if not self._term_ids():
            raise ValidationError(_("Select what the direct payment may be spent on"))

    def validate_providers(self, field) -> None:
        if self.provider_choice.data == "listed" and not self._ids(field.data, field.choices):
            raise ValidationError(_("Select the approved providers the holder may buy from"))

    def load(self, dp_account) -> None:
        self.categories.data = [term.slug for term in dp_account.categories]
        self.provider_choice.data = "any" if dp_account.allow_any_provider else "listed"
        self.providers.data = [str(organisation.id) for organisation in dp_account.providers]
        self.budget.data = pence_to_pounds(dp_account.period_budget_pence)
        self.contribution.data = pence_to_pounds(dp_account.client_contribution_pence)
        self.contingency.data = pence_to_pounds(dp_account.contingency_pence)
        self.start_date.data = dp_account.start_date
        self.notes.data = dp_account.notes

    def plan(self) -> Plan:
        listed = self.provider_choice.data == "listed"
        return Plan(
            period_budget_pence=self.budget.pence,
            client_contribution_pence=self.contribution.pence,
            contingency_pence=self.contingency.pence,
            start_date=self.start_date.data,
            category_ids=self._term_ids(),
            allow_any_provider=not listed,
            provider_ids=self._ids(self.providers.data, self.providers.choices) if listed else [],
            notes=self.notes.data or "",
        )


def _email(label, required) -> StringField:
    return StringField(label, widget=GovTextInput(), filters=[_strip], validators=[
        DataRequired(message=required) if required else Optional(),
        Length(max=320, message=_l("Email address must be 320 characters or fewer")),
        Email(message=_l("Enter an email address in the correct format, like name@example.com")),
    ])


class OpenAccountForm(PlanForm):
    holder_name = StringField(_l("Full name of the person receiving the direct payment"), widget=GovTextInput(),
                              filters=[_strip], validators=[
                                  DataRequired(message=_l("Enter the full name of the person receiving the direct "
                                                          "payment")),
                                  Length(max=255, message=_l("Name must be 255 characters or fewer"))])
    holder_email = _email(_l("Their email address"), _l("Enter their email address"))
    nominee_name = StringField(_l("Nominated person's full name (optional)"), widget=GovTextInput(),
                               description=_l("Someone who manages the direct payment for them, such as a family "
                                              "member."), filters=[_strip],
                               validators=[Length(max=255, message=_l("Name must be 255 characters or fewer"))])
    nominee_email = _email(_l("Nominated person's email address (optional)"), None)
    submit = SubmitField(_l("Open account"), widget=GovSubmitInput())

    def validate_nominee_email(self, field) -> None:
        if bool(field.data) != bool(self.nominee_name.data):
            raise ValidationError(_("Enter both the nominated person's name and email address, or neither"))

    def holder(self) -> Person:
        return Person(name=self.holder_name.data, email=self.holder_email.data)

    def nominee(self) -> Person | None:
        return Person(name=self.nominee_name.data, email=self.nominee_email.data) if self.nominee_email.data else None


class TopUpForm(FlaskForm):
    token = HiddenField()
    amount = _pounds_field(_l("How much is the top-up?"), description=_l("In pounds, for example 120 or 75.50."),
                           required=_l("Enter the amount of the top-up"),
                           invalid=_l("Amount must be an amount of money, like 120 or 75.50"),
                           maximum_pence=budget_periods.TOP_UP_MAX_PENCE,
                           too_big=_l("A top-up must be £10,000 or less. Change the plan for more"))
    reason = TextAreaField(_l("Why is the top-up needed?"), widget=GovTextArea(), filters=[_strip],
                           description=_l("The holder's statement and the audit trail show this."),
                           validators=[DataRequired(message=_l("Enter why the top-up is needed")),
                                       Length(max=500, message=_l("Reason must be 500 characters or fewer"))])
    submit = SubmitField(_l("Continue"), widget=GovSubmitInput())

    def validate_amount(self, field) -> None:
        if getattr(field, "pence", 1) == 0:
            raise ValidationError(_("Amount must be more than £0"))


class ConfirmTopUpForm(FlaskForm):
    token = HiddenField(validators=[DataRequired()])
    submit = SubmitField(_l("Add top-up"), widget=GovSubmitInput())


class ContributionForm(FlaskForm):
    period = RadioField(_l("Which period is the contribution for?"), widget=GovRadioInput(), choices=[],
                        invalid_choice_message=_l("Select the period the contribution is for"))
    submit = SubmitField(_l("Record contribution"), widget=GovSubmitInput())


class StatusForm(FlaskForm):
    """Suspend, reopen or close: one button, the CSRF token, and for suspending an optional reason."""

    reason = TextAreaField(_l("Reason (optional)"), widget=GovTextArea(), filters=[_strip],
                           validators=[Length(max=500, message=_l("Reason must be 500 characters or fewer"))])
    submit = SubmitField(_l("Continue"), widget=GovSubmitInput())
