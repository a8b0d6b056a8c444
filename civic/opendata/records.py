"""The public records of a community's archive, as plain dicts: decisions, issues, expenses,
ballots and statistics. One definition of each record, shared by the CSV and JSON downloads
(:mod:`civic.opendata.views`) and the read-only API (:mod:`civic.api`), so that the two never
disagree.

Each ``*_query`` is a SELECT of what the public may see, in a stable order (newest first, or
by issue and entry for the ledger), to be read whole for a download or a page at a time for
the API; each ``*_records`` turns the rows of one read into records in a fixed number of
queries. Hidden issues (and their decisions and ledger entries) and drafts are left out,
and no record names a resident, a phone number or an owner: bodies appear by name (居委会,
物业…), owners of a ballot only as the pseudonyms of its published file.
"""
from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select

from civic.archive import stats
from civic.ballots import art278, ballotfile
from civic.ballots.models import Ballot
from civic.communities.models import Building, Community
from civic.decisions import queries
from civic.decisions.models import Decision, DecisionState, Outcome
from civic.extensions import db
from civic.implementation import operations as work
from civic.implementation.models import Expense, ExpenseReview, Score
from civic.issues import queries as issue_queries
from civic.issues.models import Issue
from civic.issues.operations import effective_state
from civic.money import format_fen

DECISION_STATES = {
    DecisionState.AWAITING_BALLOT: _l("待业主表决"), DecisionState.PUBLICITY: _l("公示中"),
    DecisionState.EFFECTIVE: _l("已生效"), DecisionState.WITHDRAWN: _l("已撤回"),
    DecisionState.SUPERSEDED: _l("已更正"), DecisionState.BALLOT_FAILED: _l("业主表决未通过"),
}
OUTCOMES = {Outcome.ADOPTED: _l("通过方案"), Outcome.REJECTED: _l("不予实施")}


def iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt is not None else None


def yuan(fen: int) -> Decimal:
    """Fen as a yuan amount for spreadsheets: a number with two decimals, no separators."""
    return (Decimal(fen) / 100).quantize(Decimal("0.01"))


def latest(*values) -> datetime | None:
    values = [v for v in values if v is not None]
    return max(values) if values else None


def _ratio(value) -> str:
    """An exact ratio as a decimal string with six places (JSON has no fractions)."""
    return f"{Decimal(value.numerator) / Decimal(value.denominator):.6f}"


# --- decisions -------------------------------------------------------------------------

def decisions_query(community: Community, f: queries.DecisionFilter) -> Select:
    """The decisions matching `f` (the decisions page's filter), newest first, with the
    number, title and category of their issue; those of hidden issues left out."""
    return (select(Decision, Issue.number, Issue.title, Issue.category)
            .join(Issue, Issue.id == Decision.issue_id)
            .where(*queries.conditions(f, community), Issue.hidden_at.is_(None))
            .order_by(Decision.id.desc()))


def decision_records(community: Community, rows) -> list[dict]:
    return [_decision_record(community, *row) for row in rows]


def _decision_record(community, d: Decision, number: int, issue_title: str,
                     category: str) -> dict:
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
        "published_at": iso(d.published_at), "effective_at": iso(d.effective_at),
        "url": url_for("decisions.show", slug=community.slug, number=number,
                       version=d.version, _external=True),
    }


def decisions_changed(community: Community) -> datetime | None:
    row = db.session.execute(select(
        func.max(Decision.created_at), func.max(Decision.published_at),
        func.max(Decision.effective_at), func.max(Decision.withdrawn_at))
        .where(Decision.community_id == community.id)).one()
    return latest(*row)


# --- issues ------------------------------------------------------------------------------

def issues_query(community: Community, f: issue_queries.IssueFilters) -> Select:
    """The public issues matching `f` (the issues page's filter, without 'mine' and 'signed'),
    newest first, with the name of their building."""
    f.mine = f.signed = False
    return (issue_queries.list_query(community.id, f, None, None)
            .add_columns(Building.name).outerjoin(Building, Building.id == Issue.building_id)
            .order_by(Issue.number.desc()))


def issue_records(community: Community, rows) -> list[dict]:
    out = []
    for issue, building in rows:
        state = effective_state(issue)
        out.append({
            "number": issue.number, "title": issue.title, "category": issue.category,
            "body": issue.body, "building": building, "place": issue.place_text,
            "state": state.value, "state_label": state.label,
            "cosigns": issue.cosign_count, "threshold_households": issue.need_households,
            "collecting_at": iso(issue.collecting_at), "expires_at": iso(issue.expires_at),
            "threshold_at": iso(issue.threshold_at), "closed_at": iso(issue.closed_at),
            "completed_at": iso(issue.completed_at),
            "url": url_for("issues.show", slug=community.slug, number=issue.number,
                           _external=True),
        })
    return out


def issues_changed(community: Community) -> datetime | None:
    row = db.session.execute(select(
        func.max(Issue.created_at), func.max(Issue.collecting_at), func.max(Issue.threshold_at),
        func.max(Issue.closed_at), func.max(Issue.completed_at), func.max(Issue.hidden_at),
        func.max(Issue.review_opened_at))
        .where(Issue.community_id == community.id)).one()
    return latest(*row)


# --- expenses ---------------------------------------------------------------------------

def expenses_query(community: Community) -> Select:
    """The ledger entries of the community's visible issues, by issue and entry number."""
    return (select(Expense, Issue.number, Issue.title)
            .join(Issue, Issue.id == Expense.issue_id)
            .where(Expense.community_id == community.id, Issue.hidden_at.is_(None))
            .order_by(Issue.number, Expense.number))


def expense_records(community: Community, rows) -> list[dict]:
    """Two more queries whatever the number of rows: the reviews, and the numbers of the
    entries reversed (which need not be among the rows)."""
    reversed_ids = {e.reverses_id for e, _n, _t in rows if e.reverses_id is not None}
    originals = {e.reverses_id if e.reverses_id is not None else e.id for e, _n, _t in rows}
    reviews = work.reviews_for(originals)
    numbers = dict(db.session.execute(select(Expense.id, Expense.number).where(
        Expense.id.in_(reversed_ids))).all()) if reversed_ids else {}
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
            "receipts": len(e.receipts), "recorded_at": iso(e.created_at),
            "url": url_for("implementation.show", slug=community.slug, number=number,
                           _external=True) + f"#expense-{e.number}",
        })
    return out


def expenses_changed(community: Community) -> datetime | None:
    last_entry = db.session.scalar(select(func.max(Expense.created_at)).where(
        Expense.community_id == community.id))
    last_review = db.session.scalar(select(func.max(ExpenseReview.created_at))
                                    .join(Expense, Expense.id == ExpenseReview.expense_id)
                                    .where(Expense.community_id == community.id))
    return latest(last_entry, last_review)


# --- ballots ----------------------------------------------------------------------------

def ballots_query(community: Community) -> Select:
    """The community's owners' ballots, newest first, with the number of the issue whose
    decision they decide (if any)."""
    return (select(Ballot, Issue.number, Issue.hidden_at)
            .outerjoin(Decision, Decision.id == Ballot.decision_id)
            .outerjoin(Issue, Issue.id == Decision.issue_id)
            .where(Ballot.community_id == community.id)
            .order_by(Ballot.number.desc()))


def _result(result: art278.Result) -> dict:
    return {
        "total_area": f"{result.total_area:.2f}", "total_heads": result.total_heads,
        "participating_area": f"{result.participating_area:.2f}",
        "participating_heads": result.participating_heads,
        "agree_area": f"{result.agree_area:.2f}", "agree_heads": result.agree_heads,
        "oppose_area": f"{result.oppose_area:.2f}", "oppose_heads": result.oppose_heads,
        "abstain_area": f"{result.abstain_area:.2f}", "abstain_heads": result.abstain_heads,
        "turnout_area_ratio": _ratio(result.turnout_area_ratio),
        "turnout_heads_ratio": _ratio(result.turnout_heads_ratio),
        "agree_area_ratio": _ratio(result.agree_area_ratio),
        "agree_heads_ratio": _ratio(result.agree_heads_ratio),
        "turnout_met": result.turnout_met, "approved": result.approved,
    }


def ballot_records(community: Community, rows) -> list[dict]:
    """A counted ballot carries its result, recounted from its published file (no query);
    the per-person file is linked, not repeated."""
    out = []
    for b, issue_number, issue_hidden in rows:
        result = ballotfile.count(json.loads(b.file_json)) if b.file_json else None
        out.append({
            "number": b.number, "title": b.title, "question": b.question,
            "item": b.item, "item_label": art278.Item(b.item).label,
            "whole_community": b.whole_community,
            "state": b.state.value, "state_label": b.state.label,
            "issue": issue_number if issue_number is not None and issue_hidden is None
            else None,
            "notice_at": iso(b.notice_at), "opens_at": iso(b.opens_at),
            "closes_at": iso(b.closes_at), "counted_at": iso(b.counted_at),
            "final_at": iso(b.final_at), "passed": b.passed,
            "electorate_hash": b.electorate_hash, "file_sha256": b.file_sha256,
            "result": _result(result) if result is not None else None,
            "url": url_for("ballots.show", slug=community.slug, number=b.number,
                           _external=True),
            "file_url": url_for("ballots.ballot_json", slug=community.slug, number=b.number,
                                _external=True) if b.file_json else None,
        })
    return out


def ballots_changed(community: Community) -> datetime | None:
    row = db.session.execute(select(
        func.max(Ballot.created_at), func.max(Ballot.opened_at), func.max(Ballot.counted_at),
        func.max(Ballot.final_at), func.max(Ballot.closes_at))
        .where(Ballot.community_id == community.id)).one()
    return latest(*row)


# --- statistics ---------------------------------------------------------------------------

def _rate(rate: stats.Rate) -> dict:
    return {"numerator": rate.num, "denominator": rate.den,
            "value": _ratio(rate.value) if rate.value is not None else None}


def _median(m: stats.Median) -> dict:
    return {"days": _ratio(m.value) if m.value is not None else None, "count": m.n}


def figures_record(f: stats.Figures) -> dict:
    return {
        "issues": f.issues, "reached_threshold": f.reached,
        "response_rate": _rate(f.response), "resolution_rate": _rate(f.resolution),
        "satisfaction_rate": _rate(f.satisfaction),
        "ratings": {s.value: f.scores.get(s, 0) for s in Score},
        "median_days_to_triage": _median(f.to_triage),
        "median_days_to_decision": _median(f.to_decision),
        "median_days_to_completion": _median(f.to_completion),
    }


def spending_rows(report: stats.Report) -> list[dict]:
    """Counted spending per year, funding source and category: one row per non-zero cell
    of each breakdown (``kind`` says which)."""
    money = report.spending
    rows = []
    for year in money.years:
        for source, fen in money.by_source.get(year, {}).items():
            rows.append({"year": year, "kind": "funding_source", "key": source.value,
                         "label": source.label, "amount_fen": fen})
        for category, fen in money.by_category.get(year, {}).items():
            rows.append({"year": year, "kind": "category", "key": category,
                         "label": category, "amount_fen": fen})
    return rows


def stats_record(community: Community, report: stats.Report) -> dict:
    return {"community": community.slug, "year": report.year, "years": report.years,
            "figures": figures_record(report.total), "spending": spending_rows(report),
            "url": url_for("archive.community", slug=community.slug, _external=True,
                           **({"year": report.year} if report.year else {}))}
