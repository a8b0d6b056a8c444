"""Reporting: one report per household, hidden at exactly the third household, friendly
refusals, reasons validated, plain and htmx POSTs, reasons shown as text."""
import pytest

from civic.audit.operations import verify_chain
from civic.extensions import db
from civic.issues.models import Comment, Issue
from civic.moderation.models import Report, TargetType
from civic.moderation.queries import pending_reports_count
from tests.moderation.conftest import events, hidden_at, notifications, report


def _reports(app, **filters):
    with app.app_context():
        return db.session.query(Report).filter_by(**filters).count()


def test_hidden_exactly_at_the_third_household(app, client, make, auth, make_issue):
    c = make.community()
    author = make.resident(c)
    iid, _n = make_issue(c, author=author, title="卖房广告")
    for i in range(2):
        auth.login(make.resident(c))
        assert report(client, c, "issue", iid, reason="广告").status_code == 303
        auth.logout()
        assert hidden_at(app, Issue, iid) is None, f"hidden after {i + 1} reports"
    assert notifications(app, author, "content.hidden") == []
    auth.login(make.resident(c))
    assert report(client, c, "issue", iid, reason="广告").status_code == 303
    assert hidden_at(app, Issue, iid) is not None
    auth.logout()
    auth.login(make.resident(c))    # a fourth household: recorded, no second hide
    assert report(client, c, "issue", iid, reason="广告").status_code == 303
    assert _reports(app, target_id=iid) == 4
    hides = events(app, "content.auto_hide")
    assert len(hides) == 1 and hides[0][:2] == ("issue", str(iid))
    assert hides[0][2] == {"target": "issue", "reports": 3}
    told = notifications(app, author, "content.hidden")
    assert len(told) == 1 and told[0]["what"] == "议题" and told[0]["reason"]
    with app.app_context():
        assert db.session.get(Issue, iid).hidden_by_id is None   # by reports, not a person
        assert verify_chain().ok


def test_one_report_per_household(app, client, make, auth, make_issue, make_comment):
    c = make.community()
    unit = make.unit(c)
    first, second = make.resident(c, unit=unit), make.resident(c, unit=unit, tenure="tenant")
    iid, _n = make_issue(c)
    cid = make_comment(iid, make.resident(c))
    auth.login(first)
    assert report(client, c, "comment", cid).status_code == 303
    resp = client.post(f"/c/{c.slug}/report/comment/{cid}", data={"reason": "广告"},
                       follow_redirects=True)
    assert "你已经举报过这条内容" in resp.get_data(as_text=True)
    auth.logout()
    auth.login(second)
    resp = client.post(f"/c/{c.slug}/report/comment/{cid}", data={"reason": "广告"},
                       follow_redirects=True)
    assert resp.status_code == 200
    assert "你家已有人举报过这条内容（每户一次）" in resp.get_data(as_text=True)
    # a third resident of the same household again: still one report, nothing hidden
    auth.logout()
    auth.login(make.resident(c, unit=unit))
    report(client, c, "comment", cid)
    assert _reports(app, target_type=TargetType.COMMENT, target_id=cid) == 1
    assert hidden_at(app, Comment, cid) is None


def test_unique_constraint_is_the_rule(app, make, make_issue):
    """Even past the friendly check, the database refuses a second report of a household."""
    from sqlalchemy.exc import IntegrityError
    c = make.community()
    user = make.resident(c)
    iid, _n = make_issue(c)
    with app.app_context():
        from civic.communities.models import Membership
        unit_id = db.session.query(Membership).filter_by(user_id=user.id).one().unit_id
        for _ in range(2):
            db.session.add(Report(community_id=c.id, target_type=TargetType.ISSUE, target_id=iid,
                                  reporter_id=user.id, reporter_unit_id=unit_id, reason="广告"))
        with pytest.raises(IntegrityError):
            db.session.commit()


def test_two_households_then_duplicates_do_not_hide(app, client, make, auth, make_issue):
    c = make.community()
    iid, _n = make_issue(c)
    a, b = make.resident(c), make.resident(c)
    for user in (a, b, a, b, a):
        auth.login(user)
        report(client, c, "issue", iid)
        auth.logout()
    assert _reports(app, target_id=iid) == 2 and hidden_at(app, Issue, iid) is None


def test_own_content_cannot_be_reported(app, client, make, auth, make_issue):
    c = make.community()
    author = make.resident(c)
    iid, n = make_issue(c, author=author)
    auth.login(author)
    assert report(client, c, "issue", iid).status_code == 403
    assert _reports(app) == 0
    assert "举报</a>" not in client.get(f"/c/{c.slug}/issues/{n}/").get_data(as_text=True)


@pytest.mark.parametrize("reason,detail,message", [
    ("", "", "请选择举报原因"),
    ("骂人", "", "请从列表中选择"),
    ("其他", "", "选择“其他”时请写明原因"),
    ("广告", "长" * 191, "补充说明不能超过 190 字"),
])
def test_reason_required_and_bounded(app, client, make, auth, make_issue, reason, detail, message):
    c = make.community()
    iid, _n = make_issue(c)
    auth.login(make.resident(c))
    resp = report(client, c, "issue", iid, reason=reason, detail=detail)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and 'class="error"' in html and message in html
    if detail:
        assert detail in html      # the value is kept on re-render
    assert _reports(app) == 0


def test_reason_stored_with_preset_and_words(app, client, make, auth, make_issue):
    c = make.community()
    iid, _n = make_issue(c)
    auth.login(make.resident(c))
    report(client, c, "issue", iid, reason="泄露个人信息", detail="贴了 3 号楼住户的电话")
    with app.app_context():
        assert db.session.query(Report).one().reason == "泄露个人信息：贴了 3 号楼住户的电话"
    payload = events(app, "content.report")[0][2]
    assert set(payload) == {"target", "target_id", "unit"} and "电话" not in str(payload)


def test_report_link_form_page_and_htmx(app, client, make, auth, make_issue, make_comment):
    c = make.community()
    iid, n = make_issue(c)
    cid = make_comment(iid, make.resident(c))
    auth.login(make.resident(c))
    page = client.get(f"/c/{c.slug}/issues/{n}/").get_data(as_text=True)
    link = f"/c/{c.slug}/report/comment/{cid}"
    assert f'href="{link}"' in page and f'hx-get="{link}"' in page
    full = client.get(link)
    assert full.status_code == 200 and "<html" in full.get_data(as_text=True)
    assert 'name="reason"' in full.get_data(as_text=True)
    fragment = client.get(link, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and f'hx-post="{link}"' in fragment
    assert f'id="reason-comment-{cid}-0"' in fragment      # distinct ids per swapped-in form
    done = report(client, c, "comment", cid, htmx=True)
    assert done.status_code == 200 and "<html" not in done.get_data(as_text=True)
    assert "已收到你的举报" in done.get_data(as_text=True)
    again = report(client, c, "comment", cid, htmx=True)
    assert again.status_code == 200 and "你已经举报过这条内容" in again.get_data(as_text=True)
    bad = report(client, c, "issue", iid, reason="", htmx=True)
    assert bad.status_code == 200 and "请选择举报原因" in bad.get_data(as_text=True)
    assert _reports(app) == 1


def test_plain_post_redirects_back_to_the_item(app, client, make, auth, make_issue, make_comment):
    c = make.community()
    iid, n = make_issue(c)
    cid = make_comment(iid, make.resident(c))
    auth.login(make.resident(c))
    resp = report(client, c, "comment", cid)
    assert resp.status_code == 303
    assert resp.headers["Location"].endswith(f"/c/{c.slug}/issues/{n}/#comment-{cid}")
    page = client.get(f"/c/{c.slug}/issues/{n}/").get_data(as_text=True)
    assert "已收到你的举报" in page and f'id="comment-{cid}"' in page


@pytest.mark.parametrize("path", ["issue/{other_issue}", "comment/{other_comment}",
                                  "issue/{draft}", "issue/99999", "membership/1", "bogus/1"])
def test_targets_outside_this_community_are_404(app, client, make, auth, make_issue,
                                                 make_comment, path):
    c, other = make.community(), make.community()
    other_issue, _ = make_issue(other)
    other_comment = make_comment(other_issue, make.resident(other))
    draft, _ = make_issue(c, state="draft")
    auth.login(make.resident(c))
    url = f"/c/{c.slug}/report/" + path.format(other_issue=other_issue,
                                               other_comment=other_comment, draft=draft)
    assert client.get(url).status_code == 404
    assert client.post(url, data={"reason": "广告"}).status_code == 404
    assert _reports(app) == 0


XSS = ['<script>alert(1)</script>', '<img src=x onerror=alert(1)>', '<a hx-get="/logout">x</a>']


@pytest.mark.parametrize("payload", XSS)
def test_xss_in_reasons_is_text(app, client, make, auth, make_issue, payload):
    c = make.community()
    iid, _n = make_issue(c)
    auth.login(make.resident(c))
    report(client, c, "issue", iid, reason="其他", detail=payload)
    auth.logout()
    auth.login(make.staff(c, "moderator"))
    for path in (f"/c/{c.slug}/manage/reports", f"/c/{c.slug}/manage/moderate/issue/{iid}/"):
        html = client.get(path).get_data(as_text=True)
        assert "<script>alert" not in html and "<img src=x" not in html
        assert '<a hx-get="/logout"' not in html
        assert "&lt;" in html


def test_pending_reports_count(app, client, make, auth, make_issue, make_comment):
    c, other = make.community(), make.community()
    iid, _n = make_issue(c)
    cid = make_comment(iid, make.resident(c))
    oid, _ = make_issue(other)
    for _ in range(2):
        auth.login(make.resident(c))
        report(client, c, "issue", iid)
        report(client, c, "comment", cid)
        auth.logout()
    auth.login(make.resident(other))
    report(client, other, "issue", oid)
    auth.logout()
    with app.app_context():
        assert pending_reports_count(c.id) == 2 and pending_reports_count(other.id) == 1
    auth.login(make.staff(c, "moderator"))
    from tests.moderation.conftest import moderate
    moderate(client, c, "comment", cid, "hide")
    with app.app_context():
        assert pending_reports_count(c.id) == 1
