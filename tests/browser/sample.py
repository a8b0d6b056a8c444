"""A small community with data for the page-by-page browser checks (accessibility, weight):
issues in every state a page shows, an official response, comments (one hidden, one
reported), a hidden issue, a draft, a claim, invitation codes, a precedent, notifications."""
from __future__ import annotations

from sqlalchemy import select

from civic.extensions import db


def _ops_context(app):
    """Operations run as in a POST (the live app checks CSRF, so they don't go through it)."""
    return app.test_request_context("/", method="POST")


def build_community(app, make, make_issue) -> dict:
    """Returns the community, a building, the people in every role, issue numbers by state
    and a few ids that pages need."""
    from civic.accounts.models import User
    from civic.communities.models import Community, Membership, Tenure, Unit
    from civic.issues import operations as issue_ops
    from civic.issues.models import Issue
    from civic.moderation import operations as mod_ops
    from civic.triage import operations as triage_ops
    from civic.triage.models import Body
    from civic.verification import operations as ver_ops

    c = make.community(slug="huayuan", name="花园小区", district="花木街道")
    b1 = make.building(c, "1号楼")
    b2 = make.building(c, "2号楼")
    units = [make.unit(c, building=b1, number=n) for n in ("101", "102", "201", "202")]
    units += [make.unit(c, building=b2, number=n) for n in ("101", "102")]
    resident = make.resident(c, unit=units[0])
    neighbours = [make.resident(c, unit=u) for u in units[1:4]]
    moderator = make.staff(c, "moderator", title="居委会主任")
    manager = make.staff(c, "property", title="物业项目经理")
    admin = make.admin()
    newcomer = make.user(display_name="小林")
    claimant = make.user(display_name="小王")

    def issue(title, category="设施维修", need=1, signers=1):
        iid, n = make_issue(c, author=resident, need=need, title=title, category=category,
                            body="晚上很黑，老人出行**不安全**。")
        with _ops_context(app):
            for nb in neighbours[:signers]:
                issue_ops.cosign(db.session.get(User, nb.id), iid, "支持")
            db.session.commit()
        return iid, n

    accepted, n_acc = issue("2号楼单元门门禁失灵", "安全")
    declined, n_dec = issue("要求物业赔偿车位被占的损失", "停车")
    merged, n_mer = issue("单元门门禁又坏了", "安全")
    _waiting, n_wait = issue("地下车库B区积水严重")
    ruled, n_rule = issue("小区绿化带杂草丛生", "绿化")
    collecting, n_col = issue("3号楼北侧路灯坏了", "安全", need=3, signers=1)
    hidden, n_hid = issue("一个被隐藏的议题", "其他", need=3, signers=0)
    _draft, n_draft = make_issue(c, author=resident, state="draft", title="增设电动自行车充电桩",
                                 category="停车")

    with _ops_context(app):
        mod = db.session.get(User, moderator.id)
        community = db.session.get(Community, c.id)

        def get(issue_id):
            return db.session.get(Issue, issue_id)
        triage_ops.set_responsibility(mod, community, {
            "设施维修": Body.PROPERTY, "安全": Body.PROPERTY, "停车": Body.PROPERTY,
            "绿化": Body.PROPERTY})
        triage_ops.accept(mod, get(accepted), Body.PROPERTY, [Body.COMMITTEE])
        triage_ops.post_response(db.session.get(User, manager.id), get(accepted),
                                 "已联系门禁厂家，配件周三到货，周四上午更换。")
        triage_ops.decline(mod, get(declined), "赔偿请求不属于议事范围，可通过人民调解委员会解决。")
        triage_ops.merge(mod, get(merged), n_acc)
        triage_ops.record_ruling(mod, get(ruled), Body.PROPERTY, "绿化养护属于物业服务合同范围。",
                                 save_precedent=True, precedent_title="绿化养护由物业牵头")
        author = db.session.get(User, resident.id)
        issue_ops.add_comment(author, get(collecting), "我家老人晚上不敢出门。")
        rude = issue_ops.add_comment(db.session.get(User, neighbours[0].id), get(collecting),
                                     "一条不友善的评论")
        mod_ops.hide(mod, community, mod_ops.target_of(c.id, "comment", rude.id), "人身攻击")
        reply = issue_ops.add_comment(db.session.get(User, neighbours[1].id), get(collecting),
                                      "同意，楼下也很暗。")
        mod_ops.hide(mod, community, mod_ops.target_of(c.id, "issue", hidden), "重复发布")
        mod_ops.report(author, community, "comment", reply.id, "与议题无关的广告")
        ver_ops.submit_claim(db.session.get(User, claimant.id), community,
                             db.session.get(Unit, units[4].id), Tenure.OWNER,
                             "我是2号楼101的业主，可以提供房产证。")
        ver_ops.issue_codes(mod, community, [db.session.get(Unit, units[5].id)], Tenure.OWNER)
        rude_id, reply_id = rude.id, reply.id
        membership_id = db.session.scalar(select(Membership.id).where(
            Membership.user_id == neighbours[1].id))
        db.session.commit()
    return {"c": c, "b1": b1, "resident": resident, "moderator": moderator, "manager": manager,
            "admin": admin, "newcomer": newcomer, "rude_id": rude_id, "reply_id": reply_id,
            "membership_id": membership_id, "unit_id": units[0].id,
            "n": {"accepted": n_acc, "declined": n_dec, "merged": n_mer, "waiting": n_wait,
                  "ruled": n_rule, "collecting": n_col, "hidden": n_hid, "draft": n_draft}}


def build_governance(app, make, make_issue, d: dict) -> dict:
    """Add to the sample community (build_community's `d`) what the consultation, decision
    and ballot pages show, through the operations: an association member; issue numbers
    `n["consulting"]` (round 1 closed without agreement, minutes published; round 2 open,
    one option voted on, a statement and a resident's opinion), `n["noticed"]` (round 1
    noticed and half prepared), `n["fresh"]` (in consultation, no round yet) and
    `n["decided"]` (its decision in the publicity period with one answered and one open
    objection); building 3 with three verified owners; ballot `ballot_open` (open, one owner
    has voted) and `ballot_counted` (provisional result, one objection). Time is moved with
    the clock and released at the end, so every period still runs when the pages load.
    Returns the additions (merged into `d` too)."""
    from datetime import timedelta

    from civic import clock
    from civic.accounts.models import User
    from civic.ballots import operations as ballot_ops
    from civic.communities.models import Community
    from civic.consultation import operations as cops
    from civic.consultation.models import FundingSource
    from civic.consultation.rules import Body, Vote
    from civic.decisions import operations as dops
    from civic.issues import operations as issue_ops
    from civic.issues.models import Issue
    from civic.triage import operations as triage_ops
    from civic.triage.models import Body as TriageBody

    c = d["c"]
    assoc = make.staff(c, "association", title="业委会主任")
    b3 = make.building(c, "3号楼")
    units = [make.unit(c, building=b3, number=no, area=area, owner=make.owner(c, name))
             for no, area, name in (("101", "88.00", "周"), ("102", "92.50", "吴"),
                                    ("201", "101.20", "郑"))]
    owners = [make.resident(c, unit=u) for u in units]

    def U(person):
        return db.session.get(User, person.id)

    def accepted(title: str) -> tuple[int, int]:
        iid, number = make_issue(c, author=d["resident"], need=1, title=title, category="停车",
                                 body="南门附近车辆乱停，消防通道经常被堵。")
        with _ops_context(app):
            issue_ops.cosign(U(owners[0]), iid, "支持")
            triage_ops.accept(U(d["moderator"]), db.session.get(Issue, iid),
                              TriageBody.PROPERTY, [TriageBody.COMMITTEE])
            db.session.commit()
        return iid, number

    seats = (("moderator", Body.COMMITTEE), ("assoc", Body.ASSOCIATION),
             ("manager", Body.PROPERTY))
    people = {"moderator": d["moderator"], "assoc": assoc, "manager": d["manager"]}

    def prepare(con, title: str, cost_fen: int):
        mod = U(d["moderator"])
        starts = clock.now() + timedelta(days=4)
        rnd = cops.schedule_round(mod, con, agenda=f"{title}\n请各方提出意见", place="居委会二楼",
                                  online=False, starts_at=starts,
                                  closes_at=starts + timedelta(hours=2),
                                  guests="街道城管中队")
        for who, body in seats:
            cops.add_seat(mod, rnd, U(people[who]), body)
        plan = cops.add_option(mod, rnd, title, "由物业组织施工，工期 10 天", cost_fen,
                               FundingSource.PUBLIC_INCOME, Body.PROPERTY)
        return rnd, plan

    def vote_and_close(rnd, plan, oppose: bool) -> None:
        clock.freeze(rnd.starts_at)
        cops.open_round(U(d["moderator"]), rnd)
        status_quo = cops.options_of(rnd.id)[0]
        for who, _body in seats:
            against = oppose and who == "assoc"
            cops.cast_vote(U(people[who]), rnd.id, plan.id,
                           Vote.OPPOSE if against else Vote.AGREE,
                           "费用偏高，请先比价" if against else "")
            cops.cast_vote(U(people[who]), rnd.id, status_quo.id, Vote.OPPOSE, "必须处理")
        clock.freeze(rnd.closes_at)
        cops.close_round(U(d["moderator"]), rnd)
        cops.write_minutes(U(d["moderator"]), rnd, "会议纪要：三方到会，**逐项表决**。")
        cops.submit_minutes(U(d["moderator"]), rnd)
        for who, _body in seats:
            cops.confirm_minutes(U(people[who]), rnd, True)

    consulting, n_cons = accepted("南门停车位重新划线")
    noticed, n_not = accepted("非机动车棚扩建")
    fresh, n_fresh = accepted("快递柜移位")
    decided, n_dec = accepted("单元楼道重新粉刷")
    clock.freeze(clock.now())
    try:
        with _ops_context(app):
            mod = U(d["moderator"])
            # decided: one round adopts the plan; the decision is published and objected to
            con = cops.open_consultation(mod, db.session.get(Issue, decided))
            rnd, plan = prepare(con, "楼道墙面粉刷", 2_360_000)
            vote_and_close(rnd, plan, oppose=False)
            decision = dops.publish(mod, db.session.get(Issue, decided),
                                    summary="采纳楼道粉刷方案。", lead=Body.PROPERTY,
                                    due_on=clock.now().date() + timedelta(days=60),
                                    budget_fen=2_360_000,
                                    funding_source=FundingSource.PUBLIC_INCOME)
            first = dops.file_objection(U(d["resident"]), decision, "粉刷期间楼道通风怎么保证？")
            dops.file_objection(U(owners[1]), decision, "涂料要用环保的。")
            dops.answer_objection(mod, first, "施工期间每天开窗通风，使用低气味涂料。")
            db.session.commit()

            # consulting: round 1 without agreement, round 2 open
            con = cops.open_consultation(mod, db.session.get(Issue, consulting))
            rnd1, plan1 = prepare(con, "南门停车位重新划线（方案一）", 1_250_050)
            vote_and_close(rnd1, plan1, oppose=True)
            db.session.commit()
            rnd2, plan2 = prepare(con, "南门停车位重新划线（方案二）", 980_000)
            cops.post_statement(U(d["manager"]), rnd2, Body.PROPERTY, "物业支持方案二，可在一周内完成。")
            cops.add_round_comment(U(d["resident"]), rnd2, "希望保留两个访客车位。")
            clock.freeze(rnd2.starts_at)
            cops.open_round(mod, rnd2)
            cops.cast_vote(U(assoc), rnd2.id, plan2.id, Vote.AGREE, "费用合理")
            db.session.commit()

            # noticed: round 1 has a notice, two of three seats and no option yet
            con = cops.open_consultation(mod, db.session.get(Issue, noticed))
            rnd3 = cops.schedule_round(mod, con, agenda="非机动车棚扩建方案", place="",
                                       online=True, starts_at=clock.now() + timedelta(days=5),
                                       closes_at=clock.now() + timedelta(days=5, hours=3))
            cops.add_seat(mod, rnd3, mod, Body.COMMITTEE)
            cops.add_seat(mod, rnd3, U(d["manager"]), Body.PROPERTY)
            cops.open_consultation(mod, db.session.get(Issue, fresh))
            db.session.commit()

            # ballots in building 3: one open, one counted with an objection
            community = db.session.get(Community, c.id)
            opens = clock.now() + timedelta(days=community.notice_days, hours=1)
            ballot_open = ballot_ops.schedule(
                mod, community, title="3号楼外墙维修使用专项维修资金",
                question="是否同意使用专项维修资金维修3号楼外墙？", item=5, opens_at=opens,
                closes_at=opens + timedelta(days=30), building_ids=[b3.id])
            counted = ballot_ops.schedule(
                mod, community, title="3号楼楼顶设置广告牌", question="是否同意在楼顶设置广告牌？",
                item=8, opens_at=opens, closes_at=opens + timedelta(days=2),
                building_ids=[b3.id])
            db.session.commit()
            clock.freeze(opens)
            ballot_ops.open_ballot(mod, ballot_open)
            ballot_ops.open_ballot(mod, counted)
            ballot_ops.vote_online(U(owners[0]), ballot_open, "yes")
            for owner, choice in zip(owners, ("yes", "yes", "no")):
                ballot_ops.vote_online(U(owner), counted, choice)
            db.session.commit()
            clock.freeze(counted.closes_at)
            ballot_ops.count(mod, counted)
            ballot_ops.file_objection(U(owners[2]), counted, "我家的反对票是否计入了？")
            community.threshold_households = 3     # as build_community left it
            out = {"assoc": assoc, "owners": owners, "decision_version": decision.version,
                   "ballot_open": ballot_open.number, "ballot_counted": counted.number,
                   "round_ids": (rnd1.id, rnd2.id, rnd3.id)}
            db.session.commit()
    finally:
        clock.freeze(None)
    d["n"].update(consulting=n_cons, noticed=n_not, fresh=n_fresh, decided=n_dec)
    d.update(out)
    return out
