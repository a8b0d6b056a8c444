"""Open data of a community, no login: decisions and expenses as CSV and JSON, and an Atom
feed of published decisions. Content of hidden issues is left out, and no personal data is
ever in it: bodies appear by name (居委会, 物业…), residents not at all."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from flask import render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from civic.communities.loaders import community_or_404
from civic.decisions import queries
from civic.decisions.models import Decision, DecisionState, Outcome
from civic.extensions import db
from civic.implementation import operations as work
from civic.implementation.models import Expense
from civic.issues.models import Issue
from civic.money import format_fen
from civic.opendata import bp
from civic.opendata.tabular import csv_response, json_response, xml_response

DECISION_STATES = {
    DecisionState.AWAITING_BALLOT: _l("待业主表决"), DecisionState.PUBLICITY: _l("公示中"),
    DecisionState.EFFECTIVE: _l("已生效"), DecisionState.WITHDRAWN: _l("已撤回"),
    DecisionState.SUPERSEDED: _l("已更正"), DecisionState.BALLOT_FAILED: _l("业主表决未通过"),
}
OUTCOMES = {Outcome.ADOPTED: _l("通过方案"), Outcome.REJECTED: _l("不予实施")}
#: the Atom feed lists the newest published decisions
FEED_SIZE = 50


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt is not None else None


def _yuan(fen: int) -> Decimal:
    """Fen as a yuan amount for spreadsheets: a number with two decimals, no separators."""
    return (Decimal(fen) / 100).quantize(Decimal("0.01"))


def _latest(*values) -> datetime | None:
    values = [v for v in values if v is not None]
    return max(values) if values else None


# --- decisions -------------------------------------------------------------------------

def _decisions(community):
    """The community's decisions (newest first) with their issue, hidden issues left out,
    filtered and searched like the decisions page (the same query arguments)."""
    f = queries.parse(request.args, community)
    return db.session.execute(
        select(Decision, Issue.number, Issue.title, Issue.category)
        .join(Issue, Issue.id == Decision.issue_id)
        .where(*queries.conditions(f, community), Issue.hidden_at.is_(None))
        .order_by(Decision.id.desc())).all()


def _decision_record(community, d: Decision, number: int, issue_title: str, category: str) -> dict:
    return {
        "issue": number, "issue_title": issue_title, "category": category,
        "version": d.version, "title": d.title, "summary": d.summary,
        "state": d.state.value, "state_label": str(DECISION_STATES[d.state]),
        "outcome": d.outcome.value, "outcome_label": str(OUTCOMES[d.outcome]),
        "rule": d.rule.value, "lead": d.lead.value if d.lead else None,
        "lead_label": d.lead.label if d.lead else None,
        "due_on": d.due_on.isoformat() if d.due_on else None,
        "budget_fen": d.budget_fen, "budget_yuan": format_fen(d.budget_fen),
        "funding_source": d.funding_source.value if d.funding_source else None,
        "funding_source_label": d.funding_source.label if d.funding_source else None,
        "owners_item": d.owners_item, "content_hash": d.content_hash,
        "published_at": _iso(d.published_at), "effective_at": _iso(d.effective_at),
        "url": url_for("decisions.show", slug=community.slug, number=number,
                       version=d.version, _external=True),
    }


def _decisions_changed(community) -> datetime | None:
    row = db.session.execute(select(
        func.max(Decision.created_at), func.max(Decision.published_at),
        func.max(Decision.effective_at), func.max(Decision.withdrawn_at))
        .where(Decision.community_id == community.id)).one()
    return _latest(*row)


@bp.route("/decisions.json")
def decisions_json(slug: str):
    community = community_or_404(slug)
    records = [_decision_record(community, *row) for row in _decisions(community)]
    return json_response({"community": community.slug, "decisions": records},
                         _decisions_changed(community))


@bp.route("/decisions.csv")
def decisions_csv(slug: str):
    community = community_or_404(slug)
    header = [_("议题编号"), _("议题"), _("分类"), _("版本"), _("决议"), _("状态"), _("结果"),
              _("牵头实施"), _("完成期限"), _("批准预算（元）"), _("资金来源"), _("公布时间"),
              _("生效时间"), _("内容哈希"), _("链接")]
    rows = []
    for row in _decisions(community):
        r = _decision_record(community, *row)
        rows.append([r["issue"], r["issue_title"], r["category"], r["version"], r["title"],
                     r["state_label"], r["outcome_label"], r["lead_label"] or "",
                     r["due_on"] or "", _yuan(r["budget_fen"]),
                     r["funding_source_label"] or "",
                     r["published_at"] or "", r["effective_at"] or "", r["content_hash"],
                     r["url"]])
    return csv_response(f"{community.slug}-decisions.csv", header, rows,
                        _decisions_changed(community))


@bp.route("/decisions.atom")
def decisions_atom(slug: str):
    community = community_or_404(slug)
    entries = [row for row in _decisions(community) if row[0].published_at is not None]
    entries.sort(key=lambda row: row[0].published_at, reverse=True)
    entries = entries[:FEED_SIZE]
    updated = _decisions_changed(community)
    body = render_template("opendata/decisions.atom.xml", community=community,
                           entries=[(_decision_record(community, *row), row[0])
                                    for row in entries],
                           updated=updated or community.created_at,
                           states=DECISION_STATES)
    return xml_response(body, "application/atom+xml", updated)


# --- expenses --------------------------------------------------------------------------

def _expenses(community):
    rows = db.session.execute(
        select(Expense, Issue.number, Issue.title)
        .join(Issue, Issue.id == Expense.issue_id)
        .where(Expense.community_id == community.id, Issue.hidden_at.is_(None))
        .order_by(Issue.number, Expense.number)).all()
    reviews = work.reviews_for(e.id for e, _n, _t in rows)
    numbers = {e.id: e.number for e, _n, _t in rows}
    out = []
    for e, number, title in rows:
        status = work.status_of(e, reviews)
        out.append({
            "issue": number, "issue_title": title, "number": e.number,
            "spent_on": e.spent_on.isoformat(), "amount_fen": e.amount_fen,
            "amount_yuan": format_fen(e.amount_fen), "payee": e.payee, "purpose": e.purpose,
            "funding_source": e.funding_source.value,
            "funding_source_label": e.funding_source.label,
            "body": e.body.value, "body_label": e.body.label,
            "status": status.value, "status_label": status.label,
            "reverses": numbers.get(e.reverses_id), "reason": e.reason,
            "receipts": len(e.receipts), "recorded_at": _iso(e.created_at),
            "url": url_for("implementation.show", slug=community.slug, number=number,
                           _external=True) + f"#expense-{e.number}",
        })
    return out


def _expenses_changed(community) -> datetime | None:
    from civic.implementation.models import ExpenseReview
    last_entry = db.session.scalar(select(func.max(Expense.created_at)).where(
        Expense.community_id == community.id))
    last_review = db.session.scalar(select(func.max(ExpenseReview.created_at))
                                    .join(Expense, Expense.id == ExpenseReview.expense_id)
                                    .where(Expense.community_id == community.id))
    return _latest(last_entry, last_review)


@bp.route("/expenses.json")
def expenses_json(slug: str):
    community = community_or_404(slug)
    return json_response({"community": community.slug, "expenses": _expenses(community)},
                         _expenses_changed(community))


@bp.route("/expenses.csv")
def expenses_csv(slug: str):
    community = community_or_404(slug)
    header = [_("议题编号"), _("议题"), _("支出编号"), _("支付日期"), _("金额（元）"), _("收款方"),
              _("用途"), _("资金来源"), _("登记方"), _("状态"), _("冲销支出编号"), _("冲销理由"),
              _("票据张数"), _("链接")]
    rows = [[r["issue"], r["issue_title"], r["number"], r["spent_on"],
             _yuan(r["amount_fen"]),
             r["payee"], r["purpose"], r["funding_source_label"], r["body_label"],
             r["status_label"], r["reverses"] or "", r["reason"], r["receipts"], r["url"]]
            for r in _expenses(community)]
    return csv_response(f"{community.slug}-expenses.csv", header, rows,
                        _expenses_changed(community))
