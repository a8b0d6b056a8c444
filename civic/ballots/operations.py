"""Owners' ballots (业主表决, DESIGN.md §5): notice, frozen electorate, online, paper and
proxy votes, live turnout, extension, provisional result with objections, final result,
and the public ballot file. Counting is :mod:`civic.ballots.art278`; the file format and
recount are :mod:`civic.ballots.ballotfile`. Operations flush, never commit.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from civic import clock, permissions, uploads
from civic.accounts.models import User
from civic.audit import operations as audit
from civic.audit.chain import canonical_json
from civic.ballots import art278, ballotfile
from civic.ballots.models import (DEVELOPER, Ballot, BallotBuilding, BallotChoice,
                                  BallotExtension, BallotObjection, BallotState, BallotUnit,
                                  BallotVote, Channel)
from civic.communities.models import (Building, Community, Membership, MembershipStatus, Owner,
                                      Role, Tenure, Unit)
from civic.database import for_update
from civic.decisions.models import Decision, DecisionState
from civic.domain import DomainError, Invalid, NotAllowed
from civic.extensions import db
from civic.i18n import N_

MAX_TEXT = 5000
#: labels as msgids: translate where shown (_(CHOICE_LABELS[c]))
CHOICE_LABELS = {BallotChoice.YES: N_("同意"), BallotChoice.NO: N_("反对"),
                 BallotChoice.ABSTAIN: N_("弃权")}
CHANNEL_LABELS = {Channel.ONLINE: N_("线上表决"), Channel.PAPER: N_("书面表决票"),
                  Channel.PROXY: N_("书面委托")}
_TO_ART278 = {BallotChoice.YES: art278.Choice.AGREE, BallotChoice.NO: art278.Choice.OPPOSE,
              BallotChoice.ABSTAIN: art278.Choice.ABSTAIN}


def _require_moderator(actor: User, community_id: int) -> None:
    if not permissions.is_moderator(actor, community_id):
        raise NotAllowed(_("只有居委会（代业主委员会组织）可以管理业主表决。"))


def _lock(ballot_id: int) -> Ballot:
    return db.session.execute(for_update(select(Ballot).where(Ballot.id == ballot_id))
                              ).scalar_one()


def _aware(value, field: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise Invalid(_("请填写完整的日期和时间。"), field=field)
    return value


def _choice(value) -> BallotChoice:
    try:
        return BallotChoice(value)
    except ValueError:
        raise Invalid(_("请选择同意、反对或弃权。"), field="choice") from None


# --- reading ---------------------------------------------------------------------------

def ballots_of(community_id: int) -> list[Ballot]:
    return list(db.session.scalars(select(Ballot).where(Ballot.community_id == community_id)
                                   .order_by(Ballot.number.desc())))


def ballot_for(decision: Decision) -> Ballot | None:
    return db.session.scalar(select(Ballot).where(Ballot.decision_id == decision.id)
                             .order_by(Ballot.id.desc()).limit(1))


def scope_buildings(ballot: Ballot) -> list[Building]:
    return list(db.session.scalars(
        select(Building).join(BallotBuilding, BallotBuilding.building_id == Building.id)
        .where(BallotBuilding.ballot_id == ballot.id).order_by(Building.sort_key)))


def roll_of(ballot: Ballot) -> list[BallotUnit]:
    return list(db.session.scalars(select(BallotUnit).where(BallotUnit.ballot_id == ballot.id)
                                   .order_by(BallotUnit.id)))


def votes_of(ballot: Ballot) -> list[BallotVote]:
    return list(db.session.scalars(select(BallotVote).where(BallotVote.ballot_id == ballot.id)
                                   .order_by(BallotVote.id)))


def electorate_of(ballot: Ballot) -> art278.Electorate:
    return art278.electorate(
        art278.UnitRecord(u.label, u.person, Decimal(u.area), u.developer)
        for u in roll_of(ballot))


def _art278_key(person: str) -> str:
    return art278.DEVELOPER_KEY if person == DEVELOPER else person


def tally(ballot: Ballot) -> art278.Result | None:
    """The count of the votes so far (live turnout while open; the result once counted)."""
    if ballot.state is BallotState.NOTICED:
        return None
    votes = {_art278_key(v.person): _TO_ART278[v.choice] for v in votes_of(ballot)}
    return art278.tally(electorate_of(ballot), votes, ballot.item, ballot.silent_counts_as)


def ballot_file(ballot: Ballot) -> dict:
    """The public file (ballotfile's format): units with areas and pseudonymous owners, and
    the votes cast, by person."""
    data = {"matter": ballot.item,
            "units": [{"unit": u.label, "area": f"{Decimal(u.area):.2f}", "owner": u.person,
                       "developer": u.developer} for u in roll_of(ballot)],
            "votes": {v.person: v.choice.value for v in votes_of(ballot)}}
    if ballot.silent_counts_as:
        data["silent_counts_as"] = ballot.silent_counts_as
    return data


def persons_of(user: User, ballot: Ballot) -> list[str]:
    """The persons of the frozen electorate `user` may vote for online: the owners of the
    units in scope they are verified owners of (never the developer)."""
    if not getattr(user, "is_authenticated", False):
        return []
    unit_ids = [m.unit_id for m in permissions.memberships_in(user, ballot.community_id)
                if m.role is Role.RESIDENT and m.tenure is Tenure.OWNER and m.unit_id]
    if not unit_ids:
        return []
    return sorted(set(db.session.scalars(select(BallotUnit.person).where(
        BallotUnit.ballot_id == ballot.id, BallotUnit.unit_id.in_(unit_ids),
        BallotUnit.developer.is_(False)))))


def receipts_of(user: User, ballot: Ballot) -> list[dict]:
    """回执: for each person the user votes for, whether and how their vote was counted."""
    out = []
    for person in persons_of(user, ballot):
        vote = db.session.scalar(select(BallotVote).where(BallotVote.ballot_id == ballot.id,
                                                          BallotVote.person == person))
        units = [u.label for u in db.session.scalars(select(BallotUnit).where(
            BallotUnit.ballot_id == ballot.id, BallotUnit.person == person))]
        out.append({"person": person, "units": units, "vote": vote})
    return out


def objections_of(ballot: Ballot) -> list[BallotObjection]:
    return list(db.session.scalars(select(BallotObjection).where(
        BallotObjection.ballot_id == ballot.id).order_by(BallotObjection.id)))


def extensions_of(ballot: Ballot) -> list[BallotExtension]:
    return list(db.session.scalars(select(BallotExtension).where(
        BallotExtension.ballot_id == ballot.id).order_by(BallotExtension.id)))


def unanswered(ballot: Ballot) -> int:
    return db.session.scalar(select(func.count(BallotObjection.id)).where(
        BallotObjection.ballot_id == ballot.id, BallotObjection.answer.is_(None))) or 0


# --- notice and opening ------------------------------------------------------------------

def schedule(actor: User, community: Community, *, title: str, question: str, item: int,
             opens_at: datetime, closes_at: datetime, building_ids: list[int] | None = None,
             decision: Decision | None = None) -> Ballot:
    """Publish the notice of a ballot, at least the community's notice period before it
    opens. `decision` is a decision awaiting the owners' ballot (its plan is the question).
    Raises NotAllowed, Invalid, DomainError."""
    _require_moderator(actor, community.id)
    if decision is not None:
        decision = db.session.execute(for_update(select(Decision).where(
            Decision.id == decision.id))).scalar_one()
        if decision.community_id != community.id \
                or decision.state is not DecisionState.AWAITING_BALLOT:
            raise DomainError(_("这项决议不在等待业主表决。"))
        pending = db.session.scalar(select(func.count(Ballot.id)).where(
            Ballot.decision_id == decision.id, Ballot.state != BallotState.FINAL))
        if pending:
            raise DomainError(_("这项决议已有进行中的业主表决。"))
    title, question = (title or "").strip(), (question or "").strip()
    if not title:
        raise Invalid(_("请填写表决事项名称。"), field="title")
    if len(title) > 120:
        raise Invalid(_("表决事项名称不能超过 120 字。"), field="title")
    if not question:
        raise Invalid(_("请填写表决内容。"), field="question")
    if len(question) > MAX_TEXT:
        raise Invalid(_("表决内容不能超过 5000 字。"), field="question")
    if isinstance(item, bool) or not isinstance(item, int) or not 1 <= item <= 9:
        raise Invalid(_("请选择《民法典》第二百七十八条所列的事项。"), field="item")
    if decision is not None and decision.owners_item and item != decision.owners_item:
        raise Invalid(_("表决事项须与方案标明的事项一致（第二百七十八条第%(n)d项）。",
                        n=decision.owners_item), field="item")
    opens_at, closes_at = _aware(opens_at, "opens_at"), _aware(closes_at, "closes_at")
    now = clock.now()
    if opens_at < now + timedelta(days=community.notice_days):
        raise Invalid(_("表决通知须至少提前 %(days)d 天发布。", days=community.notice_days),
                      field="opens_at")
    if closes_at <= opens_at:
        raise Invalid(_("表决截止时间须晚于开始时间。"), field="closes_at")
    buildings: list[Building] = []
    if building_ids:
        buildings = list(db.session.scalars(select(Building).where(
            Building.id.in_(building_ids), Building.community_id == community.id)))
        if len(buildings) != len(set(building_ids)):
            raise Invalid(_("所选楼栋不属于本小区。"), field="buildings")
    number = (db.session.scalar(select(func.max(Ballot.number)).where(
        Ballot.community_id == community.id)) or 0) + 1
    ballot = Ballot(community_id=community.id, number=number,
                    decision_id=decision.id if decision else None, title=title,
                    question=question, item=item, whole_community=not buildings,
                    state=BallotState.NOTICED, notice_at=now, opens_at=opens_at,
                    closes_at=closes_at, original_closes_at=closes_at,
                    created_by_id=actor.id)
    db.session.add(ballot)
    db.session.flush()
    for b in buildings:
        db.session.add(BallotBuilding(ballot_id=ballot.id, building_id=b.id))
    db.session.flush()
    audit.record("ballot.schedule", ballot, actor=actor, number=number, item=item,
                 decision=ballot.decision_id, buildings=sorted(b.id for b in buildings),
                 opens_at=opens_at, closes_at=closes_at)
    return ballot


def _scope_units(ballot: Ballot) -> list[tuple[Unit, Building, Owner | None]]:
    q = (select(Unit, Building, Owner).join(Building, Building.id == Unit.building_id)
         .outerjoin(Owner, Owner.id == Unit.owner_id)
         .where(Unit.community_id == ballot.community_id)
         .order_by(Building.sort_key, Unit.sort_key, Unit.id))
    if not ballot.whole_community:
        q = q.where(Unit.building_id.in_(select(BallotBuilding.building_id).where(
            BallotBuilding.ballot_id == ballot.id)))
    return list(db.session.execute(q).all())


def open_ballot(actor: User | None, ballot: Ballot) -> Ballot:
    """NOTICED → OPEN at its opening time (a moderator, or the job with actor None): freeze
    the electorate — every unit in scope with its registered area and owner; owners get
    per-ballot pseudonyms (o-1, o-2, … in unit order), the developer's units are one person.
    Raises NotAllowed, DomainError (too early; units without an owner; nothing in scope)."""
    if actor is not None:
        _require_moderator(actor, ballot.community_id)
    b = _lock(ballot.id)
    if b.state is not BallotState.NOTICED:
        raise DomainError(_("表决已经开始或已经结束。"))
    now = clock.now()
    if now < b.opens_at:
        raise DomainError(_("还没到通知中的开始时间。"))
    if now >= b.closes_at:
        raise DomainError(_("表决截止时间已过，请重新发布通知。"))
    rows = _scope_units(b)
    if not rows:
        raise DomainError(_("表决范围内没有房屋。"))
    orphans = [f"{bld.name}-{u.number}" for u, bld, owner in rows if owner is None]
    if orphans:
        raise DomainError(_("以下房屋没有登记业主，请先补全房屋名册：%(units)s",
                            units="、".join(orphans[:10]) + ("…" if len(orphans) > 10 else "")))
    keys: dict[int, str] = {}
    roll = []
    for u, bld, owner in rows:
        if owner.is_developer:
            person = DEVELOPER
        else:
            person = keys.setdefault(owner.id, f"o-{len(keys) + 1}")
        roll.append(BallotUnit(ballot_id=b.id, unit_id=u.id, label=f"{bld.name}-{u.number}",
                               area=u.area, owner_id=owner.id, person=person,
                               developer=owner.is_developer))
    db.session.add_all(roll)
    db.session.flush()
    electorate = electorate_of(b)
    community = db.session.get(Community, b.community_id)
    digest = hashlib.sha256(canonical_json(
        [{"unit": r.label, "area": f"{Decimal(r.area):.2f}", "owner": r.person,
          "developer": r.developer} for r in roll]).encode("utf-8")).hexdigest()
    res = db.session.execute(update(Ballot).where(
        Ballot.id == b.id, Ballot.state == BallotState.NOTICED).values(
        state=BallotState.OPEN, opened_at=now, total_area=electorate.total_area,
        total_heads=electorate.headcount, electorate_hash=digest,
        silent_counts_as=community.silent_counts_as))
    if res.rowcount != 1:
        raise DomainError(_("表决已经开始或已经结束。"))
    db.session.refresh(b)
    audit.record("ballot.open", b, actor=actor, units=len(roll), heads=electorate.headcount,
                 total_area=electorate.total_area, electorate_hash=digest)
    _tell_owners(b, "ballot.opened")
    return b


# --- voting ----------------------------------------------------------------------------

def _open_for_votes(ballot_id: int) -> Ballot:
    b = _lock(ballot_id)
    if b.state is BallotState.NOTICED:
        raise DomainError(_("表决尚未开始。"))
    if b.state is not BallotState.OPEN or clock.now() >= b.closes_at:
        raise DomainError(_("表决已经截止。"))
    return b


def _insert_vote(b: Ballot, person: str, choice: BallotChoice, channel: Channel,
                 **fields) -> BallotVote:
    """One vote per person (the unique constraint decides races). A clash on the random
    receipt code alone — about one in 10^12 — is retried with a fresh code."""
    for _attempt in range(3):
        vote = BallotVote(ballot_id=b.id, person=person, choice=choice, channel=channel,
                          receipt=secrets.token_hex(5).upper(), **fields)
        try:
            with db.session.begin_nested():
                db.session.add(vote)
            return vote
        except IntegrityError:
            earlier = db.session.scalar(select(BallotVote.channel).where(
                BallotVote.ballot_id == b.id, BallotVote.person == person))
            if earlier is not None:
                raise DomainError(_("该业主已经通过%(channel)s表决过，不能重复计票（每位业主只计一次，"
                                    "不论线上、书面或委托）。",
                                    channel=_(CHANNEL_LABELS[earlier]))) from None
    raise DomainError(_("该业主已经表决过（每位业主只计一次，不论线上、书面或委托）。"))


def vote_online(user: User, ballot: Ballot, choice, person: str | None = None) -> BallotVote:
    """A verified owner's vote for their person (all their units in scope), once.
    Raises NotAllowed (not an owner in the electorate), DomainError (not open; already
    counted by any channel), Invalid."""
    persons = persons_of(user, ballot)
    if not persons:
        raise NotAllowed(_("只有表决范围内经认证的业主可以投票。"))
    if person is None:
        person = persons[0]
    if person not in persons:
        raise NotAllowed(_("你只能为自己名下的房屋投票。"))
    b = _open_for_votes(ballot.id)
    choice = _choice(choice)
    vote = _insert_vote(b, person, choice, Channel.ONLINE, voter_id=user.id)
    audit.record("ballot.vote", b, actor=user, person=person, channel="online",
                 receipt=vote.receipt)
    return vote


def _person_of_unit(b: Ballot, unit_label: str) -> BallotUnit:
    unit = db.session.scalar(select(BallotUnit).where(BallotUnit.ballot_id == b.id,
                                                      BallotUnit.label == unit_label))
    if unit is None:
        raise Invalid(_("房屋“%(unit)s”不在本次表决的范围内。", unit=unit_label), field="unit")
    return unit


def enter_paper(actor: User, ballot: Ballot, unit_label: str, choice) -> BallotVote:
    """A paper ballot (书面表决票) entered by a moderator for the owner of `unit_label` (and so
    for all that owner's units). The entering moderator is recorded.
    Raises NotAllowed, Invalid, DomainError."""
    _require_moderator(actor, ballot.community_id)
    b = _open_for_votes(ballot.id)
    choice = _choice(choice)
    unit = _person_of_unit(b, (unit_label or "").strip())
    vote = _insert_vote(b, unit.person, choice, Channel.PAPER, entered_by_id=actor.id)
    audit.record("ballot.vote", b, actor=actor, person=unit.person, channel="paper",
                 receipt=vote.receipt)
    return vote


def record_proxy(actor: User, ballot: Ballot, unit_label: str, choice, proxy_name: str,
                 document: bytes | None) -> BallotVote:
    """A vote by written proxy (书面委托): the agent's name and a photo of the signed
    authorisation are kept (the photo re-encoded, never public).
    Raises NotAllowed, Invalid, DomainError."""
    _require_moderator(actor, ballot.community_id)
    choice = _choice(choice)
    proxy_name = (proxy_name or "").strip()
    if not proxy_name:
        raise Invalid(_("请填写受托人姓名。"), field="proxy_name")
    if len(proxy_name) > 40:
        raise Invalid(_("受托人姓名不能超过 40 字。"), field="proxy_name")
    if not document:
        raise Invalid(_("请上传签字的授权委托书照片。"), field="document")
    try:
        processed = uploads.process_image(document)
    except Invalid as e:
        raise Invalid(e.message, field="document") from None
    b = _open_for_votes(ballot.id)
    unit = _person_of_unit(b, (unit_label or "").strip())
    stem = uploads.new_stem()
    vote = _insert_vote(b, unit.person, choice, Channel.PROXY, entered_by_id=actor.id,
                        proxy_name=proxy_name, proxy_document=f"{stem}.jpg")
    uploads.store(db.session, "proxies", {f"{stem}.jpg": processed.display})
    audit.record("ballot.vote", b, actor=actor, person=unit.person, channel="proxy",
                 receipt=vote.receipt)
    return vote


# --- extension, counting, objections, final -----------------------------------------------

def extend(actor: User, ballot: Ballot, closes_at: datetime, reason: str) -> Ballot:
    """Extend the voting period (when turnout is short), with a published reason.
    Raises NotAllowed, Invalid, DomainError."""
    _require_moderator(actor, ballot.community_id)
    closes_at = _aware(closes_at, "closes_at")
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(_("请说明延长表决期的理由。"), field="reason")
    if len(reason) > 2000:
        raise Invalid(_("理由不能超过 2000 字。"), field="reason")
    b = _open_for_votes(ballot.id)
    if closes_at <= b.closes_at:
        raise Invalid(_("新的截止时间须晚于原截止时间。"), field="closes_at")
    if closes_at > b.original_closes_at + timedelta(days=90):
        raise Invalid(_("表决期最多延长 90 天。"), field="closes_at")
    db.session.add(BallotExtension(ballot_id=b.id, previous_closes_at=b.closes_at,
                                   closes_at=closes_at, reason=reason, by_id=actor.id))
    previous = b.closes_at
    b.closes_at = closes_at
    db.session.flush()
    audit.record("ballot.extend", b, actor=actor, previous=previous, closes_at=closes_at)
    _tell_owners(b, "ballot.extended")
    return b


def count(actor: User | None, ballot: Ballot) -> Ballot:
    """OPEN → PROVISIONAL once the deadline has passed (a moderator, or the job): count with
    art278.tally, publish the provisional result and the ballot file, open the objection
    period. Raises NotAllowed, DomainError."""
    if actor is not None:
        _require_moderator(actor, ballot.community_id)
    b = _lock(ballot.id)
    if b.state is not BallotState.OPEN:
        raise DomainError(_("表决不在进行中。"))
    now = clock.now()
    if now < b.closes_at:
        raise DomainError(_("表决尚未截止，不能提前计票。"))
    data = ballot_file(b)
    result = ballotfile.count(data)
    text = ballotfile.dumps(data)
    community = db.session.get(Community, b.community_id)
    res = db.session.execute(update(Ballot).where(
        Ballot.id == b.id, Ballot.state == BallotState.OPEN).values(
        state=BallotState.PROVISIONAL, counted_at=now, passed=result.approved,
        objection_ends_at=now + timedelta(days=community.ballot_objection_days),
        file_json=text, file_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest()))
    if res.rowcount != 1:
        raise DomainError(_("表决不在进行中。"))
    db.session.refresh(b)
    audit.record("ballot.count", b, actor=actor, passed=result.approved,
                 file_sha256=b.file_sha256, summary=ballotfile.summary(result))
    _tell_owners(b, "ballot.provisional")
    return b


def can_object(user: User, ballot: Ballot) -> bool:
    return (ballot.state is BallotState.PROVISIONAL and clock.now() < ballot.objection_ends_at
            and bool(persons_of(user, ballot)))


def file_objection(user: User, ballot: Ballot, text: str) -> BallotObjection:
    """An owner of the electorate objects to the provisional result within the period.
    Raises NotAllowed, DomainError, Invalid."""
    if not persons_of(user, ballot):
        raise NotAllowed(_("只有表决范围内的业主可以对计票结果提出异议。"))
    b = _lock(ballot.id)
    if b.state is not BallotState.PROVISIONAL or clock.now() >= b.objection_ends_at:
        raise DomainError(_("异议期已结束或结果不在公示中。"))
    text = (text or "").strip()
    if not text:
        raise Invalid(_("请写明异议的内容和理由。"), field="text")
    if len(text) > 2000:
        raise Invalid(_("异议不能超过 2000 字。"), field="text")
    m = permissions.residency(user, b.community_id)
    o = BallotObjection(ballot_id=b.id, author_id=user.id, membership_id=m.id, text=text)
    db.session.add(o)
    db.session.flush()
    audit.record("ballot.objection", o, actor=user, community_id=b.community_id, ballot=b.id)
    return o


def answer_objection(actor: User, objection: BallotObjection, answer: str) -> BallotObjection:
    """Raises NotAllowed, Invalid, DomainError (answered already; not provisional)."""
    b = db.session.get(Ballot, objection.ballot_id)
    _require_moderator(actor, b.community_id)
    answer = (answer or "").strip()
    if not answer:
        raise Invalid(_("请填写答复。"), field="answer")
    if len(answer) > 2000:
        raise Invalid(_("答复不能超过 2000 字。"), field="answer")
    b = _lock(b.id)
    if b.state is not BallotState.PROVISIONAL:
        raise DomainError(_("计票结果已不在异议期。"))
    res = db.session.execute(update(BallotObjection).where(
        BallotObjection.id == objection.id, BallotObjection.answer.is_(None))
        .values(answer=answer, answered_by_id=actor.id, answered_at=clock.now()))
    if res.rowcount != 1:
        raise DomainError(_("这条异议已经答复过了。"))
    db.session.refresh(objection)
    audit.record("ballot.objection_answer", objection, actor=actor,
                 community_id=b.community_id, ballot=b.id)
    from civic.notifications.operations import notify
    notify([objection.author_id], "ballot.objection_answered", community_id=b.community_id,
           link=ballot_link(b), number=b.number, title=b.title)
    return objection


def finalize(actor: User | None, ballot: Ballot) -> Ballot:
    """PROVISIONAL → FINAL after the objection period with every objection answered; the
    result then feeds the decision waiting for it (passed → its publicity period; failed →
    rejected by the owners). Raises NotAllowed, DomainError."""
    if actor is not None:
        _require_moderator(actor, ballot.community_id)
    b = _lock(ballot.id)
    if b.state is not BallotState.PROVISIONAL:
        raise DomainError(_("计票结果不在公示中。"))
    if clock.now() < b.objection_ends_at:
        raise DomainError(_("异议期尚未结束。"))
    left = unanswered(b)
    if left:
        raise DomainError(_("还有 %(n)d 条异议未答复，答复后结果才能确定。", n=left))
    now = clock.now()
    res = db.session.execute(update(Ballot).where(
        Ballot.id == b.id, Ballot.state == BallotState.PROVISIONAL)
        .values(state=BallotState.FINAL, final_at=now))
    if res.rowcount != 1:
        raise DomainError(_("计票结果不在公示中。"))
    db.session.refresh(b)
    audit.record("ballot.final", b, actor=actor, passed=b.passed, file_sha256=b.file_sha256)
    decision = db.session.get(Decision, b.decision_id) if b.decision_id is not None else None
    # a decision withdrawn while its ballot ran no longer waits for it; the result still
    # becomes final (and public) rather than staying provisional for ever
    if decision is not None and decision.state is DecisionState.AWAITING_BALLOT:
        from civic.decisions.operations import after_owners_ballot
        after_owners_ballot(decision, bool(b.passed), ballot_ref=f"ballot:{b.id}")
    _tell_owners(b, "ballot.final")
    return b


def run_due() -> dict[str, int]:
    """The job: open ballots whose time has come, count those past their deadline, make
    results final after their objection period. Each step is its own guarded change."""
    now = clock.now()
    done = {"opened": 0, "counted": 0, "final": 0}
    steps = ((BallotState.NOTICED, Ballot.opens_at, open_ballot, "opened"),
             (BallotState.OPEN, Ballot.closes_at, count, "counted"),
             (BallotState.PROVISIONAL, Ballot.objection_ends_at, finalize, "final"))
    for state, when, step, key in steps:
        for ballot_id in list(db.session.scalars(select(Ballot.id).where(
                Ballot.state == state, when <= now).order_by(Ballot.id))):
            try:
                with db.session.begin_nested():
                    step(None, db.session.get(Ballot, ballot_id))
            except DomainError:
                continue
            done[key] += 1
    return done


# --- notices -----------------------------------------------------------------------------

def ballot_link(b: Ballot) -> str:
    community = db.session.get(Community, b.community_id)
    return f"/c/{community.slug}/ballots/{b.number}"


def owner_user_ids(b: Ballot) -> list[int]:
    """Users verified as owners of a unit in the frozen electorate (or, before opening,
    in scope)."""
    if b.state is BallotState.NOTICED:
        units = select(Unit.id).where(Unit.community_id == b.community_id)
        if not b.whole_community:
            units = units.where(Unit.building_id.in_(select(BallotBuilding.building_id).where(
                BallotBuilding.ballot_id == b.id)))
    else:
        units = select(BallotUnit.unit_id).where(BallotUnit.ballot_id == b.id)
    return list(db.session.scalars(select(Membership.user_id).where(
        Membership.community_id == b.community_id, Membership.role == Role.RESIDENT,
        Membership.tenure == Tenure.OWNER, Membership.status == MembershipStatus.ACTIVE,
        Membership.unit_id.in_(units))))


def _tell_owners(b: Ballot, kind: str) -> int:
    from civic.notifications.operations import notify
    return notify(owner_user_ids(b), kind, community_id=b.community_id, link=ballot_link(b),
                  number=b.number, title=b.title)


def json_summary(ballot: Ballot) -> dict | None:
    """The recount summary of a counted ballot, from its published file."""
    if not ballot.file_json:
        return None
    return ballotfile.recount(ballot.file_json)

