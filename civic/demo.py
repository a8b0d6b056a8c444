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


def _user(phone: str, name: str) -> User:
    user = db.session.execute(select(User).where(User.phone == phone)).scalar_one_or_none()
    if user is None:
        user = User(phone=phone, password_hash=hash_password(DEMO_PASSWORD), display_name=name)
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
        building = Building(community_id=community.id, name=f"{b}号楼", sort_key=f"{b:06d}")
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
                            sort_key=f"{floor:04d}{door:04d}", area=Decimal(rng.choice(_AREAS)),
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
    db.session.commit()
    return (f"已创建演示小区“花园小区”（/c/{slug}/）：3 栋楼，{len(units)} 户。"
            f"演示账号密码均为 {DEMO_PASSWORD}（仅供演示）。")
