"""City-sized benchmark data (see bench/README.md): communities, units, residents, issues in
every state with their co-signs, triage, consultations with rounds, seats, options and named
votes, decisions, expenses, progress updates and ratings — written in bulk.

Rows are planned in memory with their ids chosen here (the database must hold no community
yet), then written table by table: PostgreSQL through ``COPY … FROM STDIN``, SQLite through
executemany. Everything follows the schema's rules and the app's invariants (one co-sign per
household, ``cosign_count`` equal to the co-sign rows, co-signs only by active resident
memberships of the issue's community, states consistent with their timestamps, a decision's
``content_hash`` computed by the app's own function, expenses within the budget of an
effective decision). Generated rows are not in the audit chain: it records what the app
did, and the generator writes no audit event, so ``flask audit verify`` still passes.
"""
from __future__ import annotations

import hashlib
import random
import secrets
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import bindparam, func, insert, select, text

from civic.audit.chain import canonical_json
from civic.consultation.models import FundingSource
from civic.consultation.operations import STATUS_QUO_TITLE
from civic.consultation.rules import Body, Rule
from civic.decisions.models import Decision, Outcome
from civic.decisions.operations import compute_content_hash
from civic.extensions import db
from civic.issues.models import DEFAULT_CATEGORIES, IssueState
from civic.models import Base
from civic.roster.parse import natural_key
from civic.text import render_markdown

#: the password of every generated account (benchmark data only)
BENCH_PASSWORD = "civic-bench-2026"
#: residents get 170xxxxxxxx, staff 171xxxxxxxx: reserved ranges, never real numbers here
RESIDENT_PREFIX, STAFF_PREFIX = "170", "171"

#: scale 1.0
FULL = {"communities": 50, "units": 100_000, "issues": 20_000, "cosigns": 1_000_000,
        "decisions": 5_000, "expenses": 50_000}

DISTRICTS = ["浦东新区花木街道", "浦东新区塘桥街道", "徐汇区田林街道", "静安区彭浦新村街道",
             "杨浦区五角场街道"]
_ESTATES = ["花园", "锦绣", "阳光", "翠湖", "康桥", "金桥", "东方", "明珠", "丽景", "绿洲",
            "春晖", "和平", "兰亭", "紫薇", "香樟", "银杏", "滨江", "世纪", "新村", "华庭"]
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢"
_GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛",
          "明", "超", "秀英", "霞", "平", "刚", "桂英", "建华", "志强", "文", "海燕", "建国", "晓东"]
_AREAS = [Decimal(a) for a in ("58.36", "72.15", "89.52", "96.80", "110.24", "120.36",
                                "143.80")]

#: category → problems residents raise about it
_PROBLEMS = {
    "安全": ["路灯不亮", "门禁失灵", "监控探头损坏", "消防通道被占", "楼道灭火器过期"],
    "环境卫生": ["垃圾清运不及时", "楼道堆放杂物", "下水道堵塞有异味", "快递堆放占道"],
    "停车": ["车位严重不足", "外来车辆乱停", "电动自行车充电难", "道闸经常失灵"],
    "绿化": ["树木遮挡采光", "草坪大面积枯黄", "树枝折断有隐患", "绿化带被改成菜地"],
    "设施维修": ["积水严重", "外墙渗水", "电梯频繁故障", "地砖破损", "屋顶漏水", "健身器材老化"],
    "噪音": ["夜间施工噪音扰民", "广场舞音量过大", "空调外机噪音"],
    "宠物": ["犬只不拴绳", "宠物粪便无人清理", "流浪猫聚集"],
    "加装电梯": ["加装电梯征求意见", "加装电梯费用分摊"],
    "物业服务": ["报修响应太慢", "保洁频次不够", "物业费收支不公开"],
    "其他": ["希望增设休闲座椅", "儿童游乐设施不足", "公告栏信息过期"],
}
_PLACES = ["{b}北侧", "{b}南侧", "{b}门口", "{b}楼道", "地下车库", "南门", "北门", "中心花园",
           "儿童游乐区", "垃圾房", "东侧围墙", "西侧绿化带", "小区主干道"]
_BODIES = ["最近一段时间{p}，给居民生活带来不便。", "已经向物业反映过，还没有解决。",
           "老人和孩子出行有安全隐患，希望尽快处理。", "附近不少邻居都有同感，请大家联署。",
           "建议三方一起商量一个长期解决办法。", "晚上尤其明显，影响休息。"]
_PLANS = ["维修更换", "整体改造", "分期实施", "委托专业公司处理", "增设设施"]
_PAYEES = ["上海某物业服务有限公司", "上海某市政工程有限公司", "某某五金店", "上海某建筑装饰有限公司",
           "上海某电梯工程有限公司", "上海某园林绿化有限公司"]
_FUNDING = ["public_income", "public_income", "autonomy_fund", "service_fee", "government",
            "maintenance_fund"]
_LEAD = {"环境卫生": "property", "停车": "property", "绿化": "property", "安全": "property",
         "设施维修": "property", "噪音": "committee", "宠物": "committee",
         "加装电梯": "association", "物业服务": "association", "其他": "committee"}
_STAFF = [("moderator", "居委会主任", "committee"), ("association", "业委会主任", "association"),
          ("property", "物业项目经理", "property"), ("observer", "街道社区办", None)]

S = IssueState
#: issues that reached their threshold
_PAST_THRESHOLD = {S.AWAITING_TRIAGE, S.ACCEPTED, S.DECLINED, S.MERGED, S.REFERRED,
                   S.IN_CONSULTATION, S.DECIDED, S.IN_PROGRESS, S.COMPLETED, S.UNDER_REVIEW}
#: issues with a published decision
_DECIDED = (S.DECIDED, S.IN_PROGRESS, S.COMPLETED, S.UNDER_REVIEW)
#: shares of the issues without a decision
_OTHER_WEIGHTS = {S.DRAFT: 3, S.COLLECTING: 12, S.AWAITING_TRIAGE: 3, S.EXPIRED: 25,
                  S.WITHDRAWN: 4, S.ACCEPTED: 10, S.DECLINED: 8, S.MERGED: 4, S.REFERRED: 6,
                  S.IN_CONSULTATION: 6}
_DECIDED_WEIGHTS = {S.DECIDED: 3, S.IN_PROGRESS: 4, S.COMPLETED: 6, S.UNDER_REVIEW: 1}
THRESHOLD = 20

#: write order: parents before children
TABLES = {
    "user_account": ("id", "phone", "password_hash", "display_name", "show_name", "locale",
                     "is_admin", "session_token", "pseudonym", "created_at"),
    "community": ("id", "slug", "name", "district", "threshold_kind", "threshold_households",
                  "threshold_share_num", "threshold_share_den", "collect_days", "triage_days",
                  "notice_days", "publicity_days", "ballot_objection_days", "created_at"),
    "building": ("id", "community_id", "name", "sort_key"),
    "owner": ("id", "community_id", "name", "ref", "is_developer"),
    "unit": ("id", "community_id", "building_id", "number", "sort_key", "area", "owner_id"),
    "membership": ("id", "user_id", "community_id", "role", "unit_id", "tenure", "status",
                   "title", "granted_by_id", "revoked_reason", "created_at"),
    "responsibility_rule": ("id", "community_id", "category", "lead", "note"),
    "issue": ("id", "community_id", "number", "title", "body", "body_html", "category",
              "building_id", "place_text", "author_id", "author_unit_id", "state",
              "threshold_kind", "need_households", "collecting_at", "expires_at",
              "threshold_at", "closed_at", "completed_at", "rating_window", "rating_closed_at",
              "review_opened_at", "cosign_count", "cosign_area", "cosign_heads",
              "hidden_reason", "created_at"),
    "cosign": ("id", "issue_id", "unit_id", "user_id", "by_owner", "comment", "created_at"),
    "triage": ("issue_id", "community_id", "outcome", "lead", "participants", "reason",
               "merged_into_id", "office", "office_ref", "ruling", "decided_by_id",
               "decided_at", "response_due_at", "responded_at", "created_at"),
    "consultation": ("id", "issue_id", "community_id", "opened_by_id", "state", "closed_at",
                     "escalation_note", "created_at"),
    "consultation_round": ("id", "consultation_id", "community_id", "number", "state", "agenda",
                           "place", "online", "guests", "starts_at", "closes_at", "notice_at",
                           "rule", "quorum_num", "quorum_den", "frozen_hash", "opened_at",
                           "closed_at", "created_at"),
    "round_seat": ("id", "round_id", "body", "user_id", "membership_id", "title", "created_at"),
    "round_option": ("id", "round_id", "position", "title", "description", "cost_fen",
                     "funding_source", "executor", "is_status_quo", "owners_item",
                     "created_at"),
    "seat_vote": ("id", "round_id", "seat_id", "option_id", "vote", "reason", "updated_at",
                  "created_at"),
    "round_minutes": ("id", "round_id", "author_id", "text", "text_html", "revision", "state",
                      "submitted_at", "published_at", "created_at"),
    "minutes_confirmation": ("id", "minutes_id", "revision", "body", "user_id", "confirmed",
                             "note", "created_at"),
    "decision": ("id", "community_id", "issue_id", "consultation_id", "round_id", "version",
                 "outcome", "adopted_option_id", "title", "summary", "rule", "tally", "lead",
                 "due_on", "budget_fen", "funding_source", "owners_item", "correction_note",
                 "content_hash", "published_by_id", "state", "published_at",
                 "publicity_ends_at", "effective_at", "withdraw_reason", "created_at"),
    "expense": ("id", "community_id", "issue_id", "decision_id", "number", "spent_on",
                "amount_fen", "payee", "purpose", "funding_source", "reason", "body",
                "created_by_id", "created_at"),
    "expense_review": ("id", "expense_id", "approved", "note", "reviewer_id", "created_at"),
    "progress_update": ("id", "community_id", "issue_id", "decision_id", "author_id", "body",
                        "status", "text", "created_at"),
    "rating": ("id", "community_id", "issue_id", "window_no", "unit_id", "user_id", "resolved",
               "score", "comment", "created_at"),
}
#: tables whose primary key is not a generated integer id
_NO_SEQUENCE = {"triage"}


class NotEmpty(Exception):
    """The database already holds communities."""


def sizes(scale: float) -> dict[str, int]:
    """Row targets for a scale (1.0 = FULL), with small floors so that a tiny scale still
    has every state and two communities."""
    n = {k: round(v * scale) for k, v in FULL.items()}
    n["communities"] = max(2, n["communities"])
    n["units"] = max(100 * n["communities"], n["units"])
    n["issues"] = max(4 * len(IssueState), n["issues"])
    n["decisions"] = min(max(len(_DECIDED_WEIGHTS) * 2, n["decisions"]), n["issues"] // 3)
    return n


def _split(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def _spread(total: int, weights: dict, rng: random.Random) -> list:
    """`total` states drawn by weight, each state at least once."""
    states = list(weights)
    out = states[:total]
    out += rng.choices(states, weights=[weights[s] for s in states], k=total - len(out))
    rng.shuffle(out)
    return out


class Plan:
    """Rows in memory, by table, with ids allocated after the tables' current maxima."""

    def __init__(self, offsets: dict[str, int]):
        self.rows: dict[str, list[tuple]] = {t: [] for t in TABLES}
        self.last = {t: offsets.get(t, 0) for t in TABLES}
        #: (round id, adopted option id): set after the options exist (circular keys)
        self.adopted: list[tuple[int, int]] = []

    def add(self, table: str, *values) -> int:
        """Append a row whose id is allocated here; `values` are the columns after id."""
        self.last[table] += 1
        self.rows[table].append((self.last[table], *values))
        return self.last[table]

    def fingerprint(self) -> str:
        """SHA-256 of every row except secrets (password hash, session token)."""
        h = hashlib.sha256()
        for table, rows in self.rows.items():
            cols = TABLES[table]
            skip = {cols.index("password_hash"), cols.index("session_token")} \
                if table == "user_account" else set()
            h.update(table.encode())
            for row in rows:
                h.update(repr(tuple(v for i, v in enumerate(row) if i not in skip)).encode())
        return h.hexdigest()

    def counts(self) -> dict[str, int]:
        return {t: len(r) for t, r in self.rows.items()}


def _dt(at: datetime) -> datetime:
    return at.replace(microsecond=0)


def build(scale: float = 1.0, seed: int = 1, now: datetime | None = None,
          offsets: dict[str, int] | None = None, password_hash: str = "") -> Plan:
    """Plan every row (pure: the same scale, seed, now and offsets give the same rows)."""
    rng = random.Random(seed)
    now = _dt(now or datetime.now(timezone.utc))
    n = sizes(scale)
    p = Plan(offsets or {})
    md = _Markdown()
    units_per = _split(n["units"], n["communities"])
    issues_per = _split(n["issues"], n["communities"])
    decisions_per = _split(n["decisions"], n["communities"])
    cosigns_per = _split(n["cosigns"], n["communities"])
    expenses_per = _split(n["expenses"], n["communities"])
    phone = iter(range(10**8))
    staff_phone = iter(range(10**8))

    def user(prefix: str, seq, name: str, at: datetime) -> int:
        uid = p.last["user_account"] + 1
        return p.add("user_account", f"{prefix}{next(seq):08d}", password_hash, name, False,
                     "zh_CN", False, secrets.token_urlsafe(32), f"u-b{uid:010x}", at)

    for ci in range(n["communities"]):
        created = now - timedelta(days=3 * 365 + 30 + rng.randrange(300))
        estate = _ESTATES[ci % len(_ESTATES)] + ("" if ci < len(_ESTATES) else str(ci))
        cid = p.add("community", f"bench-{ci + 1:03d}", f"{estate}小区",
                    DISTRICTS[ci % len(DISTRICTS)], "households", THRESHOLD, 1, 5, 30, 3, 3,
                    7, 7, created)
        staff = {}  # body or role → (user id, membership id)
        for role, title, body in _STAFF:
            uid = user(STAFF_PREFIX, staff_phone, rng.choice(_SURNAMES) + rng.choice(_GIVEN),
                       created)
            mid = p.add("membership", uid, cid, role, None, None, "active", title, None, "",
                        created)
            staff[body or role] = (uid, mid, title)
        mod_uid = staff["committee"][0]
        for category in DEFAULT_CATEGORIES:
            p.add("responsibility_rule", cid, category, _LEAD[category], "")

        # buildings, owners, units, verified residents
        units: list[tuple] = []  # (unit id, building id, building name, owner id, area)
        residents: list[tuple] = []  # (unit id, user id, is owner, area, owner id)
        developer = p.add("owner", cid, "上海某置业有限公司", "__developer__", True)
        left, b = units_per[ci], 0
        owners: list[int] = []
        while left > 0:
            b += 1
            floors, doors = rng.choice([(6, 2), (11, 4), (18, 4), (26, 4)])
            name = f"{b}号楼"
            bid = p.add("building", cid, name, natural_key(name))
            for floor in range(1, floors + 1):
                for door in range(1, doors + 1):
                    if left == 0:
                        break
                    left -= 1
                    if left < 3:
                        owner = developer  # the last flats are not sold yet
                    elif owners and rng.random() < 0.03:
                        owner = rng.choice(owners)
                    else:
                        owner = p.add("owner", cid, rng.choice(_SURNAMES) + rng.choice(_GIVEN),
                                      f"Y{len(owners) + 1:05d}", False)
                        owners.append(owner)
                    number = f"{floor}{door:02d}"
                    area = rng.choice(_AREAS)
                    uid_ = p.add("unit", cid, bid, number, natural_key(number), area, owner)
                    units.append((uid_, bid, name, owner, area))
        for unit_id, _bid, _bname, owner, area in units:
            if rng.random() < 0.85 and owner != developer:
                at = created + timedelta(days=rng.randrange(60))
                is_owner = rng.random() < 0.85
                rid = user(RESIDENT_PREFIX, phone, "", at)
                p.add("membership", rid, cid, "resident", unit_id,
                      "owner" if is_owner else "tenant", "active", "", mod_uid, "", at)
                residents.append((unit_id, rid, is_owner, area, owner))
        by_unit = {u[0]: u for u in units}

        # issues: states, then co-sign counts that add up to the community's share
        n_dec = decisions_per[ci]
        states = (_spread(n_dec, _DECIDED_WEIGHTS, rng)
                  + _spread(issues_per[ci] - n_dec, _OTHER_WEIGHTS, rng))
        rng.shuffle(states)
        cap = len(residents)
        counts = [0] * len(states)
        budget = cosigns_per[ci]
        for i, st in enumerate(states):
            if st in _PAST_THRESHOLD:
                counts[i] = THRESHOLD
            elif st is not S.DRAFT:
                counts[i] = rng.randrange(0, THRESHOLD)
            counts[i] = min(counts[i], cap)
        budget -= sum(counts)
        budget = max(0, budget)
        past = [i for i, st in enumerate(states) if st in _PAST_THRESHOLD]
        weights = [rng.paretovariate(1.5) for _ in past]
        total_w = sum(weights) or 1.0
        for i, w in zip(past, weights):
            extra = min(cap - counts[i], max(0, int(budget * w / total_w)))
            counts[i] += extra
        remainder = cosigns_per[ci] - sum(counts)
        while remainder > 0 and past:  # rounding left-overs, where there is room
            room = [i for i in past if counts[i] < cap]
            if not room:
                break
            for i in room[:remainder]:
                counts[i] += 1
            remainder -= min(remainder, len(room))

        # oldest first, so that numbers grow with time; open states are recent
        starts = []
        for st in states:
            if st in (S.DRAFT, S.COLLECTING):
                starts.append(now - timedelta(days=rng.uniform(0.2, 28)))
            elif st is S.AWAITING_TRIAGE:
                starts.append(now - timedelta(days=rng.uniform(3, 10)))
            elif st is S.DECIDED:
                starts.append(now - timedelta(days=rng.uniform(60, 400)))
            else:
                starts.append(now - timedelta(days=rng.uniform(120, 3 * 365)))
        order = sorted(range(len(states)), key=lambda i: starts[i])
        earlier: list[int] = []  # public issues so far, to merge into
        exp_left = expenses_per[ci]
        spenders = [i for i in order if states[i] in (S.IN_PROGRESS, S.COMPLETED,
                                                      S.UNDER_REVIEW)]
        exp_share = dict(zip(spenders, _split(exp_left, len(spenders)) if spenders else []))
        for number, i in enumerate(order, start=1):
            st, k = states[i], counts[i]
            t0 = _dt(starts[i])
            category = rng.choice(DEFAULT_CATEGORIES)
            author = rng.choice(residents)
            unit = by_unit[author[0]]
            place = rng.choice(_PLACES).format(b=unit[2])
            problem = rng.choice(_PROBLEMS[category])
            title = f"{place}{problem}"[:80]
            body = _BODIES[0].format(p=problem) + "".join(rng.sample(_BODIES[1:], 2))
            building_id = unit[1] if "{b}" in place or rng.random() < 0.2 else None
            v = dict(collecting_at=None, expires_at=None, threshold_at=None, closed_at=None,
                     completed_at=None, rating_window=0, rating_closed_at=None,
                     review_opened_at=None)
            if st is not S.DRAFT:
                v["collecting_at"] = t0 + timedelta(minutes=rng.randrange(5, 600))
                v["expires_at"] = v["collecting_at"] + timedelta(days=30)
            signers = rng.sample(residents, k)
            sign_times = []
            if k:
                span = ((now - v["collecting_at"]) if st is S.COLLECTING
                        else timedelta(days=rng.uniform(1, 25)))
                sign_times = sorted(v["collecting_at"] + span * rng.random() for _ in range(k))
                sign_times = [_dt(t) for t in sign_times]
            if st in _PAST_THRESHOLD:
                v["threshold_at"] = sign_times[THRESHOLD - 1]
            if st is S.EXPIRED:
                v["closed_at"] = v["expires_at"]
            elif st is S.WITHDRAWN:
                v["closed_at"] = (sign_times[-1] if sign_times else v["collecting_at"]) \
                    + timedelta(hours=rng.uniform(1, 48))
            elif st is S.AWAITING_TRIAGE:
                pass
            elif st in (S.DECLINED, S.MERGED, S.REFERRED):
                v["closed_at"] = v["threshold_at"] + timedelta(days=rng.uniform(0.5, 3))
            owner_signers = [s for s in signers if s[2]]
            iid = p.add(
                "issue", cid, number, title, body, md(body), category, building_id, place,
                author[1], author[0], st.value, "households" if st is not S.DRAFT else None,
                THRESHOLD if st is not S.DRAFT else None, v["collecting_at"], v["expires_at"],
                v["threshold_at"], v["closed_at"], None, 0, None, None, k,
                sum((s[3] for s in owner_signers), Decimal("0")),
                len({s[4] for s in owner_signers}), "", t0)
            issue_row = len(p.rows["issue"]) - 1
            if st is not S.DRAFT:
                earlier.append(iid)
            for s, at in zip(signers, sign_times):
                p.add("cosign", iid, s[0], s[1], s[2], "", at)
            if st not in _PAST_THRESHOLD:
                continue

            # triage
            lead = _LEAD[category]
            others = ",".join(sorted({"committee", "association", "property"} - {lead}))
            tri_at = v["threshold_at"] + timedelta(days=rng.uniform(0.5, 2.5))
            if st is S.AWAITING_TRIAGE:
                p.rows["triage"].append((iid, cid, "pending", None, "", "", None, "", "", "",
                                         None, None, None, None, v["threshold_at"]))
                continue
            if st is S.DECLINED:
                row = ("declined", None, "", "不属于议事范围，已告知可通过人民调解委员会解决。",
                       None, "", "")
            elif st is S.MERGED and earlier:
                row = ("merged", None, "", "", rng.choice(earlier), "", "")
            elif st is S.REFERRED:
                row = ("referred", None, "", "已转交街道城管中队处理。", None, "街道城管中队",
                       f"ZB-{number:05d}")
            else:
                row = ("accepted", lead, others, "", None, "", "")
            if st is S.MERGED and row[0] != "merged":
                # the first issue of a community cannot be merged into an earlier one
                row = ("declined", None, "", "已有同类议题。", None, "", "")
                _set_state(p, issue_row, S.DECLINED)
            due = tri_at + timedelta(days=15) if row[0] == "accepted" else None
            responded = (tri_at + timedelta(days=rng.uniform(1, 10))
                         if due and rng.random() < 0.8 else None)
            p.rows["triage"].append((iid, cid, *row, "", mod_uid, tri_at, due, responded,
                                     v["threshold_at"]))
            if row[0] != "accepted":
                continue
            if st is S.ACCEPTED:
                continue

            # consultation: one round, or a first one without agreement and a second
            plan = f"{place}{problem.rstrip('。')}{rng.choice(_PLANS)}"[:80]
            cost = rng.randrange(20, 600) * 100_000  # 2 000 – 60 000 yuan, in fen
            funding = rng.choice(_FUNDING)
            opened = tri_at + timedelta(days=rng.uniform(1, 5))
            con_id = p.last["consultation"] + 1
            n_rounds = 2 if rng.random() < 0.2 else 1
            decided_state = st in _DECIDED
            rounds_done = n_rounds if decided_state else rng.randrange(0, n_rounds + 1)
            # only a decision adopting a plan leads to work; some decided issues reject
            adopt_plan = st is not S.DECIDED or rng.random() < 0.7
            t = opened
            tally_rounds, last_round = [], None
            round_specs = []
            for rn in range(1, rounds_done + 1):
                final = rn == n_rounds
                notice = t + timedelta(days=1)
                starts_at = _dt(notice + timedelta(days=4))
                closes_at = starts_at + timedelta(hours=2)
                t = closes_at + timedelta(days=3)
                round_specs.append((rn, final, notice, starts_at, closes_at))
            closed_at = round_specs[-1][4] + timedelta(days=3) if decided_state else None
            p.add("consultation", iid, cid, mod_uid, "closed" if decided_state else "open",
                  closed_at, "", opened)
            for rn, final, notice, starts_at, closes_at in round_specs:
                agenda = f"{title}：{'修订方案' if rn > 1 else '实施方案'}"
                rid = p.last["consultation_round"] + 1
                seats = []
                for body in ("committee", "association", "property"):
                    suid, smid, stitle = staff[body]
                    seats.append((p.last["round_seat"] + 1, body, stitle, suid))
                    p.add("round_seat", rid, body, suid, smid, stitle, notice)
                sq = p.last["round_option"] + 1
                opt = sq + 1
                options = [(sq, 0, STATUS_QUO_TITLE, "不采取措施。", 0, None, None, True),
                           (opt, 1, plan, f"{plan}，由{'物业' if lead == 'property' else '相关方'}"
                            "组织实施。", cost, funding, lead, False)]
                # what each seat voted on each option
                if final and adopt_plan:
                    votes = {sq: ["oppose"] * 3, opt: ["agree"] * 3}
                elif final:
                    votes = {sq: ["agree"] * 3, opt: ["oppose"] * 3}
                else:  # the association disagrees: nothing adopted, another round
                    votes = {sq: ["oppose", "agree", "oppose"], opt: ["agree", "oppose", "agree"]}
                adopted = (opt if adopt_plan else sq) if final else None
                seat_payload = [{"id": s[0], "body": s[1], "title": s[2],
                                 "holder": _pseudonym(s[3])} for s in seats]
                frozen = {"round": rid, "consultation": con_id, "number": rn, "agenda": agenda,
                          "options": [_option_json(o) for o in options], "seats": seat_payload,
                          "rule": "consensus", "quorum": "1/2", "closes_at": closes_at,
                          "guests": []}
                frozen_hash = hashlib.sha256(canonical_json(frozen).encode()).hexdigest()
                p.add("consultation_round", con_id, cid, rn, "closed", agenda, "居委会会议室",
                      False, "", starts_at, closes_at, notice, "consensus", 1, 2, frozen_hash,
                      starts_at, closes_at, notice)
                if adopted:
                    p.adopted.append((rid, adopted))
                for o in options:
                    p.add("round_option", rid, *o[1:], None, notice)
                reasons = {"oppose": "问题影响居民生活，不能维持现状。", "agree": ""}
                tally_options = []
                for o in options:
                    marks = votes[o[0]]
                    for s, vote in zip(seats, marks):
                        reason = reasons[vote] if o[7] else (
                            "" if vote == "agree" else "费用过高，建议缩小规模。")
                        p.add("seat_vote", rid, s[0], o[0], vote, reason,
                              starts_at + timedelta(minutes=30), starts_at + timedelta(minutes=30))
                    agree = marks.count("agree")
                    tally_options.append({
                        **_option_json(o, description=False), "passed": agree == 3,
                        "totals": {"agree": agree, "oppose": 3 - agree, "abstain": 0,
                                   "absent": 0},
                        "votes": [{"seat": s[0], "body": s[1], "title": s[2],
                                   "holder": _pseudonym(s[3]), "vote": vote,
                                   "reason": (reasons[vote] if o[7] else
                                              ("" if vote == "agree" else "费用过高，建议缩小规模。"))}
                                  for s, vote in zip(seats, marks)]})
                tally_rounds.append({"round": rn, "rule": "consensus", "quorum": "1/2",
                                     "frozen_hash": frozen_hash, "adopted": adopted,
                                     "closed_at": closes_at, "options": tally_options})
                text_ = "三方到会，" + ("一致同意实施方案。" if final and adopt_plan else
                                      "一致认为维持现状。" if final else "未形成一致意见，下一轮讨论修订方案。")
                published = closes_at + timedelta(days=1)
                mid = p.add("round_minutes", rid, mod_uid, text_, md(text_), 1, "published",
                            closes_at + timedelta(hours=3), published, closes_at)
                for s in seats:
                    p.add("minutes_confirmation", mid, 1, s[1], s[3], True, "", published)
                last_round = (rid, adopted, closes_at)
            if not decided_state:
                continue

            # the decision, hashed by the app's own function
            rid, adopted, closes_at = last_round
            published_at = closes_at + timedelta(days=rng.uniform(1, 3))
            if st is S.DECIDED and rng.random() < 0.3:
                published_at = now - timedelta(days=rng.uniform(0.5, 6))
            published_at = _dt(published_at)
            ends = published_at + timedelta(days=7)
            effective = ends + timedelta(hours=1) if ends < now else None
            outcome = Outcome.ADOPTED if adopt_plan else Outcome.REJECTED
            d = Decision(
                community_id=cid, issue_id=iid,
                consultation_id=con_id, round_id=rid, version=1, corrects_id=None,
                supplements_id=None, outcome=outcome,
                adopted_option_id=adopted if adopt_plan else None,
                title=(plan if adopt_plan else f"不予实施：{title}")[:120],
                summary=("三方一致通过实施方案。" if adopt_plan else "三方一致认为维持现状，说明已公布。"),
                rule="consensus", tally=canonical_json({"consultation": con_id,
                                                         "rounds": tally_rounds}),
                lead=lead if adopt_plan else None,
                due_on=(published_at + timedelta(days=90)).date() if adopt_plan else None,
                budget_fen=cost if adopt_plan else 0,
                funding_source=funding if adopt_plan else None, owners_item=None,
                correction_note="", published_by_id=mod_uid)
            d.rule = Rule.CONSENSUS
            d.lead = Body(d.lead) if d.lead else None
            d.funding_source = FundingSource(d.funding_source) if d.funding_source else None
            content_hash = compute_content_hash(d)
            did = p.add("decision", cid, iid, con_id, rid, 1, outcome.value, d.adopted_option_id,
                        d.title, d.summary, "consensus", d.tally, d.lead and d.lead.value,
                        d.due_on, d.budget_fen, funding if adopt_plan else None, None, "",
                        content_hash, mod_uid, "effective" if effective else "publicity",
                        published_at, ends, effective, "", published_at)
            if st is S.DECIDED or not adopt_plan:
                if not adopt_plan and st is not S.DECIDED:
                    _set_state(p, issue_row, S.DECIDED)
                continue
            if effective is None:  # work starts only on an effective decision
                _set_state(p, issue_row, S.DECIDED)
                continue

            # implementation: progress, expenses within the budget, ratings
            lead_uid = staff[lead][0]
            start = effective + timedelta(days=rng.uniform(2, 20))
            p.add("progress_update", cid, iid, did, lead_uid, lead, "in_progress",
                  "已开工，施工期间请注意安全。", _dt(start))
            n_exp = exp_share.get(i, 0)
            if n_exp:
                spent = rng.uniform(0.5, 0.98) * cost
                parts = [rng.random() + 0.1 for _ in range(n_exp)]
                whole = sum(parts)
                amounts = [max(1, int(spent * w / whole)) for w in parts]
                # never more than the budget, whatever the rounding
                assert sum(amounts) <= cost
                for en, amount in enumerate(amounts, start=1):
                    at = _dt(start + timedelta(days=rng.uniform(0, 60)))
                    eid = p.add("expense", cid, iid, did, en, at.date(), amount,
                                rng.choice(_PAYEES), f"{plan}第{en}笔款项", funding, "", lead,
                                lead_uid, at)
                    if funding == "maintenance_fund":
                        p.add("expense_review", eid, True, "与合同一致",
                              staff["association"][0], at + timedelta(days=1))
            if st is S.IN_PROGRESS:
                continue
            done = _dt(start + timedelta(days=rng.uniform(61, 120)))
            p.add("progress_update", cid, iid, did, lead_uid, lead, "completed",
                  "已完工，经三方现场验收。", done)
            row = list(p.rows["issue"][issue_row])
            cols = TABLES["issue"]
            row[cols.index("completed_at")] = done
            row[cols.index("rating_window")] = 1
            unhappy = st is S.UNDER_REVIEW
            if unhappy:
                row[cols.index("rating_closed_at")] = done + timedelta(days=15)
                row[cols.index("review_opened_at")] = done + timedelta(days=15)
            else:
                row[cols.index("closed_at")] = done
            p.rows["issue"][issue_row] = tuple(row)
            for s in signers[:10]:
                score = (rng.choice(["unsatisfied", "unsatisfied", "basic"]) if unhappy
                         else rng.choice(["satisfied", "satisfied", "basic", "unsatisfied"]))
                p.add("rating", cid, iid, 1, s[0], s[1], score != "unsatisfied", score, "",
                      done + timedelta(days=rng.uniform(0, 14)))
    return p


def _set_state(p: Plan, index: int, state: IssueState) -> None:
    row = list(p.rows["issue"][index])
    row[TABLES["issue"].index("state")] = state.value
    p.rows["issue"][index] = tuple(row)


def _pseudonym(user_id: int) -> str:
    return f"u-b{user_id:010x}"


def _option_json(o: tuple, description: bool = True) -> dict:
    """An option as the round's frozen payload (with its description) or a decision's tally
    (without) write it."""
    oid, position, title, text_, cost, funding, executor, status_quo = o
    return {"id": oid, "position": position, "title": title,
            **({"description": text_} if description else {}),
            "cost_fen": cost, "funding_source": funding, "executor": executor,
            "status_quo": status_quo, "owners_item": None}


class _Markdown:
    """render_markdown, once per distinct text (bodies come from a few templates)."""

    def __init__(self):
        self.cache: dict[str, str] = {}

    def __call__(self, source: str) -> str:
        html = self.cache.get(source)
        if html is None:
            html = self.cache[source] = render_markdown(source)
        return html


# --- writing --------------------------------------------------------------------------

def _offsets(session) -> dict[str, int]:
    out = {}
    for table in TABLES:
        if table in _NO_SEQUENCE:
            continue
        out[table] = session.execute(
            select(func.coalesce(func.max(Base.metadata.tables[table].c.id), 0))).scalar()
    return out


def _naive(value):
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


#: PostgreSQL tables receiving at least this many rows are loaded without their foreign keys
#: and plain indexes, which are added back (and so validated) right after
BULK_DDL_ROWS = 50_000


def _set_aside(conn, table: str) -> list[str]:
    """Drop the table's foreign keys and non-constraint indexes; return the statements that
    create them again."""
    keys = conn.execute(text(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = CAST(:t AS regclass) AND contype = 'f'"), {"t": table}).all()
    indexes = conn.execute(text(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
        "AND tablename = :t AND indexname NOT IN (SELECT conname FROM pg_constraint "
        "WHERE conrelid = CAST(:t AS regclass))"), {"t": table}).all()
    for name, _definition in keys:
        conn.exec_driver_sql(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
    for name, _definition in indexes:
        conn.exec_driver_sql(f'DROP INDEX "{name}"')
    return ([definition for _name, definition in indexes]
            + [f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}'
               for name, definition in keys])


def write(plan: Plan, session) -> dict[str, float]:
    """Insert the planned rows in the session's transaction (the caller commits); return the
    seconds spent on each table."""
    conn = session.connection()
    postgres = conn.dialect.name == "postgresql"
    seconds = {}
    for table, cols in TABLES.items():
        rows = plan.rows[table]
        started = time.monotonic()
        if not rows:
            continue
        if postgres:
            # PostgreSQL's recipe for populating a table: without its foreign keys and plain
            # indexes, added back afterwards (each key then validated by one join instead of
            # one lookup per row). The same transaction, so a failure leaves them as they were.
            restore = _set_aside(conn, table) if len(rows) >= BULK_DDL_ROWS else []
            raw = conn.connection.driver_connection
            with raw.cursor() as cur, cur.copy(
                    f'COPY "{table}" ({", ".join(cols)}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row([_naive(v) for v in row])
            for statement in restore:
                conn.exec_driver_sql(statement)
        else:
            target = Base.metadata.tables[table]
            for start in range(0, len(rows), 20_000):
                conn.execute(insert(target), [dict(zip(cols, row))
                                              for row in rows[start:start + 20_000]])
        seconds[table] = time.monotonic() - started
    if plan.adopted:
        rounds = Base.metadata.tables["consultation_round"]
        conn.execute(rounds.update().where(rounds.c.id == bindparam("rid"))
                     .values(adopted_option_id=bindparam("oid")),
                     [{"rid": r, "oid": o} for r, o in plan.adopted])
    if postgres:
        for table in TABLES:
            if table in _NO_SEQUENCE:
                continue
            conn.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM \"{table}\"))"))
        conn.execute(text("ANALYZE"))
    return seconds


def generate(scale: float = 1.0, seed: int = 1, echo=print) -> dict[str, tuple[int, float]]:
    """Plan and write the data set in one transaction; return rows and seconds per table.

    Raises NotEmpty when the database already has a community."""
    from civic.accounts.operations import hash_password
    from civic.communities.models import Community
    session = db.session
    if session.execute(select(Community.id).limit(1)).first():
        raise NotEmpty()
    t0 = time.monotonic()
    plan = build(scale, seed, offsets=_offsets(session),
                 password_hash=hash_password(BENCH_PASSWORD))
    t1 = time.monotonic()
    echo(f"planned in {t1 - t0:.1f} s")
    seconds = write(plan, session)
    session.commit()
    t2 = time.monotonic()
    echo(f"written and committed in {t2 - t1:.1f} s")
    out = {t: (n, seconds.get(t, 0.0)) for t, n in plan.counts().items()}
    out["total"] = (sum(plan.counts().values()), t2 - t0)
    return out


__all__ = ["BENCH_PASSWORD", "FULL", "NotEmpty", "build", "generate", "sizes", "write"]
