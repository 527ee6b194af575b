"""search.geo.distances_from: the distances a search shows beside its results, measured for many documents at
once, are exactly the ones distance_miles gives for each document's nearest place."""

from __future__ import annotations

import random

import pytest

from search import geo

# Great Britain and Northern Ireland, roughly: from the Scilly Isles to Shetland, Fermanagh to Lowestoft.
SOUTH, NORTH, WEST, EAST = 49.9, 60.8, -8.2, 1.8
DOCUMENTS = 400


def _random_point(rng: random.Random) -> tuple[float, float]:
    return rng.uniform(SOUTH, NORTH), rng.uniform(WEST, EAST)


@pytest.fixture(scope="module")
def points_by_document() -> dict[int, list[tuple[float, float]]]:
    """Each document's places (latitude, longitude): none, one or several; a few share the same place."""
    rng = random.Random(20261122)
    documents = {}
    for docnum in range(DOCUMENTS):
        count = rng.choice((0, 1, 1, 1, 2, 3, 5))
        documents[docnum] = [_random_point(rng) for _ in range(count)]
    documents[7] = [(51.5074, -0.1278)] * 2  # the same place twice
    documents[8] = [(53.4808, -2.2426), (53.4808, -2.2426), (50.3755, -4.1427)]
    return documents


def _nearest(latitude: float, longitude: float, points: list[tuple[float, float]]) -> float | None:
    if not points:
        return None
    return min(geo.distance_miles(latitude, longitude, lat, lon) for lat, lon in points)


def _prepared(points: list[tuple[float, float]]) -> tuple[geo.Prepared, ...]:
    return tuple(geo.prepared(lat, lon) for lat, lon in points)


class _Places:
    """The cached places (even document numbers) and a lookup of the others that records what it was asked."""

    def __init__(self, points_by_document, *, never: frozenset[int] = frozenset()):
        self.points = points_by_document
        self.cached = {docnum: _prepared(points) for docnum, points in points_by_document.items() if docnum % 2 == 0}
        self.never = never
        self.asked: list[int] = []

    def place(self, docnum: int) -> tuple[geo.Prepared, ...]:
        if docnum in self.never:
            pytest.fail(f"document {docnum} was measured again")
        if docnum in self.cached:
            pytest.fail(f"document {docnum}'s places were looked up although they were cached")
        self.asked.append(docnum)
        return _prepared(self.points[docnum])


SEARCH_PLACES = [(51.5074, -0.1278), (53.4808, -2.2426), (55.9533, -3.1883), (51.4816, -3.1791),
                 (54.5973, -5.9301), (50.3755, -4.1427), (57.1497, -2.0943)]


@pytest.mark.parametrize(("latitude", "longitude"), SEARCH_PLACES)
def test_distances_beside_results_are_exactly_those_to_each_services_nearest_place(points_by_document, latitude,
                                                                                   longitude):
    places = _Places(points_by_document)
    found: dict[int, float | None] = {}
    returned = geo.distances_from(latitude, longitude, range(DOCUMENTS), places.cached, places.place, found)
    assert returned is found
    assert found == {docnum: _nearest(latitude, longitude, points) for docnum, points in points_by_document.items()}
    assert sorted(places.asked) == [docnum for docnum in range(DOCUMENTS) if docnum % 2]
    assert sum(distance is None for distance in found.values()) > 20
    assert sum(distance is not None and distance > 100 for distance in found.values()) > 20


def test_distances_from_random_places_match_distance_miles_exactly(points_by_document):
    rng = random.Random(7)
    for _ in range(25):
        latitude, longitude = _random_point(rng)
        places = _Places(points_by_document)
        found = geo.distances_from(latitude, longitude, range(DOCUMENTS), places.cached, places.place, {})
        for docnum, points in points_by_document.items():
            assert found[docnum] == _nearest(latitude, longitude, points)


def test_a_service_at_the_place_searched_for_is_no_distance_away(points_by_document):
    latitude, longitude = points_by_document[8][0]
    places = _Places(points_by_document)
    found = geo.distances_from(latitude, longitude, [8, 7], places.cached, places.place, {})
    assert found[8] == 0.0
    assert found[7] == pytest.approx(163, abs=1)  # Manchester to London
    assert found[7] == geo.distance_miles(latitude, longitude, 51.5074, -0.1278)


def test_a_service_with_no_places_has_no_distance():
    def place(docnum: int) -> tuple:
        return ()

    found = geo.distances_from(52.0, -1.0, [1, 2, 3], {1: (), 2: (geo.prepared(52.0, -1.0),)}, place, {})
    assert found == {1: None, 2: 0.0, 3: None}


def test_services_already_measured_in_this_search_are_not_measured_again(points_by_document):
    measured = {docnum: 1000.0 + docnum for docnum in range(0, DOCUMENTS, 3)}
    measured[5] = None  # measured before: no places
    places = _Places(points_by_document, never=frozenset(measured))
    found = dict(measured)
    geo.distances_from(53.0, -1.5, range(DOCUMENTS), places.cached, places.place, found)
    for docnum, distance in measured.items():
        assert found[docnum] == distance
    for docnum in set(range(DOCUMENTS)) - set(measured):
        assert found[docnum] == _nearest(53.0, -1.5, points_by_document[docnum])
    assert sorted(places.asked) == [docnum for docnum in range(DOCUMENTS) if docnum % 2 and docnum not in measured]


def test_only_services_whose_places_are_not_cached_are_looked_up(points_by_document):
    places = _Places(points_by_document)
    wanted = [3, 4, 10, 11, 11, 399, 0, 3]  # asked twice: looked up once
    found = geo.distances_from(51.0, -2.0, wanted, places.cached, places.place, {})
    assert places.asked == [3, 11, 399]
    assert set(found) == set(wanted)
    assert geo.distances_from(51.0, -2.0, [], places.cached, places.place, {}) == {}


def test_prepared_place_holds_latitude_in_radians_longitude_in_degrees_and_the_cosine():
    phi, longitude, cosine = geo.prepared(52.4862, -1.8904)
    assert longitude == -1.8904
    assert phi == pytest.approx(0.916057, abs=1e-6)  # 52.4862 * pi / 180
    assert cosine == pytest.approx(0.608952, abs=1e-6)
