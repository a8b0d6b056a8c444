"""A user downloads their data and deletes their account: personal data is gone from every
table, the public record keeps the household or a pseudonym, the audit chain still verifies."""
from __future__ import annotations

import json

from sqlalchemy import String, Text, select

from civic.accounts.models import User
from civic.audit.operations import head_hash, verify_chain
from civic.communities.models import Membership, MembershipStatus
from civic.extensions import db
from civic.issues import operations as issue_ops
from civic.models import Base
from tests.conftest import PASSWORD

NAME = "欧阳娜娜"


def _resident_with_history(app, make, make_issue):
    c = make.community()
    b = make.building(c, "5号楼")
    user = make.resident(c, make.unit(c, b, "1202"), user=make.user(display_name=NAME))
    issue_id, number = make_issue(c, author=user, need=5, title="楼道灯不亮")
    other_id, _ = make_issue(c, need=5, title="垃圾分类点太远")
    with app.test_request_context("/", method="POST"):
        issue_ops.cosign(db.session.get(User, user.id), other_id, "同意，早上扔垃圾要走很远")
        issue_ops.add_comment(db.session.get(User, user.id), _issue(other_id), "我家老人腿脚不便")
        db.session.commit()
    return c, user, number


def _issue(issue_id):
    from civic.issues.models import Issue
    return db.session.get(Issue, issue_id)


def _everything_text(app) -> str:
    """Every string value in every table, concatenated: what a breach would expose."""
    parts = []
    with app.app_context():
        for table in Base.metadata.sorted_tables:
            cols = [c for c in table.columns if isinstance(c.type, (String, Text))]
            if not cols:
                continue
            for row in db.session.execute(select(*cols)):
                parts.extend(str(v) for v in row if v)
    return "\n".join(parts)


def test_a_user_downloads_everything_stored_about_them(app, client, auth, make, make_issue):
    c, user, number = _resident_with_history(app, make, make_issue)
    auth.login(user)
    resp = client.get("/account/data.json")
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "private, no-store"
    assert "attachment" in resp.headers["Content-Disposition"]
    data = json.loads(resp.get_data(as_text=True))
    assert data["account"]["phone"] == user.phone and data["account"]["display_name"] == NAME
    assert "password_hash" not in data["account"] and "session_token" not in data["account"]
    records = data["records"]
    assert [i["title"] for i in records["issue"] if i["_as"] == "author_id"] == ["楼道灯不亮"]
    assert records["cosign"][0]["comment"] == "同意，早上扔垃圾要走很远"
    assert records["comment"][0]["body"] == "我家老人腿脚不便"
    assert records["membership"][0]["role"] == "resident"
    assert any(e["action"] == "issue.cosign" for e in records["audit_event"])


def test_the_download_needs_a_login(client):
    resp = client.get("/account/data.json")
    assert resp.status_code in (302, 303) and "/login" in resp.headers["Location"]


def test_deleting_removes_personal_data_and_keeps_the_record(app, client, auth, make, make_issue):
    c, user, number = _resident_with_history(app, make, make_issue)
    with app.app_context():
        assert verify_chain().ok
        head_before = head_hash()
    before = _everything_text(app)
    assert user.phone in before and NAME in before
    auth.login(user)

    wrong = client.post("/account/delete", data={"password": "not-it", "confirm": "y"})
    assert wrong.status_code == 400 and "密码不正确" in wrong.get_data(as_text=True)
    unconfirmed = client.post("/account/delete", data={"password": PASSWORD})
    assert unconfirmed.status_code == 400 and "请勾选确认" in unconfirmed.get_data(as_text=True)

    resp = client.post("/account/delete", data={"password": PASSWORD, "confirm": "y"})
    assert resp.status_code == 303
    after = _everything_text(app)
    assert user.phone not in after and NAME not in after
    with app.app_context():
        gone = db.session.get(User, user.id)
        assert gone.deleted_at is not None and gone.phone is None and gone.password_hash is None
        assert gone.pseudonym == user.pseudonym  # the record keeps the pseudonym
        assert {m.status for m in db.session.scalars(select(Membership).where(
            Membership.user_id == user.id))} == {MembershipStatus.REVOKED}
        report = verify_chain()
        assert report.ok and report.count >= 1
        # history is not rewritten: the earlier head is still in the chain
        from civic.audit.models import AuditEvent
        assert db.session.scalar(select(AuditEvent.seq).where(AuditEvent.hash == head_before))

    # the cookie no longer works, the number cannot log in, the issue stays public under
    # "已注销用户", never the name
    assert client.get("/account").status_code in (302, 303)
    assert auth.login(user).status_code != 303
    page = client.get(f"/c/{c.slug}/issues/{number}/").get_data(as_text=True)
    assert "楼道灯不亮" in page and "已注销用户" in page and NAME not in page


def test_the_phone_number_can_register_again_after_deletion(app, client, auth, make, make_issue):
    c, user, number = _resident_with_history(app, make, make_issue)
    auth.login(user)
    client.post("/account/delete", data={"password": PASSWORD, "confirm": "y"})
    with app.app_context():
        assert db.session.scalar(select(User).where(User.phone == user.phone)) is None
