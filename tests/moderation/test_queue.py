"""The moderators' queue: open reports first, with text, counts and reasons; hidden items
stay listed so they can be restored; a fixed number of queries."""
from tests.conftest import PASSWORD
from tests.moderation.conftest import moderate, report


def _login(app, user):
    client = app.test_client()
    client.post("/login", data={"phone": user.phone, "password": PASSWORD})
    return client


def test_queue_lists_open_reports_first_then_hidden(app, client, make, auth, make_issue,
                                                    make_comment):
    c = make.community()
    mod = make.staff(c, "moderator")
    i_hidden, _ = make_issue(c, title="早已隐藏的议题")
    i_reported, _ = make_issue(c, title="被举报的议题", body="**正文**内容")
    i_quiet, _ = make_issue(c, title="没人举报的议题")
    cid = make_comment(i_quiet, make.resident(c), body="被举报的意见")
    moderate(_login(app, mod), c, "issue", i_hidden, "hide", reason="隐藏理由R1")
    for reason, detail in (("广告", ""), ("广告", ""), ("其他", "重复发帖")):
        r = _login(app, make.resident(c))
        report(r, c, "issue", i_reported, reason=reason, detail=detail)
    report(_login(app, make.resident(c)), c, "comment", cid, reason="人身攻击")
    auth.login(mod)
    html = client.get(f"/c/{c.slug}/manage/reports").get_data(as_text=True)
    assert "共 3 条" in html and "没人举报的议题" not in html
    assert html.index("被举报的意见") < html.index("早已隐藏的议题")
    assert html.index("被举报的议题") < html.index("早已隐藏的议题")
    assert "广告 ×2" in html and "其他：重复发帖" in html and "人身攻击" in html
    assert "<strong>正文</strong>" in html          # the sanitised text, shown as written
    assert "隐藏理由R1" in html and "多户居民举报，等待居委会复核" in html   # 3 reports hid it
    assert "恢复显示" in html and "驳回举报" in html


def test_queue_query_count_is_constant(app, client, make, auth, make_issue, make_comment,
                                       count_queries):
    c = make.community()
    mod = make.staff(c, "moderator")

    def add_items(k):
        for _ in range(k):
            iid, _n = make_issue(c)
            cid = make_comment(iid, make.resident(c))
            reporter = _login(app, make.resident(c))
            report(reporter, c, "issue", iid)
            report(reporter, c, "comment", cid, reason="其他", detail="理由")
            moderate(_login(app, mod), c, "issue", make_issue(c)[0], "hide")

    add_items(1)
    auth.login(mod)
    with count_queries() as few:
        assert client.get(f"/c/{c.slug}/manage/reports").status_code == 200
    add_items(6)
    with count_queries() as many:
        assert client.get(f"/c/{c.slug}/manage/reports").status_code == 200
    assert many.count == few.count, many.statements


def test_queue_pages(app, client, make, auth, make_issue):
    from civic.moderation import queries
    c = make.community()
    mod = make.staff(c, "moderator")
    mc = _login(app, mod)
    for i in range(queries.PER_PAGE + 2):
        moderate(mc, c, "issue", make_issue(c, title=f"第{i}号隐藏")[0], "hide")
    auth.login(mod)
    first = client.get(f"/c/{c.slug}/manage/reports").get_data(as_text=True)
    second = client.get(f"/c/{c.slug}/manage/reports?page=2").get_data(as_text=True)
    assert "1 / 2" in first and "第0号隐藏" not in first and "第0号隐藏" in second
    for junk in ("page=abc", "page=-1", "page=99999999999"):
        assert client.get(f"/c/{c.slug}/manage/reports?{junk}").status_code == 200
