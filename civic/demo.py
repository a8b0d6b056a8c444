"""A demo community so a newcomer sees a living app. Demo passwords are for demos only."""
from __future__ import annotations

import random
from decimal import Decimal

from sqlalchemy import select

from civic.accounts.models import User
from civic.accounts.operations import hash_password
from civic.audit import operations as audit
from civic.communities import operations as community_ops
from civic.communities.models import Building, Community, Owner, Role, Tenure, Unit
from civic.extensions import db
from civic.roster.parse import natural_key

DEMO_PASSWORD = "civic-demo-2026"

#: phone, display name, role, title (staff) — one account in every role
DEMO_USERS = [
    ("13800000000", "平台管理员", "admin", ""),
    ("13800000001", "王红", Role.MODERATOR, "居委会主任"),
    ("13800000002", "李建国", Role.ASSOCIATION, "业委会主任"),
    ("13800000003", "赵磊", Role.PROPERTY, "物业项目经理"),
    ("13800000004", "陈静", Role.OBSERVER, "街道社区办"),
    ("13800000005", "刘阿姨", Role.RESIDENT, "owner"),
    ("13800000006", "小周", Role.RESIDENT, "tenant"),
]

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢"
_GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛",
          "明", "超", "秀英", "霞", "平", "刚", "桂英", "建华", "志强", "文", "海燕", "建国", "晓东"]
#: typical exclusive areas (m²) of flats in a 2000s Shanghai estate
_AREAS = ["58.36", "72.15", "89.52", "89.52", "96.80", "110.24", "120.36", "143.80"]


_demo_hash: list[str] = []


def _user(phone: str, name: str) -> User:
    """A demo account; all share one (demo-only) password, hashed once."""
    if not _demo_hash:
        _demo_hash.append(hash_password(DEMO_PASSWORD))
    user = db.session.execute(select(User).where(User.phone == phone)).scalar_one_or_none()
    if user is None:
        user = User(phone=phone, password_hash=_demo_hash[0], display_name=name)
        db.session.add(user)
        db.session.flush()
    return user


def load(slug: str = "huayuan") -> str:
    """Create the demo community and its people; commit. Does nothing if it exists."""
    if db.session.execute(select(Community).where(Community.slug == slug)).scalar_one_or_none():
        return f"演示小区 {slug} 已存在，未做改动。"
    rng = random.Random(20261122)
    users = {phone: _user(phone, name) for phone, name, _r, _t in DEMO_USERS}
    admin = users["13800000000"]
    admin.is_admin = True
    community = community_ops.create_community(admin, slug, "花园小区", "浦东新区花木街道")

    developer = Owner(community_id=community.id, name="上海某置业有限公司", ref="__developer__",
                      is_developer=True)
    db.session.add(developer)
    owners: list[Owner] = []
    units: list[Unit] = []
    for b in (1, 2, 3):
        building = Building(community_id=community.id, name=f"{b}号楼",
                            sort_key=natural_key(f"{b}号楼"))
        db.session.add(building)
        db.session.flush()
        for floor in range(1, 11):
            for door in range(1, 5):
                number = f"{floor}{door:02d}"
                if b == 3 and floor == 10:
                    owner = developer  # top floor of 3号楼 not yet sold
                elif owners and rng.random() < 0.04:
                    owner = rng.choice(owners)  # an owner of several units counts once
                else:
                    name = rng.choice(_SURNAMES) + rng.choice(_GIVEN)
                    owner = Owner(community_id=community.id, name=name,
                                  ref=f"Y{len(owners) + 1:04d}")
                    db.session.add(owner)
                    owners.append(owner)
                db.session.flush()
                unit = Unit(community_id=community.id, building_id=building.id, number=number,
                            sort_key=natural_key(number), area=Decimal(rng.choice(_AREAS)),
                            owner_id=owner.id)
                db.session.add(unit)
                units.append(unit)
    db.session.flush()
    audit.record("roster.import", community, actor=admin, community_id=community.id,
                 units=len(units), owners=len(owners) + 1, source="demo")

    for phone, _name, role, extra in DEMO_USERS:
        if role == "admin":
            continue
        user = users[phone]
        if role is Role.RESIDENT:
            unit = units[0] if extra == "owner" else units[45]
            community_ops.bind_resident(user, unit, Tenure(extra), actor=users["13800000001"],
                                        via="demo")
        else:
            community_ops.grant_staff_role(admin, community, user, role, title=extra)
    _demo_issues(community, units, users)
    _demo_consultations(community, units, users)
    _demo_implementation(community, units, users)
    db.session.commit()
    return (f"已创建演示小区“花园小区”（/c/{slug}/）：3 栋楼，{len(units)} 户。"
            f"演示账号密码均为 {DEMO_PASSWORD}（仅供演示）。")


#: the demo's responsibility list (权责清单): category → lead body
DEMO_RESPONSIBILITY = {"环境卫生": "property", "停车": "property", "绿化": "property",
                       "安全": "property", "设施维修": "property", "噪音": "committee",
                       "宠物": "committee", "加装电梯": "association", "物业服务": "association",
                       "其他": "committee"}

DEMO_ISSUES = [
    # title, category, building index or None, place, body, target state, co-signing households
    ("3号楼北侧路灯坏了一个月", "安全", 2, "北侧人行道",
     "晚上很黑，老人孩子出行不安全。已经向物业报修两次，还没有修好。", "collecting", 8),
    ("地下车库B区积水严重", "设施维修", None, "地下车库B区",
     "每次下雨B区就积水，车轮都泡在水里，希望查清排水问题。", "awaiting_triage", 21),
    ("1号楼加装电梯征求意见", "加装电梯", 0, "1号楼",
     "1号楼有不少老人住在高层，上下楼很困难，提议加装电梯。费用和分摊方式请大家一起商量。",
     "collecting", 12),
    ("小区南门快递堆放占道", "环境卫生", None, "南门",
     "快递包裹堆在门口人行道上，推婴儿车和轮椅都过不去。", "expired", 4),
    ("希望增设电动自行车充电桩", "停车", None, "2号楼东侧",
     "楼道里充电太危险，建议在2号楼东侧空地增设集中充电桩。", "draft", 0),
    ("2号楼单元门门禁失灵", "安全", 1, "1单元门口",
     "门禁坏了半个月，外来人员随意进出。", "accepted", 20),
    ("要求物业赔偿我家车位被占的损失", "停车", None, "地面车位",
     "我家车位经常被外来车辆占用，要求物业赔偿。", "declined", 20),
]


def _demo_issues(community, units, users) -> None:
    """Issues in several states, co-signed by demo households, through the real operations."""
    from datetime import timedelta

    from civic import clock
    from civic.issues import operations as issue_ops
    from civic.issues.models import IssueState

    from civic.triage import operations as triage_ops
    from civic.triage.models import Body
    community.threshold_households = 20
    moderator = users["13800000001"]
    author = users["13800000005"]
    triage_ops.set_responsibility(moderator, community, {
        category: Body(lead) for category, lead in DEMO_RESPONSIBILITY.items()})
    neighbours = []
    for i in range(30):
        unit = units[60 + i]
        user = _user(f"1380000{1000 + i}", "")
        community_ops.bind_resident(user, unit, Tenure.OWNER, actor=users["13800000001"],
                                    via="demo")
        neighbours.append(user)
    db.session.flush()
    buildings = community.buildings
    for title, category, b, place, body, state, signers in DEMO_ISSUES:
        issue = issue_ops.create_issue(author, community, title=title, body=body,
                                       category=category,
                                       building_id=buildings[b].id if b is not None else None,
                                       place_text=place, photos=[])
        if state == "draft":
            continue
        issue_ops.submit(author, issue)
        for user in neighbours[:signers]:
            issue_ops.cosign(user, issue.id, "")
        if state == "expired":
            issue.expires_at = clock.now() - timedelta(days=1)
            db.session.flush()
            issue_ops.expire_due()
        elif state == "accepted":
            triage_ops.accept(moderator, issue, Body.PROPERTY, [Body.COMMITTEE])
            triage_ops.post_response(users["13800000003"], issue,
                                     "已联系门禁厂家，配件周三到货，周四上午更换。更换前物业安排"
                                     "保安在单元门口值守。")
        elif state == "declined":
            triage_ops.decline(moderator, issue, "车位被占属于业主之间或业主与外来车辆之间的纠纷，"
                               "物业已加强巡查并可协助联系挪车；赔偿请求不属于议事范围，"
                               "可通过人民调解委员会解决。")
        db.session.refresh(issue)
        assert issue.state is IssueState(state), (title, issue.state)
    db.session.flush()


def _demo_consultations(community, units, users) -> None:
    """Joint-meeting history, through the real operations with the clock moved back:
    a parking issue whose first round found no agreement and whose second round is voting
    now; a wall repair decided and in its publicity period with objections; a lift for
    1号楼 whose plan waits for the owners' ballot, which is under way."""
    from datetime import timedelta

    from civic import clock
    from civic.ballots import operations as ballot_ops
    from civic.consultation import operations as rounds
    from civic.consultation.models import FundingSource
    from civic.consultation import rules
    from civic.consultation.rules import Body, Vote
    from civic.triage.models import Body as Lead
    from civic.decisions import operations as decisions
    from civic.issues import operations as issue_ops
    from civic.triage import operations as triage_ops

    now = clock.now().replace(minute=0, second=0, microsecond=0)
    mod, assoc, prop = users["13800000001"], users["13800000002"], users["13800000003"]
    author, rep = users["13800000005"], users["13800000005"]
    neighbours = [_user(f"1380000{1000 + i}", "") for i in range(30)]

    def at(days: float, hours: float = 0) -> None:
        clock.freeze(now + timedelta(days=days, hours=hours))

    def accepted_issue(title, category, body, lead, building=None):
        issue = issue_ops.create_issue(author, community, title=title, body=body,
                                       category=category, building_id=building,
                                       place_text="", photos=[])
        issue_ops.submit(author, issue)
        for user in neighbours[:20]:
            issue_ops.cosign(user, issue.id, "")
        triage_ops.accept(mod, issue, Lead(lead.value),
                          [Lead(b.value) for b in rules.REQUIRED_BODIES if b is not lead])
        return issue

    def seat_three(rnd):
        rounds.add_seat(mod, rnd, mod, Body.COMMITTEE)
        rounds.add_seat(mod, rnd, assoc, Body.ASSOCIATION)
        rounds.add_seat(mod, rnd, prop, Body.PROPERTY)

    def vote_all(rnd, table):
        options = rounds.options_of(rnd.id)
        for user, marks in table:
            for option, (vote, reason) in zip(options, marks):
                rounds.cast_vote(user, rnd.id, option.id, vote, reason)

    def minutes(rnd, text):
        rounds.write_minutes(mod, rnd, text)
        rounds.submit_minutes(mod, rnd)
        for user in (mod, assoc, prop):
            rounds.confirm_minutes(user, rnd, True)

    try:
        # 1. parking: round 1 without agreement, round 2 voting now
        at(-40)
        parking = accepted_issue(
            "西侧绿化带改建停车位", "停车",
            "晚上车位严重不足，车辆停在消防通道上。建议把西侧绿化带的一部分改建为停车位。",
            Body.PROPERTY)
        c = rounds.open_consultation(mod, parking)
        at(-38)
        r1 = rounds.schedule_round(mod, c, "西侧绿化带是否改建停车位、改建多少", "居委会二楼会议室",
                                   False, now - timedelta(days=34),
                                   now - timedelta(days=34, hours=-3), guests="花木街道城管中队")
        seat_three(r1)
        rounds.add_option(mod, r1, "西侧绿化带改建 12 个停车位",
                          "拆除约 300 平方米绿化，铺设植草砖停车位 12 个，收费标准另行公示。",
                          18_000_000, FundingSource.PUBLIC_INCOME, Body.PROPERTY)
        at(-34)
        rounds.open_round(mod, r1)
        vote_all(r1, [(mod, [(Vote.OPPOSE, "停车位问题确实突出，但维持现状不能解决消防通道被占。"),
                             (Vote.AGREE, "")]),
                      (assoc, [(Vote.AGREE, "绿化是全体业主的共有部分，大面积改建需先征求业主意见。"),
                               (Vote.OPPOSE, "减少绿化过多，不少业主反对。")]),
                      (prop, [(Vote.OPPOSE, "车位不足已影响消防安全。"), (Vote.AGREE, "")])])
        at(-34, 3)
        rounds.close_round(mod, r1)
        minutes(r1, "三方到会。业委会认为改建 12 个车位减少绿化过多，建议缩小规模并补种绿化；"
                    "物业同意调整方案。本轮未形成决定，下一轮讨论修订方案。")
        at(-5)
        r2 = rounds.schedule_round(mod, c, "修订方案：改建 8 个停车位并补种绿化", "居委会二楼会议室",
                                   False, now - timedelta(hours=1), now + timedelta(days=2))
        seat_three(r2)
        rounds.add_seat(mod, r2, rep, Body.RESIDENT, "居民代表")
        rounds.add_option(mod, r2, "改建 8 个停车位并补种绿化",
                          "改建 8 个植草砖车位（约 200 平方米），在北侧空地补种同等面积绿化。",
                          12_000_000, FundingSource.PUBLIC_INCOME, Body.PROPERTY)
        rounds.post_statement(assoc, r2, Body.ASSOCIATION,
                              "业委会征求了 3 号楼业主意见，多数接受缩小规模、补种绿化的修订方案。")
        rounds.post_statement(prop, r2, Body.PROPERTY,
                              "物业可在一个月内完工，施工期间临时停车安排在南门空地。")
        for i, text in enumerate(["希望补种的绿化不要选会掉果子的树。", "支持，消防通道必须畅通。"]):
            rounds.add_round_comment(neighbours[i], r2, text)
        at(0, -1)
        rounds.open_round(mod, r2)
        vote_all(r2, [(mod, [(Vote.OPPOSE, "维持现状无法解决消防通道被占。"), (Vote.AGREE, "")])])

        # 2. wall repair: decided, in its publicity period, one objection answered
        at(-30)
        wall = accepted_issue("2号楼外墙渗水维修", "设施维修",
                              "2号楼西墙多户雨天渗水，墙面发霉，希望尽快维修。", Body.PROPERTY,
                              community.buildings[1].id)
        c = rounds.open_consultation(mod, wall)
        at(-28)
        r = rounds.schedule_round(mod, c, "2号楼西墙渗水维修方案", "", True,
                                  now - timedelta(days=24), now - timedelta(days=24, hours=-2))
        seat_three(r)
        rounds.add_option(mod, r, "西墙防水修缮（公共收益支出）",
                          "西墙整面重做防水层并修复内墙霉斑，质保 5 年。",
                          8_600_000, FundingSource.PUBLIC_INCOME, Body.PROPERTY)
        at(-24)
        rounds.open_round(mod, r)
        vote_all(r, [(user, [(Vote.OPPOSE, "渗水影响居住，必须维修。"), (Vote.AGREE, "")])
                     for user in (mod, assoc, prop)])
        at(-24, 2)
        rounds.close_round(mod, r)
        minutes(r, "线上会议，三方一致同意西墙防水修缮方案，由物业组织施工，公共收益支出 8.6 万元。")
        at(-3)
        d = decisions.publish(mod, wall, summary="三方一致通过西墙防水修缮方案，由物业在 45 天内完工。",
                              due_on=(now + timedelta(days=45)).date())
        at(-2)
        o = decisions.file_objection(neighbours[3], d, "施工期间脚手架会挡住采光，希望明确工期。")
        decisions.file_objection(neighbours[4], d, "建议把东墙也一起检查。")
        at(-1)
        decisions.answer_objection(mod, o, "施工期约 20 天，脚手架按楼层分段搭设，每段不超过 7 天。")

        # 3. lift for 1号楼: the plan waits for the owners' ballot, which is open
        at(-20)
        lift = accepted_issue("1号楼加装电梯方案", "加装电梯",
                              "1号楼老人多，业委会已征询意向，拟使用专项维修资金加装电梯。",
                              Body.ASSOCIATION, community.buildings[0].id)
        c = rounds.open_consultation(mod, lift)
        at(-19)
        r = rounds.schedule_round(mod, c, "1号楼加装电梯方案", "1号楼门厅", False,
                                  now - timedelta(days=15), now - timedelta(days=15, hours=-2))
        seat_three(r)
        rounds.add_option(mod, r, "1号楼加装电梯（使用专项维修资金）",
                          "加装一部 10 层电梯，总价 45 万元，使用 1 号楼专项维修资金。",
                          45_000_000, FundingSource.MAINTENANCE_FUND, Body.ASSOCIATION,
                          owners_item=5)
        at(-15)
        rounds.open_round(mod, r)
        vote_all(r, [(user, [(Vote.OPPOSE, "老人上下楼困难，应当加装。"), (Vote.AGREE, "")])
                     for user in (mod, assoc, prop)])
        at(-15, 2)
        rounds.close_round(mod, r)
        minutes(r, "三方一致同意加装电梯方案。使用专项维修资金属于《民法典》第二百七十八条第五项，"
                   "须经 1 号楼业主表决。")
        at(-12)
        d = decisions.publish(mod, lift, summary="加装电梯方案提交 1 号楼业主表决。",
                              due_on=(now + timedelta(days=180)).date())
        ballot = ballot_ops.schedule(mod, community, title="1号楼加装电梯使用专项维修资金",
                                     question="是否同意使用 1 号楼专项维修资金 45 万元加装电梯？",
                                     item=5, opens_at=now - timedelta(days=8),
                                     closes_at=now + timedelta(days=6),
                                     building_ids=[community.buildings[0].id], decision=d)
        at(-8)
        ballot_ops.open_ballot(mod, ballot)
        ballot_ops.vote_online(author, ballot, "yes")
        building1 = [u for u in units if u.building_id == community.buildings[0].id]
        for unit, choice in zip(building1[5:17], ["yes"] * 9 + ["no", "abstain", "yes"]):
            try:
                ballot_ops.enter_paper(mod, ballot, f"1号楼-{unit.number}", choice)
            except Exception:  # an owner of several units already counted
                continue
    finally:
        clock.freeze(None)


def _receipt(seed: int) -> bytes:
    """A plain image standing in for a photographed receipt."""
    import io

    from PIL import Image, ImageDraw
    img = Image.new("RGB", (480, 640), (250, 248, 240))
    draw = ImageDraw.Draw(img)
    for row in range(6):
        y = 80 + row * 80
        draw.rectangle((40, y, 440 - (seed * 37 + row * 53) % 160, y + 18), fill=(120, 120, 120))
    draw.rectangle((300, 520, 420, 600), outline=(200, 40, 40), width=6)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=70)
    return out.getvalue()


def _demo_implementation(community, units, users) -> None:
    """Work carried out: new fitness equipment decided two months ago, paid from public
    income (one payment entered wrongly and reversed), under way; and a repaved path paid
    from the maintenance fund with the owners' committee's approval, completed."""
    from datetime import timedelta

    from civic import clock
    from civic.consultation import operations as rounds
    from civic.consultation import rules
    from civic.consultation.models import FundingSource
    from civic.consultation.rules import Body, Vote
    from civic.decisions import operations as decisions
    from civic.implementation import operations as work
    from civic.issues import operations as issue_ops
    from civic.triage import operations as triage_ops
    from civic.triage.models import Body as Lead

    now = clock.now().replace(minute=0, second=0, microsecond=0)
    mod, assoc, prop = users["13800000001"], users["13800000002"], users["13800000003"]
    author = users["13800000005"]
    neighbours = [_user(f"1380000{1000 + i}", "") for i in range(30)]

    def at(days: float, hours: float = 0) -> None:
        clock.freeze(now + timedelta(days=days, hours=hours))

    def decided(title, category, body, plan, description, cost, funding, lead, start):
        at(start)
        issue = issue_ops.create_issue(author, community, title=title, body=body,
                                       category=category, building_id=None, place_text="",
                                       photos=[])
        issue_ops.submit(author, issue)
        for user in neighbours[:20]:
            issue_ops.cosign(user, issue.id, "")
        triage_ops.accept(mod, issue, Lead(lead.value),
                          [Lead(b.value) for b in rules.REQUIRED_BODIES if b is not lead])
        c = rounds.open_consultation(mod, issue)
        at(start + 1)
        r = rounds.schedule_round(mod, c, plan, "居委会二楼会议室", False,
                                  now + timedelta(days=start + 5),
                                  now + timedelta(days=start + 5, hours=2))
        for user, seat in ((mod, Body.COMMITTEE), (assoc, Body.ASSOCIATION),
                           (prop, Body.PROPERTY)):
            rounds.add_seat(mod, r, user, seat)
        rounds.add_option(mod, r, plan, description, cost, funding, lead)
        at(start + 5)
        rounds.open_round(mod, r)
        for user in (mod, assoc, prop):
            status_quo, option = rounds.options_of(r.id)
            rounds.cast_vote(user, r.id, status_quo.id, Vote.OPPOSE, "问题影响安全，不能维持现状。")
            rounds.cast_vote(user, r.id, option.id, Vote.AGREE, "")
        at(start + 5, 2)
        rounds.close_round(mod, r)
        rounds.write_minutes(mod, r, f"三方一致同意：{plan}。")
        rounds.submit_minutes(mod, r)
        for user in (mod, assoc, prop):
            rounds.confirm_minutes(user, r, True)
        at(start + 6)
        d = decisions.publish(mod, issue, summary=f"三方一致通过：{plan}。",
                              due_on=(now + timedelta(days=start + 60)).date())
        at(start + 6 + community.publicity_days, 1)
        decisions.take_effect(None, d)
        return issue

    def pay(issue, days, amount, payee, purpose, by=prop):
        at(days)
        return work.add_expense(by, issue, spent_on=clock.local(clock.now()).date(),
                                amount_fen=amount, payee=payee, purpose=purpose,
                                receipts=[_receipt(amount % 97)])

    try:
        fitness = decided(
            "健身器材老化需要更换", "设施维修",
            "中心花园的健身器材锈蚀严重，有两台已经松动，老人锻炼有安全隐患。",
            "更换中心花园健身器材 8 件", "拆除旧器材，更换为国标户外健身器材 8 件，含安装与两年质保。",
            3_600_000, FundingSource.PUBLIC_INCOME, Body.PROPERTY, -60)
        pay(fitness, -40, 1_800_000, "上海某体育设施有限公司", "健身器材预付款（50%）")
        wrong = pay(fitness, -39, 800_000, "某某五金店", "拆除旧器材用工")
        at(-38)
        work.reverse_expense(prop, wrong, "金额录入错误，应为 800 元，已重新登记")
        pay(fitness, -38, 80_000, "某某五金店", "拆除旧器材用工")
        at(-37)
        work.post_update(prop, fitness, status="in_progress",
                         text="旧器材已全部拆除，地面基础正在浇筑，新器材预计下周到货。", photos=[])
        at(-20)
        work.post_update(prop, fitness, status="in_progress",
                         text="8 件器材中已安装 5 件，剩余 3 件等待厂家补货。", photos=[])

        path = decided(
            "南门人行道路面破损", "设施维修",
            "南门进来的人行道多处地砖碎裂翘起，下雨积水，已有老人摔倒。",
            "南门人行道翻修 120 平方米", "铲除破损地砖，重新找平并铺设透水砖 120 平方米。",
            2_400_000, FundingSource.MAINTENANCE_FUND, Body.PROPERTY, -90)
        first = pay(path, -70, 1_500_000, "上海某市政工程有限公司", "人行道翻修工程款")
        at(-69)
        work.review_expense(assoc, first, approved=True, note="与合同金额一致")
        second = pay(path, -60, 700_000, "上海某市政工程有限公司", "透水砖材料费")
        at(-59)
        work.review_expense(assoc, second, approved=True)
        at(-58)
        work.post_update(prop, path, status="completed",
                         text="人行道翻修完成，已通过居委会和业委会现场验收。", photos=[])
        from civic.implementation import ratings
        at(-55)
        for user, (score, resolved, comment) in zip(neighbours, [
                ("satisfied", True, "路面平整多了，推车方便。"), ("satisfied", True, ""),
                ("basic", True, "靠近门岗的一段还有点积水。"), ("satisfied", True, ""),
                ("unsatisfied", False, "施工期间没有提前通知。")]):
            ratings.rate(user, path, resolved=resolved, score=score, comment=comment)
        at(-40)
        ratings.close_due()
    finally:
        clock.freeze(None)
