"""Counting an owners' ballot under 《民法典》第二百七十八条, exactly and without side effects.

Pure: no Flask, no database. Callers freeze the electorate when the ballot opens
(`electorate`), collect one vote per person, and `tally` them; `recount` redoes a published
count from a CSV file so anyone can check it.

Counting rules (DESIGN.md §5):

* Headcount follows 《最高人民法院关于审理建筑物区分所有权纠纷案件适用法律若干问题的解释》
  Art. 9: one unit is one person, an owner of several units is one person, and all units the
  developer has not sold or delivered together are one person. Area is the registered
  exclusive area, summed per person.
* Participation: persons holding ≥ 2/3 of the total area AND ≥ 2/3 of the headcount vote
  (abstaining is voting).
* Approval, measured against those who voted: items 6–8 need ≥ 3/4 of the area AND ≥ 3/4 of
  the heads agreeing; the other items need more than half (strictly) of each.
* Non-voters count for nobody unless a community rule says otherwise (`silent_counts_as`).
  Such a rule never helps meet participation: it applies only once real voters alone have
  met the 2/3 participation bounds, and then adds the non-voters to the approval base.

All arithmetic is on int, Decimal (with inexact results trapped) and Fraction; floats are
refused.

Recount CSV format (UTF-8, an Excel BOM is fine; `#` lines and blank lines are skipped)::

    item,6                                   ← or 事项,6: the Art. 278 item number, 1–9
    silent_counts_as,agree                   ← optional: agree / majority (未表决计为)
    unit_id,owner_key,area,developer,choice  ← or 房号,业主,面积,开发商,表决
    1-1-101,owner-a,89.50,0,同意
    1-1-102,owner-a,60.00,0,同意             ← one owner's rows all carry the owner's vote
    1-1-201,,75.25,1,                        ← developer unit (owner key may be empty)

`developer` is 0 or 1; `choice` is 同意, 反对, 弃权, or empty for "did not vote".
"""
from __future__ import annotations

import csv
import enum
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, Inexact, InvalidOperation, localcontext
from fractions import Fraction
from typing import Literal


def N_(message: str) -> str:
    """Marks a label for extraction (the identity)."""
    return message


#: how labels are shown: the identity here; the app installs its gettext (civic.i18n)
translate = N_

#: person key of the developer; the same reserved value as civic.roster.parse.DEVELOPER_REF
DEVELOPER_KEY = "__developer__"

#: participation bound of Art. 278 para. 2 ("三分之二以上", inclusive)
TURNOUT_THRESHOLD = Fraction(2, 3)

SilentRule = Literal["agree", "majority"] | None
SILENT_RULES: tuple[SilentRule, ...] = (None, "agree", "majority")

_ITEM_LABELS = {
    1: N_("制定和修改业主大会议事规则"),
    2: N_("制定和修改管理规约"),
    3: N_("选举业主委员会或者更换业主委员会成员"),
    4: N_("选聘和解聘物业服务企业或者其他管理人"),
    5: N_("使用建筑物及其附属设施的维修资金"),
    6: N_("筹集建筑物及其附属设施的维修资金"),
    7: N_("改建、重建建筑物及其附属设施"),
    8: N_("改变共有部分的用途或者利用共有部分从事经营活动"),
    9: N_("有关共有和共同管理权利的其他重大事项"),
}


class Item(enum.IntEnum):
    """The nine matters of Art. 278 para. 1, numbered as in the Code so the law can be cited."""

    RULES_OF_PROCEDURE = 1
    COVENANT = 2
    COMMITTEE = 3
    PROPERTY_MANAGER = 4
    USE_MAINTENANCE_FUND = 5
    RAISE_MAINTENANCE_FUND = 6
    REBUILD = 7
    CHANGE_USE_OF_COMMON_PARTS = 8
    OTHER_MAJOR_MATTER = 9

    @property
    def label(self) -> str:
        """The Code's own wording, for ballots and published results."""
        return translate(_ITEM_LABELS[self.value])

    @property
    def needs_three_quarters(self) -> bool:
        """Items 6–8 need 3/4 (inclusive) of participants; the rest need more than half."""
        return self.value in (6, 7, 8)

    @property
    def approval_threshold(self) -> Fraction:
        """The share of participating area and heads that must agree."""
        return Fraction(3, 4) if self.needs_three_quarters else Fraction(1, 2)

    @property
    def approval_strict(self) -> bool:
        """True when the bound itself is not enough ("过半数" is strict, "以上" is not)."""
        return not self.needs_three_quarters


class Choice(enum.Enum):
    """A person's vote; abstaining still counts as taking part."""

    AGREE = "同意"
    OPPOSE = "反对"
    ABSTAIN = "弃权"


@dataclass(frozen=True)
class UnitRecord:
    """One exclusive unit in the ballot's scope, as frozen when the ballot opens."""

    unit_id: str
    owner_key: str
    area: Decimal
    developer: bool = False


@dataclass(frozen=True)
class Person:
    """One head in the headcount (SPC interpretation Art. 9) with the area they hold."""

    key: str
    area: Decimal
    units: tuple[str, ...]
    developer: bool = False


@dataclass(frozen=True)
class Electorate:
    """Who may vote and with what weight; compare with == regardless of input order."""

    persons: Mapping[str, Person]
    total_area: Decimal

    @property
    def headcount(self) -> int:
        """Total heads: the denominator of the headcount participation bound."""
        return len(self.persons)


@dataclass(frozen=True)
class Result:
    """A count with every number that decided it, so it can be published and checked."""

    item: Item
    silent_counts_as: SilentRule
    total_area: Decimal
    total_heads: int
    participating_area: Decimal
    participating_heads: int
    agree_area: Decimal
    agree_heads: int
    oppose_area: Decimal
    oppose_heads: int
    abstain_area: Decimal
    abstain_heads: int
    #: non-voters
    silent_area: Decimal
    silent_heads: int
    #: the approval denominators: participants plus any non-voters a community rule counts
    base_area: Decimal
    base_heads: int
    turnout_area_ratio: Fraction
    turnout_heads_ratio: Fraction
    agree_area_ratio: Fraction
    agree_heads_ratio: Fraction
    turnout_threshold: Fraction
    approval_threshold: Fraction
    approval_strict: bool
    turnout_met: bool
    approved: bool
    reasons: tuple[str, ...] = field(default=())


def _check_area(value: object, what: str) -> Decimal:
    """Areas are exact: Decimal or int, finite and positive; floats are refused."""
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        raise TypeError(f"{what}的面积必须是 Decimal（不接受浮点数）：{value!r}")
    area = Decimal(value)
    if not area.is_finite() or area <= 0:
        raise ValueError(f"{what}的面积必须是大于 0 的有限数：{value}")
    return area


def _sum(values: Iterable[Decimal]) -> Decimal:
    """Exact Decimal sum; raises decimal.Inexact rather than rounding."""
    with localcontext() as ctx:
        ctx.prec = 200
        ctx.traps[Inexact] = True
        total = Decimal(0)
        for v in values:
            total += v
        return total


def electorate(units: Iterable[UnitRecord]) -> Electorate:
    """Group units into persons (SPC Art. 9) and sum their areas; the ballot's frozen roll."""
    areas: dict[str, list[Decimal]] = {}
    unit_ids: dict[str, list[str]] = {}
    seen: set[str] = set()
    for u in units:
        if not u.unit_id:
            raise ValueError("房屋编号不能为空。")
        if u.unit_id in seen:
            raise ValueError(f"房屋“{u.unit_id}”重复出现。")
        seen.add(u.unit_id)
        area = _check_area(u.area, f"房屋“{u.unit_id}”")
        if u.developer:
            key = DEVELOPER_KEY
        else:
            if not u.owner_key:
                raise ValueError(f"房屋“{u.unit_id}”没有业主标识。")
            if u.owner_key == DEVELOPER_KEY:
                raise ValueError(f"房屋“{u.unit_id}”使用了开发商的保留标识，却未标为开发商房屋。")
            key = u.owner_key
        areas.setdefault(key, []).append(area)
        unit_ids.setdefault(key, []).append(u.unit_id)
    if not areas:
        raise ValueError("表决范围内没有房屋。")
    persons = {
        key: Person(key=key, area=_sum(areas[key]), units=tuple(sorted(unit_ids[key])),
                    developer=key == DEVELOPER_KEY)
        for key in sorted(areas)
    }
    return Electorate(persons=persons, total_area=_sum(p.area for p in persons.values()))


def format_percent(value: Fraction, places: int = 2) -> str:
    """"66.67%" from an exact ratio, rounding half up on the exact value, never via floats."""
    if places < 0:
        raise ValueError("places must be ≥ 0")
    scaled = Fraction(value) * 100 * 10 ** places
    # round half up (away from zero for negatives) on the exact value
    n, d = abs(scaled.numerator), scaled.denominator
    q, r = divmod(n, d)
    if 2 * r >= d:
        q += 1
    if scaled < 0:
        q = -q
    text = str(Decimal(q).scaleb(-places).quantize(Decimal(1).scaleb(-places),
                                                    rounding=ROUND_HALF_UP))
    return f"{text}%"


_BOUND_WORDS = {Fraction(2, 3): N_("三分之二"), Fraction(3, 4): N_("四分之三"),
                Fraction(1, 2): N_("半数")}


def _t(message: str, **params) -> str:
    """`message` (marked with N_) in the reader's language, its %(name)s params filled in."""
    text = translate(message)
    return text % params if params else text


def _meets(ratio: Fraction, bound: Fraction, strict: bool) -> bool:
    """"以上" includes the bound; "过半数" does not."""
    return ratio > bound if strict else ratio >= bound


def _phrase(ok: bool, bound: Fraction, strict: bool) -> str:
    """The verdict for one bound, e.g. 达到三分之二 / 未过半数."""
    word = translate(_BOUND_WORDS[bound])
    if strict:
        return _t(N_("过%(bound)s"), bound=word) if ok else _t(N_("未过%(bound)s"), bound=word)
    return (_t(N_("达到%(bound)s"), bound=word) if ok
            else _t(N_("未达到%(bound)s"), bound=word))


def _ratio(part: Decimal | int, whole: Decimal | int) -> Fraction:
    """Exact part/whole; 0 when the whole is empty (nothing to count)."""
    return Fraction(part) / Fraction(whole) if whole else Fraction(0)


def tally(electorate: Electorate, votes: Mapping[str, Choice], item: Item | int,
          silent_counts_as: SilentRule = None) -> Result:
    """Count one ballot item under Art. 278; the returned Result says why it passed or failed."""
    item = Item(item)
    if silent_counts_as not in SILENT_RULES:
        raise ValueError(f"未知的未表决计票规则：{silent_counts_as!r}（可选 None、'agree'、'majority'）")
    unknown = sorted(k for k in votes if k not in electorate.persons)
    if unknown:
        raise ValueError("以下表决人不在本次表决的业主名册中：" + "、".join(map(str, unknown)))
    area: dict[Choice, list[Decimal]] = {c: [] for c in Choice}
    for key, choice in votes.items():
        if not isinstance(choice, Choice):
            raise TypeError(f"表决人“{key}”的表决意见无效：{choice!r}")
        area[choice].append(electorate.persons[key].area)
    heads = {c: len(area[c]) for c in Choice}
    sums = {c: _sum(area[c]) for c in Choice}
    silent = [p.area for k, p in electorate.persons.items() if k not in votes]
    silent_area, silent_heads = _sum(silent), len(silent)

    part_area = _sum(sums.values())
    part_heads = sum(heads.values())
    total_area, total_heads = electorate.total_area, electorate.headcount
    t_area = _ratio(part_area, total_area)
    t_heads = _ratio(part_heads, total_heads)
    turnout_met = (total_heads > 0 and _meets(t_area, TURNOUT_THRESHOLD, False)
                   and _meets(t_heads, TURNOUT_THRESHOLD, False))

    # approval counts, with non-voters added only when a community rule says so and real
    # participation has already met the statutory bounds
    c_area = dict(sums)
    c_heads = dict(heads)
    base_area, base_heads = part_area, part_heads
    if turnout_met and silent_heads and silent_counts_as is not None:
        if silent_counts_as == "agree":
            area_to = heads_to = Choice.AGREE
        else:
            area_to = _plurality(sums)
            heads_to = _plurality(heads)
        if area_to is not None:
            c_area[area_to] = _sum([c_area[area_to], silent_area])
            base_area = _sum([base_area, silent_area])
        if heads_to is not None:
            c_heads[heads_to] += silent_heads
            base_heads += silent_heads

    a_area = _ratio(c_area[Choice.AGREE], base_area)
    a_heads = _ratio(c_heads[Choice.AGREE], base_heads)
    bound, strict = item.approval_threshold, item.approval_strict
    area_ok = base_heads > 0 and _meets(a_area, bound, strict)
    heads_ok = base_heads > 0 and _meets(a_heads, bound, strict)
    approved = turnout_met and area_ok and heads_ok

    t_area_ok = _meets(t_area, TURNOUT_THRESHOLD, False)
    t_heads_ok = _meets(t_heads, TURNOUT_THRESHOLD, False)
    reasons = [
        _t(N_("参与表决的专有面积 %(pct)s，%(verdict)s"), pct=format_percent(t_area),
           verdict=_phrase(t_area_ok, TURNOUT_THRESHOLD, False)),
        _t(N_("参与表决的人数 %(pct)s，%(verdict)s"), pct=format_percent(t_heads),
           verdict=_phrase(t_heads_ok, TURNOUT_THRESHOLD, False)),
    ]
    if not turnout_met:
        reasons.append(_t(N_("参与表决的业主不足法定比例，本事项未获通过")))
    else:
        if base_area != part_area or base_heads != part_heads:
            rule = (_t(N_("计为同意")) if silent_counts_as == "agree"
                    else _t(N_("计入多数意见")))
            reasons.append(_t(N_("按本小区议事规则，未表决业主%(rule)s"), rule=rule))
        reasons.append(_t(N_("同意的专有面积占参与表决面积 %(pct)s，%(verdict)s"),
                          pct=format_percent(a_area), verdict=_phrase(area_ok, bound, strict)))
        reasons.append(_t(N_("同意的人数占参与表决人数 %(pct)s，%(verdict)s"),
                          pct=format_percent(a_heads), verdict=_phrase(heads_ok, bound, strict)))
        reasons.append(_t(N_("本事项获得通过")) if approved else _t(N_("本事项未获通过")))

    return Result(
        item=item, silent_counts_as=silent_counts_as,
        total_area=total_area, total_heads=total_heads,
        participating_area=part_area, participating_heads=part_heads,
        agree_area=c_area[Choice.AGREE], agree_heads=c_heads[Choice.AGREE],
        oppose_area=c_area[Choice.OPPOSE], oppose_heads=c_heads[Choice.OPPOSE],
        abstain_area=c_area[Choice.ABSTAIN], abstain_heads=c_heads[Choice.ABSTAIN],
        silent_area=silent_area, silent_heads=silent_heads,
        base_area=base_area, base_heads=base_heads,
        turnout_area_ratio=t_area, turnout_heads_ratio=t_heads,
        agree_area_ratio=a_area, agree_heads_ratio=a_heads,
        turnout_threshold=TURNOUT_THRESHOLD, approval_threshold=bound,
        approval_strict=strict, turnout_met=turnout_met, approved=approved,
        reasons=tuple(reasons),
    )


def _plurality(counts: Mapping[Choice, Decimal | int]) -> Choice | None:
    """The choice with strictly the most votes in one dimension; None on a tie for first."""
    ranked = sorted(counts.items(), key=lambda kv: kv[1], reverse=True)
    if ranked[0][1] == 0 or (len(ranked) > 1 and ranked[0][1] == ranked[1][1]):
        return None
    return ranked[0][0]


# --- recount ---------------------------------------------------------------------------

class RecountError(ValueError):
    """A recount file that cannot be trusted; the message names the line and the problem."""

    def __init__(self, line: int, problem: str) -> None:
        self.line = line
        self.problem = problem
        super().__init__(f"第 {line} 行：{problem}")


_ITEM_KEYS = ("item", "事项")
_SILENT_KEYS = ("silent_counts_as", "未表决计为")
_SILENT_VALUES: dict[str, SilentRule] = {
    "": None, "none": None, "无": None,
    "agree": "agree", "同意": "agree",
    "majority": "majority", "多数": "majority",
}
_COLUMNS = (("unit_id", "owner_key", "area", "developer", "choice"),
            ("房号", "业主", "面积", "开发商", "表决"))
_CHOICES = {"同意": Choice.AGREE, "反对": Choice.OPPOSE, "弃权": Choice.ABSTAIN, "": None}


def _rows(csv_text: str) -> Iterable[tuple[int, list[str]]]:
    """(line number, stripped cells), skipping blank and `#` lines."""
    reader = csv.reader(io.StringIO(csv_text.lstrip("\ufeff")))
    for cells in reader:
        cells = [c.strip() for c in cells]
        if not any(cells) or cells[0].startswith("#"):
            continue
        # trailing empty cells (as spreadsheets write them) are not columns
        while len(cells) > 5 and cells[-1] == "":
            cells.pop()
        yield reader.line_num, cells


def recount(csv_text: str) -> Result:
    """Recount a published ballot file (format in the module docstring) with `tally`."""
    rows = iter(_rows(csv_text))
    first = next(rows, None)
    if first is None:
        raise RecountError(1, "文件为空，缺少“item,事项编号”一行。")
    line, cells = first
    if cells[0].lower() not in _ITEM_KEYS:
        raise RecountError(line, "第一行必须是“item,事项编号”（1–9），缺少表决事项。")
    raw = cells[1] if len(cells) > 1 else ""
    if not raw.isdigit() or not 1 <= int(raw) <= 9:
        raise RecountError(line, f"表决事项“{raw}”无效，应为 1 到 9 的数字。")
    item = Item(int(raw))

    silent_rule: SilentRule = None
    nxt = next(rows, None)
    if nxt is not None and nxt[1][0].lower() in _SILENT_KEYS:
        line, cells = nxt
        value = cells[1].lower() if len(cells) > 1 else ""
        if value not in _SILENT_VALUES:
            raise RecountError(line, f"未表决计票规则“{cells[1]}”无效，应为 agree 或 majority。")
        silent_rule = _SILENT_VALUES[value]
        nxt = next(rows, None)
    if nxt is None:
        raise RecountError(line + 1, "缺少列标题行：unit_id,owner_key,area,developer,choice。")
    line, cells = nxt
    if tuple(c.lower() for c in cells) not in _COLUMNS:
        raise RecountError(line, "列标题应为 unit_id,owner_key,area,developer,choice"
                                 "（或 房号,业主,面积,开发商,表决）。")

    units: list[UnitRecord] = []
    unit_lines: dict[str, int] = {}
    # person key -> (choice, line where it was first given)
    person_choice: dict[str, tuple[Choice | None, int]] = {}
    for line, cells in rows:
        if len(cells) != 5:
            raise RecountError(line, f"应有 5 列，实际为 {len(cells)} 列。")
        unit_id, owner_key, raw_area, raw_dev, raw_choice = cells
        if not unit_id:
            raise RecountError(line, "房号为空。")
        if unit_id in unit_lines:
            raise RecountError(line, f"房号“{unit_id}”重复（第 {unit_lines[unit_id]} 行已出现）。")
        try:
            area = Decimal(raw_area)
        except InvalidOperation:
            raise RecountError(line, f"面积“{raw_area}”不是有效数字。") from None
        if not area.is_finite() or area <= 0:
            raise RecountError(line, f"面积“{raw_area}”必须大于 0。")
        if raw_dev not in ("0", "1"):
            raise RecountError(line, f"开发商列“{raw_dev}”无效，应为 0 或 1。")
        developer = raw_dev == "1"
        if not developer and not owner_key:
            raise RecountError(line, "业主标识为空。")
        if not developer and owner_key == DEVELOPER_KEY:
            raise RecountError(line, f"业主标识“{DEVELOPER_KEY}”为开发商保留，开发商列应为 1。")
        if raw_choice not in _CHOICES:
            raise RecountError(line, f"表决意见“{raw_choice}”无效，应为 同意、反对、弃权 或留空。")
        choice = _CHOICES[raw_choice]
        person = DEVELOPER_KEY if developer else owner_key
        if person in person_choice and person_choice[person][0] is not choice:
            earlier, first_line = person_choice[person]
            who = "开发商" if developer else f"业主“{owner_key}”"
            raise RecountError(line, f"{who}的表决意见与第 {first_line} 行不一致"
                                     f"（“{_label(earlier)}”与“{_label(choice)}”），"
                                     "同一业主的所有房屋只能有一个表决意见。")
        person_choice.setdefault(person, (choice, line))
        unit_lines[unit_id] = line
        units.append(UnitRecord(unit_id, owner_key, area, developer))
    if not units:
        raise RecountError(line + 1, "没有房屋数据行。")

    roll = electorate(units)
    votes = {p: c for p, (c, _) in person_choice.items() if c is not None}
    return tally(roll, votes, item, silent_rule)


def _label(choice: Choice | None) -> str:
    """How a choice is written in the recount file, for error messages."""
    return choice.value if choice is not None else "未表决"
