"""The court acceptance fee at every tier boundary of 《诉讼费用交纳办法》 art. 13, computed by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mediation.guidance.fees import LawyerFees, acceptance_fee, litigation_cost, payment_order_fee

# amount -> fee, by hand: 50 for the first 10,000, then each tier's rate on its part only.
HAND = {
    0: "50.00", 10_000: "50.00",
    10_001: "50.03",  # 50 + 1 * 2.5 % = 50.025 -> 50.03
    100_000: "2300.00",  # 50 + 90,000 * 2.5 %
    200_000: "4300.00",  # + 100,000 * 2 %
    500_000: "8800.00",  # + 300,000 * 1.5 %
    1_000_000: "13800.00",  # + 500,000 * 1 %
    2_000_000: "22800.00",  # + 1,000,000 * 0.9 %
    5_000_000: "46800.00",  # + 3,000,000 * 0.8 %
    10_000_000: "81800.00",  # + 5,000,000 * 0.7 %
    20_000_000: "141800.00",  # + 10,000,000 * 0.6 %
    20_000_100: "141800.50",  # + 100 * 0.5 %
    30_000_000: "191800.00",  # + 10,000,000 * 0.5 %
}


@pytest.mark.parametrize("amount,fee", sorted(HAND.items()))
def test_fee_at_tier_boundaries(amount: int, fee: str) -> None:
    assert acceptance_fee(Decimal(amount)) == Decimal(fee)


def test_just_past_each_boundary_adds_that_tiers_rate() -> None:
    rates = {100_000: "0.02", 200_000: "0.015", 500_000: "0.01", 1_000_000: "0.009", 2_000_000: "0.008",
             5_000_000: "0.007", 10_000_000: "0.006", 20_000_000: "0.005"}
    for bound, rate in rates.items():
        above = acceptance_fee(Decimal(bound) + 1000) - acceptance_fee(Decimal(bound))
        assert above == Decimal(rate) * 1000, bound


def test_simplified_procedure_halves_and_labour_is_ten_yuan() -> None:
    ordinary = litigation_cost("loan", Decimal(150_000), simplified=False, lawyer=None)
    simplified = litigation_cost("loan", Decimal(150_000), simplified=True, lawyer=None)
    assert ordinary.acceptance_fee == Decimal("3300.00") and simplified.acceptance_fee == Decimal("1650.00")
    assert (ordinary.months, simplified.months) == (6, 3)
    assert litigation_cost("labour", Decimal(80_000), simplified=False, lawyer=None).acceptance_fee == Decimal(10)
    with_lawyer = litigation_cost("loan", Decimal(150_000), simplified=False, lawyer=LawyerFees(Decimal("0.05"), Decimal(3000)))
    assert with_lawyer.lawyer_fee == Decimal("7500.00") and with_lawyer.total == Decimal("10800.00")
    assert payment_order_fee(Decimal(100_000)) == Decimal("766.67")


def test_negative_amount_is_refused() -> None:
    with pytest.raises(ValueError):
        acceptance_fee(Decimal(-1))
