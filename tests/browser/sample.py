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
