"""Hidden content never reaches the public or residents: lists, the issue page, comments,
photos; moderators of the community see it marked; the author is told why; restoring
brings it back; the original text is kept."""
import io

import pytest

from civic.extensions import db
from civic.issues.models import Comment, Issue, IssuePhoto
from tests.conftest import PASSWORD, jpeg_bytes
from tests.moderation.conftest import moderate

NOTICE = "此内容已被隐藏，等待居委会复核。"


@pytest.fixture
def hidden_issue(app, make, make_comment):
    """A community with a hidden issue (with a photo and a comment) and a visible one."""
    c = make.community()
    author = make.resident(c)
    client = app.test_client()
    client.post("/login", data={"phone": author.phone, "password": PASSWORD})
    resp = client.post(f"/c/{c.slug}/issues/new", content_type="multipart/form-data", data={
        "title": "隐藏标题XYZ", "category": "其他", "building_id": "", "place_text": "",
        "body": "隐藏正文XYZ", "action": "publish", "idempotency_key": "h1",
        "photos": [(io.BytesIO(jpeg_bytes()), "a.jpg")]})
    assert resp.status_code == 303
    visible = app.test_client()
    visible.post("/login", data={"phone": author.phone, "password": PASSWORD})
    visible.post(f"/c/{c.slug}/issues/new", data={
        "title": "可见议题ABC", "category": "其他", "building_id": "", "place_text": "",
        "body": "", "action": "publish", "idempotency_key": "v1"})
    with app.app_context():
        issue = db.session.query(Issue).filter_by(title="隐藏标题XYZ").one()
        stem = db.session.query(IssuePhoto).one().stem
        iid, number = issue.id, issue.number
    make_comment(iid, make.resident(c), body="议题下的意见")
    mod = make.staff(c, "moderator")
    mc = app.test_client()
    mc.post("/login", data={"phone": mod.phone, "password": PASSWORD})
    assert moderate(mc, c, "issue", iid, "hide", reason="含有住户电话号码").status_code == 303
    return {"c": c, "author": author, "mod": mod, "iid": iid, "n": number, "stem": stem}


def _viewer(make, who, c):
    other = make.community()
    return {"anonymous": lambda: None, "user": make.user, "resident": lambda: make.resident(c),
            "tenant": lambda: make.resident(c, tenure="tenant"),
            "property": lambda: make.staff(c, "property"),
            "association": lambda: make.staff(c, "association"),
            "observer": lambda: make.staff(c, "observer"),
            "other_moderator": lambda: make.staff(other, "moderator"),
            "other_resident": lambda: make.resident(other)}[who]()


OUTSIDERS = ["anonymous", "user", "resident", "tenant", "property", "association", "observer",
             "other_moderator", "other_resident"]


@pytest.mark.parametrize("who", OUTSIDERS)
def test_hidden_issue_absent_for_everyone_but_moderators(client, make, auth, hidden_issue, who):
    h = hidden_issue
    c, n = h["c"], h["n"]
    user = _viewer(make, who, c)
    if user:
        auth.login(user)
    listing = client.get(f"/c/{c.slug}/issues/").get_data(as_text=True)
    assert "隐藏标题XYZ" not in listing and "可见议题ABC" in listing
    assert "共 1 个议题" in listing
    assert "隐藏标题XYZ" not in client.get(f"/c/{c.slug}/issues/?q=XYZ").get_data(as_text=True)
    assert "隐藏标题XYZ" not in client.get(f"/c/{c.slug}/").get_data(as_text=True)
    page = client.get(f"/c/{c.slug}/issues/{n}/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and NOTICE in html
    for secret in ("隐藏标题XYZ", "隐藏正文XYZ", "议题下的意见", h["stem"], "含有住户电话号码"):
        assert secret not in html
    assert client.get(f"/c/{c.slug}/photos/{h['stem']}.jpg").status_code == 404
    assert client.get(f"/c/{c.slug}/photos/{h['stem']}_t.jpg").status_code == 404


def test_hidden_issue_refuses_cosign_and_comment(app, client, make, auth, hidden_issue):
    h = hidden_issue
    c, n = h["c"], h["n"]
    auth.login(make.resident(c))
    assert client.post(f"/c/{c.slug}/issues/{n}/cosign").status_code == 404
    assert client.post(f"/c/{c.slug}/issues/{n}/comments", data={"body": "x"}).status_code == 404
    with app.app_context():
        issue = db.session.get(Issue, h["iid"])
        assert issue.cosign_count == 0
        assert db.session.query(Comment).filter_by(issue_id=issue.id).count() == 1


def test_author_sees_notice_and_reason_only(client, auth, hidden_issue):
    h = hidden_issue
    auth.login(h["author"])
    html = client.get(f"/c/{h['c'].slug}/issues/{h['n']}/").get_data(as_text=True)
    assert NOTICE in html and "含有住户电话号码" in html and "隐藏正文XYZ" not in html
    assert "隐藏标题XYZ" not in client.get(f"/c/{h['c'].slug}/issues/?mine=1").get_data(as_text=True)
    assert client.get(f"/c/{h['c'].slug}/issues/{h['n']}/edit").status_code == 404
    assert client.get(f"/c/{h['c'].slug}/photos/{h['stem']}.jpg").status_code == 404


def test_moderator_sees_it_marked(client, auth, hidden_issue):
    h = hidden_issue
    c = h["c"]
    auth.login(h["mod"])
    listing = client.get(f"/c/{c.slug}/issues/").get_data(as_text=True)
    assert "隐藏标题XYZ" in listing and "已隐藏" in listing and "共 2 个议题" in listing
    html = client.get(f"/c/{c.slug}/issues/{h['n']}/").get_data(as_text=True)
    assert "隐藏标题XYZ" in html and "隐藏正文XYZ" in html and "议题下的意见" in html
    assert "此议题已隐藏，居民和公众看不到。" in html and "含有住户电话号码" in html
    photo = client.get(f"/c/{c.slug}/photos/{h['stem']}.jpg")
    assert photo.status_code == 200 and photo.headers["Cache-Control"] == "private, no-store"


def test_restore_brings_it_back(client, make, auth, hidden_issue):
    h = hidden_issue
    c = h["c"]
    auth.login(h["mod"])
    assert moderate(client, c, "issue", h["iid"], "restore", reason="已核实，无个人信息").status_code == 303
    auth.logout()
    assert "隐藏标题XYZ" in client.get(f"/c/{c.slug}/issues/").get_data(as_text=True)
    html = client.get(f"/c/{c.slug}/issues/{h['n']}/").get_data(as_text=True)
    assert "隐藏正文XYZ" in html and NOTICE not in html
    photo = client.get(f"/c/{c.slug}/photos/{h['stem']}.jpg")
    assert photo.status_code == 200 and "public" in photo.headers["Cache-Control"]


def test_original_text_is_kept(app, hidden_issue):
    with app.app_context():
        issue = db.session.get(Issue, hidden_issue["iid"])
        assert issue.title == "隐藏标题XYZ" and issue.body == "隐藏正文XYZ"
        assert "隐藏正文XYZ" in issue.body_html and len(issue.photos) == 1


# --- comments --------------------------------------------------------------------------

@pytest.fixture
def hidden_comment(app, make, make_issue, make_comment):
    c = make.community()
    iid, n = make_issue(c, title="路灯不亮")
    author = make.resident(c)
    cid = make_comment(iid, author, body="这条意见要被隐藏QQQ")
    make_comment(iid, make.resident(c), body="这条回复保持可见", parent_id=cid)
    make_comment(iid, make.resident(c), body="另一条可见意见")
    mod = make.staff(c, "moderator")
    mc = app.test_client()
    mc.post("/login", data={"phone": mod.phone, "password": PASSWORD})
    assert moderate(mc, c, "comment", cid, "hide", reason="人身攻击邻居").status_code == 303
    return {"c": c, "n": n, "cid": cid, "author": author, "mod": mod}


@pytest.mark.parametrize("who", OUTSIDERS)
def test_hidden_comment_replaced_for_non_moderators(client, make, auth, hidden_comment, who):
    h = hidden_comment
    user = _viewer(make, who, h["c"])
    if user:
        auth.login(user)
    html = client.get(f"/c/{h['c'].slug}/issues/{h['n']}/").get_data(as_text=True)
    assert "（该意见已被隐藏）" in html and "这条意见要被隐藏QQQ" not in html
    assert "人身攻击邻居" not in html
    assert "这条回复保持可见" in html and "另一条可见意见" in html and "路灯不亮" in html


def test_hidden_comment_takes_no_replies(client, make, auth, hidden_comment):
    h = hidden_comment
    auth.login(make.resident(h["c"]))
    html = client.get(f"/c/{h['c'].slug}/issues/{h['n']}/").get_data(as_text=True)
    assert f'name="parent_id" value="{h["cid"]}"' not in html


def test_comment_author_sees_reason(client, auth, hidden_comment):
    h = hidden_comment
    auth.login(h["author"])
    html = client.get(f"/c/{h['c'].slug}/issues/{h['n']}/").get_data(as_text=True)
    assert "（该意见已被隐藏）" in html and "人身攻击邻居" in html
    assert "这条意见要被隐藏QQQ" not in html


def test_moderator_sees_hidden_comment_marked(client, auth, hidden_comment):
    h = hidden_comment
    auth.login(h["mod"])
    html = client.get(f"/c/{h['c'].slug}/issues/{h['n']}/").get_data(as_text=True)
    assert "这条意见要被隐藏QQQ" in html and "（该意见已被隐藏）" not in html
    block = html.split(f'id="comment-{h["cid"]}"')[1].split("</p>")[0]
    assert "已隐藏" in block


def test_restored_comment_visible_again(client, auth, hidden_comment):
    h = hidden_comment
    auth.login(h["mod"])
    moderate(client, h["c"], "comment", h["cid"], "restore", reason="误会已澄清")
    auth.logout()
    html = client.get(f"/c/{h['c'].slug}/issues/{h['n']}/").get_data(as_text=True)
    assert "这条意见要被隐藏QQQ" in html and "（该意见已被隐藏）" not in html


def test_issue_page_query_count_constant_with_hidden_comments(app, client, make, auth, make_issue,
                                                              make_comment, count_queries):
    c = make.community()
    mod = make.staff(c, "moderator")
    i1, n1 = make_issue(c)
    i2, n2 = make_issue(c)
    make_comment(i1, make.resident(c))
    ids = [make_comment(i2, make.resident(c)) for _ in range(6)]
    auth.login(mod)
    for cid in ids[:3]:
        moderate(client, c, "comment", cid, "hide")
    for viewer in (make.resident(c), mod):
        auth.logout()
        auth.login(viewer)
        with count_queries() as few:
            client.get(f"/c/{c.slug}/issues/{n1}/")
        with count_queries() as many:
            client.get(f"/c/{c.slug}/issues/{n2}/")
        assert many.count == few.count, many.statements
