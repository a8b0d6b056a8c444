"""A moderator runs a ballot on using the maintenance fund for a lift in one building, owners
vote on their phones while two paper ballots and one proxy are entered, turnout shows live,
the provisional and final results are published, the decision takes effect, and anyone can
download the ballot file and reproduce the result with the recount command.
JavaScript on (htmx) and off (plain forms); CSRF on, as in production."""
from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from civic import clock
from civic.extensions import db
from tests.browser.actions import ops, read, submit
from tests.browser.conftest import no_horizontal_scroll, shot
from tests.browser.test_journeys import login
from tests.conftest import jpeg_bytes

#: Monday 2026-05-04 09:00 in Shanghai
T0 = datetime(2026, 5, 4, 1, 0, tzinfo=UTC)


def _estate(app, make, make_issue):
    """Building 3 in scope: A owns 101 (90.00) and 102 (60.50), B 201 (89.37), C 202
    (100.13), the developer 301 and 302 (75.00 each, unsold), E 401 (95.20), F 402 (88.88),
    G 501 (120.05, no account). Building 5, out of scope: D 101 (120.00). Owners A, B, C, D,
    E, F verified; a tenant in 201. And a decision whose adopted plan (Civil Code Art. 278
    item 5, the maintenance fund) waits for the owners' ballot — through the operations."""
    from civic.accounts.models import User
    from civic.consultation import operations as cops
    from civic.consultation.models import FundingSource
    from civic.consultation.rules import Body, Rule, Vote
    from civic.decisions import operations as dops
    from civic.decisions.models import DecisionState
    from civic.issues import operations as issue_ops
    from civic.issues.models import Issue
    from civic.triage import operations as triage_ops
    from civic.triage.models import Body as TriageBody

    c = make.community(name="花园小区")
    b3, b5 = make.building(c, "3号楼"), make.building(c, "5号楼")
    owner = {n: make.owner(c, n) for n in ("甲", "乙", "丙", "丁", "戊", "己", "庚")}
    dev = make.owner(c, "开发商", is_developer=True)
    u = {
        "3-101": make.unit(c, b3, "101", "90.00", owner["甲"]),
        "3-102": make.unit(c, b3, "102", "60.50", owner["甲"]),
        "3-201": make.unit(c, b3, "201", "89.37", owner["乙"]),
        "3-202": make.unit(c, b3, "202", "100.13", owner["丙"]),
        "3-301": make.unit(c, b3, "301", "75.00", dev),
        "3-302": make.unit(c, b3, "302", "75.00", dev),
        "3-401": make.unit(c, b3, "401", "95.20", owner["戊"]),
        "3-402": make.unit(c, b3, "402", "88.88", owner["己"]),
        "3-501": make.unit(c, b3, "501", "120.05", owner["庚"]),
        "5-101": make.unit(c, b5, "101", "120.00", owner["丁"]),
    }
    h = {
        "c": c, "b3": b3,
        "mod": make.staff(c, "moderator", title="居委会主任"),
        "assoc": make.staff(c, "association", title="业委会主任"),
        "prop": make.staff(c, "property", title="项目经理"),
        "A": make.resident(c, u["3-101"]), "B": make.resident(c, u["3-201"]),
        "C": make.resident(c, u["3-202"]), "D": make.resident(c, u["5-101"]),
        "E": make.resident(c, u["3-401"]), "F": make.resident(c, u["3-402"]),
    }
    make.resident(c, u["3-201"], tenure="tenant")
    issue_id, number = make_issue(c, author=h["C"], need=1, title="3号楼加装电梯")

    def U(person):
        return db.session.get(User, person.id)
    with ops(app):
        issue_ops.cosign(U(h["B"]), issue_id)
        issue = db.session.get(Issue, issue_id)
        triage_ops.accept(U(h["mod"]), issue, TriageBody.PROPERTY, [])
        con = cops.open_consultation(U(h["mod"]), issue)
        starts = clock.now() + timedelta(days=3, hours=1)
        rnd = cops.schedule_round(U(h["mod"]), con, agenda="3号楼加装电梯方案", place="居委会",
                                  online=False, starts_at=starts,
                                  closes_at=starts + timedelta(hours=2), rule=Rule.CONSENSUS)
        for who, body in (("mod", Body.COMMITTEE), ("assoc", Body.ASSOCIATION),
                          ("prop", Body.PROPERTY)):
            cops.add_seat(U(h["mod"]), rnd, U(h[who]), body)
        plan = cops.add_option(U(h["mod"]), rnd, "使用维修资金为3号楼加装电梯", "由物业组织施工",
                               45_000_000, FundingSource.MAINTENANCE_FUND, Body.PROPERTY,
                               owners_item=5)
        db.session.commit()
        clock.freeze(starts)
        cops.open_round(U(h["mod"]), rnd)
        status_quo = cops.options_of(rnd.id)[0]
        for who in ("mod", "assoc", "prop"):
            cops.cast_vote(U(h[who]), rnd.id, plan.id, Vote.AGREE)
            cops.cast_vote(U(h[who]), rnd.id, status_quo.id, Vote.OPPOSE, "需要电梯")
        db.session.commit()
        clock.freeze(rnd.closes_at)
        cops.close_round(U(h["mod"]), rnd)
        cops.write_minutes(U(h["mod"]), rnd, "会议纪要：三方同意加装电梯方案。")
        cops.submit_minutes(U(h["mod"]), rnd)
        for who in ("mod", "assoc", "prop"):
            cops.confirm_minutes(U(h[who]), rnd, True)
        db.session.commit()
        d = dops.publish(U(h["mod"]), db.session.get(Issue, issue_id), summary="加装一部电梯",
                         due_on=clock.now().date() + timedelta(days=120))
        db.session.commit()
        assert d.state is DecisionState.AWAITING_BALLOT and d.owners_item == 5
        h["decision_id"] = d.id
        h["decision"] = f"/c/{c.slug}/issues/{number}/decisions/{d.version}"
    return h


def _ballot(app, decision_id: int) -> dict:
    from civic.ballots.models import Ballot

    def fn():
        b = db.session.scalar(select(Ballot).where(Ballot.decision_id == decision_id))
        return {"opens_at": b.opens_at, "closes_at": b.closes_at, "number": b.number,
                "objection_ends_at": b.objection_ends_at, "state": b.state.value,
                "passed": b.passed, "sha": b.file_sha256}
    return read(app, fn)


def _vote_online(page, url: str, choice: str, label: str, units: str) -> None:
    """An owner votes on their phone and reads their receipt."""
    page.goto(url)
    assert "我的表决" in page.inner_text("#vote")
    page.check(f"#vote form input[value={choice}]")
    main = submit(page, "#vote form button")
    code = re.search(r"你的表决已计入，回执编号 (\S+?)。", main)
    assert code, main
    receipt = page.inner_text("#vote")
    assert code.group(1) in receipt and f"表决意见：{label}" in receipt
    assert f"涵盖房屋：{units}" in receipt and "线上表决" in receipt


def _paper(mod, unit: str, choice: str) -> None:
    mod.select_option("#paper-unit", unit)
    mod.check(f"#paper-choice-{choice}")
    main = submit(mod, "#paper-form button")
    assert f"书面表决票已录入（{unit}）" in main


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_lift_ballot_on_phones_to_a_recounted_result(live_app, make, make_issue, phone,
                                                    tmp_path, js):
    base = live_app.config["LIVE_URL"]
    tag = "js" if js else "nojs"
    clock.freeze(T0)
    try:
        h = _estate(live_app, make, make_issue)
        slug = h["c"].slug

        # the moderator starts the ballot from the decision waiting for it
        mod = phone(js)
        login(mod, base, h["mod"].phone)
        mod.goto(base + h["decision"])
        assert "待业主表决" in mod.inner_text("article .meta")
        mod.click("#owners-ballot a:has-text('发起业主表决')")
        mod.wait_for_selector("#schedule-form")
        assert mod.input_value("#item") == "5"
        assert "3号楼加装电梯" in mod.input_value("#title")
        mod.fill("#title", "3号楼加装电梯使用专项维修资金")
        mod.fill("#question", "是否同意使用3号楼专项维修资金 45 万元加装一部电梯？")
        mod.check("#scope-buildings")
        mod.check(f"#building-{h['b3'].id}")
        assert no_horizontal_scroll(mod)
        main = submit(mod, "#schedule-form button")
        assert "表决通知已发布" in main and "范围：3号楼" in main and "已发布通知" in main
        b = _ballot(live_app, h["decision_id"])
        url = f"{base}/c/{slug}/ballots/{b['number']}"
        mod.wait_for_url(url + "*")                     # htmx pushes it after HX-Location

        # voting opens when the clock reaches the start
        clock.freeze(b["opens_at"])
        mod.click("a:has-text('管理本次表决')")
        mod.wait_for_selector("#steps")
        main = submit(mod, "#steps form[action$='/open'] button")
        assert "表决已开始" in main
        manage = mod.url.split("#")[0]

        owners = {}
        for who in ("A", "B", "E"):
            owners[who] = phone(js)
            login(owners[who], base, h[who].phone)
        _vote_online(owners["A"], url, "yes", "同意", "3号楼-101、3号楼-102")
        shot(owners["A"], f"ballot-receipt-{tag}")
        _paper(mod, "3号楼-202", "yes")
        _vote_online(owners["B"], url, "yes", "同意", "3号楼-201")

        # turnout, live, for anyone
        anon = phone(js)
        anon.goto(url)
        turnout = anon.inner_text("#turnout")
        assert "340.00 / 794.13 ㎡，占 42.81%（须达到 66.67% 即三分之二）" in turnout
        assert "3 / 7 人，占 42.86%" in turnout and "未达到" in turnout
        assert anon.get_attribute("#turnout progress", "value") == "42.81"
        assert no_horizontal_scroll(anon)

        _vote_online(owners["E"], url, "no", "反对", "3号楼-401")
        _paper(mod, "3号楼-501", "abstain")
        document = tmp_path / "委托书.jpg"
        document.write_bytes(jpeg_bytes())
        mod.select_option("#proxy-unit", "3号楼-302")
        mod.check("#proxy-choice-yes")
        mod.fill("#proxy_name", "开发商代理人")
        mod.set_input_files("#document", str(document))
        main = submit(mod, "#proxy-form button")
        assert "委托表决已录入（3号楼-302）" in main
        roll = mod.inner_text("#roll")
        assert roll.count("书面表决票") == 2 and roll.count("书面委托") == 1
        assert roll.count("线上表决") == 3 and roll.count("未表决") == 1
        assert "查看授权委托书" in roll
        assert no_horizontal_scroll(mod)
        shot(mod, f"ballot-manage-{tag}")

        anon.reload()
        turnout = anon.inner_text("#turnout")
        assert "705.25 / 794.13 ㎡，占 88.81%" in turnout and "6 / 7 人，占 85.71%" in turnout
        assert turnout.count("已达到") == 2
        shot(anon, f"ballot-turnout-{tag}")

        # after the deadline: counted, the provisional result and the file are published
        clock.freeze(b["closes_at"])
        mod.goto(manage)
        main = submit(mod, "#steps form[action$='/count'] button")
        assert "已计票，暂定结果和表决文件已公布" in main
        b = _ballot(live_app, h["decision_id"])
        assert b["state"] == "provisional" and b["passed"] is True
        anon.reload()
        result = anon.inner_text("#result")
        assert "表决结果（暂定）" in result and "本事项获得通过。" in result
        ends = clock.local(b["objection_ends_at"]).strftime("%Y-%m-%d %H:%M")
        assert f"异议期至 {ends}" in result
        shot(anon, f"ballot-provisional-{tag}")

        # after the objection period: final; the decision starts its publicity period
        clock.freeze(b["objection_ends_at"])
        mod.goto(manage)
        main = submit(mod, "#steps form[action$='/finalize'] button")
        assert "表决结果已确定并公布" in main
        mod.goto(base + h["decision"])
        status = mod.inner_text("#status")
        assert "公示中" in mod.inner_text("article .meta") and "公示期：" in status
        assert "结果已于" in mod.inner_text("#owners-ballot")
        from civic.decisions.models import Decision
        published, period_ends = read(live_app, lambda: tuple(db.session.execute(
            select(Decision.published_at, Decision.publicity_ends_at)
            .where(Decision.id == h["decision_id"])).one()))
        fmt = "%Y-%m-%d %H:%M"
        assert (f"公示期：{clock.local(published).strftime(fmt)} 至 "
                f"{clock.local(period_ends).strftime(fmt)}") in status

        # after its period the moderator makes it effective
        clock.freeze(period_ends)
        mod.reload()
        main = submit(mod, "#manage button:has-text('确认生效')")
        assert "决议已生效" in main and "已生效" in mod.inner_text("article .meta")

        # anyone downloads the ballot file from the page and recounts it. (The page is
        # public for 30 s: a browser may show its own copy that long, and reloading asks.)
        anon.reload()
        assert "结果已确定" in anon.inner_text("article .meta")
        assert "表决结果（暂定）" not in anon.inner_text("main")
        assert no_horizontal_scroll(anon)
        shot(anon, f"ballot-final-{tag}")
        with anon.expect_download() as info:
            anon.click("#file a:has-text('下载表决文件')")
        download = info.value
        name = f"ballot-{slug}-{b['number']}.json"
        assert download.suggested_filename == name
        path = tmp_path / name
        download.save_as(path)
        data = path.read_bytes()
        sha = hashlib.sha256(data).hexdigest()
        assert sha == b["sha"]
        assert sha in anon.inner_text("#file").replace("\n", "").replace("\u200b", "")
        out = live_app.test_cli_runner().invoke(args=["ballots", "recount", str(path)])
        assert out.exit_code == 0, out.output
        summary = json.loads(out.stdout)
        assert summary["passed"] is True
        p, a = summary["participation"], summary["approval"]

        # the recount agrees with what the page publishes
        anon.click("#file summary")
        expected = anon.inner_text("#file details")
        yes = "是"
        assert (f"参与表决面积 {p['area']} / {p['area_total']} ㎡，人数 {p['headcount']} / "
                f"{p['headcount_total']}，达到参与条件：{yes if p['met'] else '否'}") in expected
        assert (f"同意面积 {a['area_yes']} ㎡，同意人数 {a['headcount_yes']}，"
                f"达到同意比例：{yes if a['met'] else '否'}") in expected
        assert "是否通过：是" in expected
        table = {r.split("\t")[0]: r.split("\t")[1:] for r in
                 anon.locator("#result tbody tr").all_inner_texts()}
        assert table["参与表决合计"] == [p["area"], str(p["headcount"])]
        assert table["全体业主"] == [p["area_total"], str(p["headcount_total"])]
        assert table["同意"] == [a["area_yes"], str(a["headcount_yes"])]
        assert "本事项获得通过。" in anon.inner_text("#result")
        assert (p["area"], p["area_total"], p["headcount"], p["headcount_total"]) == \
            ("705.25", "794.13", 6, 7)
        assert (a["area_yes"], a["headcount_yes"]) == ("490.00", 4)
        json.loads(data)                                  # the file itself is plain JSON
        assert "甲" not in data.decode("utf-8")            # no roster names in the file
    finally:
        clock.freeze(None)
