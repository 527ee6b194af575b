"""Forms on the public directory pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovTextInput
from wtforms import StringField
from wtforms.validators import Length, Optional, Regexp

# A full UK postcode or just its outward code ("AM1 1AA", "am11aa", "AM1"): people often type only half.
UK_POSTCODE = r"^\s*[A-Za-z]{1,2}[0-9][A-Za-z0-9]?(\s*[0-9][A-Za-z]{2})?\s*$"


class SearchForm(FlaskForm):
    """The directory search: a bookmarkable GET form, so it carries no CSRF token."""

    class Meta:
        csrf = False

    q = StringField(
        _l("Search for care and support"),
        description=_l("For example, home care, carers' support or autism"),
        widget=GovTextInput(),
        validators=[Optional(), Length(max=200, message=_l("Search words must be 200 characters or fewer"))],
        filters=[lambda value: " ".join(value.split()) if value else ""],
    )
    postcode = StringField(
        _l("Postcode (optional)"),
        widget=GovTextInput(),
        validators=[Optional(), Regexp(UK_POSTCODE, message=_l("Enter a real postcode, like AM1 1AA"))],
        filters=[lambda value: " ".join(value.upper().split()) if value else ""],
    )
