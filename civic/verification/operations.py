"""Household verification rules: invitation codes, claims. Flush, never commit."""
from __future__ import annotations

import enum
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from civic import clock
from civic.accounts.models import User
from civic.audit import operations as audit
from civic.communities import operations as communities
from civic.communities.models import (Claim, ClaimStatus, Community, InvitationCode, Membership,
                                      MembershipStatus, Role, Tenure, Unit)
from civic.domain import DomainError, Invalid
from civic.extensions import db

#: no 0/O, 1/I/L: nothing a resident could misread on a printed slip
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 10
_GROUP = 5


# --- codes: pure helpers ---------------------------------------------------------------

def new_code() -> str:
    """A fresh random code (normalised form, no separator); ~49.5 bits from `secrets`."""
    return "".join(secrets.choice(ALPHABET) for _i in range(CODE_LENGTH))


def normalise_code(raw: str | None) -> str:
    """Upper-case, separators and spaces removed: the form that is hashed."""
    return "".join(ch for ch in (raw or "").upper() if ch.isascii() and ch.isalnum())


def format_code(code: str) -> str:
    """Grouped for reading aloud and typing: ABCDE-FGHJK."""
    code = normalise_code(code)
    return "-".join(code[i:i + _GROUP] for i in range(0, len(code), _GROUP))


def hash_code(raw: str) -> str:
    """SHA-256 of the normalised code: the only form kept in the database."""
    return hashlib.sha256(normalise_code(raw).encode("ascii")).hexdigest()


class CodeStatus(str, enum.Enum):
    """What the committee sees for a unit's latest code."""

    NONE = "none"
    PENDING = "pending"
    USED = "used"
    EXPIRED = "expired"
    VOIDED = "voided"


def status_of(code: InvitationCode | None, now: datetime) -> CodeStatus:
    """The status of one code at `now` (used wins over expired)."""
    if code is None:
        return CodeStatus.NONE
    if code.used_at is not None:
        return CodeStatus.USED
    if code.voided_at is not None:
        return CodeStatus.VOIDED
    if code.expires_at <= now:
        return CodeStatus.EXPIRED
    return CodeStatus.PENDING


# --- codes: issuing --------------------------------------------------------------------

@dataclass(frozen=True)
class IssuedCode:
    """A code just generated; the plaintext lives only in this object and the printed page."""

    unit: Unit
    tenure: Tenure
    code: str
    expires_at: datetime


def issue_codes(actor: User, community: Community, units: Sequence[Unit],
                tenure: Tenure) -> list[IssuedCode]:
    """One new code per unit; the units' earlier unused codes of this tenure are voided.

    Raises Invalid when no unit is given or a unit belongs to another community.
    """
    if not units:
        raise Invalid(_("请至少选择一个房号。"), field="units")
    if any(u.community_id != community.id for u in units):
        raise Invalid(_("所选房号不属于本小区。"), field="units")
    now = clock.now()
    expires_at = now + timedelta(days=current_app.config["INVITATION_CODE_DAYS"])
    unit_ids = [u.id for u in units]
    voided = db.session.execute(
        update(InvitationCode)
        .where(InvitationCode.community_id == community.id,
               InvitationCode.unit_id.in_(unit_ids), InvitationCode.tenure == tenure,
               InvitationCode.used_at.is_(None), InvitationCode.voided_at.is_(None))
        .values(voided_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    issued = []
    for unit in units:
        code = new_code()
        db.session.add(InvitationCode(
            community_id=community.id, unit_id=unit.id, tenure=tenure, code_hash=hash_code(code),
            expires_at=expires_at, created_by_id=actor.id, created_at=now))
        issued.append(IssuedCode(unit, tenure, format_code(code), expires_at))
    db.session.flush()
    audit.record("invitation.issue", actor=actor, community_id=community.id,
                 object_type="community", object_id=community.id, tenure=tenure.value,
                 count=len(issued), voided=voided, units=sorted(unit_ids),
                 expires_at=expires_at)
    return issued


def latest_codes(unit_ids: Sequence[int]) -> dict[tuple[int, Tenure], InvitationCode]:
    """The newest code per (unit, tenure) for these units, in two queries at most."""
    if not unit_ids:
        return {}
    newest = (select(func.max(InvitationCode.id))
              .where(InvitationCode.unit_id.in_(unit_ids))
              .group_by(InvitationCode.unit_id, InvitationCode.tenure))
    codes = db.session.execute(
        select(InvitationCode).where(InvitationCode.id.in_(newest))).scalars()
    return {(c.unit_id, c.tenure): c for c in codes}


# --- codes: redeeming ------------------------------------------------------------------

def _already_resident(user: User, community_id: int) -> bool:
    return db.session.execute(select(Membership.id).where(
        Membership.user_id == user.id, Membership.community_id == community_id,
        Membership.role == Role.RESIDENT, Membership.status == MembershipStatus.ACTIVE)
    ).first() is not None


def redeem_code(user: User, raw: str) -> Membership:
    """Bind `user` to the code's unit and use the code up, exactly once.

    Raises Invalid(field="code") for a wrong, used, voided or expired code, or when the user
    is already a verified resident of the code's community.
    """
    normal = normalise_code(raw)
    code = None
    if len(normal) == CODE_LENGTH:
        code = db.session.execute(select(InvitationCode).where(
            InvitationCode.code_hash == hash_code(normal))).scalar_one_or_none()
    if code is None:
        raise Invalid(_("邀请码不正确，请核对后重新输入。"), field="code")
    now = clock.now()
    if code.used_at is not None:
        raise Invalid(_("这个邀请码已经使用过了。如有疑问，请联系居委会。"), field="code")
    if code.voided_at is not None:
        raise Invalid(_("这个邀请码已作废：居委会已为这户发放了新的邀请码。"), field="code")
    if code.expires_at <= now:
        raise Invalid(_("这个邀请码已过期，请联系居委会重新发放。"), field="code")
    if _already_resident(user, code.community_id):
        raise Invalid(_("你已经是这个小区的认证居民，不需要再输入邀请码。"), field="code")
    # The guard: of any number of concurrent attempts, exactly one row update succeeds.
    taken = db.session.execute(
        update(InvitationCode)
        .where(InvitationCode.id == code.id, InvitationCode.used_at.is_(None),
               InvitationCode.voided_at.is_(None), InvitationCode.expires_at > now)
        .values(used_at=now, used_by_id=user.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if taken != 1:
        raise Invalid(_("这个邀请码已经使用过了。如有疑问，请联系居委会。"), field="code")
    db.session.expire(code)
    try:
        return communities.bind_resident(user, code.unit, code.tenure, actor=None, via="code")
    except DomainError as e:
        raise Invalid(e.message, field="code") from e


# --- claims ----------------------------------------------------------------------------

def pending_claim(user: User, community: Community) -> Claim | None:
    """The user's claim awaiting a decision here, if any."""
    return db.session.execute(select(Claim).where(
        Claim.user_id == user.id, Claim.community_id == community.id,
        Claim.status == ClaimStatus.PENDING)).scalars().first()


def latest_claim(user: User, community: Community) -> Claim | None:
    """The user's most recent claim here (to show its outcome and any reason)."""
    return db.session.execute(select(Claim).where(
        Claim.user_id == user.id, Claim.community_id == community.id)
        .order_by(Claim.id.desc()).limit(1)).scalar_one_or_none()


def submit_claim(user: User, community: Community, unit: Unit, tenure: Tenure,
                 note: str) -> Claim:
    """Ask the committee to verify `user` to `unit`.

    Raises Invalid for a unit of another community or an empty note, DomainError when the
    user is already a resident here or has a claim pending.
    """
    if unit.community_id != community.id:
        raise Invalid(_("所选房号不属于本小区。"), field="unit")
    note = (note or "").strip()
    if not note:
        raise Invalid(_("请简单说明你和这户的关系。"), field="note")
    # Serialise a user's own submissions (PostgreSQL row lock; SQLite already holds the
    # write lock from BEGIN IMMEDIATE), so two taps cannot leave two pending claims.
    db.session.execute(select(User.id).where(User.id == user.id).with_for_update())
    if _already_resident(user, community.id):
        raise DomainError(_("你已经是本小区的认证居民。"))
    if pending_claim(user, community) is not None:
        raise DomainError(_("你已经提交过认证申请，请等待居委会审核。"))
    claim = Claim(community_id=community.id, user_id=user.id, unit_id=unit.id, tenure=tenure,
                  note=note[:300])
    db.session.add(claim)
    db.session.flush()
    audit.record("claim.submit", claim, actor=user, unit=unit.id, tenure=tenure.value,
                 claimant=user.pseudonym)
    return claim


def _decide(actor: User, claim: Claim, status: ClaimStatus, reason: str = "") -> None:
    """Move a pending claim to `status` once; raises DomainError if it was already decided."""
    done = db.session.execute(
        update(Claim)
        .where(Claim.id == claim.id, Claim.status == ClaimStatus.PENDING)
        .values(status=status, decided_by_id=actor.id, decided_at=clock.now(), reason=reason)
        .execution_options(synchronize_session=False)
    ).rowcount
    if done != 1:
        raise DomainError(_("这个申请已经处理过了。"))
    db.session.expire(claim)


def approve_claim(actor: User, claim: Claim) -> Membership:
    """Approve: the claimant becomes a resident of the unit with the declared tenure.

    Raises DomainError if the claim was already decided or the claimant is already a
    verified resident here (reject the claim instead).
    """
    if claim.status is not ClaimStatus.PENDING:
        raise DomainError(_("这个申请已经处理过了。"))
    if _already_resident(claim.user, claim.community_id):
        raise DomainError(_("申请人已经是本小区的认证居民，请驳回这个申请。"))
    _decide(actor, claim, ClaimStatus.APPROVED)
    membership = communities.bind_resident(claim.user, claim.unit, claim.tenure, actor=actor,
                                           via="claim")
    audit.record("claim.approve", claim, actor=actor, unit=claim.unit_id,
                 tenure=claim.tenure.value, claimant=claim.user.pseudonym,
                 membership=membership.id)
    return membership


def reject_claim(actor: User, claim: Claim, reason: str) -> None:
    """Reject with a reason the claimant will read.

    Raises Invalid without a reason, DomainError if the claim was already decided.
    """
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(_("请写明驳回原因，申请人会看到它。"), field="reason")
    if claim.status is not ClaimStatus.PENDING:
        raise DomainError(_("这个申请已经处理过了。"))
    _decide(actor, claim, ClaimStatus.REJECTED, reason[:300])
    audit.record("claim.reject", claim, actor=actor, unit=claim.unit_id,
                 claimant=claim.user.pseudonym)
