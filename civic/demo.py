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
