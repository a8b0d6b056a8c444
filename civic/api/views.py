"""The read-only API: the archive's lists a page at a time, and the statistics, as JSON.

Every answer is public (no login, no personal data), cacheable with an ETag and
`stale-while-revalidate`, and open to any origin (CORS) since it carries no credentials.
Query arguments are checked against the OpenAPI document (:func:`spec.query_args`); a bad
one is a 400 with a JSON error naming it, never ignored silently as on the HTML pages,
so that a program learns of its mistake.
"""
from __future__ import annotations

import json

from flask import Response, abort, render_template, request, url_for
from sqlalchemy import Select, func, select

from civic.api import bp, spec
from civic.archive import stats
from civic.communities.loaders import community_or_404
from civic.communities.models import Community
from civic.decisions import queries
from civic.extensions import db
from civic.issues import queries as issue_queries
from civic.issues.models import Issue
from civic.opendata import records as rec
from civic.opendata.tabular import json_response

PREFIX = "/api/v1"


@bp.errorhandler(spec.BadArgument)
def bad_argument(e: spec.BadArgument):
    return _error(400, e.message, e.name)


@bp.errorhandler(404)
def not_found(_e):
    return _error(404, "没有找到")


def _error(status: int, message: str, parameter: str | None = None) -> Response:
    body = {"error": {"status": status, "message": message, "parameter": parameter}}
    resp = Response(json.dumps(body, ensure_ascii=False), status, mimetype="application/json")
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp


@bp.after_request
def _cors(resp: Response) -> Response:
    if request.path.startswith(PREFIX):
        resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp


def _args(path: str) -> dict:
    return spec.query_args(path, request.args)


def _link(page: int) -> str:
    args = {k: v for k, v in request.args.items() if v != ""}
    args["page"] = page
    return url_for(request.endpoint, **(request.view_args or {}), **args, _external=True)


def _page(query: Select, args: dict, to_records, changed=None) -> Response:
    """One page of `query`'s rows as records, with the total, the page count and links
    (also as an RFC 8288 Link header). Two queries, plus those of `to_records`."""
    page, per_page = args["page"], args["per_page"]
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.session.execute(query.limit(per_page).offset((page - 1) * per_page)).all()
    pages = -(-total // per_page)
    links = {"self": _link(page), "first": _link(1), "last": _link(max(pages, 1)),
             "next": _link(page + 1) if page < pages else None,
             "prev": _link(min(page - 1, max(pages, 1))) if page > 1 else None}
    resp = json_response({"items": to_records(rows), "page": page, "per_page": per_page,
                          "total": total, "pages": pages, "links": links}, changed)
    resp.headers["Link"] = ", ".join(f'<{url}>; rel="{rel}"' for rel, url in links.items()
                                     if url is not None and rel != "self")
    return resp


# --- the document and its page ------------------------------------------------------------

@bp.route("/v1/openapi.json")
def openapi():
    return json_response(spec.document(PREFIX))


@bp.route("/")
def docs():
    """The API documented for people, rendered from the same document."""
    return render_template("api/docs.html", doc=spec.document(PREFIX), prefix=PREFIX,
                           example=url_for("api.communities", _external=True))


# --- communities --------------------------------------------------------------------------

def _community_record(c: Community) -> dict:
    def api(endpoint: str) -> str:
        return url_for(f"api.{endpoint}", slug=c.slug, _external=True)
    return {"slug": c.slug, "name": c.name, "district": c.district,
            "url": url_for("communities.home", slug=c.slug, _external=True),
            "decisions": api("decisions"), "issues": api("issues"),
            "expenses": api("expenses"), "ballots": api("ballots"), "stats": api("stats")}


@bp.route("/v1/communities")
def communities():
    args = _args("/communities")
    query = select(Community).order_by(Community.name, Community.id)
    return _page(query, args, lambda rows: [_community_record(c) for (c,) in rows])


# --- a community's lists -------------------------------------------------------------------

@bp.route("/v1/communities/<slug>/decisions")
def decisions(slug: str):
    args = _args("/communities/{slug}/decisions")
    community = community_or_404(slug)
    f = queries.DecisionFilter(
        q=" ".join((args["q"] or "").split()), state=args["state"] or "",
        category=args["category"] or "", year=str(args["year"] or ""),
        funding=args["funding"] or "", building=str(args["building"] or ""))
    return _page(rec.decisions_query(community, f), args,
                 lambda rows: rec.decision_records(community, rows),
                 rec.decisions_changed(community))


@bp.route("/v1/communities/<slug>/issues")
def issues(slug: str):
    args = _args("/communities/{slug}/issues")
    community = community_or_404(slug)
    f = issue_queries.IssueFilters(
        state=args["state"] or "", category=args["category"] or "",
        building=args["building"], q=" ".join((args["q"] or "").split()))
    return _page(rec.issues_query(community, f), args,
                 lambda rows: rec.issue_records(community, rows),
                 rec.issues_changed(community))


@bp.route("/v1/communities/<slug>/expenses")
def expenses(slug: str):
    args = _args("/communities/{slug}/expenses")
    community = community_or_404(slug)
    query = rec.expenses_query(community)
    if args["issue"] is not None:
        query = query.where(Issue.number == args["issue"])
    return _page(query, args, lambda rows: rec.expense_records(community, rows),
                 rec.expenses_changed(community))


@bp.route("/v1/communities/<slug>/ballots")
def ballots(slug: str):
    args = _args("/communities/{slug}/ballots")
    community = community_or_404(slug)
    return _page(rec.ballots_query(community), args,
                 lambda rows: rec.ballot_records(community, rows),
                 rec.ballots_changed(community))


# --- statistics ----------------------------------------------------------------------------

@bp.route("/v1/communities/<slug>/stats", endpoint="stats")
def stats_(slug: str):
    args = _args("/communities/{slug}/stats")
    community = community_or_404(slug)
    return json_response(rec.stats_record(community, stats.report([community], args["year"])))


@bp.route("/v1/streets/<district>/stats")
def street_stats(district: str):
    args = _args("/streets/{district}/stats")
    members = list(db.session.scalars(select(Community).where(
        Community.district == district).order_by(Community.name, Community.id)))
    if not members:
        abort(404)
    report = stats.report(members, args["year"])
    return json_response({
        "district": district, "year": report.year, "years": report.years,
        "figures": rec.figures_record(report.total),
        "communities": [{"slug": c.slug, "name": c.name,
                         "figures": rec.figures_record(report.by_community[c.id])}
                        for c in members],
        "spending": rec.spending_rows(report),
        "url": url_for("archive.street", district=district, _external=True,
                       **({"year": report.year} if report.year else {}))})
