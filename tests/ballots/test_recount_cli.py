"""`flask ballots recount FILE`: anyone recounts a published ballot file."""
from __future__ import annotations

import json

import pytest

GOOD = {
    "matter": 5,
    "units": [
        {"unit": "3号楼-101", "area": "90.00", "owner": "o-1", "developer": False},
        {"unit": "3号楼-102", "area": "60.50", "owner": "o-1", "developer": False},
        {"unit": "3号楼-201", "area": "89.37", "owner": "o-2", "developer": False},
        {"unit": "3号楼-202", "area": "100.13", "owner": "o-3", "developer": False},
        {"unit": "3号楼-301", "area": "75.00", "owner": "developer", "developer": True},
        {"unit": "3号楼-302", "area": "75.00", "owner": "developer", "developer": True},
    ],
    "votes": {"o-1": "yes", "o-2": "yes", "developer": "abstain"},
}

EXPECTED = {
    "participation": {"area": "389.87", "area_total": "490.00", "headcount": 3,
                      "headcount_total": 4, "met": True},
    "approval": {"area_yes": "239.87", "headcount_yes": 2, "met": True},
    "passed": True,
}


def recount(runner, *args, **kw):
    return runner.invoke(args=["ballots", "recount", *args], **kw)


def test_good_file_prints_the_summary_and_exits_0(runner, tmp_path):
    path = tmp_path / "ballot.json"
    path.write_text(json.dumps(GOOD, ensure_ascii=False), encoding="utf-8")
    result = recount(runner, str(path))
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    out = json.loads(result.stdout)
    assert out == EXPECTED
    # exactly the documented keys, in the documented order
    assert list(out) == ["participation", "approval", "passed"]
    assert list(out["participation"]) == ["area", "area_total", "headcount", "headcount_total",
                                          "met"]
    assert list(out["approval"]) == ["area_yes", "headcount_yes", "met"]
    assert result.stdout == json.dumps(EXPECTED, ensure_ascii=False, indent=2) + "\n"


def test_dash_reads_standard_input(runner):
    result = recount(runner, "-", input=json.dumps(GOOD))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == EXPECTED


def test_a_failing_ballot_is_still_exit_0_with_passed_false(runner):
    data = {**GOOD, "votes": {"o-1": "no", "o-2": "yes", "developer": "no"}}
    result = recount(runner, "-", input=json.dumps(data))
    assert result.exit_code == 0
    out = json.loads(result.stdout)
    assert out["passed"] is False and out["approval"] == {"area_yes": "89.37",
                                                           "headcount_yes": 1, "met": False}


def test_excel_bom_is_accepted(runner, tmp_path):
    path = tmp_path / "ballot.json"
    path.write_bytes("\ufeff".encode() + json.dumps(GOOD).encode())
    result = recount(runner, str(path))
    assert result.exit_code == 0 and json.loads(result.stdout) == EXPECTED


def _with(**changes):
    data = json.loads(json.dumps(GOOD))
    data.update(changes)
    return json.dumps(data, ensure_ascii=False)


def _unit(i, **changes):
    data = json.loads(json.dumps(GOOD))
    data["units"][i].update(changes)
    return json.dumps(data, ensure_ascii=False)


def _without(key):
    data = json.loads(json.dumps(GOOD))
    del data[key]
    return json.dumps(data, ensure_ascii=False)


def _unit_without(i, key):
    data = json.loads(json.dumps(GOOD))
    del data["units"][i][key]
    return json.dumps(data, ensure_ascii=False)


NO_DEVELOPER = json.dumps({"matter": 5, "units": GOOD["units"][:4],
                           "votes": {"o-1": "yes", "developer": "yes"}})
DUPLICATE_UNIT = json.dumps({**GOOD, "units": GOOD["units"] + [GOOD["units"][0]]},
                            ensure_ascii=False)
DUPLICATE_VOTE = ('{"matter": 5, "units": [{"unit": "1-101", "area": "10.00", "owner": "o-1"}], '
                  '"votes": {"o-1": "no", "o-1": "yes"}}')


@pytest.mark.parametrize("text,problem", [
    pytest.param('{"matter": 5, "units": [', "不是有效的 JSON", id="invalid-json"),
    pytest.param("", "不是有效的 JSON", id="empty"),
    pytest.param(_unit(0, area=90.0), "小数形式的数字（90.0）", id="float-area"),
    pytest.param(_unit(0, area=90), "面积应写成字符串", id="integer-area"),
    pytest.param(_unit(0, area="-1"), "不是大于 0 的十进制数", id="negative-area"),
    pytest.param(_unit(0, area="0.00"), "不是大于 0 的十进制数", id="zero-area"),
    pytest.param(_unit(0, area="1e3"), "不是大于 0 的十进制数", id="exponent-area"),
    pytest.param(_with(votes={"o-1": "yes", "o-9": "no"}), "业主“o-9”不在“units”里",
                 id="unknown-owner-in-votes"),
    pytest.param(_with(votes={"o-1": "同意"}), "表决意见“同意”无效", id="bad-choice"),
    pytest.param(_with(votes={"o-1": ["yes"]}), "表决意见“['yes']”无效", id="list-choice"),
    pytest.param(DUPLICATE_UNIT, "房屋“3号楼-101”重复出现", id="duplicate-unit"),
    pytest.param(DUPLICATE_VOTE, "“o-1”出现了两次", id="duplicate-vote"),
    pytest.param(_with(matter=10), "“matter”应是 1 到 9 的整数", id="matter-10"),
    pytest.param(_with(matter=0), "“matter”应是 1 到 9 的整数", id="matter-0"),
    pytest.param(_with(matter="5"), "“matter”应是 1 到 9 的整数", id="matter-string"),
    pytest.param(_with(matter=True), "“matter”应是 1 到 9 的整数", id="matter-bool"),
    pytest.param(_without("matter"), "缺少“matter”字段", id="missing-matter"),
    pytest.param(_without("units"), "缺少“units”字段", id="missing-units"),
    pytest.param(_without("votes"), "缺少“votes”字段", id="missing-votes"),
    pytest.param(_unit_without(2, "area"), "第 3 个房屋缺少字段：area", id="unit-missing-area"),
    pytest.param(_with(units=[]), "“units”应是非空的列表", id="no-units"),
    pytest.param(_with(extra=1), "不认识的字段：extra", id="unknown-key"),
    pytest.param(NO_DEVELOPER, "有 \"developer\"，但没有开发商房屋",
                 id="developer-vote-without-developer-units"),
    pytest.param(_unit(0, owner="developer"), "“developer”不是 true",
                 id="developer-owner-not-flagged"),
    pytest.param(_unit(0, developer=True), "开发商房屋，“owner”应为 \"developer\"",
                 id="developer-flag-with-owner"),
    pytest.param(_unit(0, owner="__developer__", developer=False), "开发商的保留标识",
                 id="reserved-owner-key"),
    pytest.param(_with(silent_counts_as="all"), "“silent_counts_as”只能是", id="bad-silent-rule"),
    pytest.param("[]", "文件内容应是一个 JSON 对象", id="not-an-object"),
    pytest.param('{"matter": NaN}', "小数形式的数字（NaN）", id="nan"),
])
def test_bad_files_name_the_problem_on_stderr(runner, text, problem):
    result = recount(runner, "-", input=text)
    assert result.exit_code != 0
    assert result.stdout == ""
    assert result.stderr.startswith("无法计票："), result.stderr
    assert problem in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_not_utf8(runner, tmp_path):
    path = tmp_path / "ballot.json"
    path.write_bytes(json.dumps(GOOD, ensure_ascii=False).encode("gbk"))
    result = recount(runner, str(path))
    assert result.exit_code != 0
    assert "不是 UTF-8 编码" in result.stderr


def test_huge_precision_is_refused_not_crashed(runner):
    units = [{"unit": "a", "area": "1." + "1" * 250, "owner": "o-1"},
             {"unit": "b", "area": "1" * 250 + ".1", "owner": "o-2"}]
    result = recount(runner, "-", input=json.dumps({"matter": 5, "units": units,
                                                    "votes": {"o-1": "yes"}}))
    assert result.exit_code != 0
    assert result.stderr.startswith("无法计票：") and "无法精确计算" in result.stderr
