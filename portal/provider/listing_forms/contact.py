"""Contact details: website, email address, and named contacts with a phone number each."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxInput, GovSubmitInput, GovTextInput
from wtforms import BooleanField, FieldList, Form, FormField, HiddenField, StringField, SubmitField
from wtforms.validators import Email, Length, Optional

from portal.provider.listing_forms import SectionForm, WebAddress, blank_to_none, reset_rows, strip

_EMAIL_MESSAGE = _l("Enter an email address in the correct format, like name@example.com")


class ContactRow(Form):
    name = StringField(_l("Name (optional)"), widget=GovTextInput(), filters=[strip])
    title = StringField(_l("Job title or team (optional)"), widget=GovTextInput(), filters=[strip])
    email = StringField(_l("Email address (optional)"), widget=GovTextInput(), filters=[blank_to_none],
                        validators=[Optional(), Email(message=_EMAIL_MESSAGE)])
    phone = StringField(_l("Phone number (optional)"), widget=GovTextInput(), filters=[strip],
                        validators=[Length(max=50, message=_l("Phone number must be 50 characters or fewer"))])
    extension = StringField(_l("Extension (optional)"), widget=GovTextInput(), filters=[strip],
                            validators=[Length(max=20, message=_l("Extension must be 20 characters or fewer"))])
    phone_description = HiddenField(filters=[strip])
    remove = BooleanField(_l("Remove this contact"), widget=GovCheckboxInput())

    def is_blank(self) -> bool:
        return not (self.name.data or self.title.data or self.email.data or self.phone.data)


class ContactForm(SectionForm):
    section = "contact"

    url = StringField(
        _l("Website (optional)"),
        widget=GovTextInput(),
        description=_l("Start with https://, like https://www.example.org"),
        filters=[blank_to_none],
        validators=[WebAddress()],
    )
    email = StringField(
        _l("Email address (optional)"),
        widget=GovTextInput(),
        filters=[blank_to_none],
        validators=[Optional(), Email(message=_EMAIL_MESSAGE)],
    )
    contacts = FieldList(FormField(ContactRow))
    add_row = SubmitField(_l("Add another contact"), widget=GovSubmitInput())

    def add_row_requested(self) -> bool:
        return bool(self.add_row.data)

    def load(self, data: dict) -> None:
        self.url.data = data.get("url") or ""
        self.email.data = data.get("email") or ""
        rows = []
        # One row per phone number: a contact with two numbers shows as two rows with the same name.
        for contact in data.get("contacts") or []:
            person = {"name": contact.get("name") or "", "title": contact.get("title") or "",
                      "email": contact.get("email") or ""}
            phones = contact.get("phones") or [{}]
            for phone in phones:
                rows.append({**person, "phone": phone.get("number") or "", "extension": phone.get("extension") or "",
                             "phone_description": phone.get("description") or ""})
        reset_rows(self.contacts, rows)

    def values(self) -> dict:
        contacts = []
        for row in (entry.form for entry in self.contacts):
            if row.remove.data or row.is_blank():
                continue
            phones = []
            if row.phone.data:
                phones = [{"number": row.phone.data, "extension": row.extension.data or "",
                           "description": row.phone_description.data or ""}]
            contacts.append({"name": row.name.data or "", "title": row.title.data or "", "email": row.email.data,
                             "phones": phones})
        return {"url": self.url.data, "email": self.email.data, "contacts": contacts}
