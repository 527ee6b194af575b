"""Reading the API's query parameters: every bad value is a ``BadParameter`` (a 400 with a JSON body), never
a 500 further in. Parameters the API does not know are ignored, as HTTP APIs usually do."""

from __future__ import annotations

import math
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, time

from werkzeug.datastructures import MultiDict

from portal.models import Weekday

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 200
MAX_PAGE = 100_000
MAX_TEXT_LENGTH = 200
MAX_AGE = 150
MAX_PROXIMITY_METRES = 800_000  # ~500 miles: the whole of Great Britain from anywhere in it
METRES_PER_MILE = 1609.344
_DAY_NAMES = {
    "monday": Weekday.MO, "tuesday": Weekday.TU, "wednesday": Weekday.WE, "thursday": Weekday.TH,
    "friday": Weekday.FR, "saturday": Weekday.SA, "sunday": Weekday.SU,
}
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$")


class BadParameter(Exception):
    """A query parameter the API cannot use: ``name`` and why."""

    def __init__(self, name: str, detail: str) -> None:
        super().__init__(f"{name}: {detail}")
        self.name, self.detail = name, detail


def _one(args: MultiDict, name: str) -> str | None:
    values = args.getlist(name)
    if not values:
        return None
    if len(values) > 1:
        raise BadParameter(name, "give this parameter once")
    value = values[0].strip()
    if "\x00" in value:
        raise BadParameter(name, "must not contain NUL characters")
    return value or None


def integer(args: MultiDict, name: str, default: int, low: int, high: int) -> int:
    value = _one(args, name)
    if value is None:
        return default
    if not re.fullmatch(r"[+]?\d{1,9}", value):
        raise BadParameter(name, f"must be a whole number from {low} to {high}")
    number = int(value)
    if not low <= number <= high:
        raise BadParameter(name, f"must be a whole number from {low} to {high}")
    return number


def number(args: MultiDict, name: str, low: float, high: float) -> float | None:
    value = _one(args, name)
    if value is None:
        return None
    try:
        result = float(value)
    except ValueError:
        raise BadParameter(name, "must be a number") from None
    if not math.isfinite(result) or not low <= result <= high:
        raise BadParameter(name, f"must be a number from {low:g} to {high:g}")
    return result


def identifier(args: MultiDict, name: str) -> uuid.UUID | None:
    value = _one(args, name)
    if value is None:
        return None
    return parse_uuid(value, name)


def parse_uuid(value: str, name: str = "id") -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise BadParameter(name, "must be a UUID, like 3fa85f64-5717-4562-b3fc-2c963f66afa6") from None


def text(args: MultiDict, *names: str) -> str:
    """The first of ``names`` given (aliases, e.g. ``text`` and the profile's ``search``)."""
    for name in names:
        value = _one(args, name)
        if value is not None:
            if len(value) > MAX_TEXT_LENGTH:
                raise BadParameter(name, f"must be at most {MAX_TEXT_LENGTH} characters")
            return value
    return ""


def boolean(args: MultiDict, name: str) -> bool:
    value = _one(args, name)
    if value is None:
        return False
    lowered = value.lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise BadParameter(name, "must be true or false")


def moment(args: MultiDict, name: str) -> datetime | None:
    """An ISO 8601 date or date-time; one without a zone is taken as UTC."""
    value = _one(args, name)
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        raise BadParameter(name, "must be an ISO 8601 date or date-time, like 2025-04-01T09:30:00Z") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def clock(args: MultiDict, name: str) -> time | None:
    value = _one(args, name)
    if value is None:
        return None
    match = _TIME.match(value)
    if match is None:
        raise BadParameter(name, "must be a time of day as HH:MM or HH:MM:SS, like 09:30")
    return time(int(match[1]), int(match[2]), int(match[3] or 0))


def weekday(args: MultiDict, name: str) -> Weekday | None:
    value = _one(args, name)
    if value is None:
        return None
    lowered = value.lower()
    if lowered in _DAY_NAMES:
        return _DAY_NAMES[lowered]
    try:
        return Weekday(value.upper())
    except ValueError:
        raise BadParameter(name, "must be a day: MO, TU, WE, TH, FR, SA or SU (or its English name)") from None


@dataclass(frozen=True)
class Paging:
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE


def paging(args: MultiDict) -> Paging:
    return Paging(page=integer(args, "page", 1, 1, MAX_PAGE),
                  per_page=integer(args, "per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE))


@dataclass(frozen=True)
class ServiceQuery:
    """What /services and /service_at_locations may be narrowed by (see the OpenAPI document)."""

    text: str = ""
    taxonomy_term_ids: tuple[uuid.UUID, ...] = field(default_factory=tuple)
    taxonomy_id: uuid.UUID | None = None
    organization_id: uuid.UUID | None = None
    modified_after: datetime | None = None
    minimum_age: float | None = None
    maximum_age: float | None = None
    day: Weekday | None = None
    start_time: time | None = None
    end_time: time | None = None
    postcode: str | None = None
    proximity_metres: float | None = None

    @property
    def has_structured_filters(self) -> bool:
        """Anything beyond words and a place."""
        return any((self.taxonomy_term_ids, self.taxonomy_id, self.organization_id, self.modified_after,
                    self.minimum_age is not None, self.maximum_age is not None, self.day, self.start_time,
                    self.end_time))


def _term_ids(args: MultiDict) -> tuple[uuid.UUID, ...]:
    """``taxonomy_term_id`` once, as a comma-separated list, or repeated: services filed under any of them."""
    ids: list[uuid.UUID] = []
    for value in args.getlist("taxonomy_term_id"):
        for part in value.split(","):
            if part.strip():
                ids.append(parse_uuid(part.strip(), "taxonomy_term_id"))
    if len(ids) > 50:
        raise BadParameter("taxonomy_term_id", "give at most 50 terms")
    return tuple(dict.fromkeys(ids))


def service_query(args: MultiDict) -> ServiceQuery:
    minimum_age = number(args, "minimum_age", 0, MAX_AGE)
    maximum_age = number(args, "maximum_age", 0, MAX_AGE)
    if minimum_age is not None and maximum_age is not None and minimum_age > maximum_age:
        raise BadParameter("minimum_age", "must not be more than maximum_age")
    start_time, end_time = clock(args, "start_time"), clock(args, "end_time")
    postcode = _one(args, "postcode")
    if postcode is not None and len(postcode) > 16:
        raise BadParameter("postcode", "must be a UK postcode, like AM1 1AA")
    proximity = number(args, "proximity", 1, MAX_PROXIMITY_METRES)
    if proximity is not None and postcode is None:
        raise BadParameter("proximity", "needs a postcode to measure from")
    return ServiceQuery(
        text=text(args, "text", "search"),
        taxonomy_term_ids=_term_ids(args),
        taxonomy_id=identifier(args, "taxonomy_id"),
        organization_id=identifier(args, "organization_id"),
        modified_after=moment(args, "modified_after"),
        minimum_age=minimum_age,
        maximum_age=maximum_age,
        day=weekday(args, "day"),
        start_time=start_time,
        end_time=end_time,
        postcode=postcode,
        proximity_metres=proximity,
    )
