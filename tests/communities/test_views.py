"""Community home, site administration and staff grants."""
from civic.accounts.models import User
from civic.audit.models import AuditEvent
from civic.communities.models import Community, Membership, Role
from civic.extensions import db
from tests.conftest import PASSWORD


def test_home_is_public_and_shows_counts(client, make):
    c = make.community(name="阳光小区")
    make.unit(c)
    html = client.get(f"/c/{c.slug}/").get_data(as_text=True)
    assert "阳光小区" in html and "注册" in html
    assert client.get("/c/nope/").status_code == 404


def test_home_offers_verification_to_unverified_user(client, make, auth):
    c = make.community()
    auth.login(make.user())
    html = client.get(f"/c/{c.slug}/").get_data(as_text=True)
    assert "输入邀请码" in html and "申请认证" in html
    assert "居委会工作台" not in html


def test_moderator_sees_workbench(client, make, auth):
    c = make.community()
    auth.login(make.staff(c, "moderator"))
    assert "居委会工作台" in client.get(f"/c/{c.slug}/").get_data(as_text=True)


def test_admin_creates_community(client, make, auth, app):
    auth.login(make.admin())
    resp = client.post("/admin/communities", data={"name": "翠竹苑", "slug": "cuizhu",
                                                   "district": "花木街道"})
    assert resp.status_code == 303
    with app.app_context():
        c = db.session.query(Community).filter_by(slug="cuizhu").one()
        assert db.session.query(AuditEvent).filter_by(action="community.create",
                                                      community_id=c.id).count() == 1


def test_create_community_bad_slug_rerenders(client, make, auth, app):
    auth.login(make.admin())
    resp = client.post("/admin/communities", data={"name": "翠竹苑", "slug": "Bad Slug!"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "网址标识只能用" in html and 'value="翠竹苑"' in html
    with app.app_context():
        assert db.session.query(Community).count() == 0


def test_only_admin_creates_communities(client, make, auth):
    c = make.community()
    for user in (make.user(), make.staff(c, "moderator")):
        auth.login(user)
        assert client.post("/admin/communities", data={"name": "x", "slug": "xyz"}).status_code == 403
        auth.logout()
    assert client.get("/admin/communities").status_code == 302


def test_moderator_grants_staff_role_logged_and_grantee_logged_out(app, make):
    c = make.community()
    mod = make.staff(c, "moderator")
    grantee = make.user()
    g_client, m_client = app.test_client(), app.test_client()
    g_client.post("/login", data={"phone": grantee.phone, "password": PASSWORD})
    m_client.post("/login", data={"phone": mod.phone, "password": PASSWORD})
    resp = m_client.post(f"/c/{c.slug}/manage/staff", data={
        "phone": grantee.phone, "role": "property", "title": "物业经理"})
    assert resp.status_code == 303
    with app.app_context():
        m = db.session.query(Membership).filter_by(user_id=grantee.id, role=Role.PROPERTY).one()
        assert m.granted_by_id == mod.id and m.title == "物业经理"
        ev = db.session.query(AuditEvent).filter_by(action="role.grant").one()
        assert ev.actor == mod.pseudonym and grantee.phone not in ev.payload
    # role change rotates the grantee's session: their old cookie no longer works
    assert g_client.get("/account").status_code == 302


def test_grant_unknown_phone_and_duplicate(client, make, auth):
    c = make.community()
    mod = make.staff(c, "moderator")
    auth.login(mod)
    resp = client.post(f"/c/{c.slug}/manage/staff", data={"phone": "13911112222", "role": "property"})
    assert resp.status_code == 400 and "没有找到" in resp.get_data(as_text=True)
    resp = client.post(f"/c/{c.slug}/manage/staff", data={"phone": mod.phone, "role": "moderator"})
    assert resp.status_code == 400 and "已经担任" in resp.get_data(as_text=True)


def test_staff_page_forbidden_to_others(client, make, auth):
    c, other = make.community(), make.community()
    for user in (make.resident(c), make.staff(c, "property"), make.staff(other, "moderator")):
        auth.login(user)
        assert client.get(f"/c/{c.slug}/manage/staff").status_code == 403
        assert client.post(f"/c/{c.slug}/manage/staff",
                           data={"phone": user.phone, "role": "moderator"}).status_code == 403
        auth.logout()


def test_forged_role_value_refused(client, make, auth, app):
    c = make.community()
    auth.login(make.staff(c, "moderator"))
    target = make.user()
    resp = client.post(f"/c/{c.slug}/manage/staff", data={"phone": target.phone, "role": "resident"})
    assert resp.status_code == 400
    with app.app_context():
        assert db.session.query(Membership).filter_by(user_id=target.id).count() == 0


def test_admin_appoints_first_moderator(client, make, auth, app):
    c = make.community()
    target = make.user()
    auth.login(make.admin())
    resp = client.post(f"/c/{c.slug}/manage/staff", data={"phone": target.phone, "role": "moderator"})
    assert resp.status_code == 303
    with app.app_context():
        assert db.session.get(User, target.id).memberships[0].role is Role.MODERATOR


def test_home_shows_pending_and_rejected_claims(app, client, make, auth):
    from civic.communities.models import Claim, ClaimStatus, Tenure
    c = make.community()
    unit = make.unit(c, number="808")
    user = make.user()
    with app.app_context():
        claim = Claim(community_id=c.id, user_id=user.id, unit_id=unit.id, tenure=Tenure.OWNER)
        db.session.add(claim)
        db.session.commit()
        claim_id = claim.id
    auth.login(user)
    assert "正在等待居委会审核" in client.get(f"/c/{c.slug}/").get_data(as_text=True)
    with app.app_context():
        db.session.get(Claim, claim_id).status = ClaimStatus.REJECTED
        db.session.commit()
    html = client.get(f"/c/{c.slug}/").get_data(as_text=True)
    assert "申请未通过" in html and "输入邀请码" in html


def test_home_lists_latest_issues(client, make, make_issue):
    c = make.community()
    make_issue(c, title="小区南门快递堆放")
    make_issue(c, title="私人草稿", state="draft")
    html = client.get(f"/c/{c.slug}/").get_data(as_text=True)
    assert "小区南门快递堆放" in html and "私人草稿" not in html
