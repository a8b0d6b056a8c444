"""Comments: verified residents and staff, one level of replies, staff marked by body."""
import pytest

from civic.extensions import db
from civic.issues.models import Comment


def _comment(client, c, n, body, parent=None):
    data = {"body": body}
    if parent:
        data["parent_id"] = str(parent)
    return client.post(f"/c/{c.slug}/issues/{n}/comments", data=data)


def test_resident_and_staff_comment_staff_marked(app, client, make, auth, make_issue):
    c = make.community()
    _, n = make_issue(c)
    auth.login(make.resident(c))
    assert _comment(client, c, n, "我同意").status_code == 303
    auth.logout()
    auth.login(make.staff(c, "property", title="项目经理"))
    _comment(client, c, n, "物业会处理", parent=1)
    html = client.get(f"/c/{c.slug}/issues/{n}/").get_data(as_text=True)
    assert "我同意" in html and 'class="staff-tag">物业项目经理' in html
    assert html.index("我同意") < html.index("物业会处理")


@pytest.mark.parametrize("who,status", [("unverified", 403), ("observer", 403),
                                        ("other_community", 403), ("revoked", 403)])
def test_who_may_not_comment(app, client, make, auth, make_issue, who, status):
    c = make.community()
    _, n = make_issue(c)
    user = {"unverified": make.user, "observer": lambda: make.staff(c, "observer"),
            "other_community": lambda: make.resident(make.community()),
            "revoked": lambda: make.resident(c, status="revoked")}[who]()
    auth.login(user)
    assert _comment(client, c, n, "你好").status_code == status
    with app.app_context():
        assert db.session.query(Comment).count() == 0


def test_reply_only_one_level_and_same_issue(app, client, make, auth, make_issue):
    c = make.community()
    _, n = make_issue(c)
    _, other = make_issue(c)
    auth.login(make.resident(c))
    _comment(client, c, n, "一级")
    _comment(client, c, n, "二级", parent=1)
    _comment(client, c, n, "三级", parent=2)          # reply to a reply: refused
    _comment(client, c, other, "跨议题", parent=1)     # parent from another issue: refused
    with app.app_context():
        assert [x.body for x in db.session.query(Comment).order_by(Comment.id)] == ["一级", "二级"]


def test_empty_comment_refused_with_message(client, make, auth, make_issue):
    c = make.community()
    _, n = make_issue(c)
    auth.login(make.resident(c))
    resp = _comment(client, c, n, "   ")
    assert "请写下你的意见" in client.get(resp.headers["Location"]).get_data(as_text=True)


def test_comment_double_submit_with_key_creates_one(app, client, make, auth, make_issue):
    c = make.community()
    _, n = make_issue(c)
    auth.login(make.resident(c))
    for _ in range(2):
        client.post(f"/c/{c.slug}/issues/{n}/comments", data={"body": "一次", "idempotency_key": "abc"})
    with app.app_context():
        assert db.session.query(Comment).count() == 1


def test_comments_paginated(app, client, make, auth, make_issue):
    c = make.community()
    _, n = make_issue(c)
    auth.login(make.resident(c))
    for i in range(23):
        _comment(client, c, n, f"第{i:02d}条")
    first = client.get(f"/c/{c.slug}/issues/{n}/").get_data(as_text=True)
    second = client.get(f"/c/{c.slug}/issues/{n}/?cpage=2").get_data(as_text=True)
    assert "第00条" in first and "第22条" not in first and "第22条" in second
    assert client.get(f"/c/{c.slug}/issues/{n}/?cpage=x").status_code == 200
