"""The rules of issues and co-signing. Operations flush, never commit; they raise
DomainError subclasses with a user-facing message."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm.attributes import set_committed_value

from civic import clock, permissions
from civic.accounts.models import User
from civic.audit import operations as audit
from civic.communities.models import (Building, Community, Membership, MembershipStatus, Role,
                                      Tenure, Unit)
from civic.database import built_once, for_update, insert_ignoring_duplicates
from civic.domain import DomainError, Invalid, NotAllowed
from civic.extensions import db
from civic.issues import threshold as th
from civic.issues.models import (DEFAULT_CATEGORIES, Category, Comment, Cosign, Issue,
                                 IssuePhoto, IssueState, ThresholdKind)
from civic.notifications.operations import notify, staff_ids
from civic.text import render_markdown
from civic import uploads

MAX_PHOTOS = 6
#: states in which households may (still) co-sign: collecting, and afterwards as a signal
SIGNABLE = {IssueState.COLLECTING, IssueState.AWAITING_TRIAGE, IssueState.ACCEPTED,
            IssueState.IN_CONSULTATION}


class AlreadySigned(DomainError):
    """The household has already co-signed this issue."""


# --- reading -------------------------------------------------------------------------

def effective_state(issue: Issue) -> IssueState:
    """The state as of now: a collecting issue past its window is expired even before the
    time-based job has recorded it."""
    if (issue.state is IssueState.COLLECTING and issue.expires_at is not None
            and clock.now() >= issue.expires_at):
        return IssueState.EXPIRED
    return issue.state


def progress(issue: Issue) -> th.Progress | None:
    if issue.threshold_kind is None:
        return None
    if issue.threshold_kind is ThresholdKind.OWNERS:
        return th.owners_progress(issue.cosign_count, issue.cosign_area, issue.cosign_heads,
                                  issue.base_area or Decimal(0), issue.base_heads or 0)
    return th.household_progress(issue.cosign_count, issue.need_households or 1)


def days_left(issue: Issue) -> int | None:
    """Whole days until the collecting window closes (0 on the last day)."""
    if issue.expires_at is None or effective_state(issue) is not IssueState.COLLECTING:
        return None
    return max(0, (issue.expires_at - clock.now()).days)


def categories(community: Community) -> list[str]:
    names = list(db.session.scalars(select(Category.name).where(
        Category.community_id == community.id, Category.active.is_(True))
        .order_by(Category.position, Category.id)))
    return names or list(DEFAULT_CATEGORIES)


def household_signature(issue: Issue, membership: Membership | None) -> Cosign | None:
    if membership is None or membership.unit_id is None:
        return None
    return db.session.execute(select(Cosign).where(
        Cosign.issue_id == issue.id, Cosign.unit_id == membership.unit_id)).scalar_one_or_none()


# --- proposing -----------------------------------------------------------------------

def _resident(user: User, community: Community) -> Membership:
    m = permissions.residency(user, community)
    if m is None:
        raise NotAllowed(_("只有本小区的认证居民可以这样做。"))
    return m


def _check_fields(community: Community, title: str, category: str, building_id: int | None):
    if not title.strip():
        raise Invalid(_("请填写标题。"), field="title")
    if category not in categories(community):
        raise Invalid(_("请选择一个分类。"), field="category")
    if building_id is not None:
        b = db.session.get(Building, building_id)
        if b is None or b.community_id != community.id:
            raise Invalid(_("请选择本小区的楼栋。"), field="building_id")


def _next_number(community: Community) -> int:
    db.session.execute(for_update(select(Community.id).where(Community.id == community.id)))
    return (db.session.scalar(select(func.max(Issue.number)).where(
        Issue.community_id == community.id)) or 0) + 1


def create_issue(author: User, community: Community, *, title: str, body: str, category: str,
                 building_id: int | None, place_text: str, photos: list[bytes],
                 idempotency_key: str | None = None) -> Issue:
    """A new draft. A repeated idempotency key returns the issue the first submit made.

    Raises NotAllowed for non-residents, Invalid for bad fields or photos.
    """
    membership = _resident(author, community)
    if idempotency_key:
        existing = db.session.execute(select(Issue).where(
            Issue.author_id == author.id, Issue.idempotency_key == idempotency_key)
        ).scalar_one_or_none()
        if existing is not None:
            return existing
    _check_fields(community, title, category, building_id)
    if len(photos) > MAX_PHOTOS:
        raise Invalid(_("最多上传 6 张照片。"), field="photos")
    processed = [uploads.process_image(p) for p in photos]
    issue = Issue(community_id=community.id, number=_next_number(community),
                  title=title.strip()[:80], body=body, body_html=render_markdown(body),
                  category=category, building_id=building_id, place_text=place_text.strip()[:60],
                  author_id=author.id, author_unit_id=membership.unit_id,
                  state=IssueState.DRAFT, idempotency_key=idempotency_key)
    db.session.add(issue)
    db.session.flush()
    _add_photos(issue, processed)
    audit.record("issue.propose", issue, actor=author, number=issue.number,
                 category=category)
    return issue


def _add_photos(issue: Issue, processed: list[uploads.Processed]) -> None:
    start = len(issue.photos)
    if start + len(processed) > MAX_PHOTOS:
        raise Invalid(_("最多上传 6 张照片。"), field="photos")
    for i, p in enumerate(processed):
        stem = uploads.new_stem()
        uploads.store(db.session, "issues", {f"{stem}.jpg": p.display, f"{stem}_t.jpg": p.thumb})
        issue.photos.append(IssuePhoto(stem=stem, width=p.width, height=p.height,
                                       position=start + i))


def can_edit(user: User, issue: Issue) -> bool:
    """The author edits a draft, or a collecting issue until the first co-sign."""
    return (user is not None and getattr(user, "id", None) == issue.author_id
            and (issue.state is IssueState.DRAFT
                 or (effective_state(issue) is IssueState.COLLECTING and issue.cosign_count == 0)))


def edit_issue(user: User, issue: Issue, *, title: str, body: str, category: str,
               building_id: int | None, place_text: str, photos: list[bytes],
               remove_photo_ids: list[int]) -> None:
    """Raises NotAllowed once someone has co-signed (they signed what they read)."""
    locked = db.session.execute(for_update(select(Issue).where(Issue.id == issue.id))).scalar_one()
    if not can_edit(user, locked):
        raise NotAllowed(_("已有住户联署，议题内容不能再修改。"))
    community = db.session.get(Community, issue.community_id)
    _check_fields(community, title, category, building_id)
    processed = [uploads.process_image(p) for p in photos]
    for photo in list(locked.photos):
        if photo.id in remove_photo_ids:
            locked.photos.remove(photo)
    for i, photo in enumerate(locked.photos):
        photo.position = i
    _add_photos(locked, processed)
    locked.title, locked.body, locked.body_html = title.strip()[:80], body, render_markdown(body)
    locked.category, locked.building_id = category, building_id
    locked.place_text = place_text.strip()[:60]
    audit.record("issue.edit", locked, actor=user, number=locked.number)


def freeze_threshold(issue: Issue, community: Community) -> None:
    """Fix the threshold on the issue as the community's rules stand now."""
    kind = ThresholdKind(community.threshold_kind)
    issue.threshold_kind = kind
    if kind is ThresholdKind.HOUSEHOLDS:
        issue.need_households = max(1, community.threshold_households)
    elif kind is ThresholdKind.SHARE:
        verified = db.session.scalar(select(func.count(func.distinct(Membership.unit_id))).where(
            Membership.community_id == community.id, Membership.role == Role.RESIDENT,
            Membership.status == MembershipStatus.ACTIVE)) or 0
        issue.need_households = th.share_needed(verified, community.threshold_share_num,
                                                community.threshold_share_den)
    else:
        issue.base_area = db.session.scalar(select(func.coalesce(func.sum(Unit.area), 0)).where(
            Unit.community_id == community.id))
        issue.base_heads = owner_headcount(community.id)


def owner_headcount(community_id: int, unit_ids=None) -> int:
    """Art. 9 headcount: one per distinct owner (a multi-unit owner once; all developer-held
    units together once). Units without an owner record count one each."""
    from civic.communities.models import Owner
    q = select(Unit.id, Unit.owner_id, Owner.is_developer).outerjoin(
        Owner, Owner.id == Unit.owner_id).where(Unit.community_id == community_id)
    if unit_ids is not None:
        q = q.where(Unit.id.in_(unit_ids))
    persons = set()
    for unit_id, owner_id, is_dev in db.session.execute(q):
        persons.add("developer" if is_dev else (f"o{owner_id}" if owner_id else f"u{unit_id}"))
    return len(persons)


def submit(user: User, issue: Issue) -> None:
    """Draft → collecting: freeze the threshold and open the window."""
    community = db.session.get(Community, issue.community_id)
    _resident(user, community)
    now = clock.now()
    res = db.session.execute(update(Issue).where(
        Issue.id == issue.id, Issue.author_id == user.id, Issue.state == IssueState.DRAFT)
        .values(state=IssueState.COLLECTING, collecting_at=now,
                expires_at=now + timedelta(days=community.collect_days)))
    if res.rowcount != 1:
        raise DomainError(_("只有草稿可以发布征集。"))
    db.session.refresh(issue)
    freeze_threshold(issue, community)
    audit.record("issue.submit", issue, actor=user, number=issue.number,
                 threshold=issue.threshold_kind.value, need=issue.need_households,
                 base_area=issue.base_area, base_heads=issue.base_heads,
                 expires_at=issue.expires_at)


def withdraw(user: User, issue: Issue) -> None:
    """The author withdraws a draft or a collecting issue before it reaches the threshold.

    Raises NotAllowed (not the author), DomainError (past the threshold, or closed)."""
    if issue.author_id != user.id:
        raise NotAllowed(_("只有提议人可以撤回议题。"))
    refused = DomainError(_("议题已达到联署门槛或已结束，不能撤回。"))
    if effective_state(issue) not in (IssueState.DRAFT, IssueState.COLLECTING):
        raise refused
    res = db.session.execute(update(Issue).where(
        Issue.id == issue.id, Issue.state.in_([IssueState.DRAFT, IssueState.COLLECTING]))
        .values(state=IssueState.WITHDRAWN, closed_at=clock.now()))
    if res.rowcount != 1:
        raise refused
    db.session.refresh(issue)
    audit.record("issue.withdraw", issue, actor=user, number=issue.number)


# --- co-signing ----------------------------------------------------------------------

def _refusal(state: IssueState) -> str:
    return {
        IssueState.DRAFT: _("这个议题还是草稿，尚未开始征集联署。"),
        IssueState.EXPIRED: _("征集期已结束，这个议题未达到联署门槛。"),
        IssueState.WITHDRAWN: _("提议人已撤回这个议题。"),
        IssueState.DECLINED: _("这个议题已不予受理。"),
        IssueState.MERGED: _("这个议题已并入其他议题，请到合并后的议题联署。"),
        IssueState.REFERRED: _("这个议题已转交其他部门办理。"),
    }.get(state, _("这个议题现在不接受联署。"))


def _recount_owners(issue: Issue) -> None:
    """Area and Art. 9 headcount of the co-signing owner households (under the lock)."""
    signed_units = select(Cosign.unit_id).where(Cosign.issue_id == issue.id,
                                                Cosign.by_owner.is_(True))
    issue.cosign_area = db.session.scalar(select(func.coalesce(func.sum(Unit.area), 0)).where(
        Unit.id.in_(signed_units))) or Decimal(0)
    issue.cosign_heads = owner_headcount(issue.community_id, signed_units)


def cosign(user: User, issue_id: int, comment: str = "", *, locked: Issue | None = None
           ) -> Cosign:
    """Co-sign for the user's household, exactly once, and cross the threshold at most once.

    `locked`: the issue, if the caller has already read it locked (for_update) in this
    transaction. Raises NotAllowed (not a verified resident here), AlreadySigned,
    DomainError (the issue does not take co-signs now).
    """
    issue = locked if locked is not None and locked.id == issue_id else db.session.execute(
        for_update(select(Issue).where(Issue.id == issue_id))).scalar_one()
    community = db.session.get(Community, issue.community_id)
    membership = permissions.residency(user, community)
    if membership is None:
        raise NotAllowed(_("只有本小区的认证居民可以联署。"))
    state = effective_state(issue)
    if state not in SIGNABLE:
        raise DomainError(_refusal(state))
    before = progress(issue)
    # the unique (issue, unit) constraint is the rule: a second co-sign of the household
    # inserts nothing, in the same statement
    conn = db.session.connection()
    values = {"issue_id": issue.id, "unit_id": membership.unit_id, "user_id": user.id,
              "by_owner": membership.tenure is Tenure.OWNER, "comment": comment.strip()[:140],
              "created_at": clock.now()}
    row = conn.execute(_insert_cosign(), values).first()
    if row is None:
        existing = household_signature(issue, membership)
        raise AlreadySigned(_("你已经联署过这个议题。") if existing and existing.user_id == user.id
                            else _("你家已有人联署过这个议题（每户一次）。"))
    sig = Cosign(id=row.id, **values)   # as inserted; not in the session
    # the row is locked: count it and read the new count back in one statement
    set_committed_value(issue, "cosign_count",
                        conn.execute(_count_cosign(), {"issue": issue.id}).scalar_one())
    if issue.threshold_kind is ThresholdKind.OWNERS and sig.by_owner:
        _recount_owners(issue)
        db.session.flush()
    audit.record("issue.cosign", issue, actor=user, unit=membership.unit_id,
                 count=issue.cosign_count)
    after = progress(issue)
    if state is IssueState.COLLECTING:
        after_progress(issue, before, after)
    return sig


@built_once
def _insert_cosign(dialect: str):
    """One household's co-sign, unless the household has one (then no row comes back).
    In SQL rather than through the session: co-signing is the app's busiest write."""
    table = Cosign.__table__
    return (insert_ignoring_duplicates(table, ["issue_id", "unit_id"], dialect)
            .returning(table.c.id))   # the columns: those of the values it is executed with


@built_once
def _count_cosign(dialect: str):
    """Count one more co-sign on the (locked) issue; the new count comes back."""
    table = Issue.__table__
    return (table.update().where(table.c.id == bindparam("issue"))
            .values(cosign_count=table.c.cosign_count + 1).returning(table.c.cosign_count))


def after_progress(issue: Issue, before: th.Progress, after: th.Progress) -> None:
    """Milestone notices, and the threshold crossing (once) when `after` reaches it."""
    link = f"/c/{_slug(issue)}/issues/{issue.number}"
    milestone = th.milestone_crossed(before.percent, after.percent)
    if milestone:
        notify([issue.author_id], "issue.milestone", community_id=issue.community_id, link=link,
               number=issue.number, title=issue.title, percent=milestone)
    if not after.reached:
        return
    now = clock.now()
    res = db.session.execute(update(Issue).where(
        Issue.id == issue.id, Issue.state == IssueState.COLLECTING)
        .values(state=IssueState.AWAITING_TRIAGE, threshold_at=now))
    if res.rowcount == 1:
        db.session.refresh(issue, ["state", "threshold_at"])
        audit.record("issue.threshold", issue, actor="system", number=issue.number,
                     count=issue.cosign_count, area=issue.cosign_area, heads=issue.cosign_heads)
        notify(staff_ids(issue.community_id, Role.MODERATOR), "issue.threshold",
               community_id=issue.community_id, link=link, number=issue.number,
               title=issue.title)


def _slug(issue: Issue) -> str:
    return db.session.get(Community, issue.community_id).slug   # usually already loaded


def withdraw_cosign(user: User, issue_id: int) -> None:
    """A household withdraws its co-sign, only while the issue is collecting below threshold.

    Raises NotAllowed, DomainError.
    """
    issue = db.session.execute(for_update(select(Issue).where(Issue.id == issue_id))).scalar_one()
    community = db.session.get(Community, issue.community_id)
    membership = permissions.residency(user, community)
    if membership is None:
        raise NotAllowed(_("只有本小区的认证居民可以这样做。"))
    if effective_state(issue) is not IssueState.COLLECTING:
        raise DomainError(_("议题已达到联署门槛或已结束，联署不能再撤回。"))
    sig = household_signature(issue, membership)
    if sig is None:
        raise DomainError(_("你家还没有联署这个议题。"))
    db.session.delete(sig)
    issue.cosign_count = Issue.cosign_count - 1
    db.session.flush()
    db.session.refresh(issue, ["cosign_count"])
    if issue.threshold_kind is ThresholdKind.OWNERS:
        _recount_owners(issue)
    audit.record("issue.cosign_withdraw", issue, actor=user, unit=membership.unit_id,
                 count=issue.cosign_count)


# --- time-based work -----------------------------------------------------------------

def expire_due() -> int:
    """Collecting issues past their window become expired (each once). Returns how many."""
    now = clock.now()
    due = db.session.scalars(select(Issue.id).where(
        Issue.state == IssueState.COLLECTING, Issue.expires_at <= now)).all()
    done = 0
    for issue_id in due:
        res = db.session.execute(update(Issue).where(
            Issue.id == issue_id, Issue.state == IssueState.COLLECTING)
            .values(state=IssueState.EXPIRED, closed_at=now))
        if res.rowcount == 1:
            issue = db.session.get(Issue, issue_id)
            db.session.refresh(issue)
            audit.record("issue.expire", issue, actor="system", number=issue.number,
                         count=issue.cosign_count)
            notify([issue.author_id], "issue.expired", community_id=issue.community_id,
                   link=f"/c/{_slug(issue)}/issues/{issue.number}", number=issue.number,
                   title=issue.title)
            done += 1
    return done


# --- comments ------------------------------------------------------------------------

def speaking_membership(user: User, community: Community) -> Membership | None:
    """Staff speak for their body; residents for their household."""
    ms = permissions.memberships_in(user, community)
    for role in (Role.MODERATOR, Role.PROPERTY, Role.ASSOCIATION, Role.RESIDENT):
        for m in ms:
            if m.role is role:
                return m
    return None


def add_comment(user: User, issue: Issue, body: str, parent_id: int | None = None,
                idempotency_key: str | None = None) -> Comment:
    """Raises NotAllowed (not a resident or staff here; a draft), Invalid (empty, too long,
    reply to a reply or to another issue's comment)."""
    community = db.session.get(Community, issue.community_id)
    m = speaking_membership(user, community)
    if m is None or not permissions.can_comment(user, community):
        raise NotAllowed(_("只有本小区的认证居民和工作人员可以发表意见。"))
    if issue.state is IssueState.DRAFT:
        raise NotAllowed(_("草稿不能评论。"))
    body = body.strip()
    if not body:
        raise Invalid(_("请写下你的意见。"), field="body")
    if len(body) > 2000:
        raise Invalid(_("意见不能超过 2000 字。"), field="body")
    if idempotency_key:
        existing = db.session.execute(select(Comment).where(
            Comment.author_id == user.id, Comment.issue_id == issue.id,
            Comment.idempotency_key == idempotency_key)).scalar_one_or_none()
        if existing is not None:
            return existing
    if parent_id is not None:
        parent = db.session.get(Comment, parent_id)
        if parent is None or parent.issue_id != issue.id or parent.parent_id is not None:
            raise Invalid(_("只能回复本议题下的一级意见。"), field="body")
    c = Comment(issue_id=issue.id, parent_id=parent_id, author_id=user.id, membership_id=m.id,
                body=body, body_html=render_markdown(body), idempotency_key=idempotency_key)
    db.session.add(c)
    db.session.flush()
    audit.record("issue.comment", c, actor=user, community_id=issue.community_id,
                 issue=issue.id, parent=parent_id)
    return c


# --- community rules -----------------------------------------------------------------

def update_rules(actor: User, community: Community, *, threshold_kind: str, households: int,
                 share_num: int, share_den: int, collect_days: int, triage_days: int,
                 category_names: list[str], notice_days: int | None = None,
                 publicity_days: int | None = None) -> None:
    """Moderators set the rules; issues already collecting keep their frozen threshold,
    rounds already noticed and decisions already published keep their dates."""
    notice_days = community.notice_days if notice_days is None else notice_days
    publicity_days = community.publicity_days if publicity_days is None else publicity_days
    ThresholdKind(threshold_kind)
    if not (1 <= households <= 100000):
        raise Invalid(_("户数门槛应在 1 到 100000 之间。"), field="households")
    if not (1 <= share_num <= share_den <= 100):
        raise Invalid(_("比例应在 0 到 1 之间，例如 1/5。"), field="share_num")
    if not (1 <= collect_days <= 365):
        raise Invalid(_("征集期应在 1 到 365 天之间。"), field="collect_days")
    if not (1 <= triage_days <= 60):
        raise Invalid(_("受理时限应在 1 到 60 天之间。"), field="triage_days")
    if not (1 <= notice_days <= 30):
        raise Invalid(_("会议通知应提前 1 到 30 天。"), field="notice_days")
    if not (1 <= publicity_days <= 60):
        raise Invalid(_("公示期应在 1 到 60 天之间。"), field="publicity_days")
    names = [n.strip() for n in category_names if n.strip()]
    if not names or len(names) > 30 or any(len(n) > 20 for n in names) or len(set(names)) != len(names):
        raise Invalid(_("分类：每行一个，不重复，每个不超过 20 字，最多 30 个。"), field="categories")
    community.threshold_kind = threshold_kind
    community.threshold_households = households
    community.threshold_share_num, community.threshold_share_den = share_num, share_den
    community.collect_days, community.triage_days = collect_days, triage_days
    community.notice_days, community.publicity_days = notice_days, publicity_days
    existing = {c.name: c for c in db.session.scalars(select(Category).where(
        Category.community_id == community.id))}
    for c in existing.values():
        c.active = False
    for i, name in enumerate(names):
        c = existing.get(name) or Category(community_id=community.id, name=name)
        c.active, c.position = True, i
        db.session.add(c)
    db.session.flush()
    audit.record("community.rules", community, actor=actor, community_id=community.id,
                 threshold_kind=threshold_kind, households=households,
                 share=f"{share_num}/{share_den}", collect_days=collect_days,
                 triage_days=triage_days, notice_days=notice_days,
                 publicity_days=publicity_days, categories=names)
