"""``flask postcodes``, and turning what someone typed into a place, on both databases."""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from portal.models import AuditEvent, Location, Postcode
from search.geo import Place, resolve_place
from tests.conftest import count

# The real ONSPD header (May 2025 onwards: pcd7/pcd8 replaced pcd/pcd2); older files are tested below.
HEADER = (
    "pcd7,pcd8,pcds,dointr,doterm,usrtypind,east1m,north1m,gridind,oa21cd,cty25cd,ced25cd,lad25cd,wd25cd,"
    "nhser24cd,ctry25cd,rgn25cd,pcon24cd,ttwa15cd,itl25cd,npark16cd,lsoa21cd,msoa21cd,wz11cd,sicbl24cd,"
    "bua24cd,ruc21ind,oac11ind,lat,long,lep21cd1,lep21cd2,pfa23cd,imd20ind,icb23cd"
)


def _row(pcds: str, lat: float | str, lon: float | str, *, doterm: str = "") -> str:
    pcd7 = pcds.replace(" ", "").ljust(7)
    geography = ",".join(['"E99999999"'] * 18)  # oa21cd to ruc21ind
    return (
        f'"{pcd7}","{pcds}","{pcds}","198001","{doterm}","0","482000","213000","1",{geography},'
        f'"2B1",{lat},{lon},"E37000001","","E23000001",12345,"E54000000"'
    )


ROWS = [
    _row("HP21 7JF", 51.807541, -0.799052),
    _row("HP21 8AA", 51.802000, -0.805000),
    _row("HP21 9ZZ", 51.797000, -0.781000),
    _row("HP19 9QF", 51.825000, -0.835000, doterm="202012"),  # terminated: still resolves
    _row("HP22 5XX", "99.999999", "0.000000"),  # no grid reference
    _row("NOT A CODE", 51.8, -0.8),  # malformed postcode
    _row("SL9 7AD", 51.603000, -0.556000),
]


def _write(path: Path, rows: list[str], header: str = HEADER) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def _load(app, path: Path, *args: str):
    return app.test_cli_runner().invoke(args=["postcodes", "load", str(path), *args])


def _postcode(session, code: str) -> Postcode | None:
    return session.get(Postcode, code)


def _location(session, postcode: str, lat: float, lon: float, *, hidden: bool = False) -> Location:
    location = Location(name="A place", postcode=postcode, latitude=lat, longitude=lon, hide_exact_address=hidden)
    session.add(location)
    session.flush()
    return location


def test_loading_the_ons_directory_stores_postcodes_and_reports_what_it_skipped(app, session, tmp_path):
    assert len(next(csv.reader(ROWS))) == len(HEADER.split(","))  # the test file is a well-formed ONSPD
    result = _load(app, _write(tmp_path / "ONSPD_MAY_2025_UK.csv", ROWS))

    assert result.exit_code == 0, result.output
    assert "Read 7 rows" in result.output
    assert "loaded 5 new postcodes, updated 0, unchanged 0, skipped 2" in result.output
    assert "Skipped 1: no grid reference" in result.output
    assert "Skipped 1: not a valid postcode" in result.output
    assert "1 of them are terminated postcodes" in result.output
    assert count(Postcode) == 5
    stored = _postcode(session, "HP21 7JF")
    assert (stored.outward_code, stored.latitude, stored.longitude) == ("HP21", 51.807541, -0.799052)
    assert (stored.source, stored.terminated) == ("onspd", False)
    assert _postcode(session, "HP19 9QF").terminated is True
    assert _postcode(session, "HP22 5XX") is None
    event = session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "postcodes.loaded"))
    assert event.details["file"] == "ONSPD_MAY_2025_UK.csv"
    assert (event.details["loaded"], event.details["skipped"]) == (
        5, {"no grid reference": 1, "not a valid postcode": 1}
    )


def test_a_loaded_postcode_typed_any_way_resolves_to_its_own_position(app, session, tmp_path):
    _load(app, _write(tmp_path / "onspd.csv", ROWS))

    place = resolve_place("hp217jf")

    assert place == Place(51.807541, -0.799052, outward_code="HP21", label="HP21 7JF", is_outward_only=False)
    terminated = resolve_place("HP19 9QF")
    assert (terminated.latitude, terminated.longitude) == (51.825, -0.835)


def test_an_outward_code_resolves_to_the_centre_of_its_known_postcodes(app, session, tmp_path):
    _load(app, _write(tmp_path / "onspd.csv", ROWS))
    # A listing's postcode the file lacks counts once, however many places share it; one the file has
    # is not counted twice; a hidden address is not counted at all.
    _location(session, "hp21 6zz", 51.800000, -0.810000)
    _location(session, "HP216ZZ", 51.800000, -0.810000)
    _location(session, "HP21 7JF", 51.9, -0.9)
    _location(session, "HP21 5AB", 52.5, -1.5, hidden=True)

    place = resolve_place(" hp21 ")

    assert place.label == place.outward_code == "HP21"
    assert place.is_outward_only is True
    assert place.latitude == pytest.approx((51.807541 + 51.802 + 51.797 + 51.8) / 4)
    assert place.longitude == pytest.approx((-0.799052 - 0.805 - 0.781 - 0.81) / 4)


def test_a_listings_own_postcode_resolves_without_the_ons_file(app, session):
    _location(session, "hp16 0ee", 51.695, -0.707)
    _location(session, "HP16 0EE", 51.697, -0.709)  # two places at one postcode: their middle
    _location(session, "SL8 5PQ", 51.57, -0.77)

    place = resolve_place("HP16 0EE")

    assert (place.label, place.outward_code, place.is_outward_only) == ("HP16 0EE", "HP16", False)
    assert (place.latitude, place.longitude) == pytest.approx((51.696, -0.708))
    assert resolve_place("hp16") == Place(
        pytest.approx(51.696), pytest.approx(-0.708), outward_code="HP16", label="HP16", is_outward_only=True
    )
    assert resolve_place("sl85pq").label == "SL8 5PQ"


def test_a_hidden_address_cannot_be_found_by_its_postcode(app, session):
    # A refuge shows only its outward code: its full postcode must not locate it.
    _location(session, "HP20 1AB", 51.82, -0.81, hidden=True)

    assert resolve_place("HP20 1AB") is None
    assert resolve_place("HP20") is None


def test_an_unknown_or_impossible_postcode_resolves_to_nothing(app, session, tmp_path):
    _load(app, _write(tmp_path / "onspd.csv", ROWS))
    _location(session, "HP21 7JF", 51.9, -0.9)
    _location(session, "", 51.0, -1.0)  # a place without a postcode matches nothing

    for typed in ("ZE1 0AA", "ZE1", "HP22 5XX", "not a postcode", "", "HP21 7JF; DROP TABLE postcodes", "😀"):
        assert resolve_place(typed) is None, typed
    assert resolve_place("HP2") is None


def test_loading_the_same_file_twice_changes_nothing_and_a_moved_postcode_moves(app, session, tmp_path):
    path = _write(tmp_path / "onspd.csv", ROWS)
    _load(app, path)

    again = _load(app, path)

    assert again.exit_code == 0, again.output
    assert "loaded 0 new postcodes, updated 0, unchanged 5, skipped 2" in again.output
    assert count(Postcode) == 5

    moved = [row.replace("51.807541,-0.799052", "51.808000,-0.799500") for row in ROWS]
    newer = _load(app, _write(tmp_path / "onspd-newer.csv", [*moved, _row("HP21 8AB", 51.803, -0.806)]))

    assert "loaded 1 new postcodes, updated 1, unchanged 4" in newer.output
    session.expire_all()
    assert (_postcode(session, "HP21 7JF").latitude, _postcode(session, "HP21 7JF").longitude) == (51.808, -0.7995)
    assert resolve_place("HP21 7JF").latitude == 51.808
    assert count(Postcode) == 6


def test_a_postcode_terminated_in_a_newer_directory_is_marked_but_kept(app, session, tmp_path):
    _load(app, _write(tmp_path / "onspd.csv", ROWS))

    result = _load(app, _write(tmp_path / "newer.csv", [_row("HP21 8AA", 51.802000, -0.805000, doterm="202502")]))

    assert "updated 1" in result.output
    session.expire_all()
    assert _postcode(session, "HP21 8AA").terminated is True
    assert resolve_place("HP21 8AA") is not None


def test_small_batches_give_the_same_result_and_a_repeated_row_keeps_the_last(app, session, tmp_path):
    rows = [*ROWS, _row("HP21 7JF", 51.81, -0.8)]

    result = _load(app, _write(tmp_path / "onspd.csv", rows), "--batch-size", "2")

    assert result.exit_code == 0, result.output
    assert "loaded 5 new postcodes, updated 1, unchanged 0" in result.output  # the repeat came in a later batch
    assert count(Postcode) == 5
    assert _postcode(session, "HP21 7JF").latitude == 51.81

    repeated = [_row("SL9 7AD", 51.6, -0.5), _row("SL9 7AD", 51.7, -0.6)]
    in_one_batch = _load(app, _write(tmp_path / "again.csv", repeated))
    assert "Skipped 1: repeated in the file (the last one kept)" in in_one_batch.output
    session.expire_all()
    assert _postcode(session, "SL9 7AD").latitude == 51.7


def test_an_older_directory_with_pcd_and_pcd2_columns_and_quoted_coordinates_loads(app, session, tmp_path):
    header = "\ufeffpcd,pcd2,pcds,dointr,doterm,oscty,ced,oslaua,osward,lat,long,lep1"
    rows = ['"MK9 3EP","MK9  3EP","MK9 3EP","198001","","E1","E5","E6","E7","52.040411","-0.759398","E3"']

    result = _load(app, _write(tmp_path / "ONSPD_FEB_2023_UK.csv", rows, header=header))

    assert result.exit_code == 0, result.output
    assert resolve_place("MK9 3EP").latitude == 52.040411


def test_the_zip_as_downloaded_from_the_ons_loads_its_national_file(app, session, tmp_path):
    archive = tmp_path / "ONSPD_MAY_2025.zip"
    national = "\n".join([HEADER, *ROWS]) + "\n"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("Documents/ONSPD User Guide.csv", "a,b\n1,2\n")
        zipped.writestr("Data/ONSPD_MAY_2025_UK.csv", national)
        zipped.writestr("Data/multi_csv/ONSPD_MAY_2025_UK_HP.csv", "\n".join([HEADER, ROWS[0]]) + "\n")

    result = _load(app, archive)

    assert result.exit_code == 0, result.output
    assert "loaded 5 new postcodes" in result.output
    assert count(Postcode) == 5


def test_a_file_that_is_not_the_ons_directory_is_refused_with_a_reason(app, session, tmp_path):
    result = _load(app, _write(tmp_path / "addresses.csv", ['"1 High St","Aylesbury"'], header="street,town"))

    assert result.exit_code == 1
    assert "addresses.csv has no pcds column" in result.output
    assert count(Postcode) == 0
    empty = _load(app, _write(tmp_path / "empty.csv", [], header=""))
    assert empty.exit_code == 1


def test_copying_listing_postcodes_adds_them_without_overwriting_the_ons_positions(app, session, tmp_path):
    _load(app, _write(tmp_path / "onspd.csv", ROWS))
    _location(session, "hp5 1hq", 51.70, -0.61)
    _location(session, "HP5 1HQ", 51.72, -0.63)
    _location(session, "HP21 7JF", 51.9, -0.9)  # the ONS position stays
    _location(session, "HP6 6NU", 51.67, -0.6, hidden=True)  # never copied
    _location(session, "nonsense", 51.0, -1.0)

    result = app.test_cli_runner().invoke(args=["postcodes", "from-listings"])

    assert result.exit_code == 0, result.output
    assert "loaded 1 new postcodes, updated 0, unchanged 1, skipped 1" in result.output
    copied = _postcode(session, "HP5 1HQ")
    assert (copied.source, copied.outward_code) == ("listing", "HP5")
    assert (copied.latitude, copied.longitude) == pytest.approx((51.71, -0.62))
    session.expire_all()
    assert _postcode(session, "HP21 7JF").latitude == 51.807541
    assert _postcode(session, "HP6 6NU") is None
    assert session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "postcodes.copied_from_listings"))

    # Loading the ONS file afterwards replaces a listing's position with the official one.
    _load(app, _write(tmp_path / "with-hp5.csv", [_row("HP5 1HQ", 51.705, -0.615)]))
    session.expire_all()
    assert (_postcode(session, "HP5 1HQ").source, _postcode(session, "HP5 1HQ").latitude) == ("onspd", 51.705)


def test_outward_centres_are_cached_only_when_configured_and_a_load_clears_them(app, session, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "POSTCODE_CACHE_SECONDS", 300)
    _location(session, "HP18 9JZ", 51.80, -0.95)
    first = resolve_place("HP18")
    _location(session, "HP18 9AB", 51.90, -1.05)
    assert resolve_place("HP18") == first  # cached

    _load(app, _write(tmp_path / "onspd.csv", ROWS))

    assert resolve_place("HP18").latitude == pytest.approx(51.85)
