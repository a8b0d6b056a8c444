"""The community's decisions list, and the decision panel of the issue page."""
from __future__ import annotations

import re

from flask import render_template_string
from flask_login import login_user
from sqlalchemy import select

from civic.accounts.models import User
from civic.consultation import operations as rounds
from civic.consultation.models import Round
from civic.decisions import operations as dops
from civic.decisions.models import Decision, DecisionState
from civic.extensions import db
from civic.issues.models import Issue
from tests.decisions.helpers import (HX, base, client_for, close_round, published, run,
                                     text_of)


def _clones(app, d: Decision, states: list[DecisionState]) -> None:
    """More versions of the issue's decision, inserted as published records (inserting is
    what the record allows; the content of each is hashed like any other)."""
    def insert():
        for i, state in enumerate(states, start=2):
            row = Decision(**{c: getattr(d, c) for c in (
                "community_id", "issue_id", "consultation_id", "round_id", "outcome",
                "adopted_option_id", "summary", "rule", "tally", "lead", "due_on",
                "funding_source", "owners_item", "correction_note", "published_by_id")},
                version=i, title=f"决议{i:02d}", budget_fen=i * 100, state=state,
                published_at=d.published_at, publicity_ends_at=d.publicity_ends_at)
            row.content_hash = dops.compute_content_hash(row)
            db.session.add(row)
    run(app, insert)


def _titles(html: str) -> list[str]:
    return re.findall(r"<h2 hx-disable>([^<]+)</h2>", html)


def test_the_list_is_public_newest_first_paginated_and_filtered(app, hall):
    h = hall
    d = published(app, h)
    _clones(app, d, [DecisionState.SUPERSEDED] * 20 + [DecisionState.EFFECTIVE])
    client = app.test_client()
    url = f"/c/{h.community.slug}/decisions/"
    first = text_of(client.get(url))
    titles = _titles(first)
    assert len(titles) == 20 and titles[0] == "决议22" and titles[-1] == "决议03"
    assert "共 22 项决议" in first and "1 / 2" in first and "?page=2" in first
    assert "已生效" in first and "已更正" in first and "¥22.00" in first
    assert f"#{h.number}" in first and "地下车库雨天积水" in first
    second = text_of(client.get(url + "?page=2"))
    assert _titles(second) == ["决议02", "更换排水泵并加装挡水板"]
    only = text_of(client.get(url + "?state=effective"))
    assert _titles(only) == ["决议22"] and "共 1 项决议" in only
    assert '<option value="effective" selected>' in only
    publicity = _titles(text_of(client.get(url + "?state=publicity")))
    assert publicity == ["更换排水泵并加装挡水板"]
    for junk in ("?page=abc", "?page=-1", "?page=1%20OR%201=1", "?state=%27%3B--",
                 "?page=99999999999999999999"):
        resp = client.get(url + junk)
        assert resp.status_code == 200 and len(_titles(text_of(resp))) == 20
    fragment = client.get(url + "?state=effective", headers=HX)
    assert text_of(fragment).lstrip().startswith('<div id="decision-list">')
    assert "HX-Request" in fragment.headers["Vary"]


def test_the_list_belongs_to_its_community(app, hall, make):
    h = hall
    published(app, h)
    other = make.community()
    html = text_of(app.test_client().get(f"/c/{other.slug}/decisions/"))
    assert "共 0 项决议" in html and "更换排水泵" not in html
    assert app.test_client().get("/c/nowhere/decisions/").status_code == 404


def _panel(app, h, user=None) -> str:
    with app.test_request_context("/"):
        if user is not None:
            login_user(db.session.get(User, user.id))
        issue = db.session.get(Issue, h.issue_id)
        return render_template_string('{% include "decisions/_issue_status.html" %}',
                                      issue=issue, community=h.community)


def test_the_issue_panel_offers_publishing_to_moderators_only_when_it_can_be_done(app, hall):
    h = hall
    assert _panel(app, h, h.mod).strip() == ""
    close_round(app, h, minutes="confirming")
    assert "发布决议" not in _panel(app, h, h.mod)
    run(app, lambda: rounds.confirm_minutes(db.session.get(User, h.prop.id), _last_round(h),
                                            True))
    panel = _panel(app, h, h.mod)
    assert f'href="{base(h)}/decisions/new"' in panel and "会议纪要已经各方确认并公布" in panel
    for person in (None, h.rep, h.assoc):
        assert _panel(app, h, person).strip() == ""


def _last_round(h) -> Round:
    return db.session.scalar(select(Round).where(Round.community_id == h.community.id)
                             .order_by(Round.id.desc()).limit(1))


def test_the_issue_panel_shows_the_standing_or_latest_decision(app, hall):
    h = hall
    published(app, h)
    panel = _panel(app, h)
    assert f'href="{base(h)}/decisions/1"' in panel and "公示中" in panel and "公示期至" in panel
    assert "发布决议" not in _panel(app, h, h.mod)
    client_for(app, h.mod).post(f"{base(h)}/decisions/1/withdraw", data={"reason": "重议"})
    panel = _panel(app, h)
    assert "已撤回" in panel and f'href="{base(h)}/decisions/1"' in panel
    assert "发布决议" not in panel
    # the last round's minutes still stand: the moderator may publish again (as v2)
    assert f'href="{base(h)}/decisions/new"' in _panel(app, h, h.mod)
    resp = client_for(app, h.mod).post(f"{base(h)}/decisions/new", data={
        "summary": "重新发布", "lead": "property", "due_on": "2027-01-01", "budget": "100",
        "funding_source": "public_income"})
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/decisions/2")
    panel = _panel(app, h)
    assert f'href="{base(h)}/decisions/2"' in panel and "公示中" in panel
