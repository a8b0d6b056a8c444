"""Statistics pages (统计): one community's, and a street office's over its communities.

Public and read-only; :mod:`civic.caching` makes anonymous responses publicly cacheable
(stale-while-revalidate), signed-in ones private, and answers conditional requests with 304.
"""
from __future__ import annotations

from flask import abort, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from civic.archive import bp, charts, stats
from civic.caching import per_change
from civic.communities.loaders import community_or_404
from civic.communities.models import Community
from civic.extensions import db
from civic.htmx import render
from civic.implementation.models import Score
from civic.money import format_fen

def _charts(report: stats.Report) -> dict:
    """The SVG charts of a report: the three rates, spending by source and by category
    (in the year chosen, else over all years)."""
    f, money = report.total, report.spending
    rates = charts.bar_chart(_("响应率、解决率和满意率"), [
        charts.Bar(_("响应率"), f.response.value or 0, str(f.response)),
        charts.Bar(_("解决率"), f.resolution.value or 0, str(f.resolution)),
        charts.Bar(_("满意率"), f.satisfaction.value or 0, str(f.satisfaction)),
    ], max_value=1)
    out = {"rates": rates, "by_source": None, "by_category": None}
    if money.years:
        out["by_source"] = charts.bar_chart(_("按资金来源的支出"), [
            charts.Bar(s.label, money.source_total(s),
                       _("¥%(amount)s", amount=format_fen(money.source_total(s))))
            for s in money.sources])
        out["by_category"] = charts.bar_chart(_("按议题分类的支出"), [
            charts.Bar(c, money.category_total(c),
                       _("¥%(amount)s", amount=format_fen(money.category_total(c))))
            for c in money.categories])
    return out


def _community_charts(communities: list[Community], report: stats.Report) -> list:
    """One chart per rate comparing the communities (those with something to count)."""
    out = []
    for key, title in (("response", _("各小区响应率")), ("resolution", _("各小区解决率")),
                       ("satisfaction", _("各小区满意率"))):
        bars = []
        for c in communities:
            rate: stats.Rate = getattr(report.by_community[c.id], key)
            if rate.den:
                bars.append(charts.Bar(c.name, rate.value, str(rate)))
        if bars:
            out.append((title, charts.bar_chart(title, bars, max_value=1)))
    return out


def _year() -> int | None:
    return stats.parse_year(request.args.get("year"))


@bp.route("/c/<slug>/stats")
def community(slug: str):
    community = community_or_404(slug)
    year = _year()
    report = per_change("stats.report", lambda: stats.report([community], year),
                        community.id, year)
    return (render("archive/community.html", community=community, report=report,
                          charts=_charts(report), scores=Score,
                          action=url_for("archive.community", slug=community.slug)))


@bp.route("/streets/<district>/stats")
def street(district: str):
    communities = list(db.session.scalars(select(Community).where(
        Community.district == district).order_by(Community.name, Community.id)))
    if not communities:
        abort(404)
    year = _year()
    report = per_change("stats.report", lambda: stats.report(communities, year),
                        *[c.id for c in communities], year)
    return (render("archive/street.html", district=district, communities=communities,
                          report=report, charts=_charts(report), scores=Score,
                          community_charts=_community_charts(communities, report),
                          action=url_for("archive.street", district=district)))
