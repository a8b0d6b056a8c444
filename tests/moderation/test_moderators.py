"""Moderators hide, restore and dismiss with a reason; suspend and unsuspend residents.
Authors are told, reports resolved, everything audited without free text."""
import pytest

from civic.audit.operations import verify_chain
from civic.communities.models import Membership, MembershipStatus
from civic.extensions import db
from civic.issues.models import Comment, Issue
from civic.moderation.models import ActionKind, ModerationAction, Report
from tests.conftest import PASSWORD
from tests.moderation.conftest import (
    events,
    hidden_at,
    member_action,
    membership_of,
    moderate,
    notifications,
    report,
)


def _open_reports(app):
    with app.app_context():
        return db.session.query(Report).filter(Report.resolved_at.is_(None)).count()


def test_hide_and_restore_with_reasons(app, client, make, auth, make_issue):
    c = make.community()
    author = make.resident(c)
    iid, _n = make_issue(c, author=author)
    auth.login(make.resident(c))
    report(client, c, "issue", iid)
    auth.logout()
    mod = make.staff(c, "moderator")
    auth.login(mod)
    resp = moderate(client, c, "issue", iid, "hide", reason="与小区事务无关的广告")
    assert resp.status_code == 303 and resp.headers["Location"].endswith(
        f"/c/{c.slug}/manage/moderate/issue/{iid}/")
    with app.app_context():
        issue = db.session.get(Issue, iid)
        assert issue.hidden_at and issue.hidden_by_id == mod.id
        assert issue.hidden_reason == "与小区事务无关的广告"
    assert _open_reports(app) == 0
    assert notifications(app, author, "content.hidden") == [
        {"what": "议题", "reason": "与小区事务无关的广告"}]
    # a double submit is told, not repeated
    again = client.post(f"/c/{c.slug}/manage/moderate/issue/{iid}/hide",
                        data={"reason": "再来一次"}, follow_redirects=True)
    assert "这条内容已经隐藏" in again.get_data(as_text=True)
    assert moderate(client, c, "issue", iid, "restore", reason="已与作者沟通").status_code == 303
    assert hidden_at(app, Issue, iid) is None
    assert notifications(app, author, "content.restored") == [{"what": "议题"}]
    with app.app_context():
        issue = db.session.get(Issue, iid)
        assert issue.hidden_reason == "" and issue.hidden_by_id is None
        actions = [(a.action, a.reason) for a in db.session.query(ModerationAction)
                   .order_by(ModerationAction.id)]
        assert actions == [(ActionKind.HIDE, "与小区事务无关的广告"),
                           (ActionKind.RESTORE, "已与作者沟通")]
        assert verify_chain().ok
    hide_event, = events(app, "content.hide")
    restore_event, = events(app, "content.restore")
    assert hide_event[2] == {"target": "issue", "reports": 1}
    assert restore_event[2] == {"target": "issue", "reports": 0}
    history = client.get(f"/c/{c.slug}/manage/moderate/issue/{iid}/").get_data(as_text=True)
    assert "与小区事务无关的广告" in history and "已与作者沟通" in history


def test_comment_author_told_with_what_comment(app, client, make, auth, make_issue, make_comment):
    c = make.community()
    author = make.resident(c)
    iid, _n = make_issue(c)
    cid = make_comment(iid, author)
    auth.login(make.staff(c, "moderator"))
    moderate(client, c, "comment", cid, "hide", reason="辱骂")
    assert notifications(app, author, "content.hidden") == [{"what": "意见", "reason": "辱骂"}]


def test_restore_after_auto_hide_resolves_reports(app, client, make, auth, make_issue,
                                                  make_comment):
    c = make.community()
    iid, _n = make_issue(c)
    author = make.resident(c)
    cid = make_comment(iid, author)
    for _ in range(3):
        auth.login(make.resident(c))
        report(client, c, "comment", cid)
        auth.logout()
    assert hidden_at(app, Comment, cid) is not None
    auth.login(make.staff(c, "moderator"))
    moderate(client, c, "comment", cid, "restore", reason="举报不成立")
    assert hidden_at(app, Comment, cid) is None and _open_reports(app) == 0
    assert [e[2]["reports"] for e in events(app, "content.restore")] == [3]
    assert notifications(app, author, "content.restored") == [{"what": "意见"}]


def test_dismiss_keeps_it_visible(app, client, make, auth, make_issue):
    c = make.community()
    iid, _n = make_issue(c)
    for _ in range(2):
        auth.login(make.resident(c))
        report(client, c, "issue", iid)
        auth.logout()
    auth.login(make.staff(c, "moderator"))
    assert moderate(client, c, "issue", iid, "dismiss", reason="内容属实").status_code == 303
    assert hidden_at(app, Issue, iid) is None and _open_reports(app) == 0
    assert events(app, "content.dismiss")[0][2] == {"target": "issue", "reports": 2}
    html = client.get(f"/c/{c.slug}/manage/reports").get_data(as_text=True)
    assert "没有待处理的举报" in html


@pytest.mark.parametrize("action", ["hide", "restore", "dismiss"])
def test_reason_required_rerenders_with_400(app, client, make, auth, make_issue, action):
    c = make.community()
    iid, _n = make_issue(c)
    auth.login(make.staff(c, "moderator"))
    if action == "restore":
        moderate(client, c, "issue", iid, "hide")
    resp = moderate(client, c, "issue", iid, action, reason="   ")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "请写明原因" in html
    assert f'id="{action}-reason-issue-{iid}"' in html and 'aria-invalid="true"' in html
    long = moderate(client, c, "issue", iid, action, reason="长" * 201)
    assert long.status_code == 400 and "长" * 201 in long.get_data(as_text=True)


def test_audit_payloads_hold_no_text(app, client, make, auth, make_issue):
    c = make.community()
    resident = make.resident(c)
    iid, _n = make_issue(c, author=resident)
    auth.login(make.staff(c, "moderator"))
    moderate(client, c, "issue", iid, "hide", reason="秘密原因AAA")
    moderate(client, c, "issue", iid, "restore", reason="秘密原因BBB")
    member_action(client, c, membership_of(app, resident, c).id, "suspend", reason="秘密原因CCC")
    member_action(client, c, membership_of(app, resident, c).id, "unsuspend", reason="秘密原因DDD")
    from civic.audit.models import AuditEvent
    with app.app_context():
        payloads = " ".join(e.payload for e in db.session.query(AuditEvent))
    assert "秘密原因" not in payloads and resident.phone not in payloads
    suspend, = events(app, "membership.suspend")
    assert set(suspend[2]) == {"member", "unit"} and suspend[2]["member"].startswith("u-")


# --- suspension ------------------------------------------------------------------------

def test_suspend_removes_rights_and_ends_sessions(app, make, make_issue, make_comment):
    c = make.community()
    bad = make.resident(c)
    iid, n = make_issue(c, need=50)
    cid = make_comment(iid, make.resident(c))
    old = app.test_client()
    old.post("/login", data={"phone": bad.phone, "password": PASSWORD})
    assert old.get("/account").status_code == 200
    mod = app.test_client()
    mod_user = make.staff(c, "moderator")
    mod.post("/login", data={"phone": mod_user.phone, "password": PASSWORD})
    m = membership_of(app, bad, c)
    resp = member_action(mod, c, m.id, "suspend", reason="多次辱骂邻居")
    assert resp.status_code == 303
    with app.app_context():
        assert db.session.get(Membership, m.id).status is MembershipStatus.SUSPENDED
    assert notifications(app, bad, "membership.suspended") == [{"community": c.name}]
    # the old cookie no longer logs anyone in
    assert old.get("/account").status_code == 302
    assert old.post(f"/c/{c.slug}/issues/{n}/cosign").status_code == 302
    # logged in again: no resident rights here
    fresh = app.test_client()
    fresh.post("/login", data={"phone": bad.phone, "password": PASSWORD})
    hx = {"HX-Request": "true"}
    assert fresh.post(f"/c/{c.slug}/issues/{n}/cosign", headers=hx).status_code == 403
    assert fresh.post(f"/c/{c.slug}/issues/{n}/comments", data={"body": "我还要说"}).status_code == 403
    assert report(fresh, c, "comment", cid).status_code == 403
    assert fresh.get(f"/c/{c.slug}/issues/new").status_code == 403
    with app.app_context():
        assert db.session.get(Issue, iid).cosign_count == 0
        assert db.session.query(Report).count() == 0
    # unsuspended: rights are back
    assert member_action(mod, c, m.id, "unsuspend", reason="已道歉").status_code == 303
    assert fresh.post(f"/c/{c.slug}/issues/{n}/cosign", headers=hx).status_code == 200
    assert report(fresh, c, "comment", cid).status_code == 303
    with app.app_context():
        assert db.session.get(Membership, m.id).status is MembershipStatus.ACTIVE
        assert db.session.get(Issue, iid).cosign_count == 1
        assert verify_chain().ok
    assert [e[0] for e in events(app, "membership.suspend")] == ["membership"]
    assert len(events(app, "membership.unsuspend")) == 1


def test_suspend_from_the_queue_and_twice(app, client, make, auth, make_issue, make_comment):
    c = make.community()
    author = make.resident(c)
    iid, _n = make_issue(c)
    cid = make_comment(iid, author, body="骂人的话")
    auth.login(make.resident(c))
    report(client, c, "comment", cid)
    auth.logout()
    auth.login(make.staff(c, "moderator"))
    html = client.get(f"/c/{c.slug}/manage/reports").get_data(as_text=True)
    m = membership_of(app, author, c)
    suspend_url = f"/c/{c.slug}/manage/members/{m.id}/suspend"
    assert f'action="{suspend_url}"' in html
    resp = client.post(suspend_url, data={"reason": "辱骂", "next": f"/c/{c.slug}/manage/reports"})
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/manage/reports")
    again = client.post(suspend_url, data={"reason": "辱骂"}, follow_redirects=True)
    assert "这位居民的资格已经暂停或已撤销" in again.get_data(as_text=True)
    html = client.get(f"/c/{c.slug}/manage/reports").get_data(as_text=True)
    assert "资格已暂停" in html and f"/c/{c.slug}/manage/members/{m.id}/unsuspend" in html
    assert "资格已暂停（1）" in html
    form = client.get(f"/c/{c.slug}/manage/members/{m.id}/unsuspend?next=/c/{c.slug}/manage/reports")
    assert form.status_code == 200 and 'value="/c/' in form.get_data(as_text=True)
    assert len(events(app, "membership.suspend")) == 1


def test_suspend_reason_required(app, client, make, auth):
    c = make.community()
    m = membership_of(app, make.resident(c), c)
    auth.login(make.staff(c, "moderator"))
    page = client.get(f"/c/{c.slug}/manage/members/{m.id}/suspend")
    assert page.status_code == 200 and 'name="reason"' in page.get_data(as_text=True)
    resp = member_action(client, c, m.id, "suspend", reason="")
    assert resp.status_code == 400 and "请写明原因" in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Membership, m.id).status is MembershipStatus.ACTIVE


def test_only_resident_memberships_of_this_community(app, client, make, auth):
    c, other = make.community(), make.community()
    mod = make.staff(c, "moderator")
    prop = make.staff(c, "property")
    outsider = make.resident(other)
    auth.login(mod)
    with app.app_context():
        prop_m = db.session.query(Membership).filter_by(user_id=prop.id).one()
    assert member_action(client, c, prop_m.id, "suspend").status_code == 404
    assert member_action(client, c, membership_of(app, outsider, other).id,
                         "suspend").status_code == 404
    assert member_action(client, c, 99999, "suspend").status_code == 404


def test_moderator_cannot_suspend_own_residency(app, client, make, auth):
    c = make.community()
    mod = make.staff(c, "moderator")
    make.resident(c, user=mod)
    auth.login(mod)
    assert member_action(client, c, membership_of(app, mod, c).id, "suspend").status_code == 403


def test_unsuspend_only_a_suspended_member(app, client, make, auth):
    c = make.community()
    m = membership_of(app, make.resident(c), c)
    auth.login(make.staff(c, "moderator"))
    resp = client.post(f"/c/{c.slug}/manage/members/{m.id}/unsuspend", data={"reason": "x"},
                       follow_redirects=True)
    assert "这位居民的资格没有被暂停" in resp.get_data(as_text=True)
    assert events(app, "membership.unsuspend") == []
