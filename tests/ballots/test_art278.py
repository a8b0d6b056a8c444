"""Art. 278 counting: worked examples at the exact bounds, properties, and the CSV recount."""
from __future__ import annotations

import ast
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civic.ballots import art278
from civic.ballots.art278 import (DEVELOPER_KEY, SILENT_RULES, Choice, Item, RecountError,
                                  UnitRecord, electorate, format_percent, recount, tally)

A, O, B = Choice.AGREE, Choice.OPPOSE, Choice.ABSTAIN
_CODE = {"A": A, "O": O, "B": B, "-": None}


def simple(areas: list[str], marks: str):
    """One unit per owner o0, o1, …; marks gives each owner's vote (A/O/B, '-' = silent)."""
    assert len(areas) == len(marks)
    roll = electorate([UnitRecord(f"u{i}", f"o{i}", Decimal(a)) for i, a in enumerate(areas)])
    votes = {f"o{i}": _CODE[m] for i, m in enumerate(marks) if _CODE[m] is not None}
    return roll, votes


# --- the nine matters -------------------------------------------------------------------

def test_items_are_the_nine_matters_with_the_codes_wording():
    assert [i.value for i in Item] == list(range(1, 10))
    assert Item(1).label == "制定和修改业主大会议事规则"
    assert Item(3).label == "选举业主委员会或者更换业主委员会成员"
    assert Item(6).label == "筹集建筑物及其附属设施的维修资金"
    assert Item(7).label == "改建、重建建筑物及其附属设施"
    assert Item(8).label == "改变共有部分的用途或者利用共有部分从事经营活动"
    assert Item(9).label == "有关共有和共同管理权利的其他重大事项"
    assert {i.value for i in Item if i.needs_three_quarters} == {6, 7, 8}


def test_thresholds_are_exact_fractions():
    assert Item(6).approval_threshold == Fraction(3, 4) and not Item(6).approval_strict
    assert Item(5).approval_threshold == Fraction(1, 2) and Item(5).approval_strict
    roll, votes = simple(["10"] * 3, "AA-")
    r = tally(roll, votes, Item.RULES_OF_PROCEDURE)
    assert r.turnout_threshold == Fraction(2, 3)
    assert isinstance(r.turnout_area_ratio, Fraction)
    assert isinstance(r.agree_heads_ratio, Fraction)


# --- worked examples --------------------------------------------------------------------

CASES = [
    # id, item, areas, votes, turnout_met, approved
    ("turnout exactly 2/3 passes", 1, ["10.00"] * 3, "AA-", True, True),
    ("turnout one hundredth m2 below 2/3 fails", 1, ["1000.00", "999.99", "1000.01"], "AA-",
     False, False),
    ("item 6 exactly 3/4 passes", 6, ["25"] * 4, "AAAO", True, True),
    ("item 6 one hundredth below 3/4 area fails", 6, ["25.00", "25.00", "24.99", "25.01"],
     "AAAO", True, False),
    ("item 5 exactly half fails", 5, ["25"] * 4, "AAOO", True, False),
    ("item 5 just over half passes", 5, ["30", "20.01", "49.99"], "AAO", True, True),
    ("item 5 area exactly half, heads over: fails", 5, ["30", "20", "50"], "AAO", True, False),
    ("item 9 exactly half of heads fails", 9, ["10"] * 6, "AAAOOO", True, False),
    ("item 9 over half passes", 9, ["10"] * 6, "AAAAOO", True, True),
    ("abstentions count as taking part and not agreeing", 1, ["10"] * 4, "AABB", True, False),
    ("abstention with a clear majority passes", 1, ["10"] * 4, "AAB-", True, True),
    ("turnout: area passes, headcount fails", 1, ["70", "10", "10", "10"], "A---",
     False, False),
    ("turnout: headcount passes, area fails", 1, ["70", "10", "10", "10"], "-AAA",
     False, False),
    ("approval: area passes, headcount fails", 1, ["70", "10", "10", "10"], "AOOO",
     True, False),
    ("approval: headcount passes, area fails", 1, ["70", "10", "10", "10"], "OAAA",
     True, False),
    ("item 7 exactly 3/4 of eight passes", 7, ["10"] * 8, "AAAAAAOO", True, True),
    ("item 8 five of eight fails", 8, ["10"] * 8, "AAAAAOOO", True, False),
    ("item 6 3/4 of area but 2/3 of heads fails", 6, ["50", "10", "20"], "AAO", True, False),
    ("fractional areas exactly on 2/3 turnout", 2, ["44.44", "22.22", "33.33"], "AA-",
     True, True),
    ("fractional areas one hundredth below 2/3 turnout", 2, ["44.44", "22.21", "33.34"], "AA-",
     False, False),
    ("fractional areas exactly on 3/4 (0.1 + 0.2 + 0.3 of 0.8)", 6, ["0.1", "0.2", "0.3", "0.2"],
     "AAAO", True, True),
    ("fractional areas one hundredth below 3/4", 6, ["25.01", "25.01", "25.00", "25.02"],
     "AAAO", True, False),
    ("fractional areas exactly half fails", 3, ["0.25", "0.25", "0.50"], "AAO", True, False),
    ("fractional areas just over half passes", 3, ["0.26", "0.25", "0.49"], "AAO", True, True),
    ("all abstaining: turnout met, not approved", 4, ["10"] * 3, "BBB", True, False),
    ("nobody voting", 4, ["10"] * 3, "---", False, False),
    ("everyone agreeing", 7, ["10", "20.5", "30.25"], "AAA", True, True),
]


@pytest.mark.parametrize("item,areas,marks,turnout_met,approved",
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_worked_examples(item, areas, marks, turnout_met, approved):
    roll, votes = simple(areas, marks)
    r = tally(roll, votes, item)
    assert (r.turnout_met, r.approved) == (turnout_met, approved)
    # the published numbers add up
    assert r.agree_heads + r.oppose_heads + r.abstain_heads == r.participating_heads
    assert r.agree_area + r.oppose_area + r.abstain_area == r.participating_area
    assert r.participating_area + r.silent_area == r.total_area
    assert r.participating_heads + r.silent_heads == r.total_heads == len(areas)
    assert r.reasons[-1].endswith("本事项获得通过" if approved else "本事项未获通过")


def test_exactly_two_thirds_ratios_and_reasons():
    roll, votes = simple(["10.00"] * 3, "AA-")
    r = tally(roll, votes, 1)
    assert r.turnout_area_ratio == r.turnout_heads_ratio == Fraction(2, 3)
    assert r.participating_area == Decimal(20) and r.participating_heads == 2
    assert r.reasons == (
        "参与表决的专有面积 66.67%，达到三分之二",
        "参与表决的人数 66.67%，达到三分之二",
        "同意的专有面积占参与表决面积 100.00%，过半数",
        "同意的人数占参与表决人数 100.00%，过半数",
        "本事项获得通过",
    )


def test_one_hundredth_below_is_shown_and_explained():
    roll, votes = simple(["1000.00", "999.99", "1000.01"], "AA-")
    r = tally(roll, votes, 1)
    assert r.turnout_area_ratio == Fraction(199999, 300000) < Fraction(2, 3)
    assert r.turnout_heads_ratio == Fraction(2, 3)
    assert r.reasons == (
        "参与表决的专有面积 66.67%，未达到三分之二",
        "参与表决的人数 66.67%，达到三分之二",
        "参与表决的业主不足法定比例，本事项未获通过",
    )


def test_exactly_half_reason_says_not_more_than_half():
    roll, votes = simple(["25"] * 4, "AAOO")
    r = tally(roll, votes, Item.USE_MAINTENANCE_FUND)
    assert r.agree_area_ratio == r.agree_heads_ratio == Fraction(1, 2)
    assert "同意的专有面积占参与表决面积 50.00%，未过半数" in r.reasons
    assert "同意的人数占参与表决人数 50.00%，未过半数" in r.reasons


def test_three_quarters_reason():
    roll, votes = simple(["25"] * 4, "AAAO")
    r = tally(roll, votes, Item.RAISE_MAINTENANCE_FUND)
    assert r.approval_threshold == Fraction(3, 4) and not r.approval_strict
    assert "同意的专有面积占参与表决面积 75.00%，达到四分之三" in r.reasons


def test_all_abstaining():
    roll, votes = simple(["10", "20", "30"], "BBB")
    r = tally(roll, votes, 1)
    assert r.turnout_met and not r.approved
    assert r.abstain_heads == 3 and r.abstain_area == Decimal(60)
    assert r.agree_area_ratio == 0 and r.agree_heads_ratio == 0


def test_nobody_voting():
    roll, votes = simple(["10", "20", "30"], "---")
    r = tally(roll, votes, 8)
    assert not r.turnout_met and not r.approved
    assert r.participating_area == 0 and r.participating_heads == 0
    assert r.base_area == 0 and r.base_heads == 0
    assert r.turnout_area_ratio == 0 and r.agree_area_ratio == 0
    assert r.reasons[0] == "参与表决的专有面积 0.00%，未达到三分之二"


def test_item_given_as_int_or_enum():
    roll, votes = simple(["10"] * 3, "AA-")
    assert tally(roll, votes, 6) == tally(roll, votes, Item.RAISE_MAINTENANCE_FUND)
    with pytest.raises(ValueError):
        tally(roll, votes, 10)


# --- headcount (SPC interpretation Art. 9) ----------------------------------------------

def test_owner_of_several_units_is_one_person_with_summed_area():
    roll = electorate([
        UnitRecord("1-101", "x", Decimal("10.00")),
        UnitRecord("1-102", "x", Decimal("10.00")),
        UnitRecord("2-301", "x", Decimal("10.50")),
        UnitRecord("1-201", "y", Decimal(20)),
        UnitRecord("1-202", "z", Decimal(20)),
    ])
    assert roll.headcount == 3
    assert roll.persons["x"].area == Decimal("30.50")
    assert roll.persons["x"].units == ("1-101", "1-102", "2-301")
    assert roll.total_area == Decimal("70.50")
    r = tally(roll, {"x": A}, 1)
    assert (r.participating_heads, r.participating_area) == (1, Decimal("30.50"))


def test_multi_unit_owner_is_not_counted_per_unit():
    # per unit this would be 3 of 5 heads agreeing; per person it is 1 of 3
    roll = electorate([UnitRecord(f"x{i}", "x", Decimal(10)) for i in range(3)]
                      + [UnitRecord("y1", "y", Decimal(10)), UnitRecord("z1", "z", Decimal(10))])
    r = tally(roll, {"x": A, "y": O, "z": O}, 1)
    assert r.agree_area_ratio == Fraction(3, 5)
    assert r.agree_heads_ratio == Fraction(1, 3)
    assert not r.approved


def test_developer_units_with_different_owner_keys_are_one_person():
    roll = electorate([
        UnitRecord("9-101", "dev-a", Decimal("80.00"), developer=True),
        UnitRecord("9-102", "dev-b", Decimal("80.00"), developer=True),
        UnitRecord("9-103", "", Decimal("40.25"), developer=True),
        UnitRecord("1-101", "x", Decimal(100)),
        UnitRecord("1-102", "y", Decimal(100)),
    ])
    assert roll.headcount == 3
    dev = roll.persons[DEVELOPER_KEY]
    assert dev.developer and dev.area == Decimal("200.25")
    assert dev.units == ("9-101", "9-102", "9-103")
    assert "dev-a" not in roll.persons
    r = tally(roll, {DEVELOPER_KEY: A, "x": A}, 5)
    assert (r.agree_heads, r.agree_area) == (2, Decimal("300.25"))
    assert r.turnout_met and r.approved
    with pytest.raises(ValueError, match="dev-a"):
        tally(roll, {"dev-a": A}, 5)


def test_developer_counts_once_even_when_holding_most_units():
    units = [UnitRecord(f"d{i}", f"k{i}", Decimal(10), developer=True) for i in range(10)]
    units += [UnitRecord("a", "a", Decimal(10)), UnitRecord("b", "b", Decimal(10))]
    roll = electorate(units)
    assert roll.headcount == 3
    r = tally(roll, {DEVELOPER_KEY: A}, 1)
    # 10/12 of the area, but only 1 of 3 heads: no quorum
    assert r.turnout_area_ratio == Fraction(5, 6) and not r.turnout_met


# --- input checks -----------------------------------------------------------------------

def test_votes_from_unknown_keys_raise_with_the_keys_named():
    roll, _ = simple(["10"] * 3, "---")
    with pytest.raises(ValueError, match="不在本次表决的业主名册中：ghost、nobody"):
        tally(roll, {"o0": A, "nobody": A, "ghost": O}, 1)


def test_bad_vote_value_raises():
    roll, _ = simple(["10"] * 3, "---")
    with pytest.raises(TypeError, match="表决意见无效"):
        tally(roll, {"o0": "同意"}, 1)  # type: ignore[dict-item]


def test_unknown_silent_rule_raises():
    roll, votes = simple(["10"] * 3, "AA-")
    with pytest.raises(ValueError, match="未表决计票规则"):
        tally(roll, votes, 1, silent_counts_as="oppose")  # type: ignore[arg-type]


@pytest.mark.parametrize("area,exc", [(10.5, TypeError), (True, TypeError), ("10", TypeError),
                                      (Decimal(0), ValueError), (Decimal(-1), ValueError),
                                      (Decimal("NaN"), ValueError),
                                      (Decimal("Infinity"), ValueError)])
def test_bad_areas_are_refused(area, exc):
    with pytest.raises(exc):
        electorate([UnitRecord("u", "o", area)])


def test_int_area_is_accepted_exactly():
    assert electorate([UnitRecord("u", "o", 12)]).total_area == Decimal(12)  # type: ignore[arg-type]


def test_electorate_input_errors():
    with pytest.raises(ValueError, match="重复"):
        electorate([UnitRecord("u", "a", Decimal(1)), UnitRecord("u", "b", Decimal(1))])
    with pytest.raises(ValueError, match="没有房屋"):
        electorate([])
    with pytest.raises(ValueError, match="没有业主标识"):
        electorate([UnitRecord("u", "", Decimal(1))])
    with pytest.raises(ValueError, match="房屋编号不能为空"):
        electorate([UnitRecord("", "a", Decimal(1))])
    with pytest.raises(ValueError, match="保留标识"):
        electorate([UnitRecord("u", DEVELOPER_KEY, Decimal(1))])


def test_sums_are_exact_with_many_digits():
    areas = ["0.1", "0.2", "0.3", "12345678901234567890.000000000001"]
    roll = electorate([UnitRecord(f"u{i}", "x", Decimal(a)) for i, a in enumerate(areas)])
    assert roll.total_area == Decimal("12345678901234567890.600000000001")


# --- silent_counts_as -------------------------------------------------------------------

def test_silent_default_counts_for_nobody():
    roll, votes = simple(["10"] * 6, "AAOO--")
    r = tally(roll, votes, 5)
    assert r.silent_counts_as is None
    assert (r.base_heads, r.silent_heads) == (4, 2)
    assert not r.approved


def test_silent_counts_as_agree():
    roll, votes = simple(["10"] * 6, "AAOO--")
    r = tally(roll, votes, 5, silent_counts_as="agree")
    assert r.turnout_met and r.approved
    assert (r.agree_heads, r.agree_area) == (4, Decimal(40))
    assert (r.base_heads, r.base_area) == (6, Decimal(60))
    # participation is still what voters did
    assert (r.participating_heads, r.participating_area) == (4, Decimal(40))
    assert r.agree_heads_ratio == Fraction(2, 3)
    assert "按本小区议事规则，未表决业主计为同意" in r.reasons


def test_silent_rule_never_rescues_participation():
    roll, votes = simple(["10"] * 6, "AAA---")
    for rule in SILENT_RULES:
        r = tally(roll, votes, 1, silent_counts_as=rule)
        assert not r.turnout_met and not r.approved
        assert r.base_heads == 3 and r.agree_heads == 3


def test_silent_counts_with_majority_agree():
    roll, votes = simple(["10"] * 9, "AAAAOO---")
    assert not tally(roll, votes, 6).approved  # 4/6 < 3/4
    r = tally(roll, votes, 6, silent_counts_as="majority")
    assert r.approved
    assert (r.agree_heads, r.oppose_heads, r.base_heads) == (7, 2, 9)
    assert r.agree_heads_ratio == Fraction(7, 9)
    assert "按本小区议事规则，未表决业主计入多数意见" in r.reasons


def test_silent_counts_with_majority_oppose():
    roll, votes = simple(["10"] * 7, "AOOOO--")
    r = tally(roll, votes, 1, silent_counts_as="majority")
    assert not r.approved
    assert (r.agree_heads, r.oppose_heads, r.base_heads) == (1, 6, 7)


def test_silent_with_majority_on_a_tie_is_not_counted():
    roll, votes = simple(["10"] * 8, "AAAOOO--")
    r = tally(roll, votes, 1, silent_counts_as="majority")
    assert (r.base_heads, r.base_area) == (6, Decimal(60))
    assert not r.approved
    assert r.agree_heads_ratio == Fraction(1, 2)


def test_silent_with_majority_is_per_dimension():
    # agree holds most area, oppose most heads: the silent area joins agree, the heads oppose
    roll, votes = simple(["70", "10", "10", "5", "5"], "AOO--")
    r = tally(roll, votes, 1, silent_counts_as="majority")
    assert r.turnout_met is False  # 90% area but 3/5 heads
    roll, votes = simple(["70", "10", "10", "5", "5", "5"], "AOOO--")
    r = tally(roll, votes, 1, silent_counts_as="majority")
    assert r.turnout_met
    assert (r.agree_area, r.oppose_area, r.base_area) == (Decimal(80), Decimal(25), Decimal(105))
    assert (r.agree_heads, r.oppose_heads, r.base_heads) == (1, 5, 6)
    assert not r.approved


def test_silent_with_majority_abstain():
    roll, votes = simple(["10"] * 6, "ABBB--")
    r = tally(roll, votes, 1, silent_counts_as="majority")
    assert (r.abstain_heads, r.agree_heads, r.base_heads) == (5, 1, 6)


def test_silent_rules_change_nothing_when_everyone_voted():
    roll, votes = simple(["10", "20", "30"], "AOB")
    plain = tally(roll, votes, 1)
    for rule in ("agree", "majority"):
        r = tally(roll, votes, 1, silent_counts_as=rule)
        assert r.approved == plain.approved and r.base_area == plain.base_area
        assert r.reasons == plain.reasons


# --- percentages ------------------------------------------------------------------------

@pytest.mark.parametrize("value,text", [
    (Fraction(2, 3), "66.67%"), (Fraction(1, 3), "33.33%"), (Fraction(1, 2), "50.00%"),
    (Fraction(3, 4), "75.00%"), (Fraction(1), "100.00%"), (Fraction(0), "0.00%"),
    (Fraction(1, 8), "12.50%"), (Fraction(1, 20000), "0.01%"), (Fraction(1, 20001), "0.00%"),
    (Fraction(199999, 300000), "66.67%"), (Fraction(7499, 10000), "74.99%"),
    (Fraction(-1, 3), "-33.33%"),
])
def test_format_percent(value, text):
    assert format_percent(value) == text


def test_format_percent_places():
    assert format_percent(Fraction(2, 3), places=0) == "67%"
    assert format_percent(Fraction(2, 3), places=4) == "66.6667%"
    with pytest.raises(ValueError):
        format_percent(Fraction(1, 2), places=-1)


def test_module_is_pure_and_never_uses_floats():
    tree = ast.parse(Path(art278.__file__).read_text(encoding="utf-8"))
    imported = {n.names[0].name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import)}
    imported |= {n.module.split(".")[0] for n in ast.walk(tree)
                 if isinstance(n, ast.ImportFrom) and n.module}
    assert imported <= {"__future__", "csv", "enum", "io", "collections", "dataclasses",
                        "decimal", "fractions", "typing"}
    floats = [n for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, float)]
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)
             and isinstance(n.func, ast.Name) and n.func.id == "float"]
    assert not floats and not calls


# --- properties -------------------------------------------------------------------------

PROPS = settings(max_examples=200, deadline=None)

_owner = st.sampled_from([f"o{i}" for i in range(6)])
_cents = st.integers(min_value=1, max_value=2_000_000)


@st.composite
def ballots(draw):
    """Random units (some developer-held), one vote or silence per person, an item, a rule."""
    n = draw(st.integers(min_value=1, max_value=12))
    units = []
    for i in range(n):
        owner = draw(_owner)
        cents = draw(_cents)
        dev = draw(st.integers(0, 4)) == 0
        units.append(UnitRecord(f"u{i}", owner, Decimal(cents).scaleb(-2), dev))
    roll = electorate(units)
    votes = {}
    for key in roll.persons:
        # weighted towards agreeing so that approvals, not only rejections, are exercised
        c = draw(st.sampled_from([None, A, A, A, A, O, B]))
        if c is not None:
            votes[key] = c
    item = draw(st.sampled_from(list(Item)))
    rule = draw(st.sampled_from(SILENT_RULES))
    return units, roll, votes, item, rule


@PROPS
@given(ballots(), st.data())
def test_an_extra_agree_never_turns_approval_into_rejection(ballot, data):
    _units, roll, votes, item, rule = ballot
    before = tally(roll, votes, item, rule)
    changeable = sorted(k for k in roll.persons if votes.get(k) is not A)
    if not changeable:
        return
    key = data.draw(st.sampled_from(changeable))
    after = tally(roll, {**votes, key: A}, item, rule)
    if before.approved:
        assert after.approved
    if before.turnout_met:
        assert after.turnout_met


@PROPS
@given(ballots(), st.randoms(use_true_random=False))
def test_order_of_units_and_votes_changes_nothing(ballot, rnd):
    units, roll, votes, item, rule = ballot
    shuffled = list(units)
    rnd.shuffle(shuffled)
    items = list(votes.items())
    rnd.shuffle(items)
    roll2 = electorate(shuffled)
    assert roll2 == roll
    assert tally(roll2, dict(items), item, rule) == tally(roll, votes, item, rule)


@PROPS
@given(ballots(), st.integers(min_value=0, max_value=4))
def test_trailing_zeros_change_nothing(ballot, zeros):
    units, roll, votes, item, rule = ballot
    # areas are drawn as "123.40"; compare with "123.40000…" and with "123.4" / "1E+2"
    padded = [UnitRecord(u.unit_id, u.owner_key, Decimal(str(u.area) + "0" * zeros), u.developer)
              for u in units]
    bare = [UnitRecord(u.unit_id, u.owner_key, u.area.normalize(), u.developer) for u in units]
    expected = tally(roll, votes, item, rule)
    for variant in (padded, bare):
        r = tally(electorate(variant), votes, item, rule)
        assert r == expected
        assert r.reasons == expected.reasons


@PROPS
@given(ballots())
def test_counts_stay_within_the_electorate(ballot):
    _, roll, votes, item, rule = ballot
    r = tally(roll, votes, item, rule)
    assert 0 <= r.participating_area <= r.total_area
    assert 0 <= r.participating_heads <= r.total_heads
    assert r.participating_area <= r.base_area <= r.total_area
    assert r.participating_heads <= r.base_heads <= r.total_heads
    assert r.agree_area + r.oppose_area + r.abstain_area == r.base_area
    assert r.agree_heads + r.oppose_heads + r.abstain_heads == r.base_heads
    assert r.total_area == sum((u.area for u in roll.persons.values()), Decimal(0))
    assert r.turnout_met == (r.turnout_area_ratio >= Fraction(2, 3)
                             and r.turnout_heads_ratio >= Fraction(2, 3))
    if r.approved:
        assert r.turnout_met
        assert r.agree_area_ratio >= r.approval_threshold
        assert r.agree_heads_ratio >= r.approval_threshold
    if rule is None:
        assert (r.base_area, r.base_heads) == (r.participating_area, r.participating_heads)


@PROPS
@given(ballots())
def test_recount_of_a_written_file_reproduces_the_tally(ballot):
    units, roll, votes, item, rule = ballot
    text = write_csv(units, votes, item, rule)
    assert recount(text) == tally(roll, votes, item, rule)


# --- recount ----------------------------------------------------------------------------

def write_csv(units, votes, item, rule=None) -> str:
    """A published ballot file: every unit's row carries its person's vote."""
    lines = [f"item,{int(item)}"]
    if rule is not None:
        lines.append(f"silent_counts_as,{rule}")
    lines.append("unit_id,owner_key,area,developer,choice")
    for u in units:
        person = DEVELOPER_KEY if u.developer else u.owner_key
        c = votes.get(person)
        lines.append(f"{u.unit_id},{u.owner_key},{u.area},{int(u.developer)},"
                     f"{c.value if c else ''}")
    return "\r\n".join(lines) + "\r\n"


GOOD = """item,6
unit_id,owner_key,area,developer,choice
1-101,x,30.50,0,同意
1-102,x,20.00,0,同意
1-201,y,25.25,0,反对
1-202,z,24.75,0,弃权
9-101,dev-a,10,1,同意
9-102,dev-b,10.00,1,同意
1-301,w,9.50,0,
"""


def test_recount_good_file_reproduces_tally():
    roll = electorate([
        UnitRecord("1-101", "x", Decimal("30.50")), UnitRecord("1-102", "x", Decimal("20.00")),
        UnitRecord("1-201", "y", Decimal("25.25")), UnitRecord("1-202", "z", Decimal("24.75")),
        UnitRecord("9-101", "dev-a", Decimal(10), True),
        UnitRecord("9-102", "dev-b", Decimal("10.00"), True),
        UnitRecord("1-301", "w", Decimal("9.50")),
    ])
    expected = tally(roll, {"x": A, "y": O, "z": B, DEVELOPER_KEY: A}, Item(6))
    r = recount(GOOD)
    assert r == expected
    assert (r.total_heads, r.participating_heads, r.agree_heads) == (5, 4, 2)
    assert r.total_area == Decimal("130.00")


def test_recount_accepts_chinese_headers_bom_comments_and_blank_lines():
    text = ("\ufeff# 2024 年加装电梯表决\n事项,7\n\n房号,业主,面积,开发商,表决\n"
            + "\n".join(GOOD.splitlines()[2:]) + "\n")
    r = recount(text)
    assert r.item is Item.REBUILD
    assert r.participating_area == recount(GOOD).participating_area


def test_recount_with_silent_rule_line():
    text = GOOD.replace("item,6\n", "item,6\nsilent_counts_as,agree\n")
    r = recount(text)
    assert r.silent_counts_as == "agree"
    assert r.base_heads == 5
    assert recount(GOOD.replace("item,6\n", "事项,6\n未表决计为,多数\n")).silent_counts_as == "majority"


def test_recount_accepts_trailing_empty_columns_from_spreadsheets():
    text = "item,1,,,\nunit_id,owner_key,area,developer,choice\na,a,10,0,同意,,\n"
    assert recount(text).approved


BAD = [
    ("empty file", "", 1, "文件为空"),
    ("missing item", "unit_id,owner_key,area,developer,choice\na,a,10,0,同意\n", 1,
     "缺少表决事项"),
    ("item out of range", "item,10\nunit_id,owner_key,area,developer,choice\n", 1,
     "表决事项“10”无效"),
    ("item not a number", "item,六\nunit_id,owner_key,area,developer,choice\n", 1,
     "表决事项“六”无效"),
    ("item without a value", "item\nunit_id,owner_key,area,developer,choice\n", 1,
     "表决事项“”无效"),
    ("bad silent rule", "item,1\nsilent_counts_as,oppose\n", 2, "未表决计票规则“oppose”无效"),
    ("missing column header", "item,1\n", 2, "缺少列标题行"),
    ("wrong column header", "item,1\nroom,owner,area,dev,vote\n", 2, "列标题应为"),
    ("no data rows", "item,1\nunit_id,owner_key,area,developer,choice\n", 3, "没有房屋数据行"),
    ("bad area", "item,1\nunit_id,owner_key,area,developer,choice\na,a,10,0,同意\nb,b,十,0,\n",
     4, "面积“十”不是有效数字"),
    ("zero area", "item,1\nunit_id,owner_key,area,developer,choice\na,a,0,0,同意\n", 3,
     "面积“0”必须大于 0"),
    ("negative area", "item,1\nunit_id,owner_key,area,developer,choice\na,a,-3.5,0,同意\n", 3,
     "面积“-3.5”必须大于 0"),
    ("NaN area", "item,1\nunit_id,owner_key,area,developer,choice\na,a,NaN,0,同意\n", 3,
     "必须大于 0"),
    ("duplicate unit", ("item,1\nunit_id,owner_key,area,developer,choice\na,a,10,0,同意\n"
     "b,b,10,0,\na,c,10,0,反对\n"), 5, "房号“a”重复（第 3 行已出现）"),
    ("two choices for one owner", ("item,1\nunit_id,owner_key,area,developer,choice\n"
     "a,x,10,0,同意\nb,y,10,0,\nc,x,10,0,反对\n"), 5,
     "业主“x”的表决意见与第 3 行不一致（“同意”与“反对”）"),
    ("vote and silence for one owner", ("item,1\nunit_id,owner_key,area,developer,choice\n"
     "a,x,10,0,同意\nc,x,10,0,\n"), 4, "（“同意”与“未表决”）"),
    ("two choices for the developer", ("item,1\nunit_id,owner_key,area,developer,choice\n"
     "a,d1,10,1,反对\nc,d2,10,1,同意\n"), 4, "开发商的表决意见与第 3 行不一致"),
    ("unknown choice", "item,1\nunit_id,owner_key,area,developer,choice\na,a,10,0,赞成\n", 3,
     "表决意见“赞成”无效"),
    ("bad developer flag", "item,1\nunit_id,owner_key,area,developer,choice\na,a,10,是,同意\n", 3,
     "开发商列“是”无效"),
    ("too few columns", "item,1\nunit_id,owner_key,area,developer,choice\na,a,10,0\n", 3,
     "应有 5 列，实际为 4 列"),
    ("empty unit id", "item,1\nunit_id,owner_key,area,developer,choice\n,a,10,0,同意\n", 3,
     "房号为空"),
    ("empty owner key", "item,1\nunit_id,owner_key,area,developer,choice\na,,10,0,同意\n", 3,
     "业主标识为空"),
    ("reserved developer key", ("item,1\nunit_id,owner_key,area,developer,choice\n"
     f"a,{DEVELOPER_KEY},10,0,同意\n"), 3, "为开发商保留"),
]


@pytest.mark.parametrize("text,line,problem", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_recount_bad_files(text, line, problem):
    with pytest.raises(RecountError) as info:
        recount(text)
    assert info.value.line == line
    assert problem in info.value.problem
    assert str(info.value).startswith(f"第 {line} 行：")


def test_reasons_are_in_the_readers_language(app):
    """Inside a request the app installs its gettext as the module's `translate`: an English
    reader gets the reasons in English, with the same figures."""
    import re

    from flask_babel import force_locale
    roll, votes = simple(["25"] * 4, "AAAO")
    with app.test_request_context("/"), force_locale("en"):
        reasons = tally(roll, votes, Item.RAISE_MAINTENANCE_FUND, silent_counts_as="agree").reasons
        half = tally(*simple(["25"] * 4, "AAOO"), Item.USE_MAINTENANCE_FUND).reasons
    assert not any(re.search(r"[\u4e00-\u9fff]", x) for x in reasons + half), reasons + half
    assert "Floor area in favour, of the area taking part: 75.00%, reaching three quarters" in reasons
    assert "Owners in favour, of those taking part: 50.00%, not more than half" in half
    assert reasons[-1] == "This item is approved" and half[-1] == "This item is not approved"
