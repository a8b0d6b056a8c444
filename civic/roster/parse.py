"""Reading a roster sheet (CSV or XLSX) into validated rows — pure: no Flask, no database.

The sheet is the one committees keep today: one row per unit, a header row first.

Recognised headers (spaces and a parenthesised unit such as "面积(㎡)" are ignored):

========================================  ==========  ==========================================
header                                    required    meaning
========================================  ==========  ==========================================
楼栋, 楼号, 栋号                          yes         building; a bare number "5" becomes "5号楼",
                                                      any other text ("5号楼", "5栋", "5幢", "A座")
                                                      is kept as written
单元                                      no          stairway; "2" + 房号 "301" → unit "2单元301"
房号, 室号, 房间号                        yes         unit number as on the door
专有部分面积, 专有面积, 面积, 建筑面积    yes         area in m², > 0, < 100000, ≤ 2 decimals; if
                                                      several are present the exclusive area
                                                      (专有…) wins, then 面积, then 建筑面积
业主, 业主姓名                            yes         owner's name; empty = unsold, held by the
                                                      developer
业主编号                                  no          owner key: rows with the same key are one
                                                      person; without it the same name is
                                                      the same person
类型, 性质, 房屋类型, 房屋性质            no          "未售", "未交付" or "开发商" in it marks a
                                                      developer-held unit
========================================  ==========  ==========================================

`parse_roster()` returns every row or raises `RosterInvalid` carrying *all* problems, each with
the line number as Excel shows it (header = line 1), the column as headed in the file, and a
Chinese reason. Reasons are message ids (Chinese) with `%(name)s` arguments, so callers can
translate them: `gettext(p.reason, **p.args)`; `p.text` is the untranslated sentence.
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

#: most data rows a sheet may hold (a large street-office community has a few thousand)
ROW_LIMIT = 20_000
#: bigger uncompressed XLSX content than this is refused (a zip bomb, not a roster)
XLSX_UNPACKED_LIMIT = 200 * 1024 * 1024
#: Owner.ref of the developer, holding every unsold or undelivered unit as one owner
DEVELOPER_REF = "__developer__"
#: stored name of the developer's Owner row
DEVELOPER_NAME = "开发商"
AREA_MAX = Decimal("100000")
#: column widths of the database (Building.name, Unit.number, Owner.name, Owner.ref)
MAX_LEN = {"building": 40, "number": 20, "owner_name": 80, "owner_key": 80}
DEVELOPER_MARKS = ("未售", "未交付", "开发商")


def N_(message: str) -> str:
    """Mark a message id for extraction; translated later, where a locale is known."""
    return message


#: header text → (field, precedence among headers of the same field; lower wins)
HEADERS: dict[str, tuple[str, int]] = {
    "楼栋": ("building", 0), "楼号": ("building", 0), "栋号": ("building", 0),
    "单元": ("stair", 0),
    "房号": ("number", 0), "室号": ("number", 0), "房间号": ("number", 0),
    "专有部分面积": ("area", 0), "专有面积": ("area", 0), "面积": ("area", 1),
    "建筑面积": ("area", 2),
    "业主": ("owner_name", 0), "业主姓名": ("owner_name", 0),
    "业主编号": ("owner_key", 0),
    "类型": ("kind", 0), "性质": ("kind", 0), "房屋类型": ("kind", 0), "房屋性质": ("kind", 0),
}
#: required fields and the header named when one is missing
REQUIRED = {"building": "楼栋", "number": "房号", "area": "面积", "owner_name": "业主姓名"}


@dataclass(frozen=True)
class RosterRow:
    """One unit as the sheet states it, validated and normalised."""

    line: int
    building: str
    number: str
    area: Decimal
    #: "" for developer-held units
    owner_name: str
    #: the sheet's 业主编号, or ""
    owner_key: str
    is_developer: bool

    @property
    def owner_ref(self) -> str:
        """Who the owner is: the developer, else the owner key, else the name."""
        if self.is_developer:
            return DEVELOPER_REF
        return self.owner_key or self.owner_name


@dataclass(frozen=True)
class Problem:
    """What is wrong where: line as Excel numbers it (None: the whole file), column header."""

    line: int | None
    column: str
    #: a Chinese message id with %(name)s placeholders
    reason: str
    args: dict = field(default_factory=dict, hash=False, compare=True)

    @property
    def text(self) -> str:
        return self.reason % self.args if self.args else self.reason


class RosterInvalid(Exception):
    """The sheet cannot be imported; `problems` lists everything found, in order."""

    def __init__(self, problems: list[Problem]):
        super().__init__(f"{len(problems)} problem(s) in roster")
        self.problems = problems


class CellError(ValueError):
    """One value is unacceptable; `reason`/`args` as in Problem."""

    def __init__(self, reason: str, **args):
        super().__init__(reason % args if args else reason)
        self.reason = reason
        self.args_ = args


# --- single values (also used by the edit forms) ------------------------------------------

_SPACES = re.compile(r"\s+")
_PAREN = re.compile(r"[（(][^)）]*[)）]")
_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")
_THOUSANDS = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$")
_AREA_UNIT = re.compile(r"(m2|平方米|平米)$")
_DIGITS = re.compile(r"\d+")


def _nfkc(value: str) -> str:
    """Full-width digits and letters as ASCII, no spaces: "３０１ " → "301"."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", value))


def clean_text(value: object) -> str:
    """A cell as text: numbers without a spurious ".0", surrounding spaces gone."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        # Excel shows 15 significant digits; floating-point noise beyond that is not data.
        return format(value, ".15g")
    return str(value).replace("\u3000", " ").strip()


def _check_len(value: str, key: str) -> str:
    if len(value) > MAX_LEN[key]:
        raise CellError(N_("内容过长，最多 %(max)d 个字。"), max=MAX_LEN[key])
    return value


def normalise_building(value: str) -> str:
    """"5" → "5号楼"; anything else ("5号楼", "5栋", "5幢", "A座") is kept as written.

    Raises CellError when empty or too long.
    """
    text = _nfkc(value)
    if not text:
        raise CellError(N_("不能为空。"))
    if text.isdigit():
        text = f"{int(text)}号楼"
    return _check_len(text, "building")


def normalise_number(value: str, stair: str = "") -> str:
    """The unit number as on the door; with a stairway "2" + "301" → "2单元301"."""
    text = _nfkc(value)
    if not text:
        raise CellError(N_("不能为空。"))
    stair = _nfkc(stair)
    if stair:
        text = (f"{int(stair)}单元" if stair.isdigit() else stair) + text
    return _check_len(text, "number")


def parse_area(value: str) -> Decimal:
    """Exact m², > 0 and < 100000, at most two decimals; "1,234.5㎡" is accepted.

    Raises CellError with the reason.
    """
    text = _AREA_UNIT.sub("", _nfkc(value))
    if not text:
        raise CellError(N_("不能为空。"))
    if _THOUSANDS.match(text):
        text = text.replace(",", "")
    if not _NUMBER.match(text):
        raise CellError(N_("“%(value)s”不是有效的面积数字。"), value=value.strip()[:20])
    try:
        area = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
        raise CellError(N_("“%(value)s”不是有效的面积数字。"), value=value.strip()[:20])
    if area <= 0 or area >= AREA_MAX:
        raise CellError(N_("面积必须大于 0 且小于 100000 平方米。"))
    if area != area.quantize(Decimal("0.01")):
        raise CellError(N_("面积最多保留两位小数。"))
    return area.quantize(Decimal("0.01"))


def normalise_owner_name(value: str) -> str:
    """Inner runs of spaces collapse to one; raises CellError when too long."""
    return _check_len(_SPACES.sub(" ", value.replace("\u3000", " ")).strip(), "owner_name")


def normalise_owner_key(value: str) -> str:
    """Raises CellError when too long or the developer's reserved key."""
    text = _SPACES.sub("", unicodedata.normalize("NFKC", value))
    if text == DEVELOPER_REF:
        raise CellError(N_("这个编号由系统保留，请换一个。"))
    return _check_len(text, "owner_key")


def is_developer_kind(value: str) -> bool:
    """A 类型/性质 cell saying the unit is unsold, undelivered or the developer's."""
    return any(mark in value for mark in DEVELOPER_MARKS)


def natural_key(text: str) -> str:
    """A string that sorts naturally: 2号楼 < 10号楼, 301 < 1201; fits Building/Unit.sort_key."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _DIGITS.sub(lambda m: m.group().lstrip("0").rjust(8, "0")[-8:], folded)[:60]


# --- reading the file ---------------------------------------------------------------------

def _header_name(raw: str) -> str:
    """"建筑面积（㎡）" → "建筑面积": header text without spaces or a parenthesised unit."""
    return _PAREN.sub("", _nfkc(raw))


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030. Raises UnicodeDecodeError."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030")


def _csv_lines(data: bytes) -> Iterator[tuple[int, list]]:
    """(line, cells) per CSV record; a quoted cell with line breaks is still one line."""
    text = _decode(data)
    if "\x00" in text:
        raise ValueError("binary content, not a CSV text file")
    first = text.split("\n", 1)[0]
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    for line, cells in enumerate(reader, start=1):
        yield line, cells


def _xlsx_lines(data: bytes) -> Iterator[tuple[int, list]]:
    """(line, cells) per row of the first worksheet, values as last computed by Excel."""
    import openpyxl

    with zipfile.ZipFile(io.BytesIO(data)) as z:
        if sum(i.file_size for i in z.infolist()) > XLSX_UNPACKED_LIMIT:
            raise ValueError("unpacks to more than XLSX_UNPACKED_LIMIT")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        ws = wb.worksheets[0]
        for line, cells in enumerate(ws.iter_rows(values_only=True), start=1):
            yield line, list(cells)
    finally:
        wb.close()


def _lines(data: bytes, filename: str) -> Iterator[tuple[int, list]]:
    """Rows of the file by its type. Raises RosterInvalid for a type we do not read."""
    name = filename.lower()
    if name.endswith(".xlsx"):
        if not data.startswith(b"PK\x03\x04"):
            raise RosterInvalid([Problem(None, "", N_("无法读取这个 XLSX 文件，它可能已损坏。"))])
        return _xlsx_lines(data)
    if name.endswith(".csv"):
        if data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
            raise RosterInvalid([Problem(None, "", N_(
                "这是 Excel 文件而不是 CSV，请另存为 CSV（逗号分隔）或 XLSX 后再上传。"))])
        return _csv_lines(data)
    if name.endswith(".xls"):
        raise RosterInvalid([Problem(None, "", N_(
            "不支持旧版 .xls 格式，请在 Excel 中另存为 .xlsx 或 CSV 后再上传。"))])
    raise RosterInvalid([Problem(None, "", N_("只能上传 CSV 或 XLSX 文件。"))])


def _blank(cells: Iterable) -> bool:
    return all(clean_text(c) == "" for c in cells)


@dataclass
class _Columns:
    """Where each field is in the sheet, and the header text the user wrote for it."""

    index: dict[str, int] = field(default_factory=dict)
    label: dict[str, str] = field(default_factory=dict)


def _read_header(line: int, cells: list) -> tuple[_Columns, list[Problem]]:
    cols, problems = _Columns(), []
    precedence: dict[str, int] = {}
    for i, raw in enumerate(cells):
        shown = clean_text(raw)
        if not shown:
            continue
        known = HEADERS.get(_header_name(shown))
        if known is None:
            problems.append(Problem(line, shown, N_(
                "无法识别的列名“%(column)s”。请使用模板中的列名，或删除这一列。"),
                {"column": shown}))
            continue
        name, rank = known
        if name in precedence and precedence[name] == rank:
            problems.append(Problem(line, shown, N_("列“%(column)s”与“%(other)s”重复。"),
                                    {"column": shown, "other": cols.label[name]}))
        elif name not in precedence or rank < precedence[name]:
            precedence[name] = rank
            cols.index[name], cols.label[name] = i, shown
    for name, header in REQUIRED.items():
        if name not in cols.index:
            problems.append(Problem(line, header, N_("缺少必填列“%(column)s”。"),
                                    {"column": header}))
    return cols, problems


@dataclass
class _Seen:
    """What earlier rows established, for the whole-file rules."""

    #: (building, number) → first line
    units: dict[tuple[str, str], int] = field(default_factory=dict)
    #: owner key → (first line, name)
    keys: dict[str, tuple[int, str]] = field(default_factory=dict)


def _read_row(line: int, cells: list, cols: _Columns, seen: _Seen,
              problems: list[Problem]) -> RosterRow | None:
    """Validate one data row, appending a Problem per bad cell; None if anything was bad.

    Whole-file rules are checked too: a unit appears once, one owner key means one name.
    """
    def cell(name: str) -> str:
        i = cols.index.get(name)
        return clean_text(cells[i]) if i is not None and i < len(cells) else ""

    def report(name: str, reason: str, args: dict | None = None) -> None:
        problems.append(Problem(line, cols.label.get(name, REQUIRED.get(name, "")), reason,
                                args or {}))

    values: dict = {}
    checks = (("building", lambda: normalise_building(cell("building"))),
              ("number", lambda: normalise_number(cell("number"), cell("stair"))),
              ("area", lambda: parse_area(cell("area"))),
              ("owner_name", lambda: normalise_owner_name(cell("owner_name"))),
              ("owner_key", lambda: normalise_owner_key(cell("owner_key"))))
    for name, check in checks:
        try:
            values[name] = check()
        except CellError as e:
            report(name, e.reason, e.args_)
    ok = len(values) == len(checks)

    if "building" in values and "number" in values:
        unit = (values["building"], values["number"])
        if unit in seen.units:
            report("number", N_("%(building)s %(number)s 与第 %(other)d 行重复。"),
                   {"building": unit[0], "number": unit[1], "other": seen.units[unit]})
            ok = False
        else:
            seen.units[unit] = line

    developer_kind = is_developer_kind(cell("kind"))
    name, key = values.get("owner_name"), values.get("owner_key")
    if name is not None and key and not developer_kind:
        if not name:
            report("owner_name", N_(
                "填写了业主编号，但没有业主姓名。开发商持有的房屋请把业主编号留空。"))
            ok = False
        else:
            first_line, first_name = seen.keys.setdefault(key, (line, name))
            if first_name != name:
                report("owner_name", N_("业主编号“%(key)s”在第 %(other)d 行对应的业主姓名不同。"),
                       {"key": key, "other": first_line})
                ok = False
    if not ok:
        return None
    is_developer = developer_kind or not name
    return RosterRow(line=line, building=values["building"], number=values["number"],
                     area=values["area"], owner_name="" if is_developer else name,
                     owner_key="" if is_developer else key, is_developer=is_developer)


_UNREADABLE = N_("无法读取这个文件。请确认它是 CSV（UTF-8 或 GBK 编码）或 XLSX 文件。")


def _read_safely(lines: Iterator[tuple[int, list]]) -> Iterator[tuple[int, list]]:
    """Rows from a reader; any failure inside the reader means the file is unreadable."""
    while True:
        try:
            item = next(lines)
        except StopIteration:
            return
        except RosterInvalid:
            raise
        except Exception:  # a corrupt file can make csv/openpyxl fail in many ways
            raise RosterInvalid([Problem(None, "", _UNREADABLE)]) from None
        yield item


def parse_roster(data: bytes, filename: str) -> list[RosterRow]:
    """Every unit row of a roster sheet, in file order.

    Raises RosterInvalid with all problems found — or the one problem that stops reading
    (unreadable file, bad header, too many rows) — so nothing is ever half-accepted.
    """
    cols: _Columns | None = None
    header_line = count = 0
    rows: list[RosterRow] = []
    problems: list[Problem] = []
    seen = _Seen()
    for line, cells in _read_safely(iter(_lines(data, filename))):
        if _blank(cells):
            continue
        if cols is None:
            header_line = line
            cols, problems = _read_header(line, cells)
            if problems:
                # Without reliable columns every row would be misread: stop here.
                raise RosterInvalid(problems)
            continue
        count += 1
        if count > ROW_LIMIT:
            raise RosterInvalid([Problem(line, "", N_(
                "数据行超过 %(limit)d 行的上限，请拆分成几个文件分别导入。"),
                {"limit": ROW_LIMIT})])
        row = _read_row(line, cells, cols, seen, problems)
        if row is not None:
            rows.append(row)
    if cols is None:
        raise RosterInvalid([Problem(None, "", N_("文件是空的，没有找到表头。"))])
    if count == 0:
        raise RosterInvalid([Problem(header_line, "", N_("文件只有表头，没有房屋数据。"))])
    if problems:
        raise RosterInvalid(problems)
    return rows


def template_csv() -> str:
    """A small sample sheet with every column, to download and fill in."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(["楼栋", "单元", "房号", "专有部分面积", "业主姓名", "业主编号", "类型"])
    w.writerow(["1号楼", "1", "101", "89.50", "张三", "A001", ""])
    w.writerow(["1号楼", "1", "102", "120.25", "张三", "A001", ""])
    w.writerow(["1号楼", "2", "201", "89.50", "李四", "", ""])
    w.writerow(["2号楼", "", "301", "75.00", "", "", "未售"])
    return out.getvalue()
