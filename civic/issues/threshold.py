"""Co-sign thresholds: pure arithmetic, exact (integers and Decimal), no Flask, no database."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

#: "20% 以上" of owners by area and headcount (temporary 业主大会); 以上 includes the bound
OWNERS_SHARE = Fraction(1, 5)


def share_needed(base_households: int, num: int, den: int) -> int:
    """Households needed for a share num/den of `base_households`: at least that share (≥),
    and never fewer than one."""
    if den <= 0 or num <= 0 or num > den:
        raise ValueError("share must be in (0, 1]")
    need = -((-base_households * num) // den)  # ceiling, in integers
    return max(1, need)


@dataclass(frozen=True)
class Progress:
    """Where an issue stands against its frozen threshold."""

    reached: bool
    #: 0..100, the lesser of the dimensions for OWNERS thresholds (for the meter)
    percent: int
    households: int
    need_households: int | None = None
    area: Decimal | None = None
    need_area: Decimal | None = None
    heads: int | None = None
    need_heads: int | None = None


def _pct(have, need) -> int:
    if not need:
        return 100
    return min(100, int(Fraction(have) * 100 / Fraction(need)))


def household_progress(count: int, need: int) -> Progress:
    return Progress(reached=count >= need, percent=_pct(count, need), households=count,
                    need_households=need)


def owners_progress(count: int, area: Decimal, heads: int, base_area: Decimal,
                    base_heads: int) -> Progress:
    """20% of owners by area AND by headcount, both inclusive (≥)."""
    need_area = Fraction(base_area) * OWNERS_SHARE
    need_heads = Fraction(base_heads) * OWNERS_SHARE
    reached = Fraction(area) >= need_area and heads >= need_heads and base_heads > 0
    shown_area = (Decimal(need_area.numerator) / Decimal(need_area.denominator)).quantize(
        Decimal("0.01"))
    shown_heads = -((-need_heads.numerator) // need_heads.denominator)
    percent = min(_pct(Fraction(area), need_area), _pct(heads, need_heads))
    return Progress(reached=reached, percent=percent, households=count, area=area,
                    need_area=shown_area, heads=heads, need_heads=shown_heads)


def milestone_crossed(before: int, after: int) -> int | None:
    """The 25/50/75/100 % milestone passed when a percentage goes from before to after."""
    passed = [m for m in (25, 50, 75, 100) if before < m <= after]
    return passed[-1] if passed else None
