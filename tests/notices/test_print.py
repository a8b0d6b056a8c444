"""Print views of notices: each carries the community, the kind of notice, the title, the
key figures, the issuing body and date, and a QR code that decodes to the short link —
which leads to the page printed. Drafts, hidden issues and notices not yet out are not found."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from civic import clock
from civic.ballots import operations as ballot_ops
from civic.ballots.models import Ballot, BallotState
from civic.communities.models import Community
from civic.consultation.models import Consultation, Round, RoundState
from civic.decisions.models import Decision, DecisionState
from civic.extensions import db
from civic.issues.models import Issue, IssueState
from civic.money import format_fen
from tests.notices.conftest import BASE, MODERATOR, RESIDENT
from tests.notices.qr import decode_page


def _lands_on(client, html: str, page: str) -> str:
    """The page's one QR code is an absolute short link that redirects to `page`."""
    [url] = decode_page(html)
    assert url.startswith(BASE + "/s/"), url
    resp = client.get(url[len(BASE):])
    assert resp.status_code == 302 and resp.headers["Location"] == page, (url, resp.headers)
    assert url in html   # printed under the code too, for whoever cannot scan
    return url


def _no_private_bits(html: str) -> None:
    assert "csrf_token" not in html and "X-CSRFToken" not in html
    assert "13800000" not in html


def _one(model, *where):
    return db.session.scalar(select(model).where(*where).order_by(model.id))


def test_decision_notice(demo, client, ctx):
    d = _one(Decision, Decision.state == DecisionState.PUBLICITY)
    issue = db.session.get(Issue, d.issue_id)
    page = f"/c/huayuan/issues/{issue.number}/decisions/{d.version}"
    resp = client.get(page + "/print")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    for text in ("花园小区", "决议公示", d.title, f"¥{format_fen(d.budget_fen)}", "公示期",
                 clock.local(d.publicity_ends_at).strftime("%Y-%m-%d %H:%M"), "资金来源",
                 "负责实施", "表决情况", "同意 ", "花园小区居民委员会",
                 f"{clock.local(d.published_at).year}年", "扫码查看详情"):
        assert text in html, text
    assert _lands_on(client, html, page) == f"{BASE}/s/d{d.id}"
    _no_private_bits(html)
    # the page links to it
    assert f'href="{page}/print"' in client.get(page).get_data(as_text=True)


def test_only_published_decisions_print(demo, client, ctx):
    waiting = _one(Decision, Decision.state == DecisionState.AWAITING_BALLOT)
    issue = db.session.get(Issue, waiting.issue_id)
    assert client.get(f"/c/huayuan/issues/{issue.number}/decisions/{waiting.version}"
                      ).status_code == 200
    assert client.get(f"/c/huayuan/issues/{issue.number}/decisions/{waiting.version}/print"
                      ).status_code == 404
    assert client.get(f"/c/huayuan/issues/{issue.number}/decisions/99/print").status_code == 404


def test_ballot_notice_and_result(demo, client, ctx):
    b = _one(Ballot)
    assert b.state is BallotState.OPEN
    page = f"/c/huayuan/ballots/{b.number}"
    resp = client.get(page + "/notice/print")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    for text in ("花园小区", "业主表决公告", b.title, "表决事项", "表决期", "参与条件", "通过条件",
                 clock.local(b.closes_at).strftime("%Y-%m-%d %H:%M"), "花园小区居民委员会",
                 "扫码查看详情"):
        assert text in html, text
    assert _lands_on(client, html, page) == f"{BASE}/s/b{b.id}"
    _no_private_bits(html)
    # no result before the count
    assert client.get(page + "/result/print").status_code == 404
    assert "/result/print" not in client.get(page).get_data(as_text=True)

    clock.freeze(b.closes_at + timedelta(minutes=1))
    with demo.test_request_context("/", method="POST"):
        assert ballot_ops.run_due()["counted"] == 1
        db.session.commit()
    db.session.expire_all()
    b = db.session.get(Ballot, b.id)
    assert b.state is BallotState.PROVISIONAL
    result = ballot_ops.tally(b)
    resp = client.get(page + "/result/print")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    verdict = "表决结果：通过" if result.approved else "表决结果：未通过"
    for text in ("表决结果公告", b.title, verdict, "（暂定）", "参与表决", "同意", "反对", "弃权",
                 f"{result.total_area:.2f} 平方米", f"{result.total_heads} 人", "异议期",
                 clock.local(b.objection_ends_at).strftime("%Y-%m-%d %H:%M"), "花园小区居民委员会"):
        assert text in html, text
    assert _lands_on(client, html, page) == f"{BASE}/s/b{b.id}"
    assert f'href="{page}/result/print"' in client.get(page).get_data(as_text=True)


def test_round_notice(demo, client, ctx):
    rnd = _one(Round, Round.state == RoundState.OPEN)
    issue = db.session.get(Issue, db.session.get(Consultation, rnd.consultation_id).issue_id)
    page = f"/c/huayuan/issues/{issue.number}/rounds/{rnd.number}"
    resp = client.get(page + "/print")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    for text in ("花园小区", "协商议事公告", issue.title, "会议时间", "会议地点", rnd.place,
                 clock.local(rnd.starts_at).strftime("%Y-%m-%d %H:%M"), "表决截止", "参会单位",
                 "待议方案", "花园小区居民委员会", "扫码查看详情"):
        assert text in html, text
    assert "居委会主任" in html and "王红" not in html   # seats by office, never by name
    assert _lands_on(client, html, page) == f"{BASE}/s/r{rnd.id}"

    # a round whose notice is not out yet has no notice, and no short link
    db.session.execute(update(Round).where(Round.id == rnd.id).values(state=RoundState.DRAFT))
    db.session.commit()
    assert client.get(page + "/print").status_code == 404
    assert client.get(f"/s/r{rnd.id}").status_code == 404


def test_cosign_poster(demo, client, ctx):
    issue = _one(Issue, Issue.state == IssueState.COLLECTING)
    page = f"/c/huayuan/issues/{issue.number}/"
    resp = client.get(f"/c/huayuan/issues/{issue.number}/poster")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    for text in ("花园小区", "联署征集", issue.title, "同意的邻居，请扫码联署",
                 f"{issue.cosign_count} 户", f"需 {issue.need_households} 户", "征集截止",
                 clock.local(issue.expires_at).strftime("%Y-%m-%d"), "扫码查看详情"):
        assert text in html, text
    assert issue.building.name in html and issue.place_text in html   # 3号楼 · 北侧人行道
    assert _lands_on(client, html, page) == f"{BASE}/s/i{issue.id}"
    _no_private_bits(html)
    assert issue.author.display_name not in html
    assert f"/c/huayuan/issues/{issue.number}/poster" in client.get(page).get_data(as_text=True)


def test_no_poster_once_co_signing_is_over_or_for_drafts_and_hidden_issues(demo, login, ctx):
    client = login(RESIDENT)   # the demo resident is the author of the draft
    declined = _one(Issue, Issue.state == IssueState.DECLINED)
    draft = _one(Issue, Issue.state == IssueState.DRAFT)
    assert client.get(f"/c/huayuan/issues/{draft.number}/").status_code == 200
    for issue in (declined, draft):
        assert client.get(f"/c/huayuan/issues/{issue.number}/poster").status_code == 404
        assert "/poster" not in client.get(f"/c/huayuan/issues/{issue.number}/"
                                           ).get_data(as_text=True)
    collecting = _one(Issue, Issue.state == IssueState.COLLECTING)
    collecting.hidden_at = clock.now()
    db.session.commit()
    moderator = demo.test_client()
    moderator.post("/login", data={"phone": MODERATOR, "password": "civic-demo-2026"})
    for c in (client, moderator):   # hidden: no poster even for the moderators who see it
        assert c.get(f"/c/huayuan/issues/{collecting.number}/poster").status_code == 404


def test_short_links_never_reveal_drafts_or_hidden_issues(demo, client, ctx):
    draft = _one(Issue, Issue.state == IssueState.DRAFT)
    collecting = _one(Issue, Issue.state == IssueState.COLLECTING)
    d = _one(Decision, Decision.state == DecisionState.PUBLICITY)
    assert client.get(f"/s/i{collecting.id}").status_code == 302
    assert client.get(f"/s/d{d.id}").status_code == 302
    for code in (f"i{draft.id}", "i999999", "d999999", "b999999", "r999999", "x1", "i0",
                 "i01", "i1x", "i" + "9" * 30, ""):
        assert client.get(f"/s/{code}").status_code == 404, code
    # hiding an issue hides its short link and its decision's
    decided = db.session.get(Issue, d.issue_id)
    decided.hidden_at = clock.now()
    db.session.commit()
    assert client.get(f"/s/d{d.id}").status_code == 404
    assert client.get(f"/c/huayuan/issues/{decided.number}/decisions/{d.version}/print"
                      ).status_code == 404


def test_short_links_survive_a_new_title(demo, client, ctx):
    issue = _one(Issue, Issue.state == IssueState.COLLECTING)
    before = client.get(f"/s/i{issue.id}").headers["Location"]
    issue.title = "新的标题"
    db.session.commit()
    assert client.get(f"/s/i{issue.id}").headers["Location"] == before


def test_short_links_point_at_the_public_address(demo, client, ctx):
    """The QR code encodes PUBLIC_BASE_URL, not the address the moderator printed from."""
    b = _one(Ballot)
    c = db.session.get(Community, b.community_id)
    html = client.get(f"/c/{c.slug}/ballots/{b.number}/notice/print",
                      base_url="http://10.0.0.7:8000").get_data(as_text=True)
    assert decode_page(html) == [f"{BASE}/s/b{b.id}"]


def test_decision_notice_in_english_is_a_decision_notice(demo, client, ctx):
    """The notice's kind is its own message: in English "Decision notice", not the archive
    list's heading that shares its Chinese words (决议公示)."""
    d = _one(Decision, Decision.state == DecisionState.PUBLICITY)
    issue = db.session.get(Issue, d.issue_id)
    client.post("/locale", data={"lang": "en", "next": "/"})
    html = client.get(f"/c/huayuan/issues/{issue.number}/decisions/{d.version}/print"
                      ).get_data(as_text=True)
    assert '<h1 class="kind">Decision notice</h1>' in html and "Published decisions" not in html
    assert "Published decisions" in client.get("/c/huayuan/decisions/").get_data(as_text=True)
