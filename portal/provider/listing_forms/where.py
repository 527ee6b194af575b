"""Where and when: how people use it, places (with checked postcodes), weekly opening times, areas served."""

from __future__ import annotations

import re

from babel.dates import get_day_names
from flask_babel import lazy_gettext as _l
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovCheckboxInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import ValidationError

from portal.data import drafts
from portal.i18n import current_language, localised
from portal.models import Weekday
from portal.provider.listing_forms import SectionForm, reset_rows, strip
from search.geo import normalise_postcode, resolve_place

ATTENDANCE = [("in_person", _l("In person")), ("online", _l("Online")), ("by_phone", _l("By phone"))]
_CLOCK = re.compile(r"^([01]?\d|2[0-3])[:.]?([0-5]\d)$")


def parse_clock(text: str) -> str | None:
    """"9:30", "09.30" or "0930" -> "09:30"; None when it is not a time of day."""
    match = _CLOCK.match((text or "").strip())
    return f"{int(match.group(1)):02d}:{match.group(2)}" if match else None


class PlaceRow(Form):
    id = HiddenField()
    name = StringField(_l("Name of the place (optional)"), widget=GovTextInput(), filters=[strip])
    address_1 = StringField(_l("Address line 1"), widget=GovTextInput(), filters=[strip])
    address_2 = StringField(_l("Address line 2 (optional)"), widget=GovTextInput(), filters=[strip])
    city = StringField(_l("Town or city"), widget=GovTextInput(), filters=[strip])
    postcode = StringField(_l("Postcode"), widget=GovTextInput(), filters=[strip])
    hide_exact_address = BooleanField(
        _l("Do not show the exact address (only the first part of the postcode is shown)"),
        widget=GovCheckboxInput(),
    )
    remove = BooleanField(_l("Remove this place"), widget=GovCheckboxInput())

    def is_blank(self) -> bool:
        return not (self.name.data or self.address_1.data or self.address_2.data or self.city.data
                    or self.postcode.data)

    def validate_address_1(self, field) -> None:
        if not self.remove.data and not self.is_blank() and not field.data:
            raise ValidationError(_l("Enter the first line of the address"))

    def validate_postcode(self, field) -> None:
        if self.remove.data or self.is_blank():
            return
        if not field.data:
            raise ValidationError(_l("Enter a postcode"))
        code = normalise_postcode(field.data)
        if code is None or " " not in code:
            raise ValidationError(_l("Enter a full UK postcode, like AM1 1AA"))


class OpeningRow(Form):
    byday = SelectField(_l("Day"), widget=GovSelect(), choices=[])
    opens_at = StringField(_l("Opens"), widget=GovTextInput(), filters=[strip])
    closes_at = StringField(_l("Closes"), widget=GovTextInput(), filters=[strip])
    notes = StringField(_l("Note (optional)"), widget=GovTextInput(), filters=[strip])
    remove = BooleanField(_l("Remove this opening time"), widget=GovCheckboxInput())

    def is_blank(self) -> bool:
        return not (self.opens_at.data or self.closes_at.data or self.notes.data)

    def _check_time(self, field) -> None:
        if self.remove.data or not field.data:
            return
        if parse_clock(field.data) is None:
            raise ValidationError(_l("Enter a time in the 24-hour clock, like 09:30 or 17:00"))

    def validate_opens_at(self, field) -> None:
        self._check_time(field)

    def validate_closes_at(self, field) -> None:
        self._check_time(field)
        opens, closes = parse_clock(self.opens_at.data), parse_clock(field.data or "")
        if not self.remove.data and opens and closes and opens >= closes:
            raise ValidationError(_l("Closing time must be after opening time"))


class WhereForm(SectionForm):
    section = "where"

    attendance = SelectMultipleField(
        _l("How can people use the service?"), widget=GovCheckboxesInput(), choices=ATTENDANCE,
        description=_l("Select all that apply."),
    )
    places = FieldList(FormField(PlaceRow))
    add_place = SubmitField(_l("Add another place"), widget=GovSubmitInput())
    openings = FieldList(FormField(OpeningRow))
    add_opening = SubmitField(_l("Add another opening time"), widget=GovSubmitInput())
    schedule_note = TextAreaField(
        _l("Term-time, holidays and other exceptions (optional)"),
        widget=GovTextArea(),
        description=_l("For example, term time only, or closed on bank holidays."),
        filters=[strip],
    )
    service_areas = SelectMultipleField(
        _l("Areas served (optional)"), widget=GovCheckboxesInput(), choices=[],
        description=_l("Select the areas where people can use the service. Leave empty for anywhere."),
    )
    known_places: dict = {}
    described_areas: list = []

    def _set_day_choices(self) -> None:
        days = get_day_names("wide", locale=current_language())
        for entry in self.openings:
            entry.form.byday.choices = [(day.value, days[index]) for index, day in enumerate(Weekday)]

    def configure(self, existing: dict | None = None) -> None:
        self._set_day_choices()
        self.service_areas.choices = [(row.slug, localised(row, "name")) for row in drafts.localities()]
        existing = existing or {}
        # Only places already in this draft may be referred to by id: a guessed id becomes a new place.
        self.known_places = {str(item["id"]): item for item in existing.get("locations") or [] if item.get("id")}
        self.described_areas = [area for area in existing.get("service_areas") or [] if not area.get("locality")]

    def add_row_requested(self) -> bool:
        if self.add_place.data:
            self.places.append_entry()
            return True
        if self.add_opening.data:
            self.openings.append_entry()
            self._set_day_choices()
            return True
        return False

    def validate_attendance(self, field) -> None:
        if not field.data:
            raise ValidationError(_l("Select how people can use the service"))

    def load(self, data: dict) -> None:
        self.attendance.data = [key for key, _ in ATTENDANCE if data.get(key)]
        reset_rows(self.places, [
            {name: item.get(name) or "" for name in ("id", "name", "address_1", "address_2", "city", "postcode")}
            | {"hide_exact_address": bool(item.get("hide_exact_address"))}
            for item in data.get("locations") or []
        ])
        schedules = data.get("schedules") or []
        rows = [{"byday": row["byday"], "opens_at": row.get("opens_at") or "", "closes_at": row.get("closes_at") or "",
                 "notes": row.get("notes") or ""} for row in schedules]
        # A new timetable starts with a row for each day of the week.
        reset_rows(self.openings, rows or [{"byday": day.value} for day in Weekday], blank=1 if rows else 0)
        self._set_day_choices()
        self.schedule_note.data = data.get("schedule_note") or ""
        self.service_areas.data = [area["locality"] for area in data.get("service_areas") or [] if area.get("locality")]

    def _place(self, row: PlaceRow) -> dict:
        postcode = normalise_postcode(row.postcode.data)
        known = self.known_places.get(row.id.data or "")
        latitude = longitude = None
        place = resolve_place(postcode)
        if place is not None and not place.is_outward_only:
            latitude, longitude = place.latitude, place.longitude
        elif known and known.get("postcode") == postcode:
            latitude, longitude = known.get("latitude"), known.get("longitude")
        item = {"id": row.id.data} if known else {}
        return item | {
            "name": row.name.data or "", "description": (known or {}).get("description", ""),
            "address_1": row.address_1.data or "", "address_2": row.address_2.data or "", "city": row.city.data or "",
            "postcode": postcode, "latitude": latitude, "longitude": longitude,
            "hide_exact_address": bool(row.hide_exact_address.data),
        }

    def values(self) -> dict:
        places = [self._place(entry.form) for entry in self.places
                  if not entry.form.remove.data and not entry.form.is_blank()]
        openings = [entry.form for entry in self.openings if not entry.form.remove.data and not entry.form.is_blank()]
        return {
            "in_person": "in_person" in self.attendance.data,
            "online": "online" in self.attendance.data,
            "by_phone": "by_phone" in self.attendance.data,
            "locations": places,
            "schedules": [
                {"byday": row.byday.data, "opens_at": parse_clock(row.opens_at.data or ""),
                 "closes_at": parse_clock(row.closes_at.data or ""), "notes": row.notes.data or ""}
                for row in sorted(openings, key=lambda r: [d.value for d in Weekday].index(r.byday.data))
            ],
            "schedule_note": self.schedule_note.data or "",
            "service_areas": [{"name": "", "locality": slug} for slug in self.service_areas.data or []]
            + self.described_areas,
        }
