"""Triage: accept, decline, merge, refer, rulings and precedents, official responses,
reminders — permissions, notifications and audit included."""
import re
from datetime import UTC, datetime, timedelta

import pytest

from civic import clock
from civic.audit.models import AuditEvent
from civic.extensions import db
from civic.issues.models import Cosign, Issue, IssueState
from civic.notifications.models import Notification
from civic.triage.models import Outcome, Precedent, Triage


def _issue(app, iid):
    with app.app_context():
        i = db.session.get(Issue, iid)
        db.session.expunge(i)
        return i


def _triage(app, iid):
    with app.app_context():
        t = db.session.get(Triage, iid)
        if t is not None:
            db.session.expunge(t)
        return t


def _notified(app, kind):
    with app.app_context():
        return sorted(n.user_id for n in db.session.query(Notification).filter_by(kind=kind))


def test_accept_with_suggested_lead_notifies_and_starts_response_clock(app, client, make, auth, waiting):
    c = make.community()
    mod = make.staff(c, "moderator")
    prop = make.staff(c, "property", title="项目经理")
    iid, n, author, people = waiting(c)
    auth.login(mod)
    assert client.post(f"/c/{c.slug}/manage/responsibility",
                       data={"lead-4": "property"}).status_code == 303   # 设施维修 → 物业
    page = client.get(f"/c/{c.slug}/manage/triage/{n}").get_data(as_text=True)
    assert "默认由 物业 主责" in page and re.search(r'checked[^>]*value="property"', page)
    resp = client.post(f"/c/{c.slug}/manage/triage/{n}/accept",
                       data={"lead": "property", "participants": ["committee", "property"]})
    assert resp.status_code == 303
    t = _triage(app, iid)
    assert t.outcome is Outcome.ACCEPTED and t.lead.value == "property"
    assert t.participants == "committee"           # the lead is not also a participant
    assert t.response_due_at - t.decided_at > timedelta(days=6)
    assert _issue(app, iid).state is IssueState.ACCEPTED
    assert _notified(app, "issue.accepted") == sorted([author.id, *(p.id for p in people), prop.id])
    html = client.get(f"/c/{c.slug}/issues/{n}/").get_data(as_text=True)
    assert "已受理" in html and "<strong>物业</strong>" in html and "参与方：居委会" in html
    # a second triage of the same issue is refused
    again = client.post(f"/c/{c.slug}/manage/triage/{n}/decline", data={"reason": "重复处理一下"})
    assert again.status_code == 303
    assert _issue(app, iid).state is IssueState.ACCEPTED


def test_safety_issue_gets_24_hour_response_clock(app, client, make, auth, waiting):
    c = make.community()
    iid, n, *_ = waiting(c, category="安全")
    auth.login(make.staff(c, "moderator"))
    client.post(f"/c/{c.slug}/manage/triage/{n}/accept", data={"lead": "property"})
    t = _triage(app, iid)
    assert t.response_due_at - t.decided_at == timedelta(hours=24)


def test_decline_needs_a_reason_which_is_published(app, client, make, auth, waiting):
    c = make.community()
    iid, n, author, people = waiting(c)
    auth.login(make.staff(c, "moderator"))
    resp = client.post(f"/c/{c.slug}/manage/triage/{n}/decline", data={"reason": ""})
    assert resp.status_code == 400 and "请填写此项" in resp.get_data(as_text=True)
    client.post(f"/c/{c.slug}/manage/triage/{n}/decline",
                data={"reason": "属于业主私人纠纷，<b>建议</b>通过人民调解解决。"})
    auth.logout()
    html = client.get(f"/c/{c.slug}/issues/{n}/").get_data(as_text=True)
    assert "不予受理" in html and "属于业主私人纠纷，&lt;b&gt;建议&lt;/b&gt;" in html
    assert _notified(app, "issue.declined") == sorted([author.id, *(p.id for p in people)])


def test_refer_publishes_office_and_reference(app, client, make, auth, waiting):
    c = make.community()
    iid, n, *_ = waiting(c)
    auth.login(make.staff(c, "moderator"))
    client.post(f"/c/{c.slug}/manage/triage/{n}/refer",
                data={"office": "区市场监管局", "office_ref": "SH-2026-118", "note": "涉及电梯维保资质"})
    assert _issue(app, iid).state is IssueState.REFERRED
    html = client.get(f"/c/{c.slug}/issues/{n}/").get_data(as_text=True)
    assert "区市场监管局" in html and "SH-2026-118" in html and "涉及电梯维保资质" in html


def test_merge_moves_cosigns_one_per_household(app, client, make, auth, make_issue, waiting):
    c = make.community()
    target_author = make.resident(c)
    tid, tn = make_issue(c, author=target_author, need=5, title="车库排水")
    iid, n, author, people = waiting(c, cosigners=3)
    # one household signed both issues
    from tests.conftest import PASSWORD
    both = app.test_client()
    both.post("/login", data={"phone": people[0].phone, "password": PASSWORD})
    both.post(f"/c/{c.slug}/issues/{tn}/cosign")
    auth.login(make.staff(c, "moderator"))
    assert client.post(f"/c/{c.slug}/manage/triage/{n}/merge",
                       data={"target": str(tn)}).status_code == 303
    with app.app_context():
        target = db.session.get(Issue, tid)
        units = [s.unit_id for s in db.session.query(Cosign).filter_by(issue_id=tid)]
        assert len(units) == len(set(units)) == target.cosign_count == 3
        assert db.session.get(Issue, iid).state is IssueState.MERGED
        assert db.session.query(Cosign).filter_by(issue_id=iid).count() == 3   # history kept
    html = client.get(f"/c/{c.slug}/issues/{n}/").get_data(as_text=True)
    assert f"#{tn}" in html and "已并入" in html


def test_merge_can_carry_the_target_over_its_threshold_once(app, client, make, auth, make_issue, waiting):
    c = make.community()
    mod = make.staff(c, "moderator")
    tid, tn = make_issue(c, need=2, title="同一件事")
    iid, n, *_ = waiting(c, cosigners=2)
    auth.login(mod)
    client.post(f"/c/{c.slug}/manage/triage/{n}/merge", data={"target": str(tn)})
    with app.app_context():
        assert db.session.get(Issue, tid).state is IssueState.AWAITING_TRIAGE
        assert db.session.query(AuditEvent).filter_by(action="issue.threshold",
                                                      object_id=str(tid)).count() == 1


@pytest.mark.parametrize("target", ["self", "missing", "other_community", "closed"])
def test_merge_targets_refused(app, client, make, auth, make_issue, waiting, target):
    c = make.community()
    iid, n, *_ = waiting(c)
    number = {"self": lambda: n, "missing": lambda: 999,
              "other_community": lambda: make_issue(make.community())[1],
              "closed": lambda: _withdrawn(app, make_issue(c))}[target]()
    auth.login(make.staff(c, "moderator"))
    resp = client.post(f"/c/{c.slug}/manage/triage/{n}/merge", data={"target": str(number)})
    assert resp.status_code == 400
    assert _issue(app, iid).state is IssueState.AWAITING_TRIAGE


def _withdrawn(app, built):
    iid, n = built
    with app.app_context():
        db.session.get(Issue, iid).state = IssueState.WITHDRAWN
        db.session.commit()
    return n


def test_ruling_saved_as_precedent_and_suggested_later(app, client, make, auth, waiting):
    c = make.community()
    iid, n, *_ = waiting(c, category="绿化", title="树枝挡住3楼窗户")
    auth.login(make.staff(c, "moderator"))
    client.post(f"/c/{c.slug}/manage/triage/{n}/ruling-request")
    assert _triage(app, iid).outcome is Outcome.RULING
    client.post(f"/c/{c.slug}/manage/triage/{n}/ruling", data={
        "lead": "property", "ruling": "公共绿地树木修剪属物业服务合同范围", "save_precedent": "y",
        "precedent_title": "公共绿地修剪"})
    page = client.get(f"/c/{c.slug}/manage/triage/{n}").get_data(as_text=True)
    assert re.search(r'checked[^>]*value="property"', page)
    with app.app_context():
        assert db.session.query(Precedent).filter_by(category="绿化").count() == 1
    iid2, n2, *_ = waiting(c, category="绿化", title="另一棵树")
    page = client.get(f"/c/{c.slug}/manage/triage/{n2}").get_data(as_text=True)
    assert "同类案例" in page and "公共绿地修剪" in page
    assert "公共绿地修剪" in client.get(f"/c/{c.slug}/precedents/").get_data(as_text=True)


@pytest.mark.parametrize("role", [None, "resident", "property", "association", "observer",
                                  "other_moderator"])
def test_only_moderators_triage(app, client, make, auth, waiting, role):
    c = make.community()
    iid, n, *_ = waiting(c)
    if role == "resident":
        auth.login(make.resident(c))
    elif role == "other_moderator":
        auth.login(make.staff(make.community(), "moderator"))
    elif role:
        auth.login(make.staff(c, role))
    for path, data in (("accept", {"lead": "property"}), ("decline", {"reason": "不受理的理由"}),
                       ("merge", {"target": "1"}), ("refer", {"office": "某局"})):
        resp = client.post(f"/c/{c.slug}/manage/triage/{n}/{path}", data=data)
        assert resp.status_code == (302 if role is None else 403)
    assert client.get(f"/c/{c.slug}/manage/triage/").status_code == (302 if role is None else 403)
    assert client.get(f"/c/{c.slug}/manage/").status_code == (302 if role is None else 403)
    assert _issue(app, iid).state is IssueState.AWAITING_TRIAGE


@pytest.mark.parametrize("role,allowed", [("moderator", True), ("property", True),
                                          ("association", True), ("observer", False),
                                          ("resident", False), ("other_property", False)])
def test_official_responses_truth_table(app, client, make, auth, waiting, role, allowed):
    c = make.community()
    iid, n, author, people = waiting(c)
    user = {"resident": lambda: make.resident(c),
            "other_property": lambda: make.staff(make.community(), "property")}.get(
        role, lambda: make.staff(c, role, title="经理"))()
    auth.login(user)
    resp = client.post(f"/c/{c.slug}/issues/{n}/responses", data={"text": "已安排维修，本周内完成。"})
    assert resp.status_code == (303 if allowed else 403)
    html = client.get(f"/c/{c.slug}/issues/{n}/").get_data(as_text=True)
    assert ("已安排维修，本周内完成。" in html) is allowed
    if allowed:
        assert "正式答复" in html
        assert _notified(app, "issue.response") == sorted([author.id, *(p.id for p in people)])


def test_first_response_after_acceptance_stops_the_clock(app, client, make, auth, waiting):
    c = make.community()
    iid, n, *_ = waiting(c)
    auth.login(make.staff(c, "moderator"))
    client.post(f"/c/{c.slug}/manage/triage/{n}/accept", data={"lead": "property"})
    auth.logout()
    auth.login(make.staff(c, "property", title="项目经理"))
    client.post(f"/c/{c.slug}/issues/{n}/responses", data={"text": "收到，明天派人查看。"})
    t = _triage(app, iid)
    assert t.responded_at is not None
    html = client.get(f"/c/{c.slug}/issues/{n}/").get_data(as_text=True)
    assert "按时" in html and "物业项目经理" in html


def test_reminders_once_when_due_soon_and_once_when_overdue(app, client, make, auth, waiting, runner):
    # 09:00 in Shanghai: deadlines end at local midnight, so the wall clock must not decide
    clock.freeze(datetime(2026, 3, 2, 1, 0, tzinfo=UTC))
    c = make.community()
    mod = make.staff(c, "moderator")
    prop = make.staff(c, "property")
    iid, n, *_ = waiting(c)
    start = clock.now()
    clock.freeze(start + timedelta(days=c.triage_days if hasattr(c, "triage_days") else 3, hours=1))
    runner.invoke(args=["jobs", "run"])
    runner.invoke(args=["jobs", "run"])
    assert _notified(app, "clock.due_soon") == [mod.id]
    clock.freeze(start + timedelta(days=5))
    runner.invoke(args=["jobs", "run"])
    runner.invoke(args=["jobs", "run"])
    assert _notified(app, "clock.overdue") == [mod.id]
    html = client.get(f"/c/{c.slug}/issues/{n}/").get_data(as_text=True)
    assert "已超时" in html
    # accepted late: the response clock then reminds the lead body and the moderators
    auth.login(mod)
    client.post(f"/c/{c.slug}/manage/triage/{n}/accept", data={"lead": "property"})
    clock.freeze(start + timedelta(days=20))
    runner.invoke(args=["jobs", "run"])
    assert sorted(_notified(app, "clock.overdue")) == sorted([mod.id, mod.id, prop.id])


def test_notification_fan_out_has_bounded_queries(app, client, make, auth, waiting, count_queries):
    c = make.community()
    mod = make.staff(c, "moderator")
    _, few_n, *_ = waiting(c, cosigners=2)
    _, many_n, *_ = waiting(c, cosigners=12)
    auth.login(mod)
    with count_queries() as few:
        client.post(f"/c/{c.slug}/manage/triage/{few_n}/accept", data={"lead": "committee"})
    with count_queries() as many:
        client.post(f"/c/{c.slug}/manage/triage/{many_n}/accept", data={"lead": "committee"})
    assert many.count == few.count, many.statements


def test_dashboard_shows_queue_and_counts(client, make, auth, waiting):
    c = make.community()
    waiting(c, title="排队中的议题")
    auth.login(make.staff(c, "moderator"))
    html = client.get(f"/c/{c.slug}/manage/").get_data(as_text=True)
    assert "排队中的议题" in html and "待受理议题" in html and "待审核认证" in html


def test_notifications_render_in_the_readers_language(app, client, make, auth, waiting):
    c = make.community()
    iid, n, author, people = waiting(c)
    auth.login(make.staff(c, "moderator"))
    client.post(f"/c/{c.slug}/manage/triage/{n}/accept", data={"lead": "property"})
    auth.logout()
    auth.login(author)
    assert "由物业牵头办理" in client.get("/notifications/").get_data(as_text=True)
    client.post("/locale", data={"lang": "en"})
    html = client.get("/notifications/").get_data(as_text=True)
    assert "Property Management" in html and "物业" not in html.split("<main")[1].split("</main>")[0]
