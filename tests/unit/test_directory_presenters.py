"""Plain-English wording and safe links for the public directory pages (pure functions, no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from portal.data.directory import escape_like, search_words
from portal.models import CostOption, CostUnit, Location, Schedule, Weekday
from portal.public import presenters


def test_age_ranges_read_as_plain_english():
    assert presenters.age_range(5, 11) == "From 5 to 11 years"
    assert presenters.age_range(18, None) == "18 and over"
    assert presenters.age_range(None, 11) == "Up to 11 years"
    assert presenters.age_range(0, 11) == "Up to 11 years"
    assert presenters.age_range(None, None) == "All ages"


def test_blank_lines_separate_paragraphs_and_single_newlines_break_lines():
    text = "First line\r\nsecond line\n\n\n  Next paragraph  \n \n<b>kept as text</b>"

    assert presenters.paragraphs(text) == [
        ["First line", "second line"], ["Next paragraph"], ["<b>kept as text</b>"]
    ]
    assert presenters.paragraphs("") == []


def test_only_http_and_https_websites_become_links():
    assert presenters.web_href("https://example.org/a?b=1") == "https://example.org/a?b=1"
    assert presenters.web_href("http://example.org") == "http://example.org"
    assert presenters.web_href("www.example.org") == "https://www.example.org"
    for unsafe in ("javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,hi", "mailto:a@b.c",
                   "https://", "http://exa mple.org", "", None, "ftp://example.org"):
        assert presenters.web_href(unsafe) is None, unsafe


def test_phone_numbers_become_dialable_links():
    assert presenters.tel_href("01632 960 000") == "tel:01632960000"
    assert presenters.tel_href("+44 (0)1632 960-000") == "tel:+4401632960000"


def test_websites_are_shown_without_their_scheme():
    assert presenters.display_url("https://www.example.org/") == "www.example.org"


def test_languages_are_named_in_the_readers_language():
    assert presenters.language_name("pl", "en") == "Polish"
    assert presenters.language_name("pl", "cy") == "Pwyleg"
    assert presenters.language_name("en-GB", "en") == "British English"
    assert presenters.language_name("sgn-GB", "en") == "British Sign Language"
    assert presenters.language_name("BFI", "en") == "British Sign Language"
    assert presenters.language_name("xx-unknown", "en") == "xx-unknown"


def test_opening_times_are_grouped_by_day_monday_first_in_the_readers_language():
    schedules = [
        Schedule(byday=Weekday.SU, opens_at=time(10, 0), closes_at=time(12, 0)),
        Schedule(byday=Weekday.MO, opens_at=time(14, 0), closes_at=time(16, 0)),
        Schedule(byday=Weekday.MO, opens_at=time(9, 0), closes_at=time(12, 0), notes="drop-in"),
        Schedule(byday=Weekday.TU, opens_at=None, closes_at=None, notes="By appointment"),
    ]

    english = presenters.opening_days(schedules, "en")
    welsh = presenters.opening_days(schedules, "cy")

    assert [day.day for day in english] == ["Monday", "Tuesday", "Sunday"]
    assert [day.day for day in welsh] == ["Dydd Llun", "Dydd Mawrth", "Dydd Sul"]
    assert len(english[0].times) == 2
    assert english[0].times[0].startswith("9:00") and english[0].times[0].endswith("(drop-in)")
    assert english[1].times == ["By appointment"]
    assert welsh[0].times[1] == "14:00 to 16:00"


def pounds(pence: int) -> str:
    return f"£{pence / 100:,.2f}"


def test_costs_read_as_an_amount_per_unit():
    hourly = CostOption(amount_pence=1850, unit=CostUnit.HOUR)
    assert presenters.cost_text(hourly, pounds) == "£18.50 per hour"
    assert presenters.cost_text(CostOption(amount_pence=500, unit=None), pounds) == "£5.00"
    assert presenters.cost_text(
        CostOption(option="Weekend", amount_pence=4000, unit=CostUnit.DAY), pounds
    ) == "Weekend: £40.00 per day"
    assert presenters.cost_text(
        CostOption(amount_pence=None, amount_description="Ask for a quote"), pounds
    ) == "Ask for a quote"


def test_a_hidden_address_shows_only_the_outward_code():
    hidden = Location(address_1="7 Secret Lane", city="Aldermoor", postcode="AM9 8ZZ",
                      hide_exact_address=True)
    shown = Location(address_1="2 Market Street", address_2="", city="Aldermoor", state_province="ALDERMOOR",
                     postcode="AM1 2CD", hide_exact_address=False)

    assert presenters.address_lines(hidden) == ["AM9"]
    assert presenters.address_lines(shown) == ["2 Market Street", "Aldermoor", "AM1 2CD"]


def test_a_listing_is_out_of_date_after_a_year():
    today = date(2026, 3, 3)

    assert presenters.is_out_of_date(date(2025, 3, 2), today)
    assert not presenters.is_out_of_date(date(2025, 3, 3), today)
    assert not presenters.is_out_of_date(datetime(2026, 1, 1, tzinfo=UTC), today)
    assert not presenters.is_out_of_date(None, today)
    assert presenters.is_out_of_date(date(2023, 2, 27), date(2024, 2, 29))


def test_pagination_shows_first_last_and_neighbours_with_ellipses():
    params = presenters.pagination(5, 10, lambda n: f"?page={n}")

    numbers = [item.get("number", "…") for item in params["items"]]
    assert numbers == [1, "…", 4, 5, 6, "…", 10]
    assert [item["number"] for item in params["items"] if item.get("current")] == [5]
    assert params["previous"]["href"] == "?page=4"
    assert params["next"]["href"] == "?page=6"
    assert params["previous"]["text"] == "Previous page"
    assert presenters.pagination(1, 1, str) is None
    first = presenters.pagination(1, 2, str)
    assert "previous" not in first and first["next"]["href"] == "2"


def test_search_words_are_distinct_and_capped():
    assert search_words("  Respite  respite care ") == ["Respite", "care"]
    assert len(search_words(" ".join(f"w{n}" for n in range(50)))) == 10


def test_like_wildcards_are_escaped():
    assert escape_like("100%_a/b") == "100/%/_a//b"
