"""Bank details for payouts (GOV.UK's bank details pattern) and the council's decision on them."""

from __future__ import annotations

from flask_babel import _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextArea, GovTextInput
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from portal.data import payout_details
from portal.data.payout_details import BankDetails


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class AccountName:
    def __call__(self, form, field):
        name = payout_details.normalise_account_name(field.data)
        if len(name) > payout_details.ACCOUNT_NAME_MAX:
            raise ValidationError(_("Name on the account must be 18 characters or fewer"))
        if not payout_details.BACS_CHARACTERS.fullmatch(name):
            raise ValidationError(_("Name on the account must only include letters a to z, numbers, spaces, "
                                    "full stops, hyphens, forward slashes and ampersands"))


class SortCode:
    def __call__(self, form, field):
        digits = payout_details.normalise_sort_code(field.data)
        if not digits.isdigit():
            raise ValidationError(_("Enter a valid sort code like 309430"))
        if len(digits) != 6:
            raise ValidationError(_("Sort code must be 6 digits long"))


class AccountNumber:
    def __call__(self, form, field):
        digits = payout_details.normalise_account_number(field.data)
        if not digits.isdigit():
            raise ValidationError(_("Enter a valid account number like 00733445"))
        if len(digits) != 8:
            raise ValidationError(_("Account number must be 8 digits long"))


class PayoutDetailsForm(FlaskForm):
    account_name = StringField(
        _l("Name on the account"), widget=GovTextInput(), filters=[_strip],
        description=_l("As it appears on your bank statements, up to 18 characters."),
        validators=[DataRequired(message=_l("Enter the name on the account")), AccountName()])
    sort_code = StringField(_l("Sort code"), widget=GovTextInput(), filters=[_strip],
                            description=_l("Must be 6 digits long"),
                            validators=[DataRequired(message=_l("Enter a sort code")), SortCode()])
    account_number = StringField(_l("Account number"), widget=GovTextInput(), filters=[_strip],
                                 description=_l("Must be 8 digits long"),
                                 validators=[DataRequired(message=_l("Enter an account number")), AccountNumber()])
    submit = SubmitField(_l("Send to the council for checking"), widget=GovSubmitInput())

    def details(self) -> BankDetails:
        return BankDetails(account_name=self.account_name.data, sort_code=self.sort_code.data,
                           account_number=self.account_number.data)


class VerifyPayoutForm(FlaskForm):
    submit = SubmitField(_l("Verify bank details"), widget=GovSubmitInput())


class RejectPayoutForm(FlaskForm):
    note = TextAreaField(
        _l("Why are the bank details not accepted?"), widget=GovTextArea(), filters=[_strip],
        description=_l("The organisation’s owners see this. Say what they need to do."),
        validators=[DataRequired(message=_l("Enter why the bank details are not accepted")),
                    Length(max=2000, message=_l("Reason must be 2000 characters or fewer"))])
    submit = SubmitField(_l("Do not accept"), widget=GovSubmitInput())
