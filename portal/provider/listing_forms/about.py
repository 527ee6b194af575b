"""About the service: name, summary, description (limited rich text) and status."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from govuk_frontend_wtf.wtforms_widgets import GovCharacterCount, GovRadioInput, GovTextArea, GovTextInput
from wtforms import RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from portal.data.drafts import SUMMARY_MAX
from portal.models import ServiceStatus
from portal.provider.listing_forms import SafeLinks, SectionForm, strip

STATUS_CHOICES = [
    (ServiceStatus.ACTIVE.value, _l("Running")),
    (ServiceStatus.TEMPORARILY_CLOSED.value, _l("Temporarily closed")),
    (ServiceStatus.INACTIVE.value, _l("Not running at the moment")),
    (ServiceStatus.DEFUNCT.value, _l("Closed for good")),
]


class AboutForm(SectionForm):
    section = "about"

    name = StringField(
        _l("Service name"),
        widget=GovTextInput(),
        filters=[strip],
        validators=[
            DataRequired(message=_l("Enter the name of the service")),
            Length(max=255, message=_l("Service name must be 255 characters or fewer")),
        ],
    )
    summary = TextAreaField(
        _l("Short summary"),
        widget=GovCharacterCount(),
        description=_l("One or two sentences shown in search results."),
        filters=[strip],
        validators=[
            DataRequired(message=_l("Enter a short summary")),
            Length(max=SUMMARY_MAX, message=_l("Summary must be 200 characters or fewer")),
        ],
    )
    description = TextAreaField(
        _l("Description"),
        widget=GovTextArea(),
        description=_l(
            "What the service does and what to expect, in at least 50 words. Leave a blank line between "
            "paragraphs. You can use **bold**, *italic*, lists starting with - and links like "
            "[our website](https://www.example.org)."
        ),
        filters=[strip],
        validators=[SafeLinks()],
    )
    status = RadioField(
        _l("Is the service running?"),
        widget=GovRadioInput(),
        choices=STATUS_CHOICES,
        default=ServiceStatus.ACTIVE.value,
        validators=[InputRequired(message=_l("Select whether the service is running"))],
    )

    def load(self, data: dict) -> None:
        self.name.data = data.get("name") or ""
        self.summary.data = data.get("summary") or ""
        self.description.data = data.get("description") or ""
        self.status.data = data.get("status") or ServiceStatus.ACTIVE.value

    def values(self) -> dict:
        return {
            "name": self.name.data,
            "summary": self.summary.data,
            "description": self.description.data or "",
            "status": self.status.data,
        }
