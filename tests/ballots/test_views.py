"""The owners' ballot pages over HTTP: every form as a plain POST and with htmx, who may
do what, extensions, counting, objections and the public file."""
from __future__ import annotations

import hashlib
import io
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from civic import clock
from civic.ballots.models import Ballot, BallotExtension, BallotState, BallotVote, Channel
from civic.extensions import db
from tests.ballots.conftest import HX, client_for, load, open_now
from tests.conftest import jpeg_bytes


def done(resp, htmx: bool, location: str) -> None:
    """A successful POST: 303 to `location` for browsers, 204 + HX-Location for htmx."""
    if htmx:
        assert resp.status_code == 204, resp.text
        assert resp.headers["HX-Location"] == location
    else:
        assert resp.status_code == 303, resp.text
        assert resp.headers["Location"] == location


def invalid(resp, htmx: bool, *messages: str, code: int = 400) -> str:
    """An invalid form shown again: the full page (400) or the form alone for htmx (200)."""
    if htmx:
        assert resp.status_code == 200, resp.text
        assert "<html" not in resp.text
    else:
        assert resp.status_code == code, resp.text
        assert "<html" in resp.text
    for m in messages:
        assert m in resp.text
    return resp.text


def flashed(client, path: str) -> str:
    return client.get(path).text


def local(dt: datetime) -> str:
    return clock.local(dt).strftime("%Y-%m-%dT%H:%M")


def headers(htmx):
    return HX if htmx else {}


def no_inline_code(html: str) -> None:
    """Strict CSP: no inline styles or scripts on the pages."""
    assert "style=" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)


# --- the public list and page ------------------------------------------------------------------

def test_public_list_and_page_for_anyone(app, client, lift):
    h = lift
    slug = h.community.slug
    resp = client.get(f"/c/{slug}/ballots/")
    assert resp.status_code == 200
    html = resp.text
    assert f'href="/c/{slug}/ballots/1"' in html and "3号楼加装电梯使用维修资金" in html
    assert "第 5 项：使用建筑物及其附属设施的维修资金" in html and "已发布通知" in html
    assert "2026-05-07 10:00 至 2026-05-21 10:00" in html
    assert "发布表决通知" not in html          # moderators only
    no_inline_code(html)

    page = client.get(h.url).text
    no_inline_code(page)
    assert '<h1 hx-disable>3号楼加装电梯使用维修资金</h1>' in page
    assert "通知发布：2026-05-04 09:00" in page and "范围：3号楼" in page
    assert "第一款第（五）项" in page and "使用建筑物及其附属设施的维修资金" in page
    # the rule in words: 2/3 of area AND heads, abstaining takes part, strict majority
    assert "三分之二以上" in page and "投弃权票也算参与表决" in page
    assert "恰好一半不通过" in page and "“过半数”不包括本数" in page
    assert "同一业主拥有多套房屋的，计为一人" in page and "合计为一人" in page
    assert "未参与表决的业主不计入同意、反对或弃权任何一方" in page
    assert "应当经参与表决专有部分面积过半数的业主" in page     # the law's own wording
    assert client.get(f"/c/{slug}/ballots/1/ballot.json").status_code == 404


def test_three_quarters_items_state_their_rule(app, client, estate, make):
    h = estate
    from tests.ballots.conftest import run
    from civic.accounts.models import User
    from civic.ballots import operations as ops
    from civic.communities.models import Community

    def schedule():
        opens = clock.now() + timedelta(days=4)
        return ops.schedule(db.session.get(User, h.mod.id),
                            db.session.get(Community, h.community.id), title="筹集维修资金",
                            question="是否筹集？", item=6, opens_at=opens,
                            closes_at=opens + timedelta(days=7)).number
    n = run(app, schedule)
    page = client.get(f"/c/{h.community.slug}/ballots/{n}").text
    assert "第一款第（六）项" in page and "四分之三以上（≥ 75%，恰好四分之三即通过）" in page
    assert "范围：全小区" in page


def test_unknown_numbers_and_communities_are_404(app, client, lift):
    h = lift
    slug = h.community.slug
    mod = client_for(app, h.mod)
    for path in (f"/c/{slug}/ballots/99", f"/c/{slug}/ballots/99/ballot.json",
                 "/c/nowhere/ballots/", "/c/nowhere/ballots/1"):
        assert client.get(path).status_code == 404, path
    assert mod.get(f"/c/{slug}/ballots/99/manage").status_code == 404
    assert mod.post(f"/c/{slug}/ballots/99/open").status_code == 404
    assert mod.post(f"/c/{slug}/ballots/99/vote", data={"choice": "yes"}).status_code == 404


# --- scheduling -----------------------------------------------------------------------------------

@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_schedule_a_ballot_for_one_building(app, lift, htmx):
    h = lift
    slug = h.community.slug
    mod = client_for(app, h.mod)
    form = mod.get(f"/c/{slug}/ballots/new")
    assert form.status_code == 200
    no_inline_code(form.text)
    assert 'type="datetime-local"' in form.text and "2026-05-08T09:00" in form.text
    assert "第六项：筹集建筑物及其附属设施的维修资金（四分之三以上同意）" in form.text
    assert "第五项：使用建筑物及其附属设施的维修资金（过半数同意）" in form.text
    resp = mod.post(f"/c/{slug}/ballots/new", headers=headers(htmx), data={
        "title": "5号楼外墙维修", "question": "是否同意使用维修资金维修外墙？", "item": "5",
        "scope": "buildings", "buildings": [str(h.b5.id)],
        "opens_at": "2026-05-08T09:00", "closes_at": "2026-05-22T18:30"})
    done(resp, htmx, f"/c/{slug}/ballots/2")
    with app.app_context():
        b = db.session.scalar(select(Ballot).where(Ballot.community_id == h.community.id,
                                                   Ballot.number == 2))
        # Asia/Shanghai wall-clock time, stored as UTC
        assert b.opens_at == datetime(2026, 5, 8, 1, 0, tzinfo=UTC)
        assert b.closes_at == datetime(2026, 5, 22, 10, 30, tzinfo=UTC)
        assert b.whole_community is False and b.item == 5
        from civic.ballots import operations as ops
        assert [x.name for x in ops.scope_buildings(b)] == ["5号楼"]
    assert "表决通知已发布。表决将于 2026-05-08 09:00 开始。" in mod.get(f"/c/{slug}/ballots/2").text


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_schedule_form_errors_keep_the_values(app, lift, htmx):
    h = lift
    slug = h.community.slug
    mod = client_for(app, h.mod)
    good = {"title": "外墙维修", "question": "是否同意维修外墙？", "item": "5", "scope": "all",
            "opens_at": "2026-05-08T09:00", "closes_at": "2026-05-22T18:30"}
    path = f"/c/{slug}/ballots/new"
    html = invalid(mod.post(path, headers=headers(htmx), data={**good, "title": ""}), htmx,
                   "请填写此项。", "是否同意维修外墙？")
    assert 'id="schedule-form"' in html
    invalid(mod.post(path, headers=headers(htmx), data={**good, "item": ""}), htmx,
            "请选择《民法典》第二百七十八条所列的事项。")
    html = invalid(mod.post(path, headers=headers(htmx),
                            data={**good, "opens_at": "2026-05-06T09:00"}),
                   htmx, "表决通知须至少提前 3 天发布。")
    assert 'value="2026-05-06T09:00"' in html
    invalid(mod.post(path, headers=headers(htmx), data={**good, "closes_at": "2026-05-08T08:00"}),
            htmx, "表决截止时间须晚于开始时间。")
    invalid(mod.post(path, headers=headers(htmx), data={**good, "opens_at": "下周一"}), htmx,
            "请填写完整的日期和时间。")
    invalid(mod.post(path, headers=headers(htmx), data={**good, "scope": "buildings"}), htmx,
            "请至少选择一栋楼，或选择全小区。")
    invalid(mod.post(path, headers=headers(htmx), data={**good, "scope": "buildings",
                                                        "buildings": ["999999"]}),
            htmx, "所选楼栋不属于本小区。")
    with app.app_context():
        assert db.session.query(Ballot).count() == 1


# --- permissions ----------------------------------------------------------------------------------

MANAGE_POSTS = ("open", "count", "finalize", "paper", "proxy", "extend")


def test_residents_are_refused_on_every_committee_route(app, client, lift):
    h = lift
    slug = h.community.slug
    for who in (h.owner_a, h.tenant):
        c = client_for(app, who)
        assert c.get(f"/c/{slug}/ballots/new").status_code == 403
        assert c.post(f"/c/{slug}/ballots/new", data={"title": "x"}).status_code == 403
        assert c.get(h.url + "/manage").status_code == 403
        for action in MANAGE_POSTS:
            assert c.post(f"{h.url}/{action}", data={"unit": "3号楼-101", "choice": "yes"}
                          ).status_code == 403, action
            assert c.post(f"{h.url}/{action}", headers=HX).status_code == 403, action
    # anonymous visitors are sent to log in
    resp = client.get(h.url + "/manage")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    assert client.post(h.url + "/open").status_code == 302
    assert load(app, h.ballot_id).state is BallotState.NOTICED


def test_moderators_of_another_community_are_refused(app, make, lift):
    h = lift
    other = make.community()
    stranger = client_for(app, make.staff(other, "moderator"))
    assert stranger.get(h.url + "/manage").status_code == 403
    assert stranger.post(h.url + "/open").status_code == 403
    assert stranger.get(f"/c/{h.community.slug}/ballots/new").status_code == 403


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_only_verified_owners_in_scope_vote(app, client, lift, htmx):
    h = lift
    open_now(app, h)
    tenant, outsider = client_for(app, h.tenant), client_for(app, h.owner_d)
    for c in (tenant, outsider):
        page = c.get(h.url).text
        assert "提交表决" not in page and "只有表决范围内经认证的业主可以在线投票" in page
        assert c.post(h.url + "/vote", headers=headers(htmx), data={"choice": "yes"}
                      ).status_code == 403
    assert "业主登录后投票" in client.get(h.url).text
    assert client.post(h.url + "/vote", data={"choice": "yes"}).status_code == 302
    with app.app_context():
        assert db.session.query(BallotVote).count() == 0


# --- voting ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_owner_votes_once_and_gets_a_receipt(app, lift, htmx):
    h = lift
    open_now(app, h)
    owner = client_for(app, h.owner_a)
    page = owner.get(h.url).text
    no_inline_code(page)
    assert "提交后不能更改或撤回" in page
    assert "这一票代表你名下本次表决范围内的全部房屋：3号楼-101、3号楼-102。" in page
    assert '<legend>我的表决意见</legend>' in page
    html = invalid(owner.post(h.url + "/vote", headers=headers(htmx), data={"person": "o-1"}),
                   htmx, "请选择同意、反对或弃权。")
    assert 'id="vote-o-1"' in html
    done(owner.post(h.url + "/vote", headers=headers(htmx), data={"choice": "no", "person": "o-1"}),
         htmx, h.url + "#vote")
    with app.app_context():
        v = db.session.scalar(select(BallotVote))
        code = v.receipt
        assert (v.person, v.choice.value, v.channel) == ("o-1", "no", Channel.ONLINE)
    page = owner.get(h.url).text
    assert f"你的表决已计入，回执编号 {code}" in page
    assert "回执编号：" in page and code in page and "表决方式：线上表决" in page
    assert "涵盖房屋：3号楼-101、3号楼-102" in page and "表决意见：反对" in page
    assert "提交表决" not in page
    # a second vote is refused with the reason, the first stands
    resp = owner.post(h.url + "/vote", data={"choice": "yes"}, follow_redirects=True)
    assert "该业主已经通过线上表决表决过" in resp.text
    # voting for a person who is not yours
    assert owner.post(h.url + "/vote", data={"choice": "yes", "person": "o-2"}).status_code == 403
    with app.app_context():
        assert [v.choice.value for v in db.session.scalars(select(BallotVote))] == ["no"]


def test_voting_before_opening_and_after_closing_is_refused(app, lift):
    h = lift
    owner = client_for(app, h.owner_a)
    page = owner.get(h.url).text
    assert "你是范围内的业主，表决开始后可以在这里投票。" in page
    # before opening the electorate is not frozen: nobody is an owner of it yet
    assert owner.post(h.url + "/vote", data={"choice": "yes"}).status_code == 403
    open_now(app, h)
    clock.freeze(h.closes_at)
    resp = owner.post(h.url + "/vote", data={"choice": "yes"}, follow_redirects=True)
    assert "表决已经截止。" in resp.text
    assert "表决已截止，等待计票。" in resp.text
    with app.app_context():
        assert db.session.query(BallotVote).count() == 0


# --- paper and proxy entry ------------------------------------------------------------------------

@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_paper_ballot_entry(app, lift, htmx):
    h = lift
    open_now(app, h)
    mod = client_for(app, h.mod)
    manage = mod.get(h.url + "/manage").text
    no_inline_code(manage)
    assert '<option value="3号楼-201">3号楼-201 · 乙</option>' in manage
    invalid(mod.post(h.url + "/paper", headers=headers(htmx), data={"choice": "yes"}), htmx,
            "请选择房号。")
    invalid(mod.post(h.url + "/paper", headers=headers(htmx), data={"unit": "3号楼-201"}), htmx,
            "请选择同意、反对或弃权。")
    invalid(mod.post(h.url + "/paper", headers=headers(htmx),
                     data={"unit": "5号楼-101", "choice": "yes"}),
            htmx, "房屋“5号楼-101”不在本次表决的范围内。")
    done(mod.post(h.url + "/paper", headers=headers(htmx),
                  data={"unit": "3号楼-201", "choice": "yes"}),
         htmx, h.url + "/manage#paper")
    manage = mod.get(h.url + "/manage").text
    assert "书面表决票已录入（3号楼-201）" in manage
    assert "录入：moderator工作人员" in manage
    assert '<option value="3号楼-201">' not in manage        # counted: no longer offered
    # the owner sees that the committee entered it
    page = client_for(app, h.owner_b).get(h.url).text
    assert "表决方式：书面表决票（由居委会录入）" in page
    assert "这张票由居委会根据书面材料录入" in page


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_proxy_entry_and_its_private_document(app, make, client, lift, htmx):
    h = lift
    open_now(app, h)
    mod = client_for(app, h.mod)
    good = {"unit": "3号楼-301", "choice": "yes", "proxy_name": "王五"}
    mp = "multipart/form-data"
    html = invalid(mod.post(h.url + "/proxy", headers=headers(htmx), data=good, content_type=mp),
                   htmx, "请上传签字的授权委托书照片。")
    assert 'value="王五"' in html and 'enctype="multipart/form-data"' in html
    invalid(mod.post(h.url + "/proxy", headers=headers(htmx), content_type=mp,
                     data={**good, "document": (io.BytesIO(b"not an image"), "x.jpg")}),
            htmx, "只能上传 JPEG、PNG 或 WEBP 格式的照片。")
    invalid(mod.post(h.url + "/proxy", headers=headers(htmx), content_type=mp,
                     data={**good, "proxy_name": "",
                           "document": (io.BytesIO(jpeg_bytes()), "a.jpg")}),
            htmx, "请填写此项。")
    done(mod.post(h.url + "/proxy", headers=headers(htmx), content_type=mp,
                  data={**good, "document": (io.BytesIO(jpeg_bytes()), "a.jpg")}),
         htmx, h.url + "/manage#proxy")
    with app.app_context():
        v = db.session.scalar(select(BallotVote))
        assert (v.person, v.channel, v.proxy_name) == ("developer", Channel.PROXY, "王五")
        vote_id = v.id
    manage = mod.get(h.url + "/manage").text
    assert "受托人：" in manage and "王五" in manage
    doc = f"{h.url}/votes/{vote_id}/authorisation"
    assert f'href="{doc}"' in manage
    resp = mod.get(doc)
    assert resp.status_code == 200 and resp.mimetype == "image/jpeg"
    assert resp.headers["Cache-Control"] == "private, no-store"
    assert resp.data[:2] == b"\xff\xd8"
    # never public: not for anonymous visitors, owners, or another community's committee
    stranger = client_for(app, make.staff(make.community(), "moderator"))
    for c in (client, client_for(app, h.owner_a), client_for(app, h.tenant), stranger):
        assert c.get(doc).status_code == 404
    for c in (client, client_for(app, h.owner_a)):
        assert "王五" not in c.get(h.url).text
    assert mod.get(f"{h.url}/votes/{vote_id + 100}/authorisation").status_code == 404
    clock.freeze(h.closes_at)
    assert mod.post(h.url + "/count").status_code == 303
    assert "王五" not in client.get(h.url + "/ballot.json").text
    assert "王五" not in client.get(h.url).text


# --- extending ------------------------------------------------------------------------------------

@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_extension_needs_a_reason_and_a_later_deadline(app, client, lift, htmx):
    h = lift
    open_now(app, h)
    mod = client_for(app, h.mod)
    later_deadline = local(h.closes_at + timedelta(days=7))
    path = h.url + "/extend"
    invalid(mod.post(path, headers=headers(htmx), data={"closes_at": later_deadline}), htmx,
            "请填写此项。")
    html = invalid(mod.post(path, headers=headers(htmx),
                            data={"closes_at": local(h.closes_at - timedelta(hours=1)),
                                  "reason": "参与不足"}),
                   htmx, "新的截止时间须晚于原截止时间。", "参与不足")
    assert 'id="extend-form"' in html
    invalid(mod.post(path, headers=headers(htmx),
                     data={"closes_at": local(h.closes_at), "reason": "参与不足"}),
            htmx, "新的截止时间须晚于原截止时间。")
    invalid(mod.post(path, headers=headers(htmx),
                     data={"closes_at": local(h.closes_at + timedelta(days=91)),
                           "reason": "参与不足"}),
            htmx, "表决期最多延长 90 天。")
    assert load(app, h.ballot_id).closes_at == h.closes_at
    done(mod.post(path, headers=headers(htmx),
                  data={"closes_at": later_deadline, "reason": "参与表决的面积尚未达到三分之二"}),
         htmx, h.url + "/manage")
    b = load(app, h.ballot_id)
    assert b.closes_at == h.closes_at + timedelta(days=7) and b.original_closes_at == h.closes_at
    page = client.get(h.url).text
    assert "原定截止时间：2026-05-21 10:00" in page
    assert "截止时间由 2026-05-21 10:00 延长至 2026-05-28 10:00" in page
    assert "参与表决的面积尚未达到三分之二" in page
    assert "2026-05-07 10:00 至 2026-05-28 10:00" in page
    with app.app_context():
        assert db.session.query(BallotExtension).count() == 1


def test_extension_after_the_deadline_is_refused(app, lift):
    h = lift
    open_now(app, h)
    clock.freeze(h.closes_at)
    mod = client_for(app, h.mod)
    resp = mod.post(h.url + "/extend", data={"closes_at": local(h.closes_at + timedelta(days=3)),
                                             "reason": "补充"}, follow_redirects=True)
    assert "表决已经截止。" in resp.text
    assert load(app, h.ballot_id).closes_at == h.closes_at


# --- opening, counting, finalizing ----------------------------------------------------------------

@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_steps_refuse_when_too_early_and_work_on_time(app, client, lift, htmx):
    h = lift
    mod = client_for(app, h.mod)
    manage = h.url + "/manage"
    kw = {"headers": headers(htmx)}

    done(mod.post(h.url + "/open", **kw), htmx, manage)
    assert "还没到通知中的开始时间。（通知中的开始时间：2026-05-07 10:00）" in flashed(mod, manage)
    assert load(app, h.ballot_id).state is BallotState.NOTICED

    clock.freeze(h.opens_at)
    done(mod.post(h.url + "/open", **kw), htmx, manage)
    assert "表决已开始，业主名册已冻结" in flashed(mod, manage)
    assert load(app, h.ballot_id).state is BallotState.OPEN

    done(mod.post(h.url + "/count", **kw), htmx, manage)
    assert "表决尚未截止，不能提前计票。（截止时间：2026-05-21 10:00）" in flashed(mod, manage)
    assert load(app, h.ballot_id).state is BallotState.OPEN
    assert client.get(h.url + "/ballot.json").status_code == 404

    clock.freeze(h.closes_at)
    done(mod.post(h.url + "/count", **kw), htmx, manage)
    assert "已计票，暂定结果和表决文件已公布" in flashed(mod, manage)
    b = load(app, h.ballot_id)
    assert b.state is BallotState.PROVISIONAL and b.passed is False

    done(mod.post(h.url + "/finalize", **kw), htmx, manage)
    assert "异议期尚未结束。（异议期至：2026-05-28 10:00）" in flashed(mod, manage)
    assert load(app, h.ballot_id).state is BallotState.PROVISIONAL

    clock.freeze(b.objection_ends_at)
    done(mod.post(h.url + "/finalize", **kw), htmx, manage)
    assert "表决结果已确定并公布。" in flashed(mod, manage)
    assert load(app, h.ballot_id).state is BallotState.FINAL
    page = client.get(h.url).text
    assert "结果已确定" in page and "本事项未获通过。" in page
    # a second press of a spent button says why
    mod.post(h.url + "/open")
    assert "表决已经开始或已经结束。" in flashed(mod, manage)


def test_nobody_voting_fails_for_lack_of_participation(app, client, lift):
    h = lift
    open_now(app, h)
    clock.freeze(h.closes_at)
    assert client_for(app, h.mod).post(h.url + "/count").status_code == 303
    page = client.get(h.url).text
    assert "参与表决的业主不足法定比例，本事项未获通过" in page
    assert "0.00 / 490.00 ㎡，占 0.00%" in page


# --- objections -----------------------------------------------------------------------------------

def _counted(app, h, votes=()):
    open_now(app, h)
    mod = client_for(app, h.mod)
    for unit, choice in votes:
        assert mod.post(h.url + "/paper", data={"unit": unit, "choice": choice}).status_code == 303
    clock.freeze(h.closes_at)
    assert mod.post(h.url + "/count").status_code == 303
    return mod


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_objections_only_by_owners_of_the_electorate_during_the_period(app, client, lift, htmx):
    h = lift
    open_now(app, h)
    owner_a = client_for(app, h.owner_a)
    resp = owner_a.post(h.url + "/objections", data={"text": "太早"}, follow_redirects=True)
    assert "异议期已结束或结果不在公示中。" in resp.text           # not counted yet
    clock.freeze(h.closes_at)
    mod = client_for(app, h.mod)
    assert mod.post(h.url + "/count").status_code == 303
    page = owner_a.get(h.url).text
    assert 'id="objection-form"' in page
    for who in (h.tenant, h.owner_d):
        c = client_for(app, who)
        assert 'id="objection-form"' not in c.get(h.url).text
        assert c.post(h.url + "/objections", headers=headers(htmx),
                      data={"text": "我反对"}).status_code == 403
    assert client.post(h.url + "/objections", data={"text": "匿名"}).status_code == 302
    invalid(owner_a.post(h.url + "/objections", headers=headers(htmx), data={"text": " "}), htmx,
            "请填写此项。")
    done(owner_a.post(h.url + "/objections", headers=headers(htmx),
                      data={"text": "3号楼-202 的书面票没有录入"}),
         htmx, h.url + "#objections")
    page = client.get(h.url).text
    assert "3号楼-202 的书面票没有录入" in page and "3号楼居民" in page
    assert "等待居委会答复。" in page
    clock.freeze(load(app, h.ballot_id).objection_ends_at)
    resp = client_for(app, h.owner_c).post(h.url + "/objections", data={"text": "晚了"},
                                           follow_redirects=True)
    assert "异议期已结束或结果不在公示中。" in resp.text


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_final_result_waits_for_every_answer(app, client, make, lift, htmx):
    h = lift
    mod = _counted(app, h, [("3号楼-101", "yes"), ("3号楼-201", "yes"), ("3号楼-301", "no")])
    for who, text in ((h.owner_a, "异议一"), (h.owner_c, "异议二")):
        assert client_for(app, who).post(h.url + "/objections", data={"text": text}
                                          ).status_code == 303
    with app.app_context():
        from civic.ballots.models import BallotObjection
        ids = [o.id for o in db.session.scalars(
            select(BallotObjection).order_by(BallotObjection.id))]
    b = load(app, h.ballot_id)
    clock.freeze(b.objection_ends_at)
    mod.post(h.url + "/finalize")
    assert "还有 2 条异议未答复，答复后结果才能确定。" in flashed(mod, h.url + "/manage")
    assert load(app, h.ballot_id).state is BallotState.PROVISIONAL
    # residents cannot answer; an objection of another ballot is not found here
    assert client_for(app, h.owner_a).post(f"{h.url}/objections/{ids[0]}/answer",
                                           data={"answer": "好"}).status_code == 403
    assert mod.post(f"{h.url}/objections/{ids[0] + 99}/answer",
                    data={"answer": "好"}).status_code == 404
    invalid(mod.post(f"{h.url}/objections/{ids[0]}/answer", headers=headers(htmx),
                     data={"answer": ""}), htmx, "请填写此项。")
    done(mod.post(f"{h.url}/objections/{ids[0]}/answer", headers=headers(htmx),
                  data={"answer": "已核对书面票，计票无误"}),
         htmx, f"{h.url}#objection-{ids[0]}")
    mod.post(h.url + "/finalize")
    assert "还有 1 条异议未答复" in flashed(mod, h.url + "/manage")
    mod.post(f"{h.url}/objections/{ids[1]}/answer", data={"answer": "已复核"})
    resp = mod.post(f"{h.url}/objections/{ids[1]}/answer", data={"answer": "再答一次"},
                    follow_redirects=True)
    assert "这条异议已经答复过了。" in resp.text
    mod.post(h.url + "/finalize")
    assert load(app, h.ballot_id).state is BallotState.FINAL
    page = client.get(h.url).text
    assert "已核对书面票，计票无误" in page and "已复核" in page and "再答一次" not in page
    assert "表决结果（暂定）" not in page and "本事项获得通过。" in page


# --- the public file ------------------------------------------------------------------------------

def test_ballot_file_download(app, client, lift):
    h = lift
    _counted(app, h, [("3号楼-101", "yes"), ("3号楼-201", "no"), ("3号楼-302", "abstain")])
    resp = client.get(h.url + "/ballot.json")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "application/json; charset=utf-8"
    assert resp.headers["Content-Disposition"] == \
        f"attachment; filename=ballot-{h.community.slug}-1.json"
    data = json.loads(resp.data.decode("utf-8"))
    assert data["matter"] == 5 and data["votes"] == {"o-1": "yes", "o-2": "no",
                                                     "developer": "abstain"}
    assert {u["unit"] for u in data["units"]} == {"3号楼-101", "3号楼-102", "3号楼-201",
                                                  "3号楼-202", "3号楼-301", "3号楼-302"}
    digest = hashlib.sha256(resp.data).hexdigest()
    page = client.get(h.url).text.replace("<wbr>", "")
    assert digest in page and digest == load(app, h.ballot_id).file_sha256
    assert f"flask ballots recount ballot-{h.community.slug}-1.json" in page
    assert "<code>-</code> 时从标准输入读取" in page
    # owners' names and phone numbers never appear in the file
    for name in ("甲", "乙", "丙", h.owner_a.phone):
        assert name not in resp.data.decode("utf-8")


def test_community_rule_on_non_voters_is_stated_and_applied(app, client, lift):
    h = lift
    with app.app_context():
        from civic.communities.models import Community
        db.session.get(Community, h.community.id).silent_counts_as = "agree"
        db.session.commit()
    assert "未参与表决的业主计为同意" in client.get(h.url).text
    # A, B and the developer vote (3 of 4 heads, 389.87 of 490.00 m²): C's silence counts
    # as agreeing only because participation is met without it
    _counted(app, h, [("3号楼-101", "yes"), ("3号楼-201", "no"), ("3号楼-301", "yes")])
    page = client.get(h.url).text
    assert "按本小区议事规则，未表决业主计为同意" in page
    assert "同意的人数占参与表决人数 75.00%，过半数" in page
    assert load(app, h.ballot_id).passed is True
