"""Reports racing in from many households hide an item exactly once."""
import threading

from civic.audit.operations import verify_chain
from civic.extensions import db
from civic.issues.models import Comment, Issue
from civic.moderation.models import Report
from civic.notifications.models import Notification
from tests.conftest import PASSWORD
from tests.moderation.conftest import events


def _race(app, users, path, data):
    barrier = threading.Barrier(len(users))
    results, errors = [], []

    def worker(user):
        try:
            client = app.test_client()
            client.post("/login", data={"phone": user.phone, "password": PASSWORD})
            barrier.wait()
            results.append(client.post(path, data=data, headers={"HX-Request": "true"}))
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=worker, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    return [(r.status_code, r.get_data(as_text=True)) for r in results]


def test_twenty_households_hide_once(app, make, make_issue):
    c = make.community()
    author = make.resident(c)
    iid, _n = make_issue(c, author=author)
    users = [make.resident(c) for _ in range(20)]
    answers = _race(app, users, f"/c/{c.slug}/report/issue/{iid}", {"reason": "广告"})
    assert [code for code, _ in answers] == [200] * 20
    assert all("已收到你的举报" in html for _, html in answers)
    with app.app_context():
        assert db.session.query(Report).filter_by(target_id=iid).count() == 20
        assert db.session.get(Issue, iid).hidden_at is not None
        assert db.session.query(Notification).filter_by(
            user_id=author.id, kind="content.hidden").count() == 1
        assert verify_chain().ok
    hides = events(app, "content.auto_hide")
    assert len(hides) == 1 and hides[0][2]["reports"] == 3
    assert len(events(app, "content.report")) == 20


def test_one_household_racing_makes_one_report(app, make, make_issue, make_comment):
    c = make.community()
    iid, _n = make_issue(c)
    cid = make_comment(iid, make.resident(c))
    unit = make.unit(c)
    people = [make.resident(c, unit=unit)] + [make.resident(c, unit=unit, tenure="tenant")
                                              for _ in range(3)]
    users = [people[i % 4] for i in range(20)]       # 20 taps from 4 people of one household
    answers = _race(app, users, f"/c/{c.slug}/report/comment/{cid}", {"reason": "人身攻击"})
    assert [code for code, _ in answers] == [200] * 20
    assert sum("已收到你的举报" in html for _, html in answers) == 1
    with app.app_context():
        assert db.session.query(Report).filter_by(target_id=cid).count() == 1
        assert db.session.get(Comment, cid).hidden_at is None
