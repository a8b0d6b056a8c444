"""Print views of notices (公示/公告) with a QR code, short links, the web app manifest,
the service worker and its offline page.

A print view is shown to exactly those who may see the page it prints, and only while
there is something to announce: a published decision, a ballot's notice or counted result,
a round whose notice is out, an issue still collecting co-signs. Its QR code encodes the
absolute short link (links.short_url), which redirects to the page itself."""
from __future__ import annotations

from pathlib import Path

from flask import (abort, current_app, jsonify, make_response, redirect, send_from_directory,
                   url_for)
from flask_babel import gettext as _
from flask_babel import pgettext
from sqlalchemy import select

from civic.ballots import art278
from civic.ballots import operations as ballot_ops
from civic.ballots.models import Ballot, BallotState
from civic.communities.loaders import community_or_404
from civic.communities.models import Community
from civic.consultation import operations as round_ops
from civic.consultation.models import Round
from civic.decisions import operations as decision_ops
from civic.decisions.models import Decision, Outcome
from civic.extensions import db
from civic.htmx import render
from civic.issues import operations as issue_ops
from civic.issues.models import Issue
from civic.issues.views import issue_or_404
from civic.notices import bp, links, rules
from civic.notices.qr import qr_svg

#: the theme colour of the app (the top bar's red), for the manifest and <meta name=theme-color>
THEME_COLOR = "#b3261e"


# --- short links -------------------------------------------------------------------------

@bp.route("/s/<code>")
def short(code: str):
    """A printed QR code's link: 302 to the page it names (302, so that phones do not keep
    a redirect forever should the page's address ever change)."""
    path = links.target(code)
    if path is None:
        abort(404)
    return redirect(path, code=302)


# --- print views ---------------------------------------------------------------------------

@bp.app_context_processor
def _printable() -> dict:
    """`printable.decision(d, issue)` etc.: pages link to a print view only when it exists."""
    return {"printable": rules}


def _public_issue(community: Community, number: int) -> Issue:
    """The issue as its page shows it, and only if the public may see it (not hidden)."""
    issue = issue_or_404(community, number)
    if not rules.public(issue):
        abort(404)
    return issue


def _notice(template: str, community: Community, *, kind: str, short: tuple[str, int],
            page: str, issuer: str, dated, **context):
    """A notice page: the layout of templates/notices/base_print.html around `template`,
    with the QR code of the short link `short` (kind, id)."""
    url = links.short_url(*short)
    return render(template, community=community, kind=kind, page_url=page, short_url=url,
                  qr=qr_svg(url, _("二维码：%(url)s", url=url)), issuer=issuer, dated=dated,
                  **context)


def _committee(community: Community) -> str:
    return _("%(community)s居民委员会", community=community.name)


@bp.route("/c/<slug>/issues/<int:number>/decisions/<int:version>/print")
def decision_notice(slug: str, number: int, version: int):
    """决议公示: a published decision (in its publicity period or in effect)."""
    community = community_or_404(slug)
    issue = _public_issue(community, number)
    d = db.session.scalar(select(Decision).where(Decision.issue_id == issue.id,
                                                 Decision.version == version))
    if d is None or not rules.decision(d, issue):
        abort(404)
    rnd = db.session.get(Round, d.round_id)
    deciding = next((r for r in decision_ops.tally_of(d).get("rounds", [])
                     if r["round"] == rnd.number), {})
    adopted = next((o for o in deciding.get("options", []) if o["id"] == deciding.get("adopted")),
                   None)
    return _notice(
        "notices/decision.html", community, kind=pgettext("a printed notice", "决议公示"),
        short=(links.DECISION, d.id),
        page=url_for("decisions.show", slug=slug, number=number, version=version),
        issuer=_committee(community), dated=d.published_at, issue=issue, d=d,
        rejected=d.outcome is Outcome.REJECTED, adopted=adopted, round_number=rnd.number)


@bp.route("/c/<slug>/ballots/<int:number>/notice/print")
def ballot_notice(slug: str, number: int):
    """业主表决公告: what is put to the owners, by which rule, and when to vote."""
    community, b = _ballot(slug, number)
    item = art278.Item(b.item)
    return _notice(
        "notices/ballot.html", community, kind=_("业主表决公告"), short=(links.BALLOT, b.id),
        page=url_for("ballots.show", slug=slug, number=number),
        issuer=_committee(community), dated=b.notice_at, b=b, item=item,
        needs_three_quarters=item.needs_three_quarters, scope=_scope(b))


@bp.route("/c/<slug>/ballots/<int:number>/result/print")
def ballot_result(slug: str, number: int):
    """表决结果公告: the count, once it is published (provisional or final)."""
    community, b = _ballot(slug, number)
    if not rules.ballot_result(b):
        abort(404)
    result = ballot_ops.tally(b)
    pct = art278.format_percent
    return _notice(
        "notices/ballot_result.html", community, kind=_("表决结果公告"), short=(links.BALLOT, b.id),
        page=url_for("ballots.show", slug=slug, number=number),
        issuer=_committee(community), dated=b.final_at or b.counted_at, b=b, r=result,
        item=art278.Item(b.item), scope=_scope(b), final=b.state is BallotState.FINAL,
        turnout_area=pct(result.turnout_area_ratio), turnout_heads=pct(result.turnout_heads_ratio),
        agree_area=pct(result.agree_area_ratio), agree_heads=pct(result.agree_heads_ratio),
        threshold=pct(result.turnout_threshold), approval=pct(result.approval_threshold))


def _ballot(slug: str, number: int) -> tuple[Community, Ballot]:
    community = community_or_404(slug)
    b = db.session.scalar(select(Ballot).where(Ballot.community_id == community.id,
                                               Ballot.number == number))
    if b is None:
        abort(404)
    return community, b


def _scope(b: Ballot) -> str:
    if b.whole_community:
        return _("全小区")
    return _("、").join(bld.name for bld in ballot_ops.scope_buildings(b))


@bp.route("/c/<slug>/issues/<int:number>/rounds/<int:k>/print")
def round_notice(slug: str, number: int, k: int):
    """协商议事公告: the meeting notice of a round, once it is out."""
    community = community_or_404(slug)
    issue = _public_issue(community, number)
    c = round_ops.consultation_of(issue)
    rnd = c and db.session.scalar(select(Round).where(Round.consultation_id == c.id,
                                                      Round.number == k))
    if rnd is None or not rules.round_notice(rnd, issue):
        abort(404)
    from civic.consultation.views import seat_name
    return _notice(
        "notices/round.html", community, kind=_("协商议事公告"), short=(links.ROUND, rnd.id),
        page=url_for("consultation.round_page", slug=slug, number=number, k=k),
        issuer=_committee(community), dated=rnd.notice_at, issue=issue, rnd=rnd,
        options=round_ops.options_of(rnd.id),
        seats=[seat_name(s) for s in round_ops.seats_of(rnd.id)],
        guests=rnd.guests.splitlines())


@bp.route("/c/<slug>/issues/<int:number>/poster")
def cosign_poster(slug: str, number: int):
    """联署征集: the "co-sign here" poster of an issue that still takes co-signs."""
    community = community_or_404(slug)
    issue = _public_issue(community, number)
    state = issue_ops.effective_state(issue)
    if not rules.poster(issue, state):
        abort(404)
    return _notice(
        "notices/poster.html", community, kind=_("联署征集"), short=(links.ISSUE, issue.id),
        page=url_for("issues.show", slug=slug, number=number),
        issuer=_("%(community)s · 社区议事厅", community=community.name),
        dated=issue.collecting_at, issue=issue, state=state,
        progress=issue_ops.progress(issue), days_left=issue_ops.days_left(issue))


# --- the installable web app ----------------------------------------------------------------

@bp.route("/manifest.webmanifest")
def manifest():
    data = {
        # one manifest for everyone (it is cached publicly): in the site's language
        "id": "/", "name": "社区议事厅", "short_name": "议事厅",
        "description": "社区议事厅：议题公开、过程留痕、结果可查",
        "lang": "zh-CN", "dir": "ltr", "start_url": "/", "scope": "/",
        "display": "standalone", "theme_color": THEME_COLOR, "background_color": "#ffffff",
        "icons": [{"src": url_for("static", filename=f"icons/icon-{n}.png"),
                   "sizes": f"{n}x{n}", "type": "image/png", "purpose": "any"}
                  for n in (192, 512)] + [
                  {"src": url_for("static", filename="icons/icon-maskable-512.png"),
                   "sizes": "512x512", "type": "image/png", "purpose": "maskable"}],
    }
    resp = jsonify(data)
    resp.mimetype = "application/manifest+json"
    resp.headers["Cache-Control"] = "public, max-age=86400"
    return resp


@bp.route("/sw.js")
def service_worker():
    """The service worker, served from the root so that its scope is the whole site."""
    resp = send_from_directory(Path(current_app.static_folder) / "js", "sw.js",
                               mimetype="text/javascript", max_age=0)
    resp.headers["Cache-Control"] = "no-cache"
    return resp


@bp.route("/offline")
def offline():
    """What the service worker shows when the network is gone: no account, no form, no
    token — nothing personal to keep. (In the reader's language, so not for shared caches.)"""
    resp = make_response(render("notices/offline.html"))
    resp.headers["Cache-Control"] = "no-cache"
    return resp
