"""The OpenAPI 3.1 document of the read-only API, and the query arguments it declares.

The document is the API's single description: the views validate their query arguments
against the parameters declared here (:func:`query_args`), the documentation page renders
it, and the tests check it against the routes and every response against its schemas
(schemathesis). No personal data is described because none is served.
"""
from __future__ import annotations

from civic.ballots.models import BallotState
from civic.consultation.models import FundingSource
from civic.consultation.rules import Body, Rule
from civic.decisions.models import DecisionState, Outcome
from civic.implementation.models import ExpenseStatus, Score
from civic.issues.queries import STATE_FILTERS

VERSION = "1.0.0"
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 20
MAX_PAGE = 100_000


class BadArgument(ValueError):
    """A query argument that does not fit its declared schema."""

    def __init__(self, name: str, message: str):
        super().__init__(message)
        self.name = name
        self.message = message


# --- schema helpers ----------------------------------------------------------------------

def _s(description: str = "", **schema) -> dict:
    if description:
        schema["description"] = description
    return schema


def _nullable(kind: str, description: str = "", **more) -> dict:
    return _s(description, type=[kind, "null"], **more)


def _enum(values, description: str = "") -> dict:
    return _s(description, type="string", enum=[v.value if hasattr(v, "value") else v
                                                for v in values])


def _object(properties: dict, description: str = "") -> dict:
    return _s(description, type="object", properties=properties,
              required=sorted(properties), additionalProperties=False)


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


STRING = {"type": "string"}
INTEGER = {"type": "integer"}
BOOLEAN = {"type": "boolean"}
URL = {"type": "string", "format": "uri"}
TIME = _nullable("string", format="date-time")
RATIO = _s("精确比例，六位小数", type="string", pattern=r"^\d+\.\d{6}$")
AREA = _s("面积（平方米），两位小数", type="string", pattern=r"^\d+\.\d{2}$")

SCHEMAS = {
    "Error": _object({"error": _object({
        "status": INTEGER, "message": STRING,
        "parameter": _nullable("string", "出错的查询参数")})}),
    "Links": _object({"self": URL, "first": URL, "last": URL,
                      "next": _nullable("string", format="uri"),
                      "prev": _nullable("string", format="uri")}),
    "Community": _object({
        "slug": STRING, "name": STRING, "district": STRING, "url": URL,
        "decisions": URL, "issues": URL, "expenses": URL, "ballots": URL, "stats": URL}),
    "Decision": _object({
        "issue": _s("议题编号", type="integer"), "issue_title": STRING, "category": STRING,
        "version": _s("决议版本（更正后递增）", type="integer", minimum=1),
        "title": STRING, "summary": STRING,
        "state": _enum(DecisionState), "state_label": STRING,
        "outcome": _enum(Outcome), "outcome_label": STRING,
        "rule": _enum(Rule, "表决规则"), "lead": {"oneOf": [_enum(Body), {"type": "null"}]},
        "lead_label": _nullable("string"),
        "due_on": _nullable("string", format="date"),
        "budget_fen": _s("批准预算（分）", type="integer", minimum=0),
        "budget_yuan": STRING,
        "funding_source": {"oneOf": [_enum(FundingSource), {"type": "null"}]},
        "funding_source_label": _nullable("string"),
        "owners_item": _nullable("integer", "《民法典》第二百七十八条事项序号", minimum=1, maximum=9),
        "content_hash": _s("决议内容的 SHA-256", type="string", pattern="^[0-9a-f]{64}$"),
        "published_at": TIME, "effective_at": TIME, "url": URL}),
    "Issue": _object({
        "number": INTEGER, "title": STRING, "category": STRING, "body": STRING,
        "building": _nullable("string"), "place": STRING,
        "state": _enum(sorted(STATE_FILTERS)), "state_label": STRING,
        "cosigns": _s("联署户数", type="integer", minimum=0),
        "threshold_households": _nullable("integer", "联署门槛（户）"),
        "collecting_at": TIME, "expires_at": TIME, "threshold_at": TIME, "closed_at": TIME,
        "completed_at": TIME, "url": URL}),
    "Expense": _object({
        "issue": INTEGER, "issue_title": STRING, "number": INTEGER,
        "spent_on": _s(type="string", format="date"),
        "amount_fen": _s("金额（分）；冲销为负数", type="integer"), "amount_yuan": STRING,
        "payee": STRING, "purpose": STRING,
        "funding_source": _enum(FundingSource), "funding_source_label": STRING,
        "body": _enum(Body), "body_label": STRING,
        "status": _enum(ExpenseStatus, "是否计入预算"), "status_label": STRING,
        "reverses": _nullable("integer", "冲销的支出编号"), "reason": STRING,
        "receipts": _s("票据张数", type="integer", minimum=0),
        "recorded_at": _s(type="string", format="date-time"), "url": URL}),
    "BallotResult": _object({
        "total_area": AREA, "total_heads": INTEGER,
        "participating_area": AREA, "participating_heads": INTEGER,
        "agree_area": AREA, "agree_heads": INTEGER,
        "oppose_area": AREA, "oppose_heads": INTEGER,
        "abstain_area": AREA, "abstain_heads": INTEGER,
        "turnout_area_ratio": RATIO, "turnout_heads_ratio": RATIO,
        "agree_area_ratio": RATIO, "agree_heads_ratio": RATIO,
        "turnout_met": BOOLEAN, "approved": BOOLEAN}),
    "Ballot": _object({
        "number": INTEGER, "title": STRING, "question": STRING,
        "item": _s("《民法典》第二百七十八条事项序号", type="integer", minimum=1, maximum=9),
        "item_label": STRING, "whole_community": BOOLEAN,
        "state": _enum(BallotState), "state_label": STRING,
        "issue": _nullable("integer", "所决定的议题编号"),
        "notice_at": _s(type="string", format="date-time"),
        "opens_at": _s(type="string", format="date-time"),
        "closes_at": _s(type="string", format="date-time"),
        "counted_at": TIME, "final_at": TIME, "passed": _nullable("boolean"),
        "electorate_hash": _nullable("string"), "file_sha256": _nullable("string"),
        "result": {"oneOf": [_ref("BallotResult"), {"type": "null"}]},
        "url": URL, "file_url": _nullable("string", format="uri")}),
    "Rate": _object({"numerator": INTEGER, "denominator": INTEGER,
                     "value": {"oneOf": [RATIO, {"type": "null"}]}}),
    "Median": _object({"days": {"oneOf": [RATIO, {"type": "null"}]},
                       "count": _s("参与计算的议题数", type="integer")}),
    "Figures": _object({
        "issues": INTEGER, "reached_threshold": INTEGER,
        "response_rate": _ref("Rate"), "resolution_rate": _ref("Rate"),
        "satisfaction_rate": _ref("Rate"),
        "ratings": _object({s.value: INTEGER for s in Score}),
        "median_days_to_triage": _ref("Median"), "median_days_to_decision": _ref("Median"),
        "median_days_to_completion": _ref("Median")}),
    "Spending": _object({
        "year": INTEGER, "kind": _enum(["funding_source", "category"]),
        "key": STRING, "label": STRING, "amount_fen": INTEGER}),
    "Stats": _object({
        "community": STRING, "year": _nullable("integer"),
        "years": {"type": "array", "items": INTEGER},
        "figures": _ref("Figures"),
        "spending": {"type": "array", "items": _ref("Spending")}, "url": URL}),
    "StreetStats": _object({
        "district": STRING, "year": _nullable("integer"),
        "years": {"type": "array", "items": INTEGER},
        "figures": _ref("Figures"),
        "communities": {"type": "array", "items": _object({
            "slug": STRING, "name": STRING, "figures": _ref("Figures")})},
        "spending": {"type": "array", "items": _ref("Spending")}, "url": URL}),
}


def _page_of(item: str) -> dict:
    return _object({"items": {"type": "array", "items": _ref(item)},
                    "page": _s(type="integer", minimum=1),
                    "per_page": _s(type="integer", minimum=1, maximum=MAX_PER_PAGE),
                    "total": _s(type="integer", minimum=0),
                    "pages": _s(type="integer", minimum=0),
                    "links": _ref("Links")})


for _name in ("Community", "Decision", "Issue", "Expense", "Ballot"):
    SCHEMAS[f"{_name}Page"] = _page_of(_name)


# --- parameters ----------------------------------------------------------------------------

def _query(name: str, description: str, schema: dict) -> dict:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema}


def _path(name: str, description: str) -> dict:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": {"type": "string", "minLength": 1, "maxLength": 80}}


PAGE = _query("page", "页码，从 1 开始", {"type": "integer", "minimum": 1,
                                        "maximum": MAX_PAGE, "default": 1})
PER_PAGE = _query("per_page", f"每页条数（最多 {MAX_PER_PAGE}）",
                  {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE,
                   "default": DEFAULT_PER_PAGE})
SLUG = _path("slug", "小区代号，如 huayuan")
YEAR = _query("year", "年份（北京时间）", {"type": "integer", "minimum": 2000,
                                       "maximum": 2999})
Q = _query("q", "搜索词，空格分隔，每个词都须出现（中文直接输入）",
           {"type": "string", "maxLength": 50})
CATEGORY = _query("category", "议题分类", {"type": "string", "maxLength": 20})
BUILDING = _query("building", "楼栋编号（见议题页的楼栋筛选）",
                  {"type": "integer", "minimum": 1, "maximum": 2**31 - 1})


def _ok(schema: str, description: str) -> dict:
    return {"200": {"description": description, "headers": {
        "ETag": {"schema": STRING}, "Cache-Control": {"schema": STRING}},
        "content": {"application/json": {"schema": _ref(schema)}}}}


def _errors(*codes: str) -> dict:
    text = {"400": "查询参数不合法", "404": "没有这个小区或街道"}
    return {c: {"description": text[c],
                "content": {"application/json": {"schema": _ref("Error")}}} for c in codes}


def _get(operation_id: str, summary: str, description: str, parameters: list, schema: str,
         errors=("400", "404")) -> dict:
    return {"get": {"operationId": operation_id, "summary": summary,
                    "description": description, "parameters": parameters,
                    "responses": {**_ok(schema, summary), **_errors(*errors)}}}


PATHS = {
    "/communities": _get(
        "listCommunities", "小区列表", "本平台上的全部小区，按名称排序。",
        [PAGE, PER_PAGE], "CommunityPage", errors=("400",)),
    "/communities/{slug}/decisions": _get(
        "listDecisions", "决议", "小区的决议（含更正前的版本），最新的在前；"
        "筛选与公开档案的决议页相同。",
        [SLUG, Q, _query("state", "决议状态", _enum(DecisionState)), CATEGORY, YEAR,
         _query("funding", "资金来源", _enum(FundingSource)), BUILDING, PAGE, PER_PAGE],
        "DecisionPage"),
    "/communities/{slug}/issues": _get(
        "listIssues", "议题", "小区的公开议题（不含草稿和被隐藏的议题），编号大的在前。",
        [SLUG, Q, _query("state", "议题状态", _enum(sorted(STATE_FILTERS))), CATEGORY,
         BUILDING, PAGE, PER_PAGE], "IssuePage"),
    "/communities/{slug}/expenses": _get(
        "listExpenses", "支出台账", "每一笔支出和冲销，按议题和支出编号排序；"
        "专项维修资金的支出经业委会同意后才计入。",
        [SLUG, _query("issue", "只看这个议题编号的支出", {"type": "integer", "minimum": 1,
                                                  "maximum": 2**31 - 1}),
         PAGE, PER_PAGE], "ExpensePage"),
    "/communities/{slug}/ballots": _get(
        "listBallots", "业主表决", "业主共同决定事项的表决（《民法典》第二百七十八条），"
        "最新的在前；计票后附结果，每户的表决见表决文件。",
        [SLUG, PAGE, PER_PAGE], "BallotPage"),
    "/communities/{slug}/stats": _get(
        "communityStats", "小区统计", "响应率、解决率、满意率、各阶段的中位天数和支出；"
        "口径见统计页的说明。",
        [SLUG, YEAR], "Stats"),
    "/streets/{district}/stats": _get(
        "streetStats", "街道统计", "一个街道全部小区的合计统计和各小区的统计。",
        [_path("district", "街道名称，如 花木街道"), YEAR], "StreetStats"),
}


def document(server_url: str) -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "社区议事厅 只读数据接口", "version": VERSION,
            "description": (
                "公开档案的只读 JSON 接口：决议、议题、支出、业主表决和统计。无需登录，"
                "不含任何个人信息（居民、电话、业主姓名都不出现）。列表分页，响应带 ETag "
                "和 Cache-Control，可用 If-None-Match 做条件请求（304）。"),
            "license": {"name": "公开数据", "identifier": "CC-BY-4.0"}},
        "servers": [{"url": server_url}],
        "paths": PATHS,
        "components": {"schemas": SCHEMAS},
    }


# --- validating query arguments against the declared parameters ---------------------------

def _operation(path: str) -> dict:
    return PATHS[path]["get"]


def query_args(path: str, args) -> dict:
    """The declared query arguments of the operation at `path`, converted and checked
    against their schema; unknown arguments are ignored. Raises BadArgument."""
    out = {}
    for p in _operation(path)["parameters"]:
        if p["in"] != "query":
            continue
        name, schema = p["name"], p["schema"]
        raw = args.get(name)
        if raw is None or raw == "":
            out[name] = schema.get("default")
            continue
        if schema.get("type") == "integer":
            if not (raw.isascii() and raw.isdigit() and len(raw) <= 10):
                raise BadArgument(name, f"{name} 应为整数")
            value = int(raw)
            if not schema.get("minimum", value) <= value <= schema.get("maximum", value):
                raise BadArgument(name, f"{name} 应在 {schema.get('minimum')} 到 "
                                        f"{schema.get('maximum')} 之间")
            out[name] = value
        else:
            if "enum" in schema and raw not in schema["enum"]:
                raise BadArgument(name, f"{name} 只能是：{'、'.join(schema['enum'])}")
            if len(raw) > schema.get("maxLength", len(raw)):
                raise BadArgument(name, f"{name} 最长 {schema['maxLength']} 个字")
            out[name] = raw
    return out
