"""Issue pages: propose, drafts, edit rules, list filters, search, privacy, XSS, query counts."""
import pytest

from civic.audit.models import AuditEvent
from civic.extensions import db
from civic.issues.models import Issue, IssueState

XSS = ['<script>alert(1)</script>', '<img src=x onerror=alert(1)>', '<a hx-get="/logout">x</a>']


def _propose(client, c, **overrides):
    data = {"title": "楼道灯坏了", "category": "设施维修", "building_id": "", "place_text": "",
            "body": "三楼楼道灯不亮", "action": "publish", "idempotency_key": "k1"}
    data.update(overrides)
    return client.post(f"/c/{c.slug}/issues/new", data=data, content_type="multipart/form-data")


def test_resident_proposes_and_publishes(app, client, make, auth):
    c = make.community()
    auth.login(make.resident(c))
    resp = _propose(client, c)
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/issues/1/")
    with app.app_context():
        issue = db.session.query(Issue).one()
        assert issue.state is IssueState.COLLECTING and issue.need_households == 20
        actions = [e.action for e in db.session.query(AuditEvent).order_by(AuditEvent.seq)]
        assert actions[-2:] == ["issue.propose", "issue.submit"]


def test_double_submit_of_the_form_creates_one_issue(app, client, make, auth):
    c = make.community()
    auth.login(make.resident(c))
    a, b = _propose(client, c), _propose(client, c)
    assert a.headers["Location"] == b.headers["Location"]
    with app.app_context():
        assert db.session.query(Issue).count() == 1


def test_bad_input_rerenders_with_values(app, client, make, auth):
    c = make.community()
    auth.login(make.resident(c))
    resp = _propose(client, c, title="", body="我写了很多内容", category="不存在")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "请填写此项" in html and "我写了很多内容" in html
    with app.app_context():
        assert db.session.query(Issue).count() == 0


def test_building_of_another_community_refused(app, client, make, auth):
    c, other = make.community(), make.community()
    b = make.building(other)
    auth.login(make.resident(c))
    resp = _propose(client, c, building_id=str(b.id))
    assert resp.status_code == 400
    with app.app_context():
        assert db.session.query(Issue).count() == 0


@pytest.mark.parametrize("who", ["anonymous", "unverified", "staff", "other_community"])
def test_only_residents_propose(client, make, auth, who):
    c = make.community()
    user = {"anonymous": lambda: None, "unverified": make.user,
            "staff": lambda: make.staff(c, "moderator"),
            "other_community": lambda: make.resident(make.community())}[who]()
    if user:
        auth.login(user)
    resp = _propose(client, c)
    assert resp.status_code == (302 if user is None else 403)


def test_draft_private_until_published(app, client, make, auth, make_issue):
    c = make.community()
    author = make.resident(c)
    iid, n = make_issue(c, author=author, state="draft", title="我的草稿")
    assert client.get(f"/c/{c.slug}/issues/{n}/").status_code == 404
    assert "我的草稿" not in client.get(f"/c/{c.slug}/issues/").get_data(as_text=True)
    auth.login(make.resident(c))
    assert client.get(f"/c/{c.slug}/issues/{n}/").status_code == 404
    auth.logout()
    auth.login(author)
    assert "只有你自己能看到" in client.get(f"/c/{c.slug}/issues/{n}/").get_data(as_text=True)
    assert "我的草稿" in client.get(f"/c/{c.slug}/issues/?mine=1").get_data(as_text=True)
    assert client.post(f"/c/{c.slug}/issues/{n}/submit").status_code == 303
    auth.logout()
    assert client.get(f"/c/{c.slug}/issues/{n}/").status_code == 200


def test_edit_until_first_cosign(app, client, make, auth, make_issue):
    c = make.community()
    author = make.resident(c)
    iid, n = make_issue(c, author=author)
    auth.login(author)
    data = {"title": "新标题", "category": "停车", "building_id": "", "place_text": "", "body": "b"}
    assert client.post(f"/c/{c.slug}/issues/{n}/edit", data=data).status_code == 303
    auth.logout()
    auth.login(make.resident(c))
    assert client.post(f"/c/{c.slug}/issues/{n}/edit", data=data).status_code == 403
    client.post(f"/c/{c.slug}/issues/{n}/cosign")
    auth.logout()
    auth.login(author)
    assert client.get(f"/c/{c.slug}/issues/{n}/edit").status_code == 403
    assert client.post(f"/c/{c.slug}/issues/{n}/edit", data={**data, "title": "再改"}).status_code == 403
    with app.app_context():
        assert db.session.get(Issue, iid).title == "新标题"


def test_withdraw_by_author_only_and_before_threshold(app, client, make, auth, make_issue):
    c = make.community()
    author = make.resident(c)
    iid, n = make_issue(c, author=author)
    auth.login(make.resident(c))
    assert client.post(f"/c/{c.slug}/issues/{n}/withdraw").status_code == 403
    auth.logout()
    auth.login(author)
    assert client.post(f"/c/{c.slug}/issues/{n}/withdraw").status_code == 303
    with app.app_context():
        assert db.session.get(Issue, iid).state is IssueState.WITHDRAWN
    iid2, n2 = make_issue(c, author=author, need=1)
    auth.logout()
    auth.login(make.resident(c))
    client.post(f"/c/{c.slug}/issues/{n2}/cosign")
    auth.logout()
    auth.login(author)
    client.post(f"/c/{c.slug}/issues/{n2}/withdraw")
    with app.app_context():
        assert db.session.get(Issue, iid2).state is IssueState.AWAITING_TRIAGE


def test_list_filters_search_and_sort(app, client, make, auth, make_issue):
    c = make.community()
    me = make.resident(c)
    make_issue(c, title="加装电梯的提议", category="加装电梯")
    make_issue(c, title="停车位不够", category="停车")
    _, n3 = make_issue(c, title="百分号 100% 测试", category="其他")
    auth.login(me)
    client.post(f"/c/{c.slug}/issues/{n3}/cosign")
    def titles(qs):
        return client.get(f"/c/{c.slug}/issues/?{qs}").get_data(as_text=True)
    assert "加装电梯的提议" in titles("q=电梯") and "停车位不够" not in titles("q=电梯")
    assert "停车位不够" in titles("category=停车") and "电梯的提议" not in titles("category=停车")
    assert "百分号" in titles("signed=1") and "停车位不够" not in titles("signed=1")
    assert "停车位不够" not in titles("q=%25")   # % is literal, not a wildcard
    assert "百分号" in titles("q=100%25")
    html = titles("sort=cosigns")
    assert html.index("百分号") < html.index("停车位不够")


@pytest.mark.parametrize("qs", ["sort=1;DROP TABLE issue", "page=abc", "page=-1", "page=99999999999",
                                "state=bogus", "building=1 OR 1=1", "sort=%27", "q=" + "长" * 500])
def test_garbage_query_parameters_are_ignored(client, make, qs):
    c = make.community()
    assert client.get(f"/c/{c.slug}/issues/?{qs}").status_code == 200


def test_htmx_list_returns_fragment(client, make, make_issue):
    c = make.community()
    make_issue(c, title="路灯")
    resp = client.get(f"/c/{c.slug}/issues/?q=路灯", headers={"HX-Request": "true"})
    html = resp.get_data(as_text=True)
    assert 'id="issue-list"' in html and "<html" not in html and "路灯" in html


def test_public_sees_building_residents_not_names(app, client, make, auth, make_issue):
    c = make.community()
    b = make.building(c, name="5号楼")
    author = make.resident(c, unit=make.unit(c, building=b), user=make.user(display_name="张秘密"))
    iid, n = make_issue(c, author=author)
    html = client.get(f"/c/{c.slug}/issues/{n}/").get_data(as_text=True)
    assert "5号楼居民" in html and "张秘密" not in html and author.phone not in html
    with app.app_context():
        from civic.accounts.models import User
        db.session.get(User, author.id).show_name = True
        db.session.commit()
    assert "张秘密" in client.get(f"/c/{c.slug}/issues/{n}/").get_data(as_text=True)


@pytest.mark.parametrize("payload", XSS)
def test_xss_in_title_body_comment_name_is_text(app, client, make, auth, payload):
    c = make.community()
    author = make.resident(c, user=make.user(display_name=payload, show_name=True))
    auth.login(author)
    _propose(client, c, title=payload[:80], body=payload + "\n\n[x](javascript:alert(1))")
    client.post(f"/c/{c.slug}/issues/1/comments", data={"body": payload})
    client.post(f"/c/{c.slug}/issues/1/cosign", data={"comment": payload[:140]})
    for path in (f"/c/{c.slug}/issues/1/", f"/c/{c.slug}/issues/", "/account"):
        html = client.get(path).get_data(as_text=True)
        assert "<script>alert" not in html and "onerror=alert" not in html.replace("onerror=alert(1)&gt;", "")
        assert '<a hx-get="/logout"' not in html and "javascript:alert" not in html.replace("(javascript:alert(1))", "")
    fragment = client.post(f"/c/{c.slug}/issues/1/cosign", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<script>alert" not in fragment


def test_user_content_wrapped_in_hx_disable(client, make, make_issue):
    c = make.community()
    _, n = make_issue(c, body="hello")
    html = client.get(f"/c/{c.slug}/issues/{n}/").get_data(as_text=True)
    assert '<h1 hx-disable>' in html and 'class="usercontent card" hx-disable' in html


def test_issue_list_query_count_is_constant(app, client, make, auth, make_issue, count_queries):
    c = make.community()
    auth.login(make.resident(c))
    make_issue(c)
    with count_queries() as few:
        assert client.get(f"/c/{c.slug}/issues/").status_code == 200
    for i in range(15):
        make_issue(c, title=f"议题{i}", need=2)
    with count_queries() as many:
        assert client.get(f"/c/{c.slug}/issues/").status_code == 200
    assert many.count == few.count, many.statements


def _first_comment(app, number, c):
    from civic.issues.models import Comment
    with app.app_context():
        issue = db.session.query(Issue).filter_by(community_id=c.id, number=number).one()
        return db.session.query(Comment).filter_by(issue_id=issue.id, parent_id=None).first().id


def test_issue_page_query_count_is_constant(app, client, make, auth, make_issue, count_queries):
    c = make.community()
    viewer = make.resident(c)
    _, n1 = make_issue(c)
    _, n2 = make_issue(c, need=100)
    # one co-sign, comment and reply on the first issue; eight of each on the second,
    # from residents of different buildings
    for number, times in ((n1, 1), (n2, 8)):
        for _ in range(times):
            auth.login(make.resident(c))
            client.post(f"/c/{c.slug}/issues/{number}/cosign", data={"comment": "支持"})
            client.post(f"/c/{c.slug}/issues/{number}/comments", data={"body": "同意"})
            first = _first_comment(app, number, c)
            client.post(f"/c/{c.slug}/issues/{number}/comments",
                        data={"body": "回复", "parent_id": str(first)})
            auth.logout()
    auth.login(viewer)
    with count_queries() as few:
        client.get(f"/c/{c.slug}/issues/{n1}/")
    with count_queries() as many:
        client.get(f"/c/{c.slug}/issues/{n2}/")
    assert many.count == few.count, many.statements
