"""The prepaid-card rule, decided from PaymentMethods in the shape Stripe documents (tests/fixtures/stripe/)."""

from __future__ import annotations

import pytest

from portal.payments.cards import funding_refusal
from portal.payments.gateway import PaymentError, card_details
from tests.support.localstripe import fixture


def test_a_prepaid_card_is_read_with_its_brand_last_four_expiry_and_funding():
    card = card_details(fixture("payment_method_prepaid.json"))

    assert (card.payment_method_id, card.brand, card.last4, card.exp_month, card.exp_year, card.funding,
            card.customer) == ("pm_1PrepaidMastercard", "mastercard", "5100", 8, 2029, "prepaid", "cus_NffrFeUfNV2Hib")


def test_with_the_prepaid_rule_on_only_a_prepaid_card_is_accepted():
    assert funding_refusal(card_details(fixture("payment_method_prepaid.json")), require_prepaid=True) is None
    for name in ("payment_method_debit.json", "payment_method_credit.json", "payment_method_unknown_funding.json"):
        assert funding_refusal(card_details(fixture(name)), require_prepaid=True) == "not_prepaid", name


def test_with_the_prepaid_rule_off_any_card_is_accepted():
    for name in ("payment_method_prepaid.json", "payment_method_debit.json", "payment_method_credit.json"):
        assert funding_refusal(card_details(fixture(name)), require_prepaid=False) is None


def test_a_payment_method_that_is_not_a_card_is_refused():
    sepa = {"id": "pm_1Sepa", "object": "payment_method", "type": "sepa_debit", "sepa_debit": {"last4": "3000"}}

    with pytest.raises(PaymentError):
        card_details(sepa)


def test_production_turns_the_prepaid_rule_on_and_development_leaves_it_off():
    from portal.config import DevelopmentConfig, ProductionConfig, TestingConfig

    assert ProductionConfig.STRIPE_REQUIRE_PREPAID is True
    assert DevelopmentConfig.STRIPE_REQUIRE_PREPAID is False
    assert TestingConfig.STRIPE_REQUIRE_PREPAID is False
