"""Threshold arithmetic at its exact boundaries."""
from decimal import Decimal

import pytest

from civic.issues import threshold as th


@pytest.mark.parametrize("base,num,den,need", [
    (100, 1, 5, 20), (101, 1, 5, 21), (99, 1, 5, 20), (5, 1, 5, 1), (0, 1, 5, 1),
    (3, 1, 5, 1), (10, 1, 2, 5), (11, 1, 2, 6), (7, 1, 1, 7),
])
def test_share_needed_is_ceiling_and_at_least_one(base, num, den, need):
    assert th.share_needed(base, num, den) == need


@pytest.mark.parametrize("num,den", [(0, 5), (6, 5), (1, 0)])
def test_share_must_be_a_proper_fraction(num, den):
    with pytest.raises(ValueError):
        th.share_needed(10, num, den)


def test_household_progress():
    assert th.household_progress(2, 3) == th.Progress(False, 66, 2, 3)
    assert th.household_progress(3, 3).reached
    assert th.household_progress(5, 3).percent == 100


@pytest.mark.parametrize("area,heads,reached", [
    ("200.00", 2, True),    # exactly 20% of 1000.00 m² and of 10 owners: 以上 includes the bound
    ("199.99", 2, False),   # area one hundredth short
    ("200.00", 1, False),   # headcount short
    ("999.00", 1, False),   # area passes, headcount fails
    ("10.00", 10, False),   # headcount passes, area fails
    ("1000.00", 10, True),
])
def test_owners_progress_both_dimensions_inclusive(area, heads, reached):
    p = th.owners_progress(heads, Decimal(area), heads, Decimal("1000.00"), 10)
    assert p.reached is reached
    assert p.need_area == Decimal("200.00") and p.need_heads == 2


def test_owners_progress_fractional_bound():
    # 20% of 333.33 m² is 66.666 m²: 66.66 is short, 66.67 reaches it
    assert not th.owners_progress(1, Decimal("66.66"), 1, Decimal("333.33"), 5).reached
    assert th.owners_progress(1, Decimal("66.67"), 1, Decimal("333.33"), 5).reached
    # 20% of 7 owners is 1.4 heads: 1 is short, 2 reaches it
    assert not th.owners_progress(1, Decimal("100"), 1, Decimal("100"), 7).reached
    assert th.owners_progress(2, Decimal("100"), 2, Decimal("100"), 7).reached


def test_owners_progress_with_no_owners_never_reached():
    assert not th.owners_progress(0, Decimal(0), 0, Decimal(0), 0).reached


@pytest.mark.parametrize("before,after,milestone", [
    (20, 25, 25), (24, 26, 25), (25, 30, None), (40, 80, 75), (0, 100, 100), (99, 100, 100),
    (100, 100, None),
])
def test_milestones(before, after, milestone):
    assert th.milestone_crossed(before, after) == milestone
