"""The consultation pages: entering consultation, scheduling rounds, preparing a round,
opening and closing it, the frozen round — as plain POSTs and as htmx."""
from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import render_template
from flask_login import login_user
from sqlalchemy import select

from civic import clock
from civic.accounts.models import User
from civic.audit.models import AuditEvent
from civic.consultation import operations as ops
from civic.consultation.models import Consultation, Option, Round, RoundState, Seat
from civic.consultation.rules import Body, Rule
from civic.extensions import db
from civic.issues.models import Issue, IssueState
from tests.consultation.helpers import (HX, Clients, Paths, close_now, consultation_id, count,
                                        events, get_round, local, main, open_now,
                                        option_ids, prepared_round, read, seat_id, snapshot,
                                        text)

FROZEN = "轮次已开始，规则、选项和席位不可更改；如需修改请开启新一轮"
MODES = pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])


def ok(resp, htmx: bool) -> str:
    """The redirect target of a successful (or flashed) POST, for either kind of client."""
    if htmx:
        assert resp.status_code == 204, text(resp)
        return resp.headers["HX-Location"]
    assert resp.status_code == 303, text(resp)
    return resp.headers["Location"]


@pytest.fixture
def clients(app):
    return Clients(app)


@pytest.fixture
def paths(hall):
    return Paths(hall)


# --- entering consultation -------------------------------------------------------------

@MODES
def test_a_moderator_takes_an_accepted_issue_into_consultation(app, hall, clients, paths, htmx):
    h = hall
    hdr = HX if htmx else {}
    where = ok(clients(h.mod).post(paths.open, headers=hdr), htmx)
    assert where.endswith("/consultation#schedule")
    assert read(app, lambda: db.session.get(Issue, h.issue_id).state) \
        is IssueState.IN_CONSULTATION
    assert [e.action for e in events(app, "consultation.open")] == ["consultation.open"]
    page = text(clients(h.mod).get(paths.consultation))
    assert "安排第 1 轮协商" in page and 'name="starts_at"' in page
    # a second time: refused, told, nothing new
    where = ok(clients(h.mod).post(paths.open, headers=hdr), htmx)
    assert where.endswith(paths.issue)
    assert "只有已受理的议题可以进入协商" in text(clients(h.mod).get(paths.issue))
    assert count(app, Consultation) == 1


def test_only_moderators_take_issues_into_consultation(app, hall, clients, paths):
    h = hall
    for person in (h.assoc, h.prop, h.rep):
        assert clients(person).post(paths.open).status_code == 403
        assert clients(person).post(paths.open, headers=HX).status_code == 403
    anonymous = clients().post(paths.open)
    assert anonymous.status_code in (302, 303) and "/login" in anonymous.headers["Location"]
    assert clients(h.mod).post(f"/c/{h.community.slug}/issues/99/consultation/open"
                               ).status_code == 404
    assert count(app, Consultation) == 0
    assert read(app, lambda: db.session.get(Issue, h.issue_id).state) is IssueState.ACCEPTED


def test_unknown_issue_consultation_and_round_are_404(app, hall, clients, paths, make):
    h = hall
    mod = clients(h.mod)
    assert clients().get(paths.consultation).status_code == 404      # not in consultation
    r = prepared_round(app, h)
    for path in (f"/c/{h.community.slug}/issues/99/consultation", paths.round(2),
                 paths.round(2, "/manage"), paths.round(1, "/frozen.json"),
                 f"/c/{h.community.slug}/issues/99/rounds/1"):
        assert mod.get(path).status_code == 404, path
    for path in (paths.round(2, "/open"), paths.round(2, "/notice"),
                 paths.round(1, f"/options/{10**6}/vote")):
        assert mod.post(path).status_code == 404, path
    # another community's slug with this issue number is another issue
    other = make.community()
    assert mod.get(f"/c/{other.slug}/issues/{h.number}/rounds/1").status_code == 404
    assert clients().get(paths.round(1)).status_code == 200
    assert get_round(app, r["id"]).state is RoundState.NOTICED


def _status_card(app, h, viewer) -> str:
    with app.test_request_context("/"):
        if viewer is not None:
            login_user(db.session.get(User, viewer.id))
        from civic.communities.models import Community
        return render_template("consultation/_issue_status.html",
                               issue=db.session.get(Issue, h.issue_id),
                               community=db.session.get(Community, h.community.id))


def test_the_issue_page_card(app, hall, paths):
    h = hall
    card = _status_card(app, h, h.mod)
    assert "进入协商" in card and f'action="{paths.open}"' in card
    assert _status_card(app, h, h.rep).strip() == ""
    assert _status_card(app, h, None).strip() == ""
    consultation_id(app, h)
    card = _status_card(app, h, None)
    assert "正在安排第一轮会议" in card and paths.consultation in card
    r = prepared_round(app, h)
    card = _status_card(app, h, h.rep)
    assert paths.round(1) in card and "已发布通知" in card and "进入协商" not in card
    open_now(app, h, r)
    assert "表决中" in _status_card(app, h, None)
    close_now(app, h, r)
    card = _status_card(app, h, None)
    assert "已结束" in card and "本轮未形成决定" in card


# --- scheduling a round -------------------------------------------------------------------

SCHEDULE = {"agenda": "地下车库积水如何处理", "place": "居委会二楼会议室",
            "starts_at": "2026-03-06T19:00", "closes_at": "2026-03-06T21:30",
            "rule": "majority_all", "quorum": "2/3", "guests": "街道城管中队"}


@MODES
def test_scheduling_a_round_reads_local_time(app, hall, clients, paths, htmx):
    h = hall
    consultation_id(app, h)
    where = ok(clients(h.mod).post(paths.schedule, headers=HX if htmx else {},
                                   data=SCHEDULE | {"online": "y"}), htmx)
    assert where.endswith(paths.round(1, "/manage"))
    rnd = read(app, lambda: db.session.scalar(select(Round)))
    # 19:00 in Shanghai is 11:00 UTC
    assert rnd.starts_at == datetime(2026, 3, 6, 11, 0, tzinfo=UTC)
    assert rnd.closes_at == datetime(2026, 3, 6, 13, 30, tzinfo=UTC)
    assert rnd.rule is Rule.MAJORITY_ALL and (rnd.quorum_num, rnd.quorum_den) == (2, 3)
    assert rnd.online and rnd.guests == "街道城管中队" and rnd.notice_at == clock.now()
    page = text(clients().get(paths.round(1)))
    assert "2026-03-06 19:00" in page and "2026-03-06 21:30" in page
    assert "线上" in page and "列席单位（不参加表决）" in page and "街道城管中队" in page
    assert rules_text(Rule.MAJORITY_ALL, "2/3") in page
    overview = text(clients().get(paths.consultation))
    assert "第 1 轮" in overview and "已发布通知" in overview


def rules_text(rule, quorum) -> str:
    from civic.consultation import rules
    return rules.describe(rule, quorum=quorum)


@pytest.mark.parametrize("change, message", [
    ({"starts_at": "2026-03-04T19:00"}, "会议通知须至少提前 3 天发布。"),
    ({"starts_at": "明天晚上"}, "请填写完整的日期和时间。"),
    ({"closes_at": ""}, "请填写完整的日期和时间。"),
    ({"closes_at": "2026-03-06T18:00"}, "表决截止时间须晚于会议开始时间。"),
    ({"place": ""}, "请填写会议地点，或选择线上会议。"),
    ({"agenda": "   "}, "请填写"),
    ({"rule": "unanimous"}, "请选择一种表决规则。"),
    ({"quorum": "3/2"}, "法定人数须是 0 到 1 之间的比例。"),
    ({"quorum": "1/0"}, "法定人数须是 0 到 1 之间的比例。"),
    ({"guests": "\n".join(f"单位{i}" for i in range(11))}, "列席单位最多 10 个"),
])
def test_a_bad_schedule_is_shown_again_with_the_message(app, hall, clients, paths, change,
                                                        message):
    h = hall
    consultation_id(app, h)
    data = SCHEDULE | {"agenda": "请讨论<车库>积水"} | change
    for hdr in ({}, HX):
        resp = clients(h.mod).post(paths.schedule, headers=hdr, data=data)
        assert resp.status_code == 400, text(resp)
        page = text(resp)
        assert message in page and 'class="error"' in page
        if change.get("agenda") is None:
            assert "请讨论&lt;车库&gt;积水" in page                    # the user's value kept
    assert count(app, Round) == 0


def test_scheduling_needs_a_moderator_and_no_pending_round(app, hall, clients, paths):
    h = hall
    consultation_id(app, h)
    for person in (h.assoc, h.prop, h.rep):
        assert clients(person).post(paths.schedule, data=SCHEDULE).status_code == 403
    assert 'action="' + paths.schedule not in text(clients(h.assoc).get(paths.consultation))
    prepared_round(app, h)
    page = text(clients(h.mod).get(paths.consultation))
    assert 'action="' + paths.schedule not in page and "当前一轮结束后" in page
    where = ok(clients(h.mod).post(paths.schedule, data=SCHEDULE), False)
    assert where.endswith(paths.consultation)
    assert "上一轮协商尚未结束" in text(clients(h.mod).get(where))
    assert count(app, Round) == 1


# --- preparing a round ---------------------------------------------------------------

def test_the_preparation_page_is_for_moderators(app, hall, clients, paths):
    h = hall
    prepared_round(app, h)
    for person in (h.assoc, h.prop, h.rep):
        assert clients(person).get(paths.round(1, "/manage")).status_code == 403
    assert "/login" in clients().get(paths.round(1, "/manage")).headers["Location"]
    page = text(clients(h.mod).get(paths.round(1, "/manage")))
    for action in ("/notice", "/seats/committee", "/seats/resident", "/options", "/rule",
                   "/deadline", "/open"):
        assert f'action="{paths.round(1, action)}"' in page, action
    # the staff select lists the community's association staff who have no seat yet
    assert f'<option value="{h.assoc2.id}">业委会委员' in page
    staff = page.split('name="association-user_id"')[1].split("</select>")[0]
    assert f'value="{h.assoc2.id}"' in staff and f'value="{h.assoc.id}"' not in staff


@MODES
def test_adding_seats_by_select_and_by_phone(app, hall, clients, paths, htmx):
    h = hall
    r = prepared_round(app, h, seats=())
    mod, hdr = clients(h.mod), (HX if htmx else {})
    where = ok(mod.post(paths.round(1, "/seats/association"), headers=hdr,
                        data={"association-user_id": str(h.assoc2.id),
                              "association-title": "业委会副主任"}), htmx)
    assert where.endswith(paths.round(1, "/manage#seats"))
    phone = f"{h.rep.phone[:3]} {h.rep.phone[3:7]} {h.rep.phone[7:]}"
    ok(mod.post(paths.round(1, "/seats/resident"), headers=hdr,
                data={"resident-phone": phone, "resident-title": "5号楼居民代表"}), htmx)
    seats = read(app, lambda: ops.seats_of(r["id"]))
    assert [(s.user_id, s.body, s.title) for s in seats] == [
        (h.assoc2.id, Body.ASSOCIATION, "业委会副主任"), (h.rep.id, Body.RESIDENT, "5号楼居民代表")]
    public = text(clients().get(paths.round(1)))
    assert "业委会副主任" in public and "5号楼居民代表" in public
    assert h.rep.phone not in public and h.assoc2.phone not in public
    assert "association工作人员" not in public            # never a personal name
    assert h.rep.phone not in text(mod.get(paths.round(1, "/manage")))


@pytest.mark.parametrize("body, data, field, message", [
    ("committee", {"committee-user_id": ""}, "committee-user_id", "请选择一位工作人员。"),
    ("committee", {"committee-user_id": "abc"}, "committee-user_id", "请选择一位工作人员。"),
    ("committee", {"committee-user_id": "REP"}, "committee-user_id",
     "这个人不是本小区居委会的工作人员，不能担任该方席位。"),
    ("association", {"association-user_id": "ASSOC"}, "association-user_id",
     "同一个人在一轮协商中只能占一个席位。"),
    ("resident", {"resident-phone": "12345"}, "resident-phone", "请输入有效的中国大陆手机号。"),
    ("resident", {"resident-phone": "13700000000"}, "resident-phone",
     "居民代表席位只能由本小区的认证居民担任。"),
    ("resident", {"resident-phone": "PROP"}, "resident-phone",
     "居民代表席位只能由本小区的认证居民担任。"),
])
def test_seat_errors_are_shown_at_the_field(app, hall, clients, paths, body, data, field,
                                            message):
    h = hall
    r = prepared_round(app, h)
    people = {"REP": h.rep.id, "ASSOC": h.assoc.id}
    data = {k: str(people.get(v, v)) if v in people else
            (h.prop.phone if v == "PROP" else v) for k, v in data.items()}
    resp = clients(h.mod).post(paths.round(1, f"/seats/{body}"), data=data)
    assert resp.status_code == 400, text(resp)
    page = text(resp)
    assert re.search(rf'<p class="error" id="{field}-err">{re.escape(message)}</p>', page), page
    assert re.search(r"<details open>\s*<summary>添加", page)   # the failed form is open
    assert len(read(app, lambda: ops.seats_of(r["id"]))) == 3


def test_an_unknown_seat_body_is_404(app, hall, clients, paths):
    prepared_round(app, hall)
    assert clients(hall.mod).post(paths.round(1, "/seats/observer")).status_code == 404


@MODES
def test_removing_a_seat(app, hall, clients, paths, htmx):
    h = hall
    r = prepared_round(app, h)
    sid = seat_id(app, r["id"], h.prop)
    where = ok(clients(h.mod).post(paths.round(1, f"/seats/{sid}/remove"),
                                   headers=HX if htmx else {}), htmx)
    assert where.endswith("/manage#seats")
    assert [s.body for s in read(app, lambda: ops.seats_of(r["id"]))] == [
        Body.COMMITTEE, Body.ASSOCIATION]
    page = text(clients(h.mod).get(where))
    assert "已移除席位" in page and "还须为以下各方安排至少一个席位：物业" in page
    # a seat of another round: refused and told
    where = ok(clients(h.mod).post(paths.round(1, f"/seats/{10**6}/remove")), False)
    assert "这个席位不属于这一轮" in text(clients(h.mod).get(where))
    assert clients(h.assoc).post(paths.round(1, f"/seats/{sid}/remove")).status_code == 403


@MODES
def test_adding_an_option_in_yuan_with_an_owners_matter(app, hall, clients, paths, htmx):
    h = hall
    r = prepared_round(app, h, options=())
    where = ok(clients(h.mod).post(paths.round(1, "/options"), headers=HX if htmx else {}, data={
        "title": "改建地下车库出入口", "description": "加装挡水坡", "cost": "¥12,500.5",
        "funding_source": "maintenance_fund", "executor": "association",
        "owners_item": "7"}), htmx)
    assert where.endswith("/manage#options")
    o = read(app, lambda: ops.options_of(r["id"])[-1])
    assert (o.title, o.cost_fen, o.funding_source.value, o.executor, o.owners_item) == (
        "改建地下车库出入口", 1_250_050, "maintenance_fund", Body.ASSOCIATION, 7)
    public = text(clients().get(paths.round(1)))
    assert "¥12,500.50" in public and "专项维修资金" in public and "实施方：业委会" in public
    assert "须经业主表决（《民法典》第二百七十八条第七项）" in public


@pytest.mark.parametrize("change, field, message", [
    ({"cost": "12.345"}, "cost", "请按元填写金额"),
    ({"cost": "-5"}, "cost", "请按元填写金额"),
    ({"cost": "一万"}, "cost", "请按元填写金额"),
    ({"cost": ""}, "cost", "请填写此项。"),
    ({"title": ""}, "title", "请填写此项。"),
    ({"funding_source": "bank"}, "funding_source", "请选择资金来源。"),
    ({"executor": "resident"}, "executor", "请选择负责实施的一方"),
    ({"owners_item": "10"}, "owners_item", "请选择《民法典》第二百七十八条所列的事项。"),
    ({"owners_item": "0"}, "owners_item", "请选择《民法典》第二百七十八条所列的事项。"),
    ({"owners_item": "五"}, "owners_item", "请选择《民法典》第二百七十八条所列的事项。"),
])
def test_a_bad_option_is_shown_again_with_the_message(app, hall, clients, paths, change,
                                                      field, message):
    h = hall
    r = prepared_round(app, h, options=())
    data = {"title": "加装<挡水板>", "description": "", "cost": "3800",
            "funding_source": "public_income", "executor": "property", "owners_item": ""}
    resp = clients(h.mod).post(paths.round(1, "/options"), data=data | change)
    assert resp.status_code == 400, text(resp)
    page = text(resp)
    assert re.search(rf'<p class="error" id="{field}-err">[^<]*{re.escape(message)}', page)
    if "title" not in change:
        assert 'value="加装&lt;挡水板&gt;"' in page
    assert len(read(app, lambda: ops.options_of(r["id"]))) == 1


@MODES
def test_removing_an_option_but_never_the_status_quo(app, hall, clients, paths, htmx):
    h = hall
    r = prepared_round(app, h)
    hdr = HX if htmx else {}
    sq, pump = option_ids(app, r["id"])
    where = ok(clients(h.mod).post(paths.round(1, f"/options/{sq}/remove"), headers=hdr), htmx)
    assert "“维持现状”始终是一个选项，不能删除。" in text(clients(h.mod).get(where))
    ok(clients(h.mod).post(paths.round(1, f"/options/{pump}/remove"), headers=hdr), htmx)
    assert option_ids(app, r["id"]) == [sq]
    assert clients(h.prop).post(paths.round(1, f"/options/{sq}/remove")).status_code == 403


@MODES
def test_rule_quorum_deadline_and_notice(app, hall, clients, paths, htmx):
    h = hall
    r = prepared_round(app, h)
    mod, hdr = clients(h.mod), (HX if htmx else {})
    ok(mod.post(paths.round(1, "/rule"), headers=hdr,
                data={"rule": "two_thirds_all", "quorum": "1"}), htmx)
    deadline = r["starts_at"] + timedelta(days=1)
    ok(mod.post(paths.round(1, "/deadline"), headers=hdr,
                data={"closes_at": local(deadline)}), htmx)
    ok(mod.post(paths.round(1, "/notice"), headers=hdr, data={
        "agenda": "修订后的议程", "place": "", "online": "y", "guests": "区排水公司"}), htmx)
    rnd = get_round(app, r["id"])
    assert rnd.rule is Rule.TWO_THIRDS_ALL and (rnd.quorum_num, rnd.quorum_den) == (1, 1)
    assert rnd.closes_at == deadline.replace(second=0, microsecond=0)
    assert (rnd.agenda, rnd.place, rnd.online, rnd.guests) == ("修订后的议程", "", True,
                                                               "区排水公司")
    assert len(events(app, "round.notice")) == 1
    public = text(clients().get(paths.round(1)))
    assert rules_text(Rule.TWO_THIRDS_ALL, 1) in public and "修订后的议程" in public
    assert "区排水公司" in public


@pytest.mark.parametrize("route, data, message", [
    ("/rule", {"rule": "unanimous", "quorum": "1/2"}, "请选择一种表决规则。"),
    ("/rule", {"rule": "consensus", "quorum": "half"}, "法定人数须是 0 到 1 之间的比例。"),
    ("/rule", {"rule": "consensus", "quorum": "1/0"}, "法定人数须是 0 到 1 之间的比例。"),
    ("/rule", {"rule": "consensus"}, "法定人数须是 0 到 1 之间的比例。"),
    ("/deadline", {"closes_at": "LOCAL_START"}, "表决截止时间须晚于会议开始时间。"),
    ("/deadline", {"closes_at": "3月6日"}, "请填写完整的日期和时间。"),
    ("/notice", {"agenda": "新议程", "place": ""}, "请填写会议地点，或选择线上会议。"),
    ("/notice", {"agenda": "", "place": "会议室"}, "请填写此项。"),
])
def test_bad_round_settings_are_shown_again(app, hall, clients, paths, route, data, message):
    h = hall
    r = prepared_round(app, h)
    before = snapshot(app, r["id"])
    data = {k: local(r["starts_at"]) if v == "LOCAL_START" else v for k, v in data.items()}
    resp = clients(h.mod).post(paths.round(1, route), data=data)
    assert resp.status_code == 400 and message in text(resp), text(resp)
    assert snapshot(app, r["id"]) == before


def test_the_rule_fieldset_explains_each_rule(app, hall, clients, paths):
    h = hall
    prepared_round(app, h)
    page = text(clients(h.mod).get(paths.round(1, "/manage")))
    assert page.count('<legend>表决规则</legend>') == 1
    for rule in Rule:
        assert f'value="{rule.value}"' in page
    assert "任何一方同意票恰好一半（平票）或不足一半" in page      # majority_each's own words
    assert "含恰好三分之二" in page


# --- opening, closing, the frozen round ----------------------------------------------

@MODES
def test_opening_and_closing_a_round(app, hall, clients, paths, htmx):
    h = hall
    r = prepared_round(app, h)
    mod, hdr = clients(h.mod), (HX if htmx else {})
    assert clients(h.assoc).post(paths.round(1, "/open"), headers=hdr).status_code == 403
    where = ok(mod.post(paths.round(1, "/open"), headers=hdr), htmx)   # before the meeting
    assert "会议尚未开始，不能开始表决。" in text(mod.get(where))
    assert get_round(app, r["id"]).state is RoundState.NOTICED
    clock.freeze(r["starts_at"])
    where = ok(mod.post(paths.round(1, "/open"), headers=hdr), htmx)
    assert where.endswith(paths.round(1))
    rnd = get_round(app, r["id"])
    assert rnd.state is RoundState.OPEN
    page = text(mod.get(where))
    assert "表决已开始" in page and rnd.frozen_hash in page and "结束表决" in page
    body = clients().get(paths.round(1, "/frozen.json"))
    assert body.mimetype == "application/json"
    assert hashlib.sha256(body.data).hexdigest() == rnd.frozen_hash
    assert h.mod.phone.encode() not in body.data
    assert clients(h.prop).post(paths.round(1, "/close"), headers=hdr).status_code == 403
    where = ok(mod.post(paths.round(1, "/close"), headers=hdr), htmx)
    assert where.endswith("#result")
    assert get_round(app, r["id"]).state is RoundState.CLOSED
    where = ok(mod.post(paths.round(1, "/close"), headers=hdr), htmx)
    assert "这一轮不在表决中。" in text(mod.get(where))
    assert len(events(app, "round.close")) == 1


def _manage_posts(h, paths, r, app) -> list[tuple[str, dict]]:
    """Every POST of the preparation page, with values that would be accepted before
    the round opened."""
    sid = seat_id(app, r["id"], h.prop)
    sq, pump = option_ids(app, r["id"])
    return [
        (paths.round(1, "/notice"), {"agenda": "改过的议程", "place": "别处", "guests": "某单位"}),
        (paths.round(1, "/seats/association"), {"association-user_id": str(h.assoc2.id)}),
        (paths.round(1, "/seats/resident"), {"resident-phone": h.rep.phone}),
        (paths.round(1, f"/seats/{sid}/remove"), {}),
        (paths.round(1, "/options"), {"title": "新方案", "cost": "100",
                                      "funding_source": "other", "executor": "committee"}),
        (paths.round(1, f"/options/{pump}/remove"), {}),
        (paths.round(1, "/rule"), {"rule": "majority_all", "quorum": "0"}),
        (paths.round(1, "/deadline"),
         {"closes_at": local(r["closes_at"] + timedelta(days=2))}),
        (paths.round(1, "/open"), {}),
    ]


def test_every_preparation_post_works_before_opening(app, hall, clients, paths):
    """The control for the test below: the same requests do change a round not yet open."""
    h = hall
    r = prepared_round(app, h)
    posts = _manage_posts(h, paths, r, app)[:-1]
    for path, data in posts:
        before = snapshot(app, r["id"])
        resp = clients(h.mod).post(path, data=data)
        assert resp.status_code == 303, (path, text(resp))
        assert snapshot(app, r["id"])[1] != before[1], path        # the hash would differ


@pytest.mark.parametrize("closed", [False, True], ids=["open", "closed"])
@MODES
def test_no_route_changes_a_frozen_round(app, hall, clients, paths, closed, htmx):
    h = hall
    r = prepared_round(app, h)
    frozen_hash = open_now(app, h, r)
    if closed:
        close_now(app, h, r)
    before = snapshot(app, r["id"])
    assert before[0] == before[1] == frozen_hash
    changes_before = read(app, lambda: db.session.scalar(
        select(AuditEvent.seq).order_by(AuditEvent.seq.desc()).limit(1)))
    mod = clients(h.mod)
    for path, data in _manage_posts(h, paths, r, app):
        resp = mod.post(path, data=data, headers=HX if htmx else {})
        where = ok(resp, htmx)
        assert where.split("#")[0] in (paths.round(1, "/manage"), paths.round(1)), path
        shown = text(mod.get(where))
        assert FROZEN in shown or "这一轮已经开始或已经结束。" in shown, path
        after = snapshot(app, r["id"])
        assert after == before, path
        assert after[1] == frozen_hash, path
    # nothing was recorded as changed
    assert read(app, lambda: db.session.scalar(
        select(AuditEvent.seq).order_by(AuditEvent.seq.desc()).limit(1))) == changes_before
    page = text(mod.get(paths.round(1, "/manage")))
    assert "本轮已冻结" in page and "<form" not in main(page)


def test_a_frozen_round_refuses_even_when_the_operation_is_reached(app, hall):
    """Past the page's own check (a stale page racing the opening): the operation's lock
    refuses every change too."""
    h = hall
    r = prepared_round(app, h)
    open_now(app, h, r)
    prop_seat = seat_id(app, r["id"], h.prop)
    from civic.domain import DomainError
    with app.test_request_context("/", method="POST"):
        mod = db.session.get(User, h.mod.id)
        rnd = db.session.get(Round, r["id"])
        seat = db.session.get(Seat, prop_seat)
        for change in (lambda: ops.update_notice(mod, rnd, "改", "别处", False),
                       lambda: ops.add_seat(mod, rnd, db.session.get(User, h.rep.id),
                                            Body.RESIDENT),
                       lambda: ops.remove_seat(mod, rnd, seat.id),
                       lambda: ops.add_option(mod, rnd, "新", "", 1, "other", "committee"),
                       lambda: ops.remove_option(mod, rnd, r["options"][0]),
                       lambda: ops.set_rule(mod, rnd, Rule.MAJORITY_ALL),
                       lambda: ops.set_deadline(mod, rnd, rnd.closes_at + timedelta(days=1))):
            with pytest.raises(DomainError) as e:
                change()
            assert e.value.message == FROZEN
            db.session.rollback()
    after = snapshot(app, r["id"])
    assert after[0] == after[1]


def test_the_public_round_page_before_and_after_opening(app, hall, clients, paths):
    h = hall
    r = prepared_round(app, h)
    page = text(clients().get(paths.round(1)))
    assert "会议通知" in page and "地下车库积水如何处理" in page and "居委会二楼" in page
    assert "开始表决前可能调整" in page and "冻结校验值" not in page
    assert "<form" not in main(page)
    assert ">开始表决</button>" in text(clients(h.mod).get(paths.round(1)))
    open_now(app, h, r)
    page = text(clients().get(paths.round(1)))
    assert "冻结校验值" in page and "sha256sum" in page and "已冻结" in page
    assert paths.round(1, "/frozen.json") in page
    assert "/vote" not in page                          # the public has no vote panel
    assert "表决进度" not in page                        # nor the checklist
    assert "表决进度" in text(clients(h.mod).get(paths.round(1)))


def test_options_render_with_their_facts(app, hall, clients, paths):
    h = hall
    r = prepared_round(app, h, options=(("更换排水泵", 1_250_000), ("加装截水沟", 380_000)))
    page = text(clients().get(paths.round(1)))
    assert "维持现状" in page and "不采取任何行动，保持现状。" in page
    assert "¥12,500.00" in page and "¥3,800.00" in page and "实施方：物业" in page
    assert "须经业主表决" not in page
    assert len(r["options"]) == 2 and read(app, lambda: db.session.get(
        Option, r["options"][1]).cost_fen) == 380_000


def test_pages_asked_for_by_htmx_are_whole_pages(app, hall, clients, paths):
    """No fragment is defined for the GET pages: htmx (e.g. a boosted link) gets the page."""
    h = hall
    prepared_round(app, h)
    for path in (paths.consultation, paths.round(1), paths.round(1, "/manage")):
        resp = clients(h.mod).get(path, headers=HX)
        assert resp.status_code == 200 and "<html" in text(resp), path
        assert "HX-Request" in resp.headers["Vary"], path
