"""The public ballot file and its recount — pure: no Flask, no database.

Every closed ballot is published as JSON in exactly this format (owners pseudonymous)::

    {"matter": 6,
     "units": [{"unit": "3-1201", "area": "89.37", "owner": "o-17", "developer": false}],
     "votes": {"o-17": "yes", "developer": "no"}}

``votes`` is keyed by owner, or ``"developer"`` for the developer's units taken together;
values are ``yes``, ``no``, ``abstain``; owners who did not vote are absent. Areas are
decimal strings (never JSON numbers, which readers may turn into floats). A community whose
rules of procedure count non-voters adds ``"silent_counts_as": "agree"`` or ``"majority"``;
files without it count non-voters for nobody, as the law does by default.

:func:`recount` reads such a file, counts it with :func:`civic.ballots.art278.tally` — the
same function the app uses — and returns the summary printed by ``flask ballots recount``::

    {"participation": {"area": "...", "area_total": "...", "headcount": 0,
                       "headcount_total": 0, "met": true},
     "approval": {"area_yes": "...", "headcount_yes": 0, "met": false},
     "passed": false}
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from decimal import Decimal

from civic.ballots import art278
from civic.ballots.art278 import DEVELOPER_KEY, Choice, Result, UnitRecord

DEVELOPER = "developer"
CHOICES = {"yes": Choice.AGREE, "no": Choice.OPPOSE, "abstain": Choice.ABSTAIN}
_AREA = re.compile(r"[0-9]+(\.[0-9]+)?", re.ASCII)
_KEYS = {"matter", "units", "votes", "silent_counts_as"}
_UNIT_KEYS = {"unit", "area", "owner", "developer"}


class BallotFileError(ValueError):
    """The file cannot be counted; the message names the problem (in Chinese)."""


def _fail(message: str):
    raise BallotFileError(message)


def parse(data: Mapping) -> tuple[art278.Electorate, dict[str, Choice], int, str | None]:
    """Validate a decoded ballot file: (electorate, votes by art278 person key, matter,
    silent rule). Raises BallotFileError naming the first problem found."""
    if not isinstance(data, dict):
        _fail("文件内容应是一个 JSON 对象。")
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        _fail(f"不认识的字段：{'、'.join(unknown)}。")
    for key in ("matter", "units", "votes"):
        if key not in data:
            _fail(f"缺少“{key}”字段。")
    matter = data["matter"]
    if isinstance(matter, bool) or not isinstance(matter, int) or not 1 <= matter <= 9:
        _fail(f"“matter”应是 1 到 9 的整数（《民法典》第二百七十八条的事项），实际为 {matter!r}。")
    silent = data.get("silent_counts_as")
    if silent not in art278.SILENT_RULES:
        _fail(f"“silent_counts_as”只能是 \"agree\" 或 \"majority\"，实际为 {silent!r}。")
    units = data["units"]
    if not isinstance(units, list) or not units:
        _fail("“units”应是非空的列表。")
    records, owners, seen = [], set(), set()
    has_developer = False
    for i, u in enumerate(units, start=1):
        where = f"第 {i} 个房屋"
        if not isinstance(u, dict):
            _fail(f"{where}应是一个 JSON 对象。")
        extra = sorted(set(u) - _UNIT_KEYS)
        missing = sorted({"unit", "area", "owner"} - set(u))
        if extra:
            _fail(f"{where}有不认识的字段：{'、'.join(extra)}。")
        if missing:
            _fail(f"{where}缺少字段：{'、'.join(missing)}。")
        label, area, owner = u["unit"], u["area"], u["owner"]
        developer = u.get("developer", False)
        if not isinstance(label, str) or not label.strip():
            _fail(f"{where}的“unit”应是非空字符串。")
        where = f"房屋“{label}”"
        if label in seen:
            _fail(f"{where}重复出现。")
        seen.add(label)
        if not isinstance(area, str):
            _fail(f"{where}的面积应写成字符串（如 \"89.37\"），不能是数字：{area!r}。")
        if not _AREA.fullmatch(area) or Decimal(area) <= 0:
            _fail(f"{where}的面积“{area}”不是大于 0 的十进制数。")
        if not isinstance(developer, bool):
            _fail(f"{where}的“developer”应是 true 或 false。")
        if not isinstance(owner, str) or not owner:
            _fail(f"{where}的“owner”应是非空字符串。")
        if developer:
            if owner != DEVELOPER:
                _fail(f"{where}是开发商房屋，“owner”应为 \"developer\"。")
            has_developer = True
        else:
            if owner == DEVELOPER:
                _fail(f"{where}的业主为 \"developer\"，但“developer”不是 true。")
            owners.add(owner)
        records.append(UnitRecord(label, owner, Decimal(area), developer))
    votes = data["votes"]
    if not isinstance(votes, dict):
        _fail("“votes”应是一个 JSON 对象（业主 → yes/no/abstain）。")
    counted: dict[str, Choice] = {}
    for person, value in votes.items():
        if person == DEVELOPER:
            if not has_developer:
                _fail("“votes”中有 \"developer\"，但没有开发商房屋。")
            key = DEVELOPER_KEY
        elif person in owners:
            key = person
        else:
            _fail(f"“votes”中的业主“{person}”不在“units”里。")
        if not isinstance(value, str) or value not in CHOICES:
            _fail(f"业主“{person}”的表决意见“{value}”无效，应为 yes、no 或 abstain。")
        counted[key] = CHOICES[value]
    try:
        roll = art278.electorate(records)
    except ArithmeticError:
        raise BallotFileError("面积的位数太多，无法精确计算。") from None
    except ValueError as e:
        raise BallotFileError(str(e)) from None
    return roll, counted, matter, silent


def approval_met(result: Result) -> bool:
    """Both approval bounds, measured against the approval base (participants)."""
    if result.base_heads == 0:
        return False
    bound, strict = result.approval_threshold, result.approval_strict
    ok = (lambda r: r > bound) if strict else (lambda r: r >= bound)
    return ok(result.agree_area_ratio) and ok(result.agree_heads_ratio)


def summary(result: Result) -> dict:
    """The recount's printed summary (areas as decimal strings, heads as integers)."""
    approval = approval_met(result)
    return {
        "participation": {"area": str(result.participating_area),
                          "area_total": str(result.total_area),
                          "headcount": result.participating_heads,
                          "headcount_total": result.total_heads,
                          "met": result.turnout_met},
        "approval": {"area_yes": str(result.agree_area), "headcount_yes": result.agree_heads,
                     "met": approval},
        "passed": result.turnout_met and approval,
    }


def count(data: Mapping) -> Result:
    roll, votes, matter, silent = parse(data)
    try:
        return art278.tally(roll, votes, matter, silent)
    except ArithmeticError:
        raise BallotFileError("面积的位数太多，无法精确计算。") from None


def recount(text: str) -> dict:
    """Recount a published ballot file given as JSON text. Raises BallotFileError."""
    try:
        data = json.loads(text.lstrip("\ufeff"), parse_float=_no_float, parse_constant=_no_float,
                          object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as e:
        raise BallotFileError(f"不是有效的 JSON（第 {e.lineno} 行第 {e.colno} 列）：{e.msg}。") from None
    return summary(count(data))


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict:
    """A JSON object; a key given twice (e.g. one owner's vote twice) is refused, not
    silently overwritten."""
    out: dict = {}
    for key, value in pairs:
        if key in out:
            raise BallotFileError(f"同一个 JSON 对象中“{key}”出现了两次。")
        out[key] = value
    return out


def _no_float(value: str):
    raise BallotFileError(f"文件中不能出现小数形式的数字（{value}）：面积请写成字符串。")


def dumps(data: Mapping) -> str:
    """The published file's text: UTF-8 JSON, keys in the documented order, one unit a line."""
    head = {"matter": data["matter"]}
    if data.get("silent_counts_as"):
        head["silent_counts_as"] = data["silent_counts_as"]
    lines = [json.dumps(u, ensure_ascii=False) for u in data["units"]]
    body = ",\n  ".join(lines)
    text = json.dumps(head, ensure_ascii=False)[:-1]
    return (f'{text},\n "units": [\n  {body}],\n'
            f' "votes": {json.dumps(data["votes"], ensure_ascii=False, sort_keys=True)}}}\n')
