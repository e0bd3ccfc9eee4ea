"""Litigation cost against mediation, for the estimator.

The court acceptance fee of a property case follows 《诉讼费用交纳办法》 art. 13 (cumulative tiers of
the amount in dispute), halved under simplified procedure (art. 16); labour disputes pay 10 yuan a
case (art. 13(5)); a payment order one third of the property fee (art. 14(3)); judicial
confirmation nothing (art. 8). Amounts are ``Decimal`` yuan, rounded to the fen.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

FEN = Decimal("0.01")
#: (upper bound of the tier in yuan, rate on the part of the amount inside it); art. 13(1).
TIERS: tuple[tuple[Decimal | None, Decimal], ...] = (
    (Decimal(100_000), Decimal("0.025")),
    (Decimal(200_000), Decimal("0.02")),
    (Decimal(500_000), Decimal("0.015")),
    (Decimal(1_000_000), Decimal("0.01")),
    (Decimal(2_000_000), Decimal("0.009")),
    (Decimal(5_000_000), Decimal("0.008")),
    (Decimal(10_000_000), Decimal("0.007")),
    (Decimal(20_000_000), Decimal("0.006")),
    (None, Decimal("0.005")),
)
FIRST_TIER_UPPER = Decimal(10_000)
FIRST_TIER_FEE = Decimal(50)
LABOUR_CASE_FEE = Decimal(10)


def _fen(value: Decimal) -> Decimal:
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


def acceptance_fee(amount: Decimal) -> Decimal:
    """The acceptance fee of a property case for ``amount`` yuan in dispute (ordinary procedure)."""
    if amount < 0:
        raise ValueError("the amount in dispute cannot be negative")
    fee = FIRST_TIER_FEE
    lower = FIRST_TIER_UPPER
    for upper, rate in TIERS:
        if amount <= lower:
            break
        part = (amount if upper is None else min(amount, upper)) - lower
        fee += part * rate
        if upper is None:
            break
        lower = upper
    return _fen(fee)


@dataclass(frozen=True)
class LawyerFees:
    """Typical lawyer fees, configurable per deployment (local guide scales differ): a share of the
    amount with a floor. Only an order of magnitude for the estimate."""

    rate: Decimal = Decimal("0.05")
    minimum: Decimal = Decimal(3000)

    def for_amount(self, amount: Decimal) -> Decimal:
        return _fen(max(self.minimum, amount * self.rate))


@dataclass(frozen=True)
class LitigationCost:
    acceptance_fee: Decimal  # what the court charges (halved if simplified)
    full_fee: Decimal  # the ordinary-procedure fee, before halving
    simplified: bool
    lawyer_fee: Decimal
    total: Decimal
    months: int  # the statutory time limit of first instance (CPL arts. 152, 164)
    basis: list[str]


def litigation_cost(dispute_type: str, amount: Decimal, *, simplified: bool, lawyer: LawyerFees | None,
                    ) -> LitigationCost:
    """``lawyer`` ``None``: the person acts without a lawyer."""
    if dispute_type == "labour":
        full = LABOUR_CASE_FEE
        basis = ["《诉讼费用交纳办法》第十三条第（五）项：劳动争议案件每件交纳10元",
                 "《劳动争议调解仲裁法》第五条：先经劳动争议仲裁；第五十三条：劳动争议仲裁不收费"]
    else:
        full = acceptance_fee(amount)
        basis = ["《诉讼费用交纳办法》第十三条第（一）项：财产案件按争议金额分段累计交纳"]
    fee = _fen(full / 2) if simplified and dispute_type != "labour" else full
    if simplified:
        basis.append("《诉讼费用交纳办法》第十六条：适用简易程序审理的案件减半交纳案件受理费")
    basis.append("《民事诉讼法》第一百五十二条、第一百六十四条：普通程序六个月、简易程序三个月内审结")
    lawyer_fee = lawyer.for_amount(amount) if lawyer else Decimal(0)
    return LitigationCost(fee, full, simplified, lawyer_fee, _fen(fee + lawyer_fee), 3 if simplified else 6, basis)


def payment_order_fee(amount: Decimal) -> Decimal:
    """《诉讼费用交纳办法》 art. 14(3): one third of the property-case fee."""
    return _fen(acceptance_fee(amount) / 3)
