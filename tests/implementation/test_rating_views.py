"""Ratings (是否解决 / 满意度) and 回头看 over HTTP: the 居民评价 section of the implementation
page, the rating form and its refusals, the issue panel's line, anonymity of the comments,
and the query budget."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from civic import clock
from civic.accounts.models import User
from civic.extensions import db
from civic.implementation import operations as ops
from civic.implementation import ratings
from civic.implementation.models import Rating
from civic.issues.models import Issue, IssueState
from tests.decisions.helpers import HX, base, client_for, count, flashes, issue, read, run, text_of
from tests.implementation.conftest import U, the_issue


def _page(h) -> str:
    return f"{base(h)}/implementation"


def _url(h) -> str:
    return f"{base(h)}/ratings"


def complete(app, h):
    """The lead body (物业) marks the work completed; returns completed_at."""
    run(app, lambda: ops.post_update(U(h.prop), the_issue(h), status="completed",
                                     text="已完工。", photos=[]))
    return issue(app, h).completed_at


def rate(app, h, who, score, resolved=True, comment="") -> int:
    """A rating through the operation (faster than HTTP)."""
    return run(app, lambda: ratings.rate(U(who), the_issue(h), resolved=resolved,
                                         score=score, comment=comment).id)


def local(dt) -> str:
    return clock.local(dt).strftime("%Y-%m-%d %H:%M")


def rows(app) -> list[tuple[int, str, bool, str]]:
    return read(app, lambda: [(r.unit_id, r.score.value, r.resolved, r.comment)
                              for r in db.session.scalars(select(Rating).order_by(Rating.id))])


def section(html: str) -> str:
    """The 居民评价 section alone."""
    i = html.index('id="ratings"')
    return html[i:html.index("</section>", i)]


ANSWER = {"resolved": "yes", "score": "satisfied", "comment": ""}


# --- rating ----------------------------------------------------------------------------

def test_a_household_rates_once_over_http(app, make, effective):
    h = effective
    anonymous = app.test_client()
    home = make.unit(h.community)
    first = make.resident(h.community, home)
    client = client_for(app, first)
    # not completed yet: no section, and a POST is told why
    assert 'id="ratings"' not in text_of(anonymous.get(_page(h)))
    resp = client.post(_url(h), data=ANSWER)
    assert resp.status_code == 303 and any("不在评价期内" in m for m in flashes(client))
    assert rows(app) == []
    done = complete(app, h)
    same_home = make.resident(h.community, home, tenure="tenant")
    neighbour = make.resident(h.community)
    stranger = make.user()           # logged in, not a resident here

    # the open window: closing time, the rule, the form
    html = section(text_of(client.get(_page(h))))
    assert "<h2>居民评价</h2>" in html
    assert f"评价期截至 {local(done + timedelta(days=14))}。" in html
    assert "办结后 14 天内，每户可评价一次；评价期结束时，若超过半数为“不满意”，" \
           "议题将转入“回头看”，由联席会议复查。" in html
    assert "<legend>问题是否已解决？</legend>" in html and "<legend>满意度</legend>" in html
    for value, label in (("yes", "已解决"), ("no", "未解决"), ("satisfied", "满意"),
                         ("basic", "基本满意"), ("unsatisfied", "不满意")):
        assert f'value="{value}"> <span>{label}</span>' in html, value
    assert 'name="comment"' in html and "提交评价" in html
    assert '<dd class="rate">—</dd>' in html   # nobody has answered yet

    resp = client.post(_url(h), data=ANSWER | {"comment": "排水泵换了，雨天不再积水。"})
    assert resp.status_code == 303 and resp.headers["Location"] == _page(h) + "#ratings"
    assert "感谢评价。" in flashes(client)
    assert rows(app) == [(home.id, "satisfied", True, "排水泵换了，雨天不再积水。")]
    html = section(text_of(client.get(_page(h))))
    assert "你家已评价：满意" in html and 'name="score"' not in html
    assert '<dd class="rate">100.0%</dd>' in html

    # the other resident of the same home: no form, and a POST is refused
    other = client_for(app, same_home)
    html = section(text_of(other.get(_page(h))))
    assert "你家已评价：满意" in html and 'name="score"' not in html
    resp = other.post(_url(h), data=ANSWER | {"score": "unsatisfied", "resolved": "no"})
    assert resp.status_code == 303 and resp.headers["Location"] == _page(h) + "#ratings"
    assert any("每户只能评价一次" in m for m in flashes(other))
    assert len(rows(app)) == 1

    # another household, through htmx
    resp = client_for(app, neighbour).post(_url(h), data=ANSWER | {"score": "basic"},
                                           headers=HX)
    assert resp.status_code == 204 and resp.headers["HX-Location"] == _page(h) + "#ratings"
    assert [r[1] for r in rows(app)] == ["satisfied", "basic"]

    # staff (who carried out the work) and people from elsewhere get 403
    for person in (h.prop, h.mod, h.assoc, stranger):
        c = client_for(app, person)
        assert c.post(_url(h), data=ANSWER).status_code == 403
        html = section(text_of(c.get(_page(h))))
        assert "只有本小区已认证的居民可以评价" in html and 'name="score"' not in html
    # the public is asked to log in
    resp = anonymous.post(_url(h), data=ANSWER)
    assert resp.status_code in (302, 303) and "/login" in resp.headers["Location"]
    html = section(text_of(anonymous.get(_page(h))))
    assert "登录后评价" in html and "/login?next=" in html and 'name="score"' not in html
    assert len(rows(app)) == 2
    assert app.test_client().post(
        f"/c/{h.community.slug}/issues/999/ratings", data=ANSWER).status_code in (302, 303)
    assert client.post(f"/c/{h.community.slug}/issues/999/ratings",
                       data=ANSWER).status_code == 404


def test_a_missing_answer_comes_back_with_the_values_kept(app, make, effective):
    h = effective
    complete(app, h)
    client = client_for(app, make.resident(h.community))
    data = {"resolved": "no", "comment": "<b>挡水板</b>还没装"}
    resp = client.post(_url(h), data=data)
    html = text_of(resp)
    assert resp.status_code == 400 and "请选择满意、基本满意或不满意。" in html
    assert "<h1>实施与支出</h1>" in html and 'id="ratings"' in html   # the whole page
    assert 'id="rating-resolved-no" value="no" checked>' in html
    assert 'id="rating-resolved-yes" value="yes">' in html
    assert "&lt;b&gt;挡水板&lt;/b&gt;还没装</textarea>" in html
    assert 'aria-describedby="rating-score-err"' in html and "请选择问题是否已解决" not in html
    hx = client.post(_url(h), data=data, headers=HX)
    assert hx.status_code == 200 and text_of(hx).lstrip().startswith('<div id="rate">')
    assert "请选择满意、基本满意或不满意。" in text_of(hx) and "<html" not in text_of(hx)
    # every missing answer is named at once; bad values and long comments at their field
    html = text_of(client.post(_url(h), data={}))
    assert "请选择问题是否已解决。" in html and "请选择满意、基本满意或不满意。" in html
    resp = client.post(_url(h), data=ANSWER | {"score": "great", "resolved": "maybe"})
    assert resp.status_code == 400 and "请选择问题是否已解决。" in text_of(resp)
    resp = client.post(_url(h), data=ANSWER | {"comment": "评" * 501})
    assert resp.status_code == 400 and "补充说明不能超过 500 字。" in text_of(resp)
    assert rows(app) == []


# --- the window closes, 回头看 ---------------------------------------------------------

def test_a_majority_unsatisfied_turns_the_issue_to_review(app, make, effective):
    h = effective
    done = complete(app, h)
    a, b, c, late = (make.resident(h.community) for _ in range(4))
    rate(app, h, a, "unsatisfied", resolved=False)
    rate(app, h, b, "unsatisfied", resolved=False)
    rate(app, h, c, "basic")
    html = text_of(app.test_client().get(f"{base(h)}/"))   # the issue panel
    assert f"已办结，请评价（截至 {local(done + timedelta(days=14))}）" in html
    assert f'href="{_page(h)}#ratings"' in html
    tally = section(text_of(app.test_client().get(_page(h))))
    assert "33.3%" in tally and "参与评价" in tally and "3 户" in tally
    assert '<progress class="meter" max="100" value="66"' in tally   # 不满意 2 of 3

    clock.freeze(done + timedelta(days=14))
    assert run(app, ratings.close_due) == (1, 1)
    assert issue(app, h).state is IssueState.UNDER_REVIEW
    opened = issue(app, h).review_opened_at
    client = client_for(app, late)
    html = section(text_of(client.get(_page(h))))
    assert 'name="score"' not in html and "提交评价" not in html
    assert (f"回头看：评价期内 3 户中 2 户不满意，已于 {local(opened)} 转入复查。"
            "负责方会继续发布进展并重新确认办结。") in html
    assert "33.3%" in html   # the tally stays
    resp = client.post(_url(h), data=ANSWER)
    assert resp.status_code == 303 and any("不在评价期内" in m for m in flashes(client))
    assert len(rows(app)) == 3
    panel = text_of(app.test_client().get(f"{base(h)}/"))
    assert 'id="implementation"' in panel and "多数住户评价不满意，正在复查" in panel
    assert "请评价" not in panel

    # the lead body carries on and completes again: a second window, the first one listed
    again = complete(app, h)
    rate(app, h, a, "satisfied")
    html = section(text_of(client.get(_page(h))))
    assert "回头看：" not in html and f"评价期截至 {local(again + timedelta(days=14))}" in html
    assert "<h3>第 2 轮评价</h3>" in html and 'name="score"' in html
    assert "第 1 轮评价：满意 0 · 基本满意 1 · 不满意 2 · 已解决 1 · 共 3 户 · " \
           "满意率 33.3%（转入回头看）" in html


def test_a_window_without_a_majority_just_closes(app, make, effective):
    h = effective
    done = complete(app, h)
    a, b = (make.resident(h.community) for _ in range(2))
    rate(app, h, a, "unsatisfied", resolved=False)
    rate(app, h, b, "satisfied")
    clock.freeze(done + timedelta(days=14))
    assert run(app, ratings.close_due) == (1, 0)
    html = section(text_of(client_for(app, make.resident(h.community)).get(_page(h))))
    assert f"评价期已于 {local(done + timedelta(days=14))} 结束。" in html
    assert 'name="score"' not in html and "回头看：" not in html and "50.0%" in html
    panel = text_of(app.test_client().get(f"{base(h)}/"))
    assert "评价期已结束，查看居民评价" in panel and "请评价" not in panel


# --- anonymity and cost ----------------------------------------------------------------

def test_comments_are_shown_anonymously_newest_first(app, make, effective):
    h = effective
    complete(app, h)
    people = [make.resident(h.community, user=make.user(display_name=name))
              for name in ("王秀英", "李建国", "赵敏")]
    for person, (score, comment) in zip(people, (("satisfied", "第一条：施工很及时"),
                                                 ("unsatisfied", ""),
                                                 ("basic", "第三条：<script>x</script>"))):
        client = client_for(app, person)
        assert client.post(_url(h), data=ANSWER | {"score": score,
                                                   "comment": comment}).status_code == 303
    assert len(rows(app)) == 3
    users = [read(app, lambda p=p: db.session.get(User, p.id)) for p in people]
    for viewer in (app.test_client(), client_for(app, people[0]), client_for(app, h.mod)):
        html = section(text_of(viewer.get(_page(h))))
        assert "补充说明（2 条）" in html and html.count("一户居民") == 2
        assert html.index("第三条") < html.index("第一条")   # newest first
        assert "&lt;script&gt;x&lt;/script&gt;" in html and "<script>x" not in html
        for user in users:
            assert user.display_name not in html and user.phone not in html
    full = text_of(app.test_client().get(_page(h)))
    for user in users:
        assert user.display_name not in full and user.phone not in full


def test_the_page_runs_the_same_queries_for_2_or_8_ratings(app, make, effective,
                                                            count_queries):
    h = effective
    complete(app, h)
    viewer = make.resident(h.community)   # has not rated: sees the form
    rated = make.resident(h.community)    # sees 你家已评价
    rate(app, h, rated, "basic", comment="还行")
    clients = (app.test_client(), client_for(app, viewer), client_for(app, rated),
               client_for(app, h.prop))

    def queries() -> tuple[int, ...]:
        out = []
        for client in clients:
            for url in (_page(h), f"{base(h)}/"):
                with count_queries() as q:
                    assert client.get(url).status_code == 200
                out.append(q.count)
        return tuple(out)

    rate(app, h, make.resident(h.community), "unsatisfied", resolved=False)
    few = queries()
    for i in range(6):
        rate(app, h, make.resident(h.community), "unsatisfied" if i % 2 else "basic",
             resolved=not i % 2, comment=f"意见 {i}")
    assert count(app, Rating) == 8
    assert queries() == few
    assert "补充说明（7 条）" in text_of(clients[0].get(_page(h)))


def test_a_hidden_issue_keeps_its_ratings_hidden(app, make, effective):
    h = effective
    complete(app, h)
    resident = make.resident(h.community)

    def hide():
        db.session.get(Issue, h.issue_id).hidden_at = clock.now()
    run(app, hide)
    assert app.test_client().get(_page(h)).status_code == 404
    assert client_for(app, resident).post(_url(h), data=ANSWER).status_code == 404
    assert "居民评价" in text_of(client_for(app, h.mod).get(_page(h)))
    assert rows(app) == []
