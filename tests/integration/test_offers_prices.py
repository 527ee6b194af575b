"""Prices typed in pounds and pence become integer pence exactly, or are refused with a reason (no rounding)."""

from __future__ import annotations

import pytest

from portal.data.offers import MAX_PRICE_PENCE, PriceError, parse_price, price_as_typed


@pytest.mark.parametrize(("typed", "pence"), [
    ("12.50", 1250),
    ("£12.50", 1250),
    ("12", 1200),
    ("12.5", 1250),
    (" 15.50 ", 1550),
    ("1,250.00", 125_000),
    (".50", 50),
    ("0.01", 1),
    ("19.99", 1999),  # a float would make this 1998
    ("10000", MAX_PRICE_PENCE),
    ("£ 10,000.00", MAX_PRICE_PENCE),
])
def test_a_price_in_pounds_and_pence_is_stored_as_exact_pence(typed, pence):
    assert parse_price(typed) == pence


@pytest.mark.parametrize(("typed", "reason"), [
    ("", "missing"),
    ("   ", "missing"),
    (None, "missing"),
    ("12.505", "too_many_decimals"),
    ("12.500", "too_many_decimals"),
    ("0", "not_positive"),
    ("0.00", "not_positive"),
    ("-5", "not_positive"),
    ("-£5.00", "not_positive"),
    ("£-5.00", "not_positive"),
    ("10000.01", "too_high"),
    ("1,000,000", "too_high"),
    ("twelve", "not_money"),
    ("1e3", "not_money"),
    ("12,50", "not_money"),
    ("12.50.1", "not_money"),
    ("NaN", "not_money"),
    ("Infinity", "not_money"),
    (".", "not_money"),
    ("-", "not_money"),
    ("$12", "not_money"),
])
def test_a_price_that_is_not_exact_money_in_range_is_refused_with_its_reason(typed, reason):
    with pytest.raises(PriceError) as refused:
        parse_price(typed)

    assert refused.value.reason == reason


@pytest.mark.parametrize(("pence", "shown"), [(1550, "15.50"), (50, "0.50"), (1_000_000, "10000.00"), (None, "")])
def test_a_saved_price_is_shown_in_the_form_as_it_would_be_typed(pence, shown):
    assert price_as_typed(pence) == shown
