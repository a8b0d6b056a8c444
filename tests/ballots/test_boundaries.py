"""Worked examples at the exact bounds of Art. 278, counted through the public ballot file
(`ballotfile.recount`, the function behind `flask ballots recount`).

Each row is a ballot file (matter, units, votes) and the verdict the law requires:
participation ≥ 2/3 of the area AND of the heads ("以上" includes the bound), approval ≥ 3/4
for items 6–8 and more than half (strictly: "过半数") for the others.
"""
from __future__ import annotations

import json

import pytest

from civic.ballots import ballotfile


def make_file(matter: int, units, votes: dict, silent: str | None = None) -> str:
    """units: (unit, area, owner) triples; owner "developer" marks a developer unit."""
    data = {"matter": matter,
            "units": [{"unit": u, "area": a, "owner": o, "developer": o == "developer"}
                      for u, a, o in units],
            "votes": votes}
    if silent:
        data["silent_counts_as"] = silent
    return json.dumps(data, ensure_ascii=False)


def each(*areas: str, prefix: str = "o"):
    """One unit per owner: o1 holds u1 with areas[0], …"""
    return [(f"u{i}", a, f"{prefix}{i}") for i, a in enumerate(areas, start=1)]


TEN3 = each("10.00", "10.00", "10.00")
TEN4 = each("10.00", "10.00", "10.00", "10.00")
TEN6 = each(*["10.00"] * 6)
Y, N, A = "yes", "no", "abstain"

#: (id, matter, units, votes, participation met, approval met, passed)
CASES = [
    # --- participation: 2/3 of area and of heads, inclusive -------------------------------
    ("exactly-two-thirds-area-and-heads", 5, TEN3, {"o1": Y, "o2": Y}, True, True, True),
    ("six-owners-four-vote-exactly-two-thirds", 5, TEN6,
     {"o1": Y, "o2": Y, "o3": Y, "o4": N}, True, True, True),
    ("one-unit-short-of-two-thirds", 5, TEN6, {"o1": Y, "o2": Y, "o3": Y}, False, True, False),
    ("area-two-thirds-exactly-but-heads-one-third", 5, each("20.00", "5.00", "5.00"),
     {"o1": Y}, False, True, False),
    ("heads-two-thirds-exactly-but-area-one-third", 5, each("20.00", "5.00", "5.00"),
     {"o2": Y, "o3": Y}, False, True, False),
    ("area-one-hundredth-short-of-two-thirds", 5, each("33.33", "33.33", "33.34"),
     {"o1": Y, "o2": Y}, False, True, False),
    ("area-one-hundredth-over-two-thirds", 5, each("33.33", "33.33", "33.34"),
     {"o1": Y, "o3": Y}, True, True, True),
    ("fractional-areas-exactly-two-thirds", 5, each("33.33", "33.33", "33.33"),
     {"o1": Y, "o2": N}, True, False, False),
    # --- items 6–8: three quarters, inclusive --------------------------------------------
    ("item6-exactly-three-quarters-passes", 6, TEN4,
     {"o1": Y, "o2": Y, "o3": Y, "o4": N}, True, True, True),
    ("item7-exactly-three-quarters-passes", 7, TEN4,
     {"o1": Y, "o2": Y, "o3": Y, "o4": A}, True, True, True),
    ("item8-exactly-three-quarters-passes", 8, TEN4,
     {"o1": Y, "o2": Y, "o3": Y, "o4": N}, True, True, True),
    ("item6-fractional-area-exactly-three-quarters", 6,
     each("37.50", "25.00", "12.50", "25.00"), {"o1": Y, "o2": N, "o3": Y, "o4": Y},
     True, True, True),
    ("item6-one-hundredth-short-of-three-quarters", 6,
     each("37.49", "25.01", "12.50", "25.00"), {"o1": Y, "o2": N, "o3": Y, "o4": Y},
     True, False, False),
    ("item7-two-thirds-is-not-three-quarters", 7, TEN3, {"o1": Y, "o2": Y, "o3": N},
     True, False, False),
    # --- other items: more than half, strict ----------------------------------------------
    ("item5-exactly-half-fails", 5, TEN4, {"o1": Y, "o2": Y, "o3": N, "o4": N},
     True, False, False),
    ("item1-exactly-half-fails", 1, TEN4, {"o1": Y, "o2": Y, "o3": N, "o4": A},
     True, False, False),
    ("item9-exactly-half-fails", 9, TEN4, {"o1": Y, "o2": Y, "o3": A, "o4": A},
     True, False, False),
    ("item5-just-over-half-by-area-passes", 5, each("30.01", "20.00", "49.99"),
     {"o1": Y, "o2": Y, "o3": N}, True, True, True),
    ("item5-exactly-half-of-area-fails-although-heads-pass", 5, each("30.00", "20.00", "50.00"),
     {"o1": Y, "o2": Y, "o3": N}, True, False, False),
    ("item4-fractional-areas-exactly-half", 4, each("16.67", "33.33", "50.00"),
     {"o1": Y, "o2": Y, "o3": N}, True, False, False),
    # 0.10 + 0.20 is exactly 0.30, half of 0.60: floats would say 0.30000000000000004 > half
    ("item5-tenths-exactly-half-no-float-error", 5, each("0.10", "0.20", "0.30"),
     {"o1": Y, "o2": Y, "o3": N}, True, False, False),
    ("item2-majority-of-heads-and-area", 2, TEN3, {"o1": Y, "o2": Y, "o3": N},
     True, True, True),
    # --- area and heads must both pass ------------------------------------------------------
    ("area-passes-headcount-fails", 5, each("80.00", "10.00", "10.00"),
     {"o1": Y, "o2": N, "o3": N}, True, False, False),
    ("headcount-passes-area-fails", 5, each("80.00", "10.00", "10.00"),
     {"o1": N, "o2": Y, "o3": Y}, True, False, False),
    ("item6-area-over-three-quarters-heads-two-thirds", 6, each("80.00", "10.00", "10.00"),
     {"o1": Y, "o2": Y, "o3": N}, True, False, False),
    # --- headcount under SPC interpretation Art. 9 ------------------------------------------
    ("multi-unit-owner-counts-once", 5,
     [("u1", "10.00", "a"), ("u2", "10.00", "a"), ("u3", "10.00", "a"),
      ("u4", "10.00", "b"), ("u5", "10.00", "c")],
     {"a": Y, "b": N}, True, False, False),
    ("developer-units-are-one-person", 5,
     [("d1", "10.00", "developer"), ("d2", "10.00", "developer"), ("d3", "10.00", "developer"),
      ("d4", "10.00", "developer"), ("u1", "10.00", "b"), ("u2", "10.00", "c")],
     {"developer": Y, "b": Y}, True, True, True),
    ("developer-alone-cannot-carry-heads", 5,
     [("d1", "10.00", "developer"), ("d2", "10.00", "developer"), ("d3", "10.00", "developer"),
      ("d4", "10.00", "developer"), ("u1", "10.00", "b"), ("u2", "10.00", "c")],
     {"developer": Y, "b": N, "c": N}, True, False, False),
    # --- nobody agreeing, nobody voting -------------------------------------------------------
    ("all-abstaining", 5, TEN3, {"o1": A, "o2": A, "o3": A}, True, False, False),
    ("all-abstaining-item6", 6, TEN3, {"o1": A, "o2": A, "o3": A}, True, False, False),
    ("nobody-voting", 5, TEN3, {}, False, False, False),
]


@pytest.mark.parametrize("matter,units,votes,turnout,approval,passed",
                         [pytest.param(*c[1:], id=c[0]) for c in CASES])
def test_worked_examples(matter, units, votes, turnout, approval, passed):
    summary = ballotfile.recount(make_file(matter, units, votes))
    assert summary["participation"]["met"] is turnout
    assert summary["approval"]["met"] is approval
    assert summary["passed"] is passed


def test_exactly_three_quarters_of_a_fractional_area():
    s = ballotfile.recount(make_file(6, each("37.50", "25.00", "12.50", "25.00"),
                                     {"o1": Y, "o2": N, "o3": Y, "o4": Y}))
    assert s["approval"] == {"area_yes": "75.00", "headcount_yes": 3, "met": True}
    assert s["participation"]["area"] == s["participation"]["area_total"] == "100.00"


def test_exactly_two_thirds_full_summary():
    assert ballotfile.recount(make_file(5, TEN3, {"o1": Y, "o2": Y})) == {
        "participation": {"area": "20.00", "area_total": "30.00", "headcount": 2,
                          "headcount_total": 3, "met": True},
        "approval": {"area_yes": "20.00", "headcount_yes": 2, "met": True},
        "passed": True,
    }


def test_multi_unit_owner_is_one_head_with_summed_area():
    units = [("u1", "10.00", "a"), ("u2", "10.00", "a"), ("u3", "10.00", "a"),
             ("u4", "10.00", "b"), ("u5", "10.00", "c")]
    s = ballotfile.recount(make_file(5, units, {"a": Y, "b": N}))
    # counted per unit, "a" would be 3 of 4 voting heads agreeing and pass
    assert s["participation"] == {"area": "40.00", "area_total": "50.00", "headcount": 2,
                                  "headcount_total": 3, "met": True}
    assert s["approval"] == {"area_yes": "30.00", "headcount_yes": 1, "met": False}


def test_developer_units_are_one_head_with_summed_area():
    units = [("d1", "10.00", "developer"), ("d2", "15.50", "developer"), ("u1", "10.00", "b"),
             ("u2", "10.00", "c")]
    s = ballotfile.recount(make_file(5, units, {"developer": Y, "b": Y}))
    assert s["participation"] == {"area": "35.50", "area_total": "45.50", "headcount": 2,
                                  "headcount_total": 3, "met": True}
    assert s["approval"] == {"area_yes": "35.50", "headcount_yes": 2, "met": True}


def test_fractional_sums_are_exact_at_the_bound():
    s = ballotfile.recount(make_file(5, each("33.33", "33.33", "33.34"), {"o1": Y, "o3": N}))
    assert s["participation"]["area"] == "66.67" and s["participation"]["area_total"] == "100.00"
    assert s["participation"]["met"] is True
    assert s["approval"]["area_yes"] == "33.33" and s["approval"]["met"] is False


def test_nobody_voting_summary():
    assert ballotfile.recount(make_file(5, TEN3, {})) == {
        "participation": {"area": "0", "area_total": "30.00", "headcount": 0,
                          "headcount_total": 3, "met": False},
        "approval": {"area_yes": "0", "headcount_yes": 0, "met": False},
        "passed": False,
    }


def test_all_abstaining_takes_part_but_nobody_agrees():
    s = ballotfile.recount(make_file(5, TEN3, {"o1": A, "o2": A, "o3": A}))
    assert s["participation"]["headcount"] == 3 and s["participation"]["met"] is True
    assert s["approval"] == {"area_yes": "0", "headcount_yes": 0, "met": False}


def test_silent_rule_applies_only_after_real_participation():
    units = TEN6
    # four of six vote (exactly 2/3): the two silent count as agreeing under the rule
    votes = {"o1": Y, "o2": N, "o3": N, "o4": Y}
    assert ballotfile.recount(make_file(5, units, votes))["passed"] is False
    assert ballotfile.recount(make_file(5, units, votes, silent="agree"))["passed"] is True
    # three of six: the rule never makes up for missing participation
    short = {"o1": Y, "o2": Y, "o3": Y}
    assert ballotfile.recount(make_file(5, units, short, silent="agree"))["passed"] is False
