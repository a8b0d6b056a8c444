"""Triage rules. Operations flush, never commit; they raise DomainError subclasses."""
from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Integer, func, insert, literal, select, update

from civic import clock, permissions
from civic.accounts.models import User
from civic.audit import operations as audit
from civic.communities.models import Community, Role
from civic.database import for_update
from civic.domain import DomainError, Invalid, NotAllowed
from civic.extensions import db
from civic.issues import operations as issue_ops
from civic.issues.models import Cosign, Issue, IssueState, ThresholdKind
from civic.notifications.operations import notify, staff_ids
from civic.text import render_markdown
from civic.triage import clocks
from civic.triage.models import (Body, OfficialResponse, Outcome, Precedent, ResponsibilityRule,
                                 Triage)

#: issues may be merged into a target in these states
MERGE_TARGETS = {IssueState.COLLECTING, IssueState.AWAITING_TRIAGE, IssueState.ACCEPTED,
                 IssueState.IN_CONSULTATION}
#: official responses are posted once an issue is past collecting and not closed
RESPONDABLE = {IssueState.AWAITING_TRIAGE, IssueState.ACCEPTED, IssueState.IN_CONSULTATION,
               IssueState.DECIDED, IssueState.IN_PROGRESS, IssueState.UNDER_REVIEW}


def body_label(body: Body | str) -> str:
    return {Body.COMMITTEE: _("居委会"), Body.ASSOCIATION: _("业委会"),
            Body.PROPERTY: _("物业")}[Body(body)]


# --- reading -------------------------------------------------------------------------

def triage_of(issue: Issue) -> Triage | None:
    return db.session.get(Triage, issue.id)


def _triage_locked(issue: Issue) -> Triage:
    """The issue's triage row, created on first use, locked for this transaction."""
    t = db.session.execute(for_update(select(Triage).where(Triage.issue_id == issue.id))
                           ).scalar_one_or_none()
    if t is None:
        t = Triage(issue_id=issue.id, community_id=issue.community_id)
        db.session.add(t)
        db.session.flush()
    return t


def triage_due(issue: Issue, community: Community):
    """When triage must be done: N local days after the threshold was reached."""
    if issue.threshold_at is None:
        return None
    return clocks.deadline_days(issue.threshold_at, community.triage_days)


def response_due(issue: Issue, accepted_at):
    """24 hours for urgent categories (安全), else RESPONSE_DAYS local days."""
    if issue.category in current_app.config.get("URGENT_CATEGORIES", ("安全",)):
        return clocks.deadline_hours(accepted_at, current_app.config.get("URGENT_RESPONSE_HOURS", 24))
    return clocks.deadline_days(accepted_at, current_app.config.get("RESPONSE_DAYS", 7))


def suggested_lead(community_id: int, category: str) -> Body | None:
    return db.session.scalar(select(ResponsibilityRule.lead).where(
        ResponsibilityRule.community_id == community_id, ResponsibilityRule.category == category))


def responsibility_of(community_id: int) -> dict[str, Body]:
    """The community's responsibility list (权责清单): category → lead body, one query."""
    return dict(db.session.execute(select(ResponsibilityRule.category, ResponsibilityRule.lead)
                                   .where(ResponsibilityRule.community_id == community_id)).all())


def precedents_for(community_id: int, category: str, limit: int = 5) -> list[Precedent]:
    return list(db.session.scalars(select(Precedent).where(
        Precedent.community_id == community_id, Precedent.category == category)
        .order_by(Precedent.id.desc()).limit(limit)))


def responses_of(issue_id: int) -> list[OfficialResponse]:
    from sqlalchemy.orm import selectinload
    return list(db.session.scalars(select(OfficialResponse).where(
        OfficialResponse.issue_id == issue_id).options(
        selectinload(OfficialResponse.membership)).order_by(OfficialResponse.id)))


# --- deciding ------------------------------------------------------------------------

def _audience(issue: Issue) -> list[int]:
    """The proposer and every co-signing household's signer."""
    return [issue.author_id, *db.session.scalars(
        select(Cosign.user_id).where(Cosign.issue_id == issue.id))]


def _link(issue: Issue) -> str:
    slug = db.session.scalar(select(Community.slug).where(Community.id == issue.community_id))
    return f"/c/{slug}/issues/{issue.number}/"


def _move(issue: Issue, to: IssueState, **values) -> None:
    """awaiting_triage → `to`, exactly once; raises DomainError if already triaged."""
    res = db.session.execute(update(Issue).where(
        Issue.id == issue.id, Issue.state == IssueState.AWAITING_TRIAGE)
        .values(state=to, **values))
    if res.rowcount != 1:
        raise DomainError(_("这个议题已经处理过了，或尚未达到联署门槛。"))
    db.session.refresh(issue, ["state"])


def _require_moderator(actor: User, issue: Issue) -> None:
    if not permissions.can_triage(actor, issue.community_id):
        raise NotAllowed(_("只有居委会可以受理议题。"))


def accept(actor: User, issue: Issue, lead: Body, participants: list[Body]) -> Triage:
    """Accept with a lead body; starts the response clock. Raises NotAllowed, DomainError."""
    _require_moderator(actor, issue)
    t = _triage_locked(issue)
    _move(issue, IssueState.ACCEPTED)
    now = clock.now()
    t.outcome, t.lead = Outcome.ACCEPTED, lead
    t.participants = ",".join(sorted({b.value for b in participants} - {lead.value}))
    t.decided_by_id, t.decided_at = actor.id, now
    t.response_due_at = response_due(issue, now)
    audit.record("issue.accept", issue, actor=actor, number=issue.number, lead=lead.value,
                 participants=t.participants, response_due_at=t.response_due_at)
    notify(_audience(issue) + staff_ids(issue.community_id, lead.role), "issue.accepted",
           community_id=issue.community_id, link=_link(issue), number=issue.number,
           title=issue.title, lead=lead.value)
    return t


def decline(actor: User, issue: Issue, reason: str) -> Triage:
    """Decline with a published reason. Raises Invalid (no reason), NotAllowed, DomainError."""
    _require_moderator(actor, issue)
    reason = reason.strip()
    if len(reason) < 4:
        raise Invalid(_("请写明不予受理的理由（会公开显示）。"), field="reason")
    t = _triage_locked(issue)
    _move(issue, IssueState.DECLINED, closed_at=clock.now())
    t.outcome, t.reason = Outcome.DECLINED, reason[:2000]
    t.decided_by_id, t.decided_at = actor.id, clock.now()
    audit.record("issue.decline", issue, actor=actor, number=issue.number)
    notify(_audience(issue), "issue.declined", community_id=issue.community_id,
           link=_link(issue), number=issue.number, title=issue.title)
    return t


def refer(actor: User, issue: Issue, office: str, office_ref: str, note: str) -> Triage:
    """Refer to an outside office (name, reference number, published note)."""
    _require_moderator(actor, issue)
    office = office.strip()
    if not office:
        raise Invalid(_("请填写转办的部门。"), field="office")
    t = _triage_locked(issue)
    _move(issue, IssueState.REFERRED, closed_at=clock.now())
    t.outcome, t.office, t.office_ref = Outcome.REFERRED, office[:80], office_ref.strip()[:60]
    t.reason = note.strip()[:2000]
    t.decided_by_id, t.decided_at = actor.id, clock.now()
    audit.record("issue.refer", issue, actor=actor, number=issue.number, office=t.office,
                 office_ref=t.office_ref)
    notify(_audience(issue), "issue.referred", community_id=issue.community_id,
           link=_link(issue), number=issue.number, title=issue.title, office=t.office)
    return t


def merge(actor: User, issue: Issue, target_number: int) -> Issue:
    """Merge `issue` into issue #target_number of the same community. Co-signs move over
    one per household: a household that signed both counts once. Returns the target.

    Raises Invalid (no such target, itself, a closed target), NotAllowed, DomainError.
    """
    _require_moderator(actor, issue)
    target = db.session.execute(for_update(select(Issue).where(
        Issue.community_id == issue.community_id, Issue.number == target_number))
    ).scalar_one_or_none()
    if target is None or target.id == issue.id:
        raise Invalid(_("请填写本小区另一个议题的编号。"), field="target")
    if issue_ops.effective_state(target) not in MERGE_TARGETS:
        raise Invalid(_("目标议题已结束，不能并入。"), field="target")
    t = _triage_locked(issue)
    _move(issue, IssueState.MERGED, closed_at=clock.now())
    before = issue_ops.progress(target)
    already = select(Cosign.unit_id).where(Cosign.issue_id == target.id)
    moved = db.session.execute(insert(Cosign).from_select(
        ["issue_id", "unit_id", "user_id", "by_owner", "comment", "created_at"],
        select(literal(target.id, Integer), Cosign.unit_id, Cosign.user_id,
               Cosign.by_owner, Cosign.comment, Cosign.created_at)
        .where(Cosign.issue_id == issue.id, Cosign.unit_id.not_in(already)))).rowcount
    target.cosign_count = db.session.scalar(
        select(func.count(Cosign.id)).where(Cosign.issue_id == target.id))
    if target.threshold_kind is ThresholdKind.OWNERS:
        issue_ops._recount_owners(target)
    db.session.flush()
    t.outcome, t.merged_into_id = Outcome.MERGED, target.id
    t.decided_by_id, t.decided_at = actor.id, clock.now()
    audit.record("issue.merge", issue, actor=actor, number=issue.number, into=target.number,
                 moved=moved, target_count=target.cosign_count)
    if issue_ops.effective_state(target) is IssueState.COLLECTING:
        issue_ops.after_progress(target, before, issue_ops.progress(target))
    notify(_audience(issue), "issue.merged", community_id=issue.community_id,
           link=_link(target), number=issue.number, title=issue.title, target=target.number)
    return target


def request_ruling(actor: User, issue: Issue) -> Triage:
    """Mark the lead body as disputed: the joint meeting will rule on it."""
    _require_moderator(actor, issue)
    if issue.state is not IssueState.AWAITING_TRIAGE:
        raise DomainError(_("这个议题已经处理过了，或尚未达到联署门槛。"))
    t = _triage_locked(issue)
    t.outcome = Outcome.RULING
    audit.record("issue.ruling_requested", issue, actor=actor, number=issue.number)
    return t


def record_ruling(actor: User, issue: Issue, lead: Body, ruling: str, *,
                  save_precedent: bool, precedent_title: str = "") -> Triage:
    """The joint meeting's ruling on who leads; optionally kept as a precedent (案例).
    Accepting afterwards pre-selects the ruled lead body."""
    _require_moderator(actor, issue)
    ruling = ruling.strip()
    if len(ruling) < 4:
        raise Invalid(_("请写明联席会议的认定意见。"), field="ruling")
    t = _triage_locked(issue)
    if t.outcome not in (Outcome.PENDING, Outcome.RULING):
        raise DomainError(_("这个议题已经处理过了，或尚未达到联署门槛。"))
    t.outcome, t.lead, t.ruling = Outcome.RULING, lead, ruling[:4000]
    audit.record("issue.ruling", issue, actor=actor, number=issue.number, lead=lead.value)
    if save_precedent:
        p = Precedent(community_id=issue.community_id, category=issue.category,
                      title=(precedent_title.strip() or issue.title)[:80], lead=lead,
                      ruling=ruling[:4000], issue_id=issue.id, created_by_id=actor.id)
        db.session.add(p)
        db.session.flush()
        audit.record("precedent.create", p, actor=actor, category=p.category, lead=lead.value,
                     issue=issue.number)
    return t


# --- official responses ----------------------------------------------------------------

def post_response(actor: User, issue: Issue, text: str,
                  idempotency_key: str | None = None) -> OfficialResponse:
    """An official response by the actor's body. The first one after acceptance stops the
    response clock. Raises NotAllowed, Invalid, DomainError."""
    membership = permissions.official_membership(actor, issue.community_id)
    if membership is None:
        raise NotAllowed(_("只有居委会、业委会和物业的工作人员可以发布正式答复。"))
    if issue.state not in RESPONDABLE:
        raise DomainError(_("这个议题现在不能发布正式答复。"))
    text = text.strip()
    if not text:
        raise Invalid(_("请填写答复内容。"), field="text")
    if len(text) > 5000:
        raise Invalid(_("答复不能超过 5000 字。"), field="text")
    if idempotency_key:
        existing = db.session.execute(select(OfficialResponse).where(
            OfficialResponse.author_id == actor.id, OfficialResponse.issue_id == issue.id,
            OfficialResponse.idempotency_key == idempotency_key)).scalar_one_or_none()
        if existing is not None:
            return existing
    body = Body.of_role(membership.role)
    r = OfficialResponse(issue_id=issue.id, body=body, author_id=actor.id,
                         membership_id=membership.id, text=text, text_html=render_markdown(text),
                         idempotency_key=idempotency_key)
    db.session.add(r)
    db.session.flush()
    t = triage_of(issue)
    if t is not None and t.outcome is Outcome.ACCEPTED and t.responded_at is None:
        db.session.execute(update(Triage).where(Triage.issue_id == issue.id,
                                                Triage.responded_at.is_(None))
                           .values(responded_at=r.created_at))
    audit.record("issue.response", r, actor=actor, community_id=issue.community_id,
                 issue=issue.number, body=body.value)
    notify(_audience(issue), "issue.response", community_id=issue.community_id,
           link=_link(issue), number=issue.number, title=issue.title, body=body.value)
    return r


# --- the responsibility list ---------------------------------------------------------

def set_responsibility(actor: User, community: Community, mapping: dict[str, Body | None]) -> None:
    """Replace the category → lead body list (None removes a category's rule)."""
    rules = {r.category: r for r in db.session.scalars(select(ResponsibilityRule).where(
        ResponsibilityRule.community_id == community.id))}
    for category, lead in mapping.items():
        rule = rules.get(category)
        if lead is None:
            if rule is not None:
                db.session.delete(rule)
        elif rule is None:
            db.session.add(ResponsibilityRule(community_id=community.id, category=category,
                                              lead=lead))
        else:
            rule.lead = lead
    db.session.flush()
    audit.record("responsibility.update", community, actor=actor, community_id=community.id,
                 rules={k: (v.value if v else None) for k, v in sorted(mapping.items())})


# --- time-based work -----------------------------------------------------------------

def flag_clocks() -> int:
    """Remind the responsible staff and the moderators once when a triage or response clock
    is due soon, and once when it is overdue. Returns how many reminders went out."""
    now = clock.now()
    sent = 0
    waiting = db.session.execute(
        select(Issue, Community).join(Community, Community.id == Issue.community_id)
        .where(Issue.state == IssueState.AWAITING_TRIAGE)).all()
    for issue, community in waiting:
        due = triage_due(issue, community)
        st = clocks.state(due, now)
        if st in (clocks.ClockState.DUE_SOON, clocks.ClockState.OVERDUE):
            sent += _remind(issue, st, due, now, what="triage", recipients=staff_ids(
                community.id, Role.MODERATOR), soon="triage_soon_sent_at",
                late="triage_overdue_sent_at")
    accepted = db.session.execute(
        select(Issue, Triage).join(Triage, Triage.issue_id == Issue.id)
        .where(Triage.outcome == Outcome.ACCEPTED, Triage.responded_at.is_(None),
               Triage.response_due_at.is_not(None))).all()
    for issue, t in accepted:
        st = clocks.state(t.response_due_at, now)
        if st in (clocks.ClockState.DUE_SOON, clocks.ClockState.OVERDUE):
            people = staff_ids(issue.community_id, t.lead.role) + staff_ids(
                issue.community_id, Role.MODERATOR)
            sent += _remind(issue, st, t.response_due_at, now, what="response", recipients=people,
                            soon="response_soon_sent_at", late="response_overdue_sent_at")
    return sent


def _remind(issue, st, due, now, *, what, recipients, soon, late) -> int:
    column = soon if st is clocks.ClockState.DUE_SOON else late
    t = _triage_locked(issue)
    if getattr(t, column) is not None:
        return 0
    res = db.session.execute(update(Triage).where(
        Triage.issue_id == issue.id, getattr(Triage, column).is_(None)).values({column: now}))
    if res.rowcount != 1:
        return 0
    kind = "clock.due_soon" if st is clocks.ClockState.DUE_SOON else "clock.overdue"
    notify(recipients, kind, community_id=issue.community_id, link=_link(issue),
           number=issue.number, title=issue.title, what=what,
           hours=max(0, clocks.hours_left(due, now)))
    audit.record(kind, issue, actor="system", number=issue.number, clock=what)
    return 1
