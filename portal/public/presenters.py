"""Turning directory records into plain-English text for the public pages.

Pure functions: anything that depends on the reader's language takes it as an argument, so they can be
tested without a request. Strings go through Flask-Babel's gettext, which falls back to English outside a
request.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from urllib.parse import urlsplit

import babel
from babel.dates import format_time, get_day_names
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.models import CostOption, CostUnit, Location, Schedule, Service, Weekday

# --- who it is for ----------------------------------------------------------------------------------------


def age_range(minimum: int | None, maximum: int | None) -> str:
    """"From 5 to 11 years", "18 and over", "Up to 11 years" or "All ages"."""
    minimum = minimum or None  # 0 means no lower limit
    if minimum is None and maximum is None:
        return _("All ages")
    if minimum is None:
        return _("Up to %(maximum)s years", maximum=maximum)
    if maximum is None:
        return _("%(minimum)s and over", minimum=minimum)
    return _("From %(minimum)s to %(maximum)s years", minimum=minimum, maximum=maximum)


# --- text -------------------------------------------------------------------------------------------------

_BLANK_LINES = re.compile(r"\n\s*\n")


def paragraphs(text: str | None) -> list[list[str]]:
    """Plain text as paragraphs (split on blank lines), each a list of its lines. The template escapes
    every line: provider text is never trusted as HTML."""
    if not text:
        return []
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    result = []
    for block in _BLANK_LINES.split(text.strip()):
        lines = [line.strip() for line in block.split("\n") if line.strip()]
        if lines:
            result.append(lines)
    return result


# --- links ------------------------------------------------------------------------------------------------


def web_href(url: str | None) -> str | None:
    """A link target for a website address, or None when it is not a plain http(s) address (a
    ``javascript:`` or ``data:`` URL must never become a link). A bare "www.example.org" gets https://."""
    if not url:
        return None
    url = url.strip()
    if any(character.isspace() for character in url):
        return None
    if "://" not in url and not url.lower().startswith(("http:", "https:")):
        if ":" in url.split("/")[0]:  # some other scheme, like mailto: or javascript:
            return None
        url = "https://" + url
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url


def tel_href(number: str) -> str:
    """A tel: link for a phone number as people write it ("01632 960 000" -> "tel:01632960000")."""
    return "tel:" + re.sub(r"[^0-9+]", "", number)


def display_url(url: str) -> str:
    """A website address as people read it: without the scheme or a trailing slash."""
    return re.sub(r"^https?://", "", url, flags=re.IGNORECASE).rstrip("/")


# --- languages --------------------------------------------------------------------------------------------

# Codes Babel has no name for: sign languages are written in several ways in imported data.
_LANGUAGE_FALLBACKS = {
    "sgn-gb": _l("British Sign Language"),
    "bfi": _l("British Sign Language"),
    "bsl": _l("British Sign Language"),
    "sgn": _l("Sign language"),
    "sgn-ie": _l("Irish Sign Language"),
    "isg": _l("Irish Sign Language"),
}


def language_name(code: str, language: str) -> str:
    """The name of language ``code`` (BCP 47) in the reader's ``language``; the code itself if unknown."""
    normalised = code.strip().replace("_", "-").lower()
    if normalised in _LANGUAGE_FALLBACKS:
        return str(_LANGUAGE_FALLBACKS[normalised])
    names = babel.Locale.parse(language).languages
    parts = normalised.split("-")
    # Babel's keys look like "en_GB" and "zh_Hant": region codes upper case, scripts title case.
    subtags = [part.upper() if len(part) == 2 else part.title() for part in parts[1:]]
    candidates = ["_".join([parts[0], *subtags]), parts[0]]
    for candidate in candidates:
        name = names.get(candidate)
        if name:
            return name
    return code


# --- when -------------------------------------------------------------------------------------------------

_DAY_INDEX = {Weekday.MO: 0, Weekday.TU: 1, Weekday.WE: 2, Weekday.TH: 3, Weekday.FR: 4, Weekday.SA: 5,
              Weekday.SU: 6}


@dataclass
class OpeningDay:
    day: str
    times: list[str] = field(default_factory=list)


def _times_text(opens: time | None, closes: time | None, language: str) -> str:
    if opens and closes:
        return _("%(opens)s to %(closes)s", opens=format_time(opens, "short", locale=language),
                 closes=format_time(closes, "short", locale=language))
    if opens:
        return _("From %(opens)s", opens=format_time(opens, "short", locale=language))
    if closes:
        return _("Until %(closes)s", closes=format_time(closes, "short", locale=language))
    return ""


def opening_days(schedules: Iterable[Schedule], language: str) -> list[OpeningDay]:
    """The weekly schedule by day, Monday first, day names in the reader's language; several openings on one
    day (morning and afternoon) share the day's row."""
    names = get_day_names("wide", locale=language)
    by_day: dict[int, OpeningDay] = {}
    for schedule in sorted(schedules, key=lambda s: (_DAY_INDEX[s.byday], s.opens_at or time.min)):
        index = _DAY_INDEX[schedule.byday]
        day = by_day.setdefault(index, OpeningDay(day=names[index]))
        text = _times_text(schedule.opens_at, schedule.closes_at, language)
        if schedule.notes:
            text = _("%(times)s (%(note)s)", times=text, note=schedule.notes) if text else schedule.notes
        if text:
            day.times.append(text)
    return [by_day[index] for index in sorted(by_day)]


# --- cost -------------------------------------------------------------------------------------------------

_COST_PER_UNIT = {
    CostUnit.HOUR: _l("%(amount)s per hour"),
    CostUnit.SESSION: _l("%(amount)s per session"),
    CostUnit.DAY: _l("%(amount)s per day"),
    CostUnit.WEEK: _l("%(amount)s per week"),
    CostUnit.MONTH: _l("%(amount)s per month"),
    CostUnit.ITEM: _l("%(amount)s each"),
    CostUnit.ONE_OFF: _l("%(amount)s (one-off payment)"),
}


def cost_text(option: CostOption, money: Callable[[int], str]) -> str:
    """One cost option: "£18.50 per hour", with its name when it has one ("Weekend: £20.00 per day")."""
    if option.amount_pence is None:
        price = option.amount_description
    else:
        amount = money(option.amount_pence)
        price = str(_COST_PER_UNIT[option.unit]) % {"amount": amount} if option.unit else amount
        if option.amount_description:
            price = _("%(price)s. %(details)s", price=price, details=option.amount_description)
    if option.option and price:
        return _("%(option)s: %(price)s", option=option.option, price=price)
    return option.option or price


# --- where ------------------------------------------------------------------------------------------------


def address_lines(location: Location) -> list[str]:
    """The address to show: everything for an ordinary place, only the outward code of the postcode for
    one whose exact address is hidden (refuges, carers' homes)."""
    if location.hide_exact_address:
        return [location.outward_code] if location.outward_code else []
    lines: list[str] = []
    for line in (location.address_1, location.address_2, location.city, location.state_province,
                 location.postcode):
        # Imported addresses often repeat the town as the county: say it once.
        if line and line.strip().lower() not in (seen.lower() for seen in lines):
            lines.append(line.strip())
    return lines


def area_names(service: Service, language: str) -> list[str]:
    """The areas a service covers: our localities (in the reader's language) or the area as described."""
    names: list[str] = []
    for area in service.service_areas:
        if area.locality is not None:
            name = area.locality.name_cy if language == "cy" and area.locality.name_cy else area.locality.name
        else:
            name = area.name
        if name and name not in names:
            names.append(name)
    return names


def place_labels(service: Service, language: str) -> list[str]:
    """Where a service is, briefly, for lists: its localities then the outward codes of its places. Never
    a full postcode: lists show every service, including those whose exact address is hidden."""
    labels = area_names(service, language)
    for link in service.locations_at:
        code = link.location.outward_code
        if code and code not in labels:
            labels.append(code)
    return labels


# --- freshness --------------------------------------------------------------------------------------------


def last_checked(service: Service) -> date | datetime | None:
    return service.last_checked_at or service.assured_date


def is_out_of_date(checked: date | datetime | None, today: date) -> bool:
    """True when the listing was last checked over a year before ``today``."""
    if checked is None:
        return False
    checked_day = checked.date() if isinstance(checked, datetime) else checked
    try:
        a_year_ago = today.replace(year=today.year - 1)
    except ValueError:  # 29 February
        a_year_ago = today.replace(year=today.year - 1, day=28)
    return checked_day < a_year_ago


# --- pagination -------------------------------------------------------------------------------------------


def pagination(page: int, pages: int, href_for: Callable[[int], str]) -> dict | None:
    """Parameters for GOV.UK Frontend's pagination: first, last and the pages either side of the current one,
    with ellipses between; None when everything fits on one page. Every text is ours, so it is translated."""
    if pages <= 1:
        return None
    shown = sorted({1, pages, page - 1, page, page + 1} & set(range(1, pages + 1)))
    items: list[dict] = []
    previous_number = 0
    for number in shown:
        if number - previous_number > 1:
            items.append({"ellipsis": True})
        items.append({
            "number": number,
            "href": href_for(number),
            "current": number == page,
            "visuallyHiddenText": _("Page %(number)s", number=number),
        })
        previous_number = number
    params: dict = {"items": items, "landmarkLabel": _("Pages of results")}
    if page > 1:
        params["previous"] = {"href": href_for(page - 1), "text": _("Previous page")}
    if page < pages:
        params["next"] = {"href": href_for(page + 1), "text": _("Next page")}
    return params
