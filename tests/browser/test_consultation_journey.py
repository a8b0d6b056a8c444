"""The three bodies take a co-signed issue through two rounds on their phones — the first
without agreement, the second adopting an option with a budget — and the published decision
shows the rule, every named vote, the confirmed minutes and the objection handling.
JavaScript on (htmx) and off (plain forms); CSRF on, as in production."""
from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction

import pytest
from sqlalchemy import select

from civic import clock
from civic.consultation.rules import Rule, describe
from civic.extensions import db
from tests.browser.actions import ops, read, submit
from tests.browser.conftest import no_horizontal_scroll, shot
from tests.browser.test_journeys import login

#: where the clock starts: Monday 2026-03-02 09:00 in Shanghai
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
BODIES = (("committee", "居委会"), ("association", "业委会"), ("property", "物业"))
SEATS = {"committee": "居委会主任", "association": "业委会主任", "property": "物业项目经理"}


def _hall(app, make, make_issue):
    """Staff of the three bodies (with personal names that must never show publicly), a
    verified resident, and an issue co-signed past its threshold and accepted — through the
    operations."""
    from civic.accounts.models import User
    from civic.issues import operations as issue_ops
    from civic.issues.models import Issue, IssueState
    from civic.triage import operations as triage_ops
    from civic.triage.models import Body

    c = make.community(name="花园小区")
    b5 = make.building(c, "5号楼")
    people = {
        "committee": make.staff(c, "moderator", user=make.user(display_name="王建国"),
                                title="居委会主任"),
        "association": make.staff(c, "association", user=make.user(display_name="李秀英"),
                                  title="业委会主任"),
        "property": make.staff(c, "property", user=make.user(display_name="赵海涛"),
                               title="项目经理"),
    }
    resident = make.resident(c, make.unit(c, b5, "301"), user=make.user(display_name="陈丽华"))
    signer = make.resident(c, make.unit(c, b5, "302"))
    issue_id, number = make_issue(c, author=resident, need=1, title="地下车库雨天积水",
                                  body="每逢下雨，B 区车位积水没过脚踝。")
    with ops(app):
        issue_ops.cosign(db.session.get(User, signer.id), issue_id, "支持")
        issue = db.session.get(Issue, issue_id)
        assert issue.state is IssueState.AWAITING_TRIAGE
        triage_ops.accept(db.session.get(User, people["committee"].id), issue, Body.PROPERTY, [])
        db.session.commit()
    return c, people, resident, issue_id, number


def _round(app, issue_id: int, k: int) -> dict:
    """Round k's times and option ids (维持现状 first), as stored."""
    from civic.consultation import operations as cops
    from civic.consultation.models import Round
    from civic.issues.models import Issue

    def fn():
        con = cops.consultation_of(db.session.get(Issue, issue_id))
        rnd = db.session.scalar(select(Round).where(Round.consultation_id == con.id,
                                                    Round.number == k))
        options = cops.options_of(rnd.id)
        return {"starts_at": rnd.starts_at, "closes_at": rnd.closes_at,
                "status_quo": options[0].id, "plan": options[-1].id,
                "state": rnd.state.value, "adopted": rnd.adopted_option_id}
    return read(app, fn)


def _vote(page, oid: int, vote: str, reason: str, label: str) -> None:
    panel = f"#vote-{oid}"
    page.check(f"{panel} input[value={vote}]")
    if reason:
        page.fill(f"#o{oid}-reason", reason)
    submit(page, f"{panel} button", replaced=panel)
    assert f"的表决：{label}" in page.inner_text(panel)


def _prepare_round(mod, js, people, k: int, plan: str, cost: str, funding: str) -> None:
    """On the consultation page: schedule round k; on its manage page: three seats, one
    option with its cost and funding source."""
    tag = "js" if js else "nojs"
    main = mod.inner_text("main")
    assert f"安排第 {k} 轮协商" in main
    mod.fill("#agenda", f"第{k}轮：地下车库积水如何处理\n请各方就方案表决")
    mod.fill("#place", "居委会二楼会议室")
    main = submit(mod, "#schedule button.btn-block")
    assert f"第 {k} 轮协商的会议通知已发布" in main and "/manage" in mod.url
    for body, label in BODIES:
        mod.click(f"summary:has-text('添加{label}席位')")
        mod.select_option(f"#{body}-user_id", str(people[body].id))
        main = submit(mod, f"form[action$='/seats/{body}'] button")
        assert f"已添加{label}席位" in main
    mod.click("#options summary:has-text('添加方案')")
    mod.fill("#title", plan)
    mod.fill("#description", "由物业组织施工，雨季前完工。")
    mod.fill("#cost", cost)
    mod.select_option("#funding_source", funding)
    mod.select_option("#executor", "property")
    main = submit(mod, "form[action$='/options'] button")
    assert "已添加方案" in main
    seats = mod.inner_text("#seats")
    assert all(name in seats for name in SEATS.values())
    assert plan in mod.inner_text("#options") and "开始表决前，还须" not in main
    assert no_horizontal_scroll(mod)
    shot(mod, f"consultation-manage-{k}-{tag}")


def _open(live_app, mod, issue_id: int, k: int) -> dict:
    r = _round(live_app, issue_id, k)
    clock.freeze(r["starts_at"])
    main = submit(mod, "main .actions form[action$='/open'] button")
    assert "表决已开始" in main and "已冻结" in main
    return r


def _close_and_confirm(pages: dict, r: dict, minutes: str) -> str:
    """After the deadline the moderator closes the round, writes and submits the minutes,
    and every body confirms them on its own phone. Returns the round page's text then."""
    mod = pages["committee"]
    clock.freeze(r["closes_at"])
    mod.reload()
    mod.click("summary:has-text('结束表决')")
    main = submit(mod, "form[action$='/close'] button")
    assert "表决已结束，结果已公布" in main
    mod.fill("#minutes-text", minutes)
    main = submit(mod, "form[action$='/minutes'] button")
    assert "会议纪要已保存（第 1 版）" in main
    main = submit(mod, "form[action$='/minutes/submit'] button")
    assert "会议纪要已提交参会各方确认" in main
    for body, label in BODIES:
        page = pages[body]
        if page is not mod:
            page.reload()
        assert minutes.split("：")[0] in page.inner_text("#minutes")   # shown to the seats
        page.check("input[name=confirm-answer][value=confirm]")
        main = submit(page, "form[action$='/minutes/confirm'] button")
        assert "已确认会议纪要" in main or "会议纪要已公布" in main
    assert "参会各方均已确认，会议纪要已公布" in main
    return main


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_two_rounds_to_an_effective_decision_on_phones(live_app, make, make_issue, phone, js):
    base = live_app.config["LIVE_URL"]
    tag = "js" if js else "nojs"
    clock.freeze(T0)
    try:
        c, people, resident, issue_id, number = _hall(live_app, make, make_issue)
        issue = f"{base}/c/{c.slug}/issues/{number}"

        pages = {}
        for body, _label in BODIES:
            pages[body] = phone(js)
            login(pages[body], base, people[body].phone)
        mod, assoc = pages["committee"], pages["association"]

        # the moderator takes the accepted issue into consultation and prepares round 1
        mod.goto(f"{issue}/")
        main = submit(mod, "#consultation form button")
        assert "议题已进入协商" in main and mod.url.split("#")[0].endswith("/consultation")
        assert no_horizontal_scroll(mod)
        shot(mod, f"consultation-schedule-{tag}")
        _prepare_round(mod, js, people, 1, "更换排水泵", "12,500", "maintenance_fund")
        r1 = _open(live_app, mod, issue_id, 1)
        round1 = f"{issue}/rounds/1"
        assert mod.url.split("#")[0] == round1

        # round 1: the owners' committee opposes the plan, so no option passes
        votes1 = {"committee": ("agree", "同意", "雨季前必须解决"),
                  "association": ("oppose", "反对", "费用超出维修资金预算，请先比价"),
                  "property": ("agree", "同意", "")}
        for body, (vote, label, reason) in votes1.items():
            page = pages[body]
            page.goto(round1)
            assert "你的席位" in page.inner_text("#seats")
            _vote(page, r1["plan"], vote, reason, label)
            _vote(page, r1["status_quo"], "oppose", "积水影响出行，不能维持现状", "反对")
            if body == "association":
                assert no_horizontal_scroll(page)
                shot(page, f"consultation-round-voting-{tag}")
        assoc.reload()
        assert "全部席位均已表决" in assoc.inner_text("#seats")
        main = _close_and_confirm(pages, r1,
                                  "第一轮会议纪要：业委会认为费用过高，本轮未形成决定。")
        assert "本轮未形成决定" in main and "费用超出维修资金预算" in main
        assert _round(live_app, issue_id, 1)["adopted"] is None
        shot(mod, f"consultation-round1-closed-{tag}")

        # round 2: a revised plan with a smaller budget; every body agrees
        mod.goto(f"{issue}/consultation")
        assert "未形成决定" in mod.inner_text("#rounds")
        _prepare_round(mod, js, people, 2, "加装截水沟和挡水板", "8,600.50", "public_income")
        r2 = _open(live_app, mod, issue_id, 2)
        round2 = f"{issue}/rounds/2"
        assert mod.url.split("#")[0] == round2
        for body in ("committee", "association", "property"):
            page = pages[body]
            page.goto(round2)
            _vote(page, r2["plan"], "agree", "", "同意")
            _vote(page, r2["status_quo"], "oppose", "积水必须处理", "反对")
        main = _close_and_confirm(pages, r2,
                                  "第二轮会议纪要：三方一致同意加装截水沟和挡水板，预算 8,600.50 元。")
        assert "采纳方案" in main and "加装截水沟和挡水板" in main
        assert _round(live_app, issue_id, 2)["adopted"] == r2["plan"]

        # the moderator publishes the decision from the issue page
        mod.goto(f"{issue}/")
        mod.click("#decision a.btn")
        mod.wait_for_selector("#publish-form")
        assert mod.input_value("#budget") == "8,600.50"
        assert mod.is_checked("input[name=lead][value=property]")
        assert mod.input_value("#funding_source") == "public_income"
        mod.fill("#summary", "采纳加装截水沟和挡水板的方案，雨季前完工。")
        mod.fill("#due_on", "2026-05-31")
        main = submit(mod, "#publish-form button")
        assert "决议已发布，公示期 7 天" in main and "公示中" in main
        decision_url = f"{issue}/decisions/1"
        mod.wait_for_url(decision_url + "*")            # htmx pushes it after HX-Location
        assert no_horizontal_scroll(mod)

        # a resident objects on their phone; the moderator answers publicly
        res = phone(js)
        login(res, base, resident.phone)
        res.goto(decision_url)
        res.fill("#objection-text", "施工期间车库 B 区的车停到哪里？")
        main = submit(res, "#objection-form button")
        assert "异议已提交并公开" in main
        assert "施工期间车库 B 区的车停到哪里？" in res.inner_text("#objections")
        shot(res, f"decision-objection-{tag}")

        mod.goto(decision_url)
        assert "暂不能生效：公示期尚未结束" in mod.inner_text("#manage")
        mod.fill("#objections textarea[name=answer]", "施工期间可临时停放在地面 C 区，物业负责引导。")
        main = submit(mod, "#objections form button")
        assert "答复已公开" in main

        # after the publicity period the moderator makes it effective
        from civic.decisions.models import Decision
        ends = read(live_app, lambda: db.session.scalar(
            select(Decision.publicity_ends_at).where(Decision.issue_id == issue_id)))
        clock.freeze(ends)
        mod.goto(decision_url)
        main = submit(mod, "#manage button:has-text('确认生效')")
        assert "决议已生效" in main

        # anyone: the rule, every named vote, the minutes, the objection and its answer
        anon = phone(js)
        anon.goto(decision_url)
        assert no_horizontal_scroll(anon)
        shot(anon, f"decision-public-effective-{tag}")
        main = anon.inner_text("main")
        assert "已生效" in anon.inner_text("article .meta")
        assert describe(Rule.CONSENSUS, quorum=Fraction(1, 2)) in anon.inner_text("#rule")
        assert "¥8,600.50" in anon.inner_text("#terms") and "公共收益" in anon.inner_text("#terms")
        tally = anon.inner_text("#tally")
        assert "第 1 轮" in tally and "第 2 轮（形成本决议）" in tally
        rows = [r.strip() for r in anon.locator("#tally tbody tr").all_inner_texts()]
        expected = [f"{SEATS[b]}\t{label}\t{reason}".strip() for b, (_v, label, reason)
                    in votes1.items()]                            # round 1, the plan
        expected += [f"{SEATS[b]}\t反对\t积水影响出行，不能维持现状" for b in SEATS]   # round 1
        expected += [f"{SEATS[b]}\t同意" for b in SEATS]                          # round 2
        expected += [f"{SEATS[b]}\t反对\t积水必须处理" for b in SEATS]            # round 2
        assert sorted(rows) == sorted(expected), rows
        minutes = anon.inner_text("#minutes")
        assert "三方一致同意加装截水沟和挡水板" in minutes
        assert all(f"{label}已确认" in minutes for _b, label in BODIES)
        objections = anon.inner_text("#objections")
        assert "异议（1）" in objections and "施工期间车库 B 区的车停到哪里？" in objections
        assert "5号楼居民" in objections and "施工期间可临时停放在地面 C 区" in objections
        assert "居委会主任" in objections and "公开答复" in objections
        html = anon.content()
        for person in [*people.values(), resident]:
            assert person.phone not in html
            assert person.display_name not in html

        # both rounds stay public, with their named votes
        for k, url in ((1, round1), (2, round2)):
            response = anon.goto(url)
            assert response.status == 200
            text = anon.inner_text("main")
            assert f"第 {k} 轮协商" in text and "实名表决" in text and "已公布" in text
            assert all(name in text for name in SEATS.values())
            assert no_horizontal_scroll(anon)
        anon.goto(round1)
        text = anon.inner_text("main")
        assert "本轮未形成决定" in text and "费用超出维修资金预算，请先比价" in text
    finally:
        clock.freeze(None)
