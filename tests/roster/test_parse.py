"""The roster sheet parser: pure, so tested exhaustively without an app."""
from __future__ import annotations

import io
import zipfile
from decimal import Decimal

import openpyxl
import pytest

from civic.roster import parse
from civic.roster.parse import (DEVELOPER_REF, CellError, Problem, RosterInvalid, RosterRow,
                                natural_key, parse_area, parse_roster, template_csv)
from tests.roster.conftest import HEADER, csv_bytes, xlsx_bytes


def problems_of(data: bytes, filename: str = "roster.csv") -> list[Problem]:
    with pytest.raises(RosterInvalid) as info:
        parse_roster(data, filename)
    return info.value.problems


def where(problems: list[Problem]) -> list[tuple]:
    return [(p.line, p.column) for p in problems]


ROWS = [["1号楼", "101", "89.50", "张三"], ["1号楼", "102", "120.25", "李四"]]


# --- encodings and file types ----------------------------------------------------------

@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "utf-16"])
def test_csv_encodings(encoding):
    rows = parse_roster(csv_bytes(ROWS, encoding=encoding), "名册.csv")
    assert rows == [
        RosterRow(2, "1号楼", "101", Decimal("89.50"), "张三", "", False),
        RosterRow(3, "1号楼", "102", Decimal("120.25"), "李四", "", False),
    ]


def test_gb18030_sheet_with_bytes_invalid_as_utf8_falls_back():
    data = "楼栋,房号,面积,业主\n5,301,90,欧阳娜娜\n".encode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert parse_roster(data, "x.CSV")[0].owner_name == "欧阳娜娜"


def test_tab_separated_text_export():
    data = "楼栋\t房号\t面积\t业主\r\n5\t301\t90\t王五\r\n".encode("utf-16")
    assert parse_roster(data, "x.csv")[0].number == "301"


def test_xlsx_with_typed_cells():
    data = xlsx_bytes([[5, 301, 89.5, "张三"], ["6栋", "1201", 80.55000000000001, "李四"],
                       [7.0, 402.0, 100, "王五"]])
    rows = parse_roster(data, "名册.XLSX")
    assert [(r.line, r.building, r.number, r.area) for r in rows] == [
        (2, "5号楼", "301", Decimal("89.50")),
        (3, "6栋", "1201", Decimal("80.55")),
        (4, "7号楼", "402", Decimal("100.00")),
    ]


def test_xlsx_reads_first_sheet_and_real_line_numbers():
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER)
    ws.append(["1", "101", "abc", "张三"])
    ws.append([])
    ws.append(["1", "102", "-5", "李四"])
    wb.create_sheet("其他").append(["无关", "内容"])
    buf = io.BytesIO()
    wb.save(buf)
    assert where(problems_of(buf.getvalue(), "r.xlsx")) == [(2, "面积"), (4, "面积")]


def test_xlsx_formula_cells_read_as_values():
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER)
    ws.append(["1", "101", "=40+49.5", "张三"])
    buf = io.BytesIO()
    wb.save(buf)
    # openpyxl stores no cached value for a formula it wrote: the cell reads as empty
    assert [p.reason for p in problems_of(buf.getvalue(), "r.xlsx")] == ["不能为空。"]


@pytest.mark.parametrize("filename, reason_part", [
    ("roster.txt", "只能上传 CSV 或 XLSX"),
    ("roster", "只能上传 CSV 或 XLSX"),
    ("roster.xls", "不支持旧版 .xls"),
])
def test_other_file_types_refused(filename, reason_part):
    [p] = problems_of(csv_bytes(ROWS), filename)
    assert p.line is None and reason_part in p.text


def test_xlsx_renamed_to_csv_and_csv_renamed_to_xlsx():
    [p] = problems_of(xlsx_bytes(ROWS), "roster.csv")
    assert "这是 Excel 文件而不是 CSV" in p.text
    [p] = problems_of(csv_bytes(ROWS), "roster.xlsx")
    assert "无法读取这个 XLSX 文件" in p.text


def test_corrupt_xlsx_is_unreadable():
    data = xlsx_bytes(ROWS)
    [p] = problems_of(data[: len(data) // 2], "roster.xlsx")
    assert "无法读取这个文件" in p.text
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("hello.txt", "not a workbook")
    [p] = problems_of(buf.getvalue(), "roster.xlsx")
    assert "无法读取这个文件" in p.text


def test_xlsx_zip_bomb_refused(monkeypatch):
    monkeypatch.setattr(parse, "XLSX_UNPACKED_LIMIT", 1000)
    [p] = problems_of(xlsx_bytes(ROWS), "roster.xlsx")
    assert "无法读取这个文件" in p.text


def test_binary_and_undecodable_csv_is_unreadable():
    [p] = problems_of(b"\x00\x01\x02binary\x00", "roster.csv")
    assert "无法读取这个文件" in p.text
    [p] = problems_of(b"\x81\x30\xff\xfe\x00", "roster.csv")
    assert "无法读取这个文件" in p.text


def test_empty_file_and_header_only():
    [p] = problems_of(b"", "roster.csv")
    assert p.line is None and "没有找到表头" in p.text
    [p] = problems_of(b"\r\n ,, \r\n", "roster.csv")
    assert "没有找到表头" in p.text
    [p] = problems_of(csv_bytes([]), "roster.csv")
    assert p.line == 1 and "只有表头" in p.text


# --- headers -------------------------------------------------------------------------------

def test_header_synonyms_units_and_spaces():
    data = csv_bytes([["3", "2", "301", "90.1", "赵六", "K1", "已售"]],
                     header=[" 楼 栋 ", "单元", "室号", "建筑面积（㎡）", "业主", "业主编号", "房屋性质"])
    [row] = parse_roster(data, "r.csv")
    assert (row.building, row.number, row.area, row.owner_key) == (
        "3号楼", "2单元301", Decimal("90.10"), "K1")


def test_exclusive_area_wins_over_building_area_in_any_order():
    header = ["楼栋", "房号", "建筑面积", "专有部分面积", "面积", "业主姓名"]
    [row] = parse_roster(csv_bytes([["1", "1", "120", "95.5", "99", "张三"]], header=header),
                         "r.csv")
    assert row.area == Decimal("95.50")


def test_unknown_missing_and_duplicate_headers_all_reported():
    data = csv_bytes([["1", "101", "张三", "x", "y"]],
                     header=["楼栋", "房号", "业主", "电话", "业主姓名", ""])
    problems = problems_of(data)
    assert [(p.line, p.column) for p in problems] == [(1, "电话"), (1, "业主姓名"), (1, "面积")]
    assert "无法识别的列名“电话”" in problems[0].text
    assert "与“业主”重复" in problems[1].text
    assert "缺少必填列“面积”" in problems[2].text


def test_header_need_not_be_on_the_first_line():
    data = b"\r\n" + csv_bytes(ROWS)
    assert [r.line for r in parse_roster(data, "r.csv")] == [3, 4]


# --- values ----------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, name", [
    ("5", "5号楼"), ("05", "5号楼"), ("５", "5号楼"), ("5号楼", "5号楼"), ("5栋", "5栋"),
    ("5幢", "5幢"), ("A座", "A座"), (" 12 号楼 ", "12号楼"),
])
def test_building_names(raw, name):
    [row] = parse_roster(csv_bytes([[raw, "101", "90", "张三"]]), "r.csv")
    assert row.building == name


@pytest.mark.parametrize("raw, area", [
    ("89.5", "89.50"), ("89.50", "89.50"), ("90", "90.00"), ("0.01", "0.01"),
    ("99999.99", "99999.99"), ("1,234.5", "1234.50"), ("89.5㎡", "89.50"),
    ("89.5 平方米", "89.50"), ("８９.５", "89.50"), ("+12", "12.00"),
])
def test_good_areas(raw, area):
    assert parse_area(raw) == Decimal(area)
    assert str(parse_area(raw)) == area


@pytest.mark.parametrize("raw, reason", [
    ("", "不能为空"), ("abc", "不是有效的面积数字"), ("1e3", "不是有效的面积数字"),
    ("NaN", "不是有效的面积数字"), ("12,34", "不是有效的面积数字"), ("0", "大于 0"),
    ("0.00", "大于 0"), ("-5", "大于 0"), ("100000", "小于 100000"), ("1.234", "两位小数"),
    ("89.505", "两位小数"),
])
def test_bad_areas(raw, reason):
    with pytest.raises(CellError) as info:
        parse_area(raw)
    assert reason in str(info.value)


def test_too_long_values():
    data = csv_bytes([["楼" * 41, "1" * 21, "90", "名" * 81]])
    problems = problems_of(data)
    assert where(problems) == [(2, "楼栋"), (2, "房号"), (2, "业主姓名")]
    assert all("内容过长" in p.text for p in problems)


# --- owners and the developer ------------------------------------------------------------

def test_owner_refs_by_key_name_and_developer():
    header = HEADER + ["业主编号", "类型"]
    rows = parse_roster(csv_bytes([
        ["1", "101", "90", "张三", "A1", ""],
        ["1", "102", "90", "张三", "", "住宅"],
        ["1", "103", "90", "", "", ""],
        ["1", "104", "90", "某某置业有限公司", "D9", "未售"],
        ["1", "105", "90", "", "", "未交付"],
        ["1", "106", "90", "", "", "开发商自持"],
    ], header=header), "r.csv")
    assert [r.owner_ref for r in rows] == ["A1", "张三"] + [DEVELOPER_REF] * 4
    assert [r.is_developer for r in rows] == [False, False, True, True, True, True]
    assert all(r.owner_name == "" and r.owner_key == "" for r in rows[2:])


def test_owner_key_conflicts_and_key_without_name():
    header = HEADER + ["业主编号"]
    problems = problems_of(csv_bytes([
        ["1", "101", "90", "张三", "A1"],
        ["1", "102", "90", "张叁", "A1"],
        ["1", "103", "90", "", "A2"],
        ["1", "104", "90", "李四", DEVELOPER_REF],
    ], header=header))
    assert where(problems) == [(3, "业主姓名"), (4, "业主姓名"), (5, "业主编号")]
    assert "业主编号“A1”在第 2 行" in problems[0].text
    assert "没有业主姓名" in problems[1].text
    assert "系统保留" in problems[2].text


# --- every problem, with its line -----------------------------------------------------------

def test_all_problems_reported_with_excel_line_numbers():
    data = csv_bytes([
        ["1", "101", "89.5", "张三"],          # 2 ok
        ["", "102", "abc", "李四"],            # 3 building missing, bad area
        ["1", "", "90", "王五"],               # 4 number missing
        [],                                     # 5 blank: skipped, still counted
        ["1", "101", "1.234", "赵六"],         # 6 bad area + duplicate of line 2
        ["1号楼", "101", "90", "钱七"],        # 7 duplicate of line 2 after normalising
        ["2", "201", "", "孙八"],              # 8 area missing
        ["2", "202", "100000", ""],            # 9 area too large
    ])
    problems = problems_of(data)
    assert where(problems) == [(3, "楼栋"), (3, "面积"), (4, "房号"), (6, "面积"), (6, "房号"),
                               (7, "房号"), (8, "面积"), (9, "面积")]
    assert problems[0].text == "不能为空。"
    assert "与第 2 行重复" in problems[4].text and "1号楼 101" in problems[4].text
    assert "与第 2 行重复" in problems[5].text


def test_multiline_quoted_cell_is_one_line_as_in_excel():
    data = ('楼栋,房号,面积,业主\r\n1,101,90,"张三\r\n（代）"\r\n1,102,bad,李四\r\n'
            .encode("utf-8"))
    assert where(problems_of(data)) == [(3, "面积")]


def test_row_limit(monkeypatch):
    rows = [["1", str(i), "90", "张三"] for i in range(1, parse.ROW_LIMIT + 1)]
    assert len(parse_roster(csv_bytes(rows), "big.csv")) == 20_000
    [p] = problems_of(csv_bytes(rows + [["1", "x", "90", "张三"]]), "big.csv")
    assert p.line == 20_002 and "超过 20000 行" in p.text


def test_problem_reason_is_a_msgid_with_arguments():
    [p] = problems_of(csv_bytes([["1", "1", "9", "张三"], ["1", "1", "9", "张三"]]))
    assert p.reason == "%(building)s %(number)s 与第 %(other)d 行重复。"
    assert p.args == {"building": "1号楼", "number": "1", "other": 2}


# --- sorting and the template ----------------------------------------------------------------

def test_natural_key():
    assert sorted(["10号楼", "2号楼", "1号楼", "A座", "B座", "a座"], key=natural_key) == [
        "1号楼", "2号楼", "10号楼", "A座", "a座", "B座"]
    assert sorted(["1201", "301", "0302", "99"], key=natural_key) == ["99", "301", "0302", "1201"]
    assert sorted(["2单元1201", "10单元101", "2单元301"], key=natural_key) == [
        "2单元301", "2单元1201", "10单元101"]
    assert natural_key("2号楼") < natural_key("10号楼")
    assert natural_key("301") < natural_key("1201")
    assert len(natural_key("楼" * 40 + "1" * 30)) <= 60


def test_template_parses_cleanly():
    rows = parse_roster(("\ufeff" + template_csv()).encode("utf-8"), "roster-template.csv")
    assert [r.owner_ref for r in rows] == ["A001", "A001", "李四", DEVELOPER_REF]
    assert rows[0].number == "1单元101"
