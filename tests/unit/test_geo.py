"""Postcode format and search geometry (pure functions: no database)."""

from __future__ import annotations

import math
import random

import pytest

from search import geo
from search.geo import cell_of, cells_within, distance_miles, normalise_postcode

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


# --- geohash cells ------------------------------------------------------------------------------------------


def test_cells_are_standard_geohashes_at_the_documented_precision():
    # Published examples: Wikipedia's (57.64911, 10.40744) is u4pruydqqvj; (42.6, -5.6) is ezs42.
    assert geo.encode(57.64911, 10.40744, 11) == "u4pruydqqvj"
    assert geo.encode(42.6, -5.6, 5) == "ezs42"
    assert cell_of(57.64911, 10.40744) == "u4pr"
    assert len(cell_of(51.8, -0.8)) == geo.GEOHASH_PRECISION == 4
    # Either side of the prime meridian and the equator are different cells.
    assert len({cell_of(0.001, 0.001), cell_of(0.001, -0.001), cell_of(-0.001, 0.001), cell_of(-0.001, -0.001)}) == 4


CENTRES = {
    "Aylesbury": (51.8168, -0.8124),
    "Greenwich, on the prime meridian": (51.4779, 0.0),
    "where the equator crosses the prime meridian": (0.0, 0.0),
    "just south-west of that crossing": (-0.02, -0.03),
    "Lerwick, far north": (60.155, -1.145),
    "a cell corner": (51.85546875, -0.703125),  # a precision-4 cell corner exactly
}


@pytest.mark.parametrize("centre", CENTRES.values(), ids=CENTRES.keys())
@pytest.mark.parametrize("miles", [0.5, 1, 3, 5, 10, 25])
def test_a_place_just_inside_the_radius_in_any_direction_is_in_the_cells_searched(centre, miles):
    lat, lon = centre
    cells = cells_within(lat, lon, miles)
    assert cell_of(lat, lon) in cells
    for name, bearing in COMPASS.items():
        point = _point_at(lat, lon, miles * 0.999, bearing)
        assert distance_miles(lat, lon, *point) < miles
        assert cell_of(*point) in cells, f"{miles} miles {name} of {centre}"


@pytest.mark.parametrize("centre", CENTRES.values(), ids=CENTRES.keys())
def test_every_place_within_the_radius_is_in_the_cells_searched(centre):
    rng = random.Random(20261122)
    lat, lon = centre
    for miles in (2, 15):
        cells = cells_within(lat, lon, miles)
        for _ in range(1500):
            point = _point_at(lat, lon, miles * math.sqrt(rng.random()), rng.uniform(0, 360))
            assert cell_of(*point) in cells


def test_a_typical_search_needs_only_a_few_cells():
    lat, lon = CENTRES["Aylesbury"]
    sizes = {miles: len(cells_within(lat, lon, miles)) for miles in (1, 5, 10, 25)}
    assert sizes[1] <= 4
    assert sizes[5] <= 6
    assert sizes[10] <= 12
    assert sizes[25] <= 40
    assert cells_within(lat, lon, 5) <= cells_within(lat, lon, 10) <= cells_within(lat, lon, 25)


def test_cells_far_outside_the_circle_are_not_searched():
    lat, lon = CENTRES["Aylesbury"]
    cells = cells_within(lat, lon, 5)
    assert cell_of(*_point_at(lat, lon, 60, 90)) not in cells
    assert cell_of(*_point_at(lat, lon, 60, 0)) not in cells


@pytest.mark.parametrize("centre", CENTRES.values(), ids=CENTRES.keys())
def test_every_cell_searched_meets_the_circle(centre):
    lat, lon = centre
    for miles in (1, 10, 25):
        for cell in cells_within(lat, lon, miles):
            south, north, west, east = geo.cell_bounds(cell)
            assert cell_of((south + north) / 2, (west + east) / 2) == cell
            # Some point of a 40 x 40 grid over the cell lies within the radius (allowing for the grid step).
            step = distance_miles(south, west, north, east) / 40
            nearest = min(
                distance_miles(lat, lon, south + (north - south) * i / 40, west + (east - west) * j / 40)
                for i in range(41) for j in range(41)
            )
            assert nearest <= miles + step, f"{cell} is {nearest:.2f} miles away"


def test_cell_bounds_refuses_what_is_not_a_geohash():
    with pytest.raises(ValueError):
        geo.cell_bounds("gcpa")  # "a" is not in the geohash alphabet
    assert geo.cell_bounds("u4pr") == pytest.approx((57.48046875, 57.65625, 10.1953125, 10.546875))


def test_an_impossible_radius_is_refused():
    with pytest.raises(ValueError):
        cells_within(51.8, -0.8, -1)
    with pytest.raises(ValueError):
        cells_within(51.8, -0.8, geo.MAX_RADIUS_MILES + 1)
    assert cells_within(51.8, -0.8, 0) == {cell_of(51.8, -0.8)}
