"""Postcodes and geometry for "near a postcode": what a typed postcode means, where it is, and how far apart
places are: one pair (distance_miles) or every document at once
(Coordinates: numpy arrays over document numbers, which measure 50,000 listings in a millisecond or two, so a
radius search measures them all rather than narrowing by map cells first).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import sqlalchemy as sa
from flask import current_app

from portal.extensions import db
from portal.models import Location, Postcode

EARTH_RADIUS_MILES = 3958.8

# --- postcode format ----------------------------------------------------------------------------------------
# Royal Mail's rules: the first letter is never Q, V or X; the second never I, J or Z; a letter in the third
# place (A9A) is one of ABCDEFGHJKPSTUW, in the fourth (AA9A) one of ABEHMNPRVWXY; the inward code is a
# digit and two letters, never C, I, K, M, O or V.
_FIRST = "[A-PR-UWYZ]"
_SECOND = "[A-HK-Y]"
_OUTWARD = re.compile(
    rf"{_FIRST}[0-9][0-9]?"  # A9, A99
    rf"|{_FIRST}{_SECOND}[0-9][0-9]?"  # AA9, AA99
    rf"|{_FIRST}[0-9][A-HJKPSTUW]"  # A9A
    rf"|{_FIRST}{_SECOND}[0-9][ABEHMNPRV-Y]"  # AA9A
)
_INWARD = re.compile("[0-9][ABD-HJLNP-UW-Z]{2}")
_SPECIAL_FULL = {"GIR0AA": "GIR 0AA"}  # Girobank's historic postcode, the one exception to the rules
_WHITESPACE = re.compile(r"\s+")
_LONGEST_INPUT = 16  # a postcode with generous spacing; anything longer is not one


def normalise_postcode(text: str) -> str | None:
    """The postcode in Royal Mail's form ("hp217jf" -> "HP21 7JF"), just the outward code when only that was
    typed ("hp21" -> "HP21"), or None when ``text`` cannot be a UK postcode."""
    if not text or len(text) > _LONGEST_INPUT:
        return None
    compact = _WHITESPACE.sub("", text).upper()
    if compact in _SPECIAL_FULL:
        return _SPECIAL_FULL[compact]
    if len(compact) >= 5 and _OUTWARD.fullmatch(compact[:-3]) and _INWARD.fullmatch(compact[-3:]):
        return f"{compact[:-3]} {compact[-3:]}"  # the inward code is always the last three characters
    if _OUTWARD.fullmatch(compact):
        return compact
    return None


_PLACE_WORDS = {"near", "in", "around", "nr", "by"}
_EDGE_PUNCTUATION = ",.;:!?()[]{}\"'"


def postcode_in_text(text: str) -> tuple[str, str] | None:
    """A postcode or outward code typed among the words of a search ("dementia HP21 7JF", "hp217jf", "AM1"):
    (the normalised code, the other words), or None when there is none. The first one found counts."""
    words = [word.strip(_EDGE_PUNCTUATION) for word in text.split()]
    words = [word for word in words if word]
    for start in range(len(words)):
        # Two words first: "HP21 7JF" is one postcode, not the outward code HP21 and a word "7JF".
        for length in (2, 1):
            candidate = " ".join(words[start:start + length])
            if len(words[start:start + length]) < length or not any(char.isdigit() for char in candidate):
                continue
            code = normalise_postcode(candidate)
            if code is not None and (length == 1 or " " in code):
                before = words[:start]
                if before and before[-1].casefold() in _PLACE_WORDS:
                    before = before[:-1]  # "near HP21" is where, not what
                return code, " ".join(before + words[start + length:])
    return None


# --- places -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """Where a typed postcode is: a postcode's own centre, or the centre of an outward code's postcodes."""

    latitude: float
    longitude: float
    outward_code: str
    label: str  # the normalised postcode or outward code, to show back to the person
    is_outward_only: bool


def resolve_place(text: str) -> Place | None:
    """The place a typed postcode or outward code stands for, or None when it is not a postcode or no
    postcode we know (from the ONS file or from listings' own locations) matches it."""
    code = normalise_postcode(text)
    if code is None:
        return None
    if " " not in code:
        return _outward_place(code)
    point = _postcode_point(code)
    if point is None:
        return None
    return Place(point[0], point[1], outward_code=code.split(" ")[0], label=code, is_outward_only=False)


def _postcode_point(code: str) -> tuple[float, float] | None:
    row = db.session.execute(
        sa.select(Postcode.latitude, Postcode.longitude).where(Postcode.postcode == code)
    ).first()
    if row is not None:
        return row.latitude, row.longitude
    points = [(lat, lon) for found, lat, lon in _listing_points(_spellings(code)) if found == code]
    return _mean(points)


def _spellings(code: str) -> list[str]:
    """How a listing may have stored ``code``: indexed equality on these finds nearly every real entry."""
    compact = code.replace(" ", "")
    return [code, compact, code.lower(), compact.lower()]


def _listing_points(spellings: Iterable[str] | None = None, *, outward: str | None = None):
    """(normalised postcode, latitude, longitude) of listings' own locations, by exact spellings of a
    postcode or by outward code. Hidden addresses (refuges) are left out: their postcode must not become
    findable, or a search could pinpoint them."""
    query = sa.select(Location.postcode, Location.latitude, Location.longitude).where(
        Location.latitude.is_not(None),
        Location.longitude.is_not(None),
        Location.hide_exact_address.is_(False),
    )
    if outward is not None:
        # Any spacing or case: the outward code then exactly three characters.
        compact = sa.func.upper(sa.func.replace(Location.postcode, " ", ""))
        query = query.where(compact.like(f"{outward}___"))
    else:
        query = query.where(Location.postcode.in_(list(spellings or ())))
    for postcode, latitude, longitude in db.session.execute(query):
        code = normalise_postcode(postcode)
        if code is not None and " " in code:
            yield code, latitude, longitude


def _mean(points: list[tuple[float, float]]) -> tuple[float, float] | None:
    if not points:
        return None
    return sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points)


# Outward centres are averages over hundreds of rows: kept per process for a few minutes (postcodes move
# rarely), keyed by database so two databases in one process never share an answer.
_outward_cache: dict[tuple[str, str], tuple[float, Place | None]] = {}
_CACHE_LIMIT = 5000  # more than the UK's ~3,000 outward codes
DEFAULT_CACHE_SECONDS = 300


def clear_cache() -> None:
    """Forget cached outward-code centres (after loading postcodes)."""
    _outward_cache.clear()


def _cache_seconds() -> float:
    # Tests roll every transaction back, so an answer cached in one test would be wrong in the next.
    default = 0 if current_app.testing else DEFAULT_CACHE_SECONDS
    return float(current_app.config.get("POSTCODE_CACHE_SECONDS", default))


def _outward_place(outward: str) -> Place | None:
    ttl = _cache_seconds()
    key = (str(db.engine.url), outward)
    cached = _outward_cache.get(key)
    if ttl > 0 and cached is not None and time.monotonic() - cached[0] < ttl:
        return cached[1]
    place = _compute_outward_place(outward)
    if ttl > 0:
        if len(_outward_cache) >= _CACHE_LIMIT:
            _outward_cache.clear()
        _outward_cache[key] = (time.monotonic(), place)
    return place


def _compute_outward_place(outward: str) -> Place | None:
    """The mean position of every known postcode in ``outward``: the table's rows, plus listings'
    postcodes the table lacks (each counted once, however many listings share it)."""
    count, lat_sum, lon_sum = db.session.execute(
        sa.select(sa.func.count(), sa.func.sum(Postcode.latitude), sa.func.sum(Postcode.longitude)).where(
            Postcode.outward_code == outward
        )
    ).one()
    count, lat_sum, lon_sum = count or 0, lat_sum or 0.0, lon_sum or 0.0
    by_postcode: dict[str, list[tuple[float, float]]] = {}
    for code, latitude, longitude in _listing_points(outward=outward):
        by_postcode.setdefault(code, []).append((latitude, longitude))
    if by_postcode:
        in_table = sa.select(Postcode.postcode).where(Postcode.postcode.in_(list(by_postcode)))
        known = set(db.session.scalars(in_table))
        for code, points in by_postcode.items():
            if code not in known:
                latitude, longitude = _mean(points)
                count, lat_sum, lon_sum = count + 1, lat_sum + latitude, lon_sum + longitude
    if count == 0:
        return None
    return Place(lat_sum / count, lon_sum / count, outward_code=outward, label=outward, is_outward_only=True)


# --- distance -----------------------------------------------------------------------------------------------


def distance_miles(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in miles (haversine on a sphere of radius 3958.8 miles)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    half_dphi = (phi2 - phi1) / 2
    half_dlambda = math.radians(lon2 - lon1) / 2
    a = math.sin(half_dphi) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(half_dlambda) ** 2
    return 2 * EARTH_RADIUS_MILES * math.asin(min(1.0, math.sqrt(a)))


def _prepared(latitude: float, longitude: float) -> tuple[float, float, float]:
    """(latitude in radians, longitude in degrees, cosine of the latitude): what Coordinates keeps of a place."""
    phi = math.radians(latitude)
    return phi, longitude, math.cos(phi)


@dataclass(frozen=True)
class Coordinates:
    """Documents' places as arrays over document numbers, for measuring thousands at once: each document's
    first place (latitude in radians, longitude in degrees, cosine of the latitude; NaN without a place) and
    its further places as (document, latitude, longitude, cosine) arrays."""

    phi: np.ndarray
    lon: np.ndarray
    cos: np.ndarray
    extra_doc: np.ndarray
    extra_phi: np.ndarray
    extra_lon: np.ndarray
    extra_cos: np.ndarray

    @classmethod
    def of(cls, points_by_doc: Iterable[list[tuple[float, float]]], count: int, *, offset: int = 0) -> Coordinates:
        """From each document's (latitude, longitude) places, in document order (``count`` of them; numbers
        start at ``offset``)."""
        first = np.full((count, 3), np.nan)
        extras: list[tuple[int, float, float, float]] = []
        for docnum, points in enumerate(points_by_doc):
            if docnum >= count:
                break
            if points:
                first[docnum] = _prepared(*points[0])
                extras.extend((docnum + offset, *_prepared(lat, lon)) for lat, lon in points[1:])
        extra = np.array(extras, dtype=np.float64).reshape(-1, 4)
        return cls(first[:, 0].copy(), first[:, 1].copy(), first[:, 2].copy(), extra[:, 0].astype(np.int64),
                   extra[:, 1].copy(), extra[:, 2].copy(), extra[:, 3].copy())

    @classmethod
    def joined(cls, parts: list[Coordinates], count: int) -> Coordinates:
        """Segments' coordinates (each from ``of``, in document order) as one, ``count`` documents in all."""
        if not parts:
            return cls.of((), count)

        def join(name: str) -> np.ndarray:
            return np.concatenate([getattr(part, name) for part in parts])

        return cls(join("phi"), join("lon"), join("cos"), join("extra_doc"), join("extra_phi"), join("extra_lon"),
                   join("extra_cos"))

    def miles_from(self, latitude: float, longitude: float) -> np.ndarray:
        """Miles from (latitude, longitude) to each document's nearest place; NaN for a document without one.
        distance_miles's formula over arrays (numpy's sines may differ from the math module's in the last binary
        place: a search's radius, order and shown distances all read these figures, so they agree)."""
        phi1 = math.radians(latitude)
        cos1 = math.cos(phi1)
        diameter = 2 * EARTH_RADIUS_MILES

        def miles(phi, lon, cos):
            a = np.sin((phi - phi1) / 2) ** 2 + cos1 * cos * np.sin(np.radians(lon - longitude) / 2) ** 2
            return diameter * np.arcsin(np.minimum(1.0, np.sqrt(a)))

        found = miles(self.phi, self.lon, self.cos)
        if len(self.extra_doc):
            np.fmin.at(found, self.extra_doc, miles(self.extra_phi, self.extra_lon, self.extra_cos))
        return found
