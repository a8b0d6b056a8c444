"""Community rules (moderators) and the notification centre."""
from civic.communities.models import Community
from civic.extensions import db
from civic.notifications.models import Notification


def test_rules_page_moderator_only(client, make, auth):
    c = make.community()
    for user in (make.resident(c), make.staff(c, "property"), make.staff(make.community(), "moderator")):
        auth.login(user)
        assert client.get(f"/c/{c.slug}/manage/rules").status_code == 403
        auth.logout()
    auth.login(make.staff(c, "moderator"))
    html = client.get(f"/c/{c.slug}/manage/rules").get_data(as_text=True)
    assert "加装电梯" in html


def test_rules_bad_input_rerenders(app, client, make, auth):
    c = make.community()
    auth.login(make.staff(c, "moderator"))
    resp = client.post(f"/c/{c.slug}/manage/rules", data={
        "threshold_kind": "share", "share_num": "3", "share_den": "2", "collect_days": "30",
        "triage_days": "3", "categories": "停车\n停车"})
    assert resp.status_code == 400 and "比例应在 0 到 1 之间" in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Community, c.id).threshold_kind == "households"


def test_rules_saved_and_categories_used(app, client, make, auth):
    c = make.community()
    auth.login(make.staff(c, "moderator"))
    resp = client.post(f"/c/{c.slug}/manage/rules", data={
        "threshold_kind": "share", "share_num": "1", "share_den": "5", "collect_days": "14",
        "triage_days": "5", "categories": "停车\n快递柜\n其他"})
    assert resp.status_code == 303
    auth.logout()
    auth.login(make.resident(c))
    html = client.get(f"/c/{c.slug}/issues/new").get_data(as_text=True)
    assert "快递柜" in html and "加装电梯" not in html


def test_notice_and_publicity_days_saved_and_bounded(app, client, make, auth):
    c = make.community()
    auth.login(make.staff(c, "moderator"))
    base = {"threshold_kind": "households", "households": "20", "collect_days": "30",
            "triage_days": "3", "categories": "停车\n其他"}
    resp = client.post(f"/c/{c.slug}/manage/rules",
                       data={**base, "notice_days": "0", "publicity_days": "7"})
    assert resp.status_code == 400
    assert 'value="0"' in resp.get_data(as_text=True)
    resp = client.post(f"/c/{c.slug}/manage/rules",
                       data={**base, "notice_days": "5", "publicity_days": "10"})
    assert resp.status_code == 303
    with app.app_context():
        saved = db.session.get(Community, c.id)
        assert (saved.notice_days, saved.publicity_days) == (5, 10)
    # left out, they keep their values
    resp = client.post(f"/c/{c.slug}/manage/rules", data=base)
    with app.app_context():
        saved = db.session.get(Community, c.id)
        assert (saved.notice_days, saved.publicity_days) == (5, 10)


def test_notification_centre(app, client, make, auth):
    user = make.user()
    with app.app_context():
        db.session.add(Notification(user_id=user.id, kind="issue.threshold",
                                    params='{"number": 3, "title": "<b>灯</b>"}', link="/c/x/issues/3/"))
        db.session.commit()
    auth.login(user)
    home = client.get("/account").get_data(as_text=True)
    assert 'class="dot">1<' in home
    html = client.get("/notifications/").get_data(as_text=True)
    assert "议题 #3「&lt;b&gt;灯&lt;/b&gt;」联署已达标" in html
    client.post("/notifications/read")
    assert 'class="dot"' not in client.get("/account").get_data(as_text=True)
    other = make.user()
    auth.logout()
    auth.login(other)
    assert "联署已达标" not in client.get("/notifications/").get_data(as_text=True)
