"""Postcode format and search geometry (pure functions: no database)."""

from __future__ import annotations

import math
import random

import pytest

from search import geo
from search.geo import distance_miles, normalise_postcode

COMPASS = {"N": 0, "NE": 45, "E": 90, "SE": 135, "S": 180, "SW": 225, "W": 270, "NW": 315}


def _point_at(lat: float, lon: float, miles: float, bearing: float) -> tuple[float, float]:
    """The point ``miles`` away on ``bearing`` degrees (the spherical direct formula, independent of geo)."""
    angle = miles / geo.EARTH_RADIUS_MILES
    phi, theta = math.radians(lat), math.radians(bearing)
    phi2 = math.asin(math.sin(phi) * math.cos(angle) + math.cos(phi) * math.sin(angle) * math.cos(theta))
    lambda2 = math.radians(lon) + math.atan2(
        math.sin(theta) * math.sin(angle) * math.cos(phi), math.cos(angle) - math.sin(phi) * math.sin(phi2)
    )
    return math.degrees(phi2), (math.degrees(lambda2) + 540) % 360 - 180


# --- what people type ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("HP21 7JF", "HP21 7JF"),
        ("hp217jf", "HP21 7JF"),
        (" HP21 7JF ", "HP21 7JF"),
        ("hp21   7jf", "HP21 7JF"),
        ("Hp21\t7Jf", "HP21 7JF"),
        ("m11ae", "M1 1AE"),  # A9
        ("b33 8th", "B33 8TH"),  # A99
        ("cr2 6xh", "CR2 6XH"),  # AA9
        ("DN551PT", "DN55 1PT"),  # AA99
        ("w1a 0ax", "W1A 0AX"),  # A9A
        ("ec1a 1bb", "EC1A 1BB"),  # AA9A
        ("sw1a2aa", "SW1A 2AA"),
        ("gir 0aa", "GIR 0AA"),  # Girobank: the one postcode outside the rules
        ("AM1 1AA", "AM1 1AA"),  # the demo borough's postcodes follow the rules too
    ],
)
def test_a_postcode_typed_in_any_case_or_spacing_is_understood(typed, expected):
    assert normalise_postcode(typed) == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("hp21", "HP21"), (" HP21 ", "HP21"), ("m1", "M1"), ("b33", "B33"), ("cr2", "CR2"), ("w1a", "W1A"),
     ("ec1a", "EC1A"), ("sl9", "SL9")],
)
def test_just_the_first_half_of_a_postcode_is_understood_as_an_area(typed, expected):
    assert normalise_postcode(typed) == expected


@pytest.mark.parametrize(
    "typed",
    [
        "", "   ", "hello", "Aylesbury", "12345", "HP21 7J", "HP21 7JFF", "HP21 77F", "H 7JF",
        "HPP21 7JF",  # three letters
        "QP21 7JF", "VA1 1AA", "XM4 5HQ",  # Q, V and X never start a postcode
        "HI1 1AA", "AJ1 1AA", "AZ1 1AA",  # I, J and Z never come second
        "W1L 1AA",  # L is not a letter allowed third (A9A)
        "EC1C 1BB",  # C is not a letter allowed fourth (AA9A)
        "HP21 7CF", "HP21 7JI", "HP21 7KM", "HP21 7OV",  # C, I, K, M, O, V never in the inward code
        "HP2l 7JF",  # a letter l for a digit 1
        "HP21 7JF HP21 7JF", "HP21-7JF", "HP21 7JF!", "😀", "HP21 7JF😀", "Ŵ1A 0AX", "x" * 10_000,
        "HP21*", "HP21 OR 1=1",
    ],
)
def test_anything_that_cannot_be_a_uk_postcode_is_refused(typed):
    assert normalise_postcode(typed) is None


# --- distance -----------------------------------------------------------------------------------------------


def test_distance_between_known_places_matches_published_figures():
    # Land's End to John o' Groats: 603 miles as the crow flies (970 km).
    assert distance_miles(50.0657, -5.7132, 58.6373, -3.0689) == pytest.approx(603, rel=0.005)
    # London (Charing Cross) to Paris (Notre-Dame): 344 km, 213.7 miles.
    assert distance_miles(51.5074, -0.1278, 48.8530, 2.3499) == pytest.approx(213.7, rel=0.005)


def test_distance_is_zero_to_the_same_place_and_the_same_both_ways():
    assert distance_miles(51.8, -0.8, 51.8, -0.8) == 0
    there = distance_miles(51.8, -0.8, 52.1, -1.2)
    assert there == pytest.approx(distance_miles(52.1, -1.2, 51.8, -0.8))
    # A degree of latitude is 69.1 miles on this sphere.
    assert distance_miles(0, 0, 1, 0) == pytest.approx(2 * math.pi * 3958.8 / 360)


# --- every document at once ---------------------------------------------------------------------------------

CENTRES = {
    "Aylesbury": (51.8168, -0.8124),
    "Greenwich, on the prime meridian": (51.4779, 0.0),
    "where the equator crosses the prime meridian": (0.0, 0.0),
    "Lerwick, far north": (60.155, -1.145),
}


@pytest.mark.parametrize("centre", CENTRES.values(), ids=CENTRES.keys())
@pytest.mark.parametrize("miles", [0.5, 1, 3, 5, 10, 25])
def test_a_radius_search_measures_places_just_inside_and_just_outside_in_every_direction(centre, miles):
    lat, lon = centre
    inside = [_point_at(lat, lon, miles * 0.999, bearing) for bearing in COMPASS.values()]
    outside = [_point_at(lat, lon, miles * 1.001, bearing) for bearing in COMPASS.values()]
    coordinates = geo.Coordinates.of([[point] for point in inside + outside], len(inside) + len(outside))
    found = coordinates.miles_from(lat, lon)
    assert (found[:len(inside)] < miles).all() and (found[len(inside):] > miles).all()
    for point, measured in zip(inside + outside, found.tolist(), strict=True):
        assert measured == pytest.approx(distance_miles(lat, lon, *point), rel=1e-12)


def test_a_listing_with_several_places_is_as_far_away_as_its_nearest_and_one_without_has_no_distance():
    rng = random.Random(7)
    documents = [[(rng.uniform(50, 58), rng.uniform(-5, 1)) for _ in range(rng.randint(0, 4))] for _ in range(300)]
    coordinates = geo.Coordinates.of(documents, len(documents) + 2)  # two more documents with nothing stored
    for lat, lon in [(51.8168, -0.8124), (53.48, -2.24), (57.15, -2.11)]:
        found = coordinates.miles_from(lat, lon).tolist()
        for points, measured in zip(documents + [[], []], found, strict=True):
            if points:
                assert measured == pytest.approx(min(distance_miles(lat, lon, *p) for p in points), rel=1e-12)
            else:
                assert math.isnan(measured)


def test_segments_joined_keep_each_listings_places_under_its_own_number():
    first = geo.Coordinates.of([[(51.0, -1.0)], [], [(52.0, -1.0), (51.5, -1.0)]], 3)
    second = geo.Coordinates.of([[(53.0, -1.0), (51.2, -1.0)], [(54.0, -1.0)]], 2, offset=3)
    joined = geo.Coordinates.joined([first, second], 5).miles_from(51.0, -1.0).tolist()
    expected = [0.0, None, distance_miles(51.0, -1.0, 51.5, -1.0), distance_miles(51.0, -1.0, 51.2, -1.0),
                distance_miles(51.0, -1.0, 54.0, -1.0)]
    assert joined[0] == 0.0 and math.isnan(joined[1])
    assert joined[2:] == pytest.approx(expected[2:], rel=1e-12)
