"""Publishing a decision: the moderator's page and form, refusals, rejections, bad input."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from civic.communities.models import Membership, MembershipStatus, Role
from civic.decisions.models import Decision, DecisionState, Outcome
from civic.extensions import db
from civic.issues.models import Cosign, IssueState
from tests.decisions.helpers import (HX, PLAN, audit_count, base, close_round, count, decision,
                                     due_text, field_value, flashes, issue, notified, publish,
                                     publish_data, read, text_of)


def _cosigners_and_proposer(app, h) -> list[int]:
    def get():
        units = select(Cosign.unit_id).where(Cosign.issue_id == h.issue_id)
        people = set(db.session.scalars(select(Membership.user_id).where(
            Membership.role == Role.RESIDENT, Membership.status == MembershipStatus.ACTIVE,
            Membership.unit_id.in_(units))))
        from civic.issues.models import Issue
        people.add(db.session.get(Issue, h.issue_id).author_id)
        return sorted(people)
    return read(app, get)


def test_the_page_shows_the_adopted_plan_and_prefills_its_terms(app, client, auth, hall):
    h = hall
    close_round(app, h)
    auth.login(h.mod)
    page = text_of(client.get(f"{base(h)}/decisions/new"))
    assert PLAN in page and "由物业组织施工" in page and "¥18,000.00" in page
    assert field_value(page, "budget") == "18,000.00"
    assert re.search(r'<input checked id="lead-\d" name="lead" type="radio" value="property">',
                     page)
    assert page.count("checked") == 1
    assert '<option selected value="maintenance_fund">' in page
    assert 'type="date"' in page and 'name="due_on"' in page
    assert "公示期 7 天" in page and "业主表决" not in page
    assert "会议纪要已于" in page
    assert f'href="{base(h)}/rounds/1"' in page


@pytest.mark.parametrize("hx", [False, True], ids=["plain", "htmx"])
def test_publish_starts_the_publicity_period_and_tells_the_residents(app, client, auth, hall,
                                                                      hx):
    h = hall
    close_round(app, h)
    auth.login(h.mod)
    resp = client.post(f"{base(h)}/decisions/new", data=publish_data(budget="17,500.5"),
                       headers=HX if hx else {})
    target = f"{base(h)}/decisions/1"
    if hx:
        assert resp.status_code == 204 and resp.headers["HX-Location"] == target
    else:
        assert resp.status_code == 303 and resp.headers["Location"] == target
    d = decision(app, h)
    assert d.state is DecisionState.PUBLICITY and d.outcome is Outcome.ADOPTED
    assert d.title == PLAN and d.budget_fen == 1_750_050 and d.lead.value == "property"
    assert d.due_on.isoformat() == due_text() and d.funding_source.value == "maintenance_fund"
    assert (d.publicity_ends_at - d.published_at).days == 7
    assert issue(app, h).state is IssueState.DECIDED
    expected = _cosigners_and_proposer(app, h)
    assert len(expected) == 2 and notified(app, "decision.published") == expected
    assert audit_count(app, "decision.publish") == 1
    assert any("公示期 7 天" in m for m in flashes(client))
    page = text_of(client.get(target))
    assert "公示中" in page and "¥17,500.50" in page and "专项维修资金" in page


@pytest.mark.parametrize("hx", [False, True], ids=["plain", "htmx"])
@pytest.mark.parametrize("minutes", ["none", "confirming"])
def test_publish_is_refused_until_the_minutes_are_published(app, client, auth, hall, hx,
                                                            minutes):
    h = hall
    close_round(app, h, minutes=minutes)
    auth.login(h.mod)
    page = text_of(client.get(f"{base(h)}/decisions/new"))
    assert "现在还不能发布决议" in page and "会议纪要经各方确认并公布" in page
    assert 'id="publish-form"' not in page
    resp = publish(client, h) if not hx else client.post(
        f"{base(h)}/decisions/new", data=publish_data(), headers=HX)
    back = f"{base(h)}/"
    assert (resp.headers.get("HX-Location") if hx else resp.headers["Location"]) == back
    assert count(app, Decision) == 0 and issue(app, h).state is IssueState.IN_CONSULTATION
    assert any("会议纪要" in m for m in flashes(client))


def test_publish_is_refused_while_the_last_round_is_not_closed(app, client, auth, hall):
    h = hall
    auth.login(h.mod)
    resp = publish(client, h)
    assert resp.status_code == 303 and count(app, Decision) == 0
    assert any("还没有进入协商" in m for m in flashes(client))


@pytest.mark.parametrize("who", ["assoc", "prop", "rep", "outsider"])
def test_only_moderators_publish(app, client, auth, hall, who):
    h = hall
    close_round(app, h)
    auth.login(getattr(h, who))
    assert client.get(f"{base(h)}/decisions/new").status_code == 403
    assert publish(client, h).status_code == 403
    assert client.post(f"{base(h)}/decisions/new", data=publish_data(),
                       headers=HX).status_code == 403
    assert count(app, Decision) == 0


def test_anonymous_users_are_sent_to_log_in(app, client, hall):
    h = hall
    close_round(app, h)
    resp = publish(client, h)
    assert resp.status_code in (302, 303) and "/login" in resp.headers["Location"]
    assert count(app, Decision) == 0


def test_a_moderator_of_another_community_cannot_publish(app, client, auth, hall, make):
    h = hall
    close_round(app, h)
    other = make.community()
    auth.login(make.staff(other, "moderator"))
    assert publish(client, h).status_code == 403
    assert count(app, Decision) == 0


def test_publishing_twice_is_refused(app, client, auth, hall):
    h = hall
    close_round(app, h)
    auth.login(h.mod)
    assert publish(client, h).status_code == 303
    again = publish(client, h, summary="再发一次")
    assert again.status_code == 303 and again.headers["Location"] == f"{base(h)}/"
    assert count(app, Decision) == 1
    assert any("已有有效的决议" in m for m in flashes(client))
    page = text_of(client.get(f"{base(h)}/decisions/new"))
    assert "已有有效的决议" in page and 'id="publish-form"' not in page


@pytest.mark.parametrize("result", ["status_quo", "none"])
def test_a_rejection_needs_an_explanation(app, client, auth, hall, result):
    h = hall
    close_round(app, h, result=result)
    auth.login(h.mod)
    page = text_of(client.get(f"{base(h)}/decisions/new"))
    assert ("维持现状" in page) if result == "status_quo" else ("本轮没有方案通过" in page)
    assert "不予实施的理由" in page and 'name="budget"' not in page and 'name="lead"' not in page
    resp = client.post(f"{base(h)}/decisions/new", data={"summary": "  "})
    assert resp.status_code == 400 and "请说明不予实施的理由。" in text_of(resp)
    hx = client.post(f"{base(h)}/decisions/new", data={"summary": ""}, headers=HX)
    assert hx.status_code == 200 and text_of(hx).lstrip().startswith('<form id="publish-form"')
    assert "请说明不予实施的理由。" in text_of(hx)
    assert count(app, Decision) == 0
    ok = client.post(f"{base(h)}/decisions/new",
                     data={"summary": "费用超出维修资金预算，下一轮另议。", "budget": "abc"})
    assert ok.status_code == 303
    d = decision(app, h)
    assert d.outcome is Outcome.REJECTED and d.title == "不予实施：地下车库雨天积水"
    assert d.budget_fen == 0 and d.lead is None and d.due_on is None
    assert d.state is DecisionState.PUBLICITY and issue(app, h).state is IssueState.DECIDED
    page = text_of(client.get(f"{base(h)}/decisions/1"))
    assert "不予实施" in page and "费用超出维修资金预算，下一轮另议。" in page


@pytest.mark.parametrize("hx", [False, True], ids=["plain", "htmx"])
@pytest.mark.parametrize("budget", ["一万八", "-100", "12.345", "1e5", "¥"])
def test_a_bad_budget_comes_back_with_the_users_values_and_writes_nothing(
        app, client, auth, hall, hx, budget):
    h = hall
    close_round(app, h)
    auth.login(h.mod)
    resp = client.post(f"{base(h)}/decisions/new", headers=HX if hx else {},
                       data=publish_data(budget=budget, summary="我的说明<b>不丢</b>"))
    html = text_of(resp)
    assert resp.status_code == (200 if hx else 400)
    assert "请按元填写金额" in html and 'id="budget-err"' in html
    assert field_value(html, "budget") == budget.replace("<", "&lt;")
    assert "我的说明&lt;b&gt;不丢&lt;/b&gt;" in html
    assert field_value(html, "due_on") == due_text()
    assert html.lstrip().startswith('<form id="publish-form"') is hx
    assert count(app, Decision) == 0 and audit_count(app, "decision.publish") == 0
    assert issue(app, h).state is IssueState.IN_CONSULTATION


@pytest.mark.parametrize("over, message", [
    ({"due_on": ""}, "请填写完成期限。"),
    ({"due_on": "明天"}, "请按“年-月-日”填写日期"),
    ({"due_on": "2020-01-01"}, "完成期限须是今天以后的日期。"),
    ({"budget": ""}, "请填写批准预算"),
    ({"lead": "resident"}, "请选择负责实施的一方"),
    ({"funding_source": "bitcoin"}, "请选择资金来源。"),
])
def test_every_term_is_checked_with_a_chinese_message_at_its_field(app, client, auth, hall,
                                                                  over, message):
    h = hall
    close_round(app, h)
    auth.login(h.mod)
    resp = publish(client, h, **over)
    assert resp.status_code == 400 and message in text_of(resp)
    assert count(app, Decision) == 0


def test_unknown_issue_is_404(app, client, auth, hall):
    h = hall
    auth.login(h.mod)
    assert client.get(f"/c/{h.community.slug}/issues/999/decisions/new").status_code == 404
    assert client.get(f"/c/nowhere/issues/{h.number}/decisions/new").status_code == 404
