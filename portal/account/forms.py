"""Account forms, in GOV.UK wording."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovSubmitInput, GovTextInput
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from portal import passwords


def _email_field(label=None) -> StringField:
    return StringField(
        label or _l("Email address"),
        widget=GovTextInput(),
        filters=[lambda value: value.strip() if value else value],
        validators=[
            DataRequired(message=_l("Enter your email address")),
            Length(max=320, message=_l("Email address must be 320 characters or fewer")),
            Email(message=_l("Enter an email address in the correct format, like name@example.com")),
        ],
    )


class FollowsPasswordRules:
    """The NCSC-style rules in portal.passwords, checked against the email in ``email_field`` or ``email``."""

    def __init__(self, email_field: str | None = "email") -> None:
        self.email_field = email_field

    def __call__(self, form, field) -> None:
        email = None
        if self.email_field and self.email_field in form:
            email = form[self.email_field].data
        email = email or getattr(form, "known_email", None)
        try:
            passwords.check_password_rules(field.data or "", email=email)
        except passwords.PasswordRuleError as error:
            raise ValidationError(str(error.message)) from None


def _new_password_fields(
    label=None, email_field: str | None = "email"
) -> tuple[PasswordField, PasswordField]:
    password = PasswordField(
        label or _l("Create a password"),
        widget=GovPasswordInput(),
        description=_l(
            "Must be at least 12 characters. A few unrelated words together are easy to remember "
            "and hard to guess."
        ),
        validators=[DataRequired(message=_l("Enter a password")), FollowsPasswordRules(email_field)],
    )
    confirm = PasswordField(
        _l("Confirm your password"),
        widget=GovPasswordInput(),
        validators=[
            DataRequired(message=_l("Confirm your password")),
            EqualTo("password", message=_l("The passwords do not match. Enter the same password twice")),
        ],
    )
    return password, confirm


class SignInForm(FlaskForm):
    email = _email_field()
    password = PasswordField(
        _l("Password"),
        widget=GovPasswordInput(),
        validators=[DataRequired(message=_l("Enter your password"))],
    )
    submit = SubmitField(_l("Sign in"), widget=GovSubmitInput())


class SignUpForm(FlaskForm):
    name = StringField(
        _l("Your full name"),
        widget=GovTextInput(),
        filters=[lambda value: value.strip() if value else value],
        validators=[
            DataRequired(message=_l("Enter your full name")),
            Length(max=255, message=_l("Your name must be 255 characters or fewer")),
        ],
    )
    email = _email_field()
    password, confirm_password = _new_password_fields()
    submit = SubmitField(_l("Create account"), widget=GovSubmitInput())


class EmailOnlyForm(FlaskForm):
    """Forgot password, and send the confirmation email again."""

    email = _email_field()
    submit = SubmitField(_l("Send email"), widget=GovSubmitInput())


class ResetPasswordForm(FlaskForm):
    password, confirm_password = _new_password_fields(_l("New password"), email_field=None)
    submit = SubmitField(_l("Save new password"), widget=GovSubmitInput())

    def __init__(self, *args, known_email: str | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.known_email = known_email


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"),
        widget=GovPasswordInput(),
        validators=[DataRequired(message=_l("Enter your current password"))],
    )
    password, confirm_password = _new_password_fields(_l("New password"), email_field=None)
    submit = SubmitField(_l("Save new password"), widget=GovSubmitInput())

    def __init__(self, *args, known_email: str | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.known_email = known_email
