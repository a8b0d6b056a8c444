"""Open data of a community, no login: every archive list (decisions, issues, ledger entries,
owners' ballots, statistics) as CSV and JSON, and an Atom feed of published decisions.

The lists take the query arguments of their page (the decisions' and issues' filters, the
statistics' year), so a download shows what the page showed. The records are those of
:mod:`civic.opendata.records`: no personal data, nothing hidden, no drafts.
"""
from __future__ import annotations

from flask import render_template, request
from flask_babel import gettext as _

from civic.archive import stats
from civic.communities.loaders import community_or_404
from civic.decisions import queries
from civic.extensions import db
from civic.issues import queries as issue_queries
from civic.opendata import bp
from civic.opendata import records as rec
from civic.opendata.records import yuan
from civic.opendata.tabular import csv_response, json_response, xml_response

#: the Atom feed lists the newest published decisions
FEED_SIZE = 50


def _all(query) -> list:
    return db.session.execute(query).all()


# --- decisions -------------------------------------------------------------------------

def _decisions(community) -> list[dict]:
    f = queries.parse(request.args, community)
    return rec.decision_records(community, _all(rec.decisions_query(community, f)))


@bp.route("/decisions.json")
def decisions_json(slug: str):
    community = community_or_404(slug)
    return json_response({"community": community.slug, "decisions": _decisions(community)},
                         rec.decisions_changed(community))


@bp.route("/decisions.csv")
def decisions_csv(slug: str):
    community = community_or_404(slug)
    header = [_("议题编号"), _("议题"), _("分类"), _("版本"), _("决议"), _("状态"), _("结果"),
              _("牵头实施"), _("完成期限"), _("批准预算（元）"), _("资金来源"), _("公布时间"),
              _("生效时间"), _("内容哈希"), _("链接")]
    rows = [[r["issue"], r["issue_title"], r["category"], r["version"], r["title"],
             r["state_label"], r["outcome_label"], r["lead_label"] or "",
             r["due_on"] or "", yuan(r["budget_fen"]), r["funding_source_label"] or "",
             r["published_at"] or "", r["effective_at"] or "", r["content_hash"], r["url"]]
            for r in _decisions(community)]
    return csv_response(f"{community.slug}-decisions.csv", header, rows,
                        rec.decisions_changed(community))


@bp.route("/decisions.atom")
def decisions_atom(slug: str):
    community = community_or_404(slug)
    f = queries.parse(request.args, community)
    rows = [row for row in _all(rec.decisions_query(community, f))
            if row[0].published_at is not None]
    rows.sort(key=lambda row: row[0].published_at, reverse=True)
    rows = rows[:FEED_SIZE]
    updated = rec.decisions_changed(community)
    body = render_template("opendata/decisions.atom.xml", community=community,
                           entries=list(zip(rec.decision_records(community, rows),
                                            (row[0] for row in rows))),
                           updated=updated or community.created_at)
    return xml_response(body, "application/atom+xml", updated)


# --- issues ------------------------------------------------------------------------------

def _issues(community) -> list[dict]:
    f = issue_queries.IssueFilters.from_args(request.args)
    return rec.issue_records(community, _all(rec.issues_query(community, f)))


@bp.route("/issues.json")
def issues_json(slug: str):
    community = community_or_404(slug)
    return json_response({"community": community.slug, "issues": _issues(community)},
                         rec.issues_changed(community))


@bp.route("/issues.csv")
def issues_csv(slug: str):
    community = community_or_404(slug)
    header = [_("议题编号"), _("议题"), _("分类"), _("楼栋"), _("位置"), _("状态"),
              _("联署户数"), _("联署门槛（户）"), _("开始征集"), _("征集截止"), _("达到门槛"),
              _("办结时间"), _("链接")]
    rows = [[r["number"], r["title"], r["category"], r["building"] or "", r["place"],
             r["state_label"], r["cosigns"], r["threshold_households"] or "",
             r["collecting_at"] or "", r["expires_at"] or "", r["threshold_at"] or "",
             r["completed_at"] or "", r["url"]]
            for r in _issues(community)]
    return csv_response(f"{community.slug}-issues.csv", header, rows,
                        rec.issues_changed(community))


# --- expenses --------------------------------------------------------------------------

def _expenses(community) -> list[dict]:
    return rec.expense_records(community, _all(rec.expenses_query(community)))


@bp.route("/expenses.json")
def expenses_json(slug: str):
    community = community_or_404(slug)
    return json_response({"community": community.slug, "expenses": _expenses(community)},
                         rec.expenses_changed(community))


@bp.route("/expenses.csv")
def expenses_csv(slug: str):
    community = community_or_404(slug)
    header = [_("议题编号"), _("议题"), _("支出编号"), _("支付日期"), _("金额（元）"), _("收款方"),
              _("用途"), _("资金来源"), _("登记方"), _("状态"), _("冲销支出编号"), _("冲销理由"),
              _("票据张数"), _("链接")]
    rows = [[r["issue"], r["issue_title"], r["number"], r["spent_on"], yuan(r["amount_fen"]),
             r["payee"], r["purpose"], r["funding_source_label"], r["body_label"],
             r["status_label"], r["reverses"] or "", r["reason"], r["receipts"], r["url"]]
            for r in _expenses(community)]
    return csv_response(f"{community.slug}-expenses.csv", header, rows,
                        rec.expenses_changed(community))


# --- owners' ballots ---------------------------------------------------------------------

def _ballots(community) -> list[dict]:
    return rec.ballot_records(community, _all(rec.ballots_query(community)))


@bp.route("/ballots.json")
def ballots_json(slug: str):
    community = community_or_404(slug)
    return json_response({"community": community.slug, "ballots": _ballots(community)},
                         rec.ballots_changed(community))


@bp.route("/ballots.csv")
def ballots_csv(slug: str):
    community = community_or_404(slug)
    header = [_("表决编号"), _("表决事项"), _("法定事项"), _("状态"), _("议题编号"),
              _("开始时间"), _("截止时间"), _("计票时间"), _("结果确定时间"), _("是否通过"),
              _("专有面积总数"), _("业主总人数"), _("参与表决面积"), _("参与表决人数"),
              _("同意面积"), _("同意人数"), _("表决文件 SHA-256"), _("链接")]
    rows = []
    for r in _ballots(community):
        res = r["result"] or {}
        passed = "" if r["passed"] is None else (_("通过") if r["passed"] else _("未通过"))
        rows.append([r["number"], r["title"], r["item_label"], r["state_label"],
                     r["issue"] or "", r["opens_at"], r["closes_at"], r["counted_at"] or "",
                     r["final_at"] or "", passed, res.get("total_area", ""),
                     res.get("total_heads", ""), res.get("participating_area", ""),
                     res.get("participating_heads", ""), res.get("agree_area", ""),
                     res.get("agree_heads", ""), r["file_sha256"] or "", r["url"]])
    return csv_response(f"{community.slug}-ballots.csv", header, rows,
                        rec.ballots_changed(community))


# --- statistics ----------------------------------------------------------------------------

def _report(community) -> stats.Report:
    return stats.report([community], stats.parse_year(request.args.get("year")))


# No Last-Modified: the rates move as triage deadlines pass, with no write to date them; the
# ETag (of the body) still answers conditional requests.
@bp.route("/stats.json")
def stats_json(slug: str):
    community = community_or_404(slug)
    return json_response(rec.stats_record(community, _report(community)))


@bp.route("/stats.csv")
def stats_csv(slug: str):
    """The figures as (indicator, value, numerator, denominator) rows, then the spending."""
    community = community_or_404(slug)
    report = _report(community)
    f = rec.figures_record(report.total)
    scope = str(report.year) if report.year else _("全部年份")
    header = [_("范围"), _("指标"), _("数值"), _("分子"), _("分母")]
    rows = [[scope, _("议题数"), f["issues"], "", ""],
            [scope, _("达到门槛的议题数"), f["reached_threshold"], "", ""]]
    for key, label in (("response_rate", _("响应率")), ("resolution_rate", _("解决率")),
                       ("satisfaction_rate", _("满意率"))):
        r = f[key]
        rows.append([scope, label, r["value"] or "", r["numerator"], r["denominator"]])
    for key, label in (("median_days_to_triage", _("达到门槛到受理的中位天数")),
                       ("median_days_to_decision", _("达到门槛到决议的中位天数")),
                       ("median_days_to_completion", _("达到门槛到办结的中位天数"))):
        m = f[key]
        rows.append([scope, label, m["days"] or "", "", m["count"]])
    for s in rec.spending_rows(report):
        label = (_("%(year)s年支出（资金来源：%(name)s，元）", year=s["year"], name=s["label"])
                 if s["kind"] == "funding_source" else
                 _("%(year)s年支出（分类：%(name)s，元）", year=s["year"], name=s["label"]))
        rows.append([scope, label, yuan(s["amount_fen"]), "", ""])
    suffix = f"-{report.year}" if report.year else ""
    return csv_response(f"{community.slug}-stats{suffix}.csv", header, rows)
