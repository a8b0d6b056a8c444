"""Communities, their buildings, units and owners, and who belongs to them."""
from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (CheckConstraint, ForeignKey, Index, Numeric, String, UniqueConstraint,
                        text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from civic.accounts.models import User
from civic.models import Base, CreatedMixin, str_enum



class Role(str, enum.Enum):
    RESIDENT = "resident"
    MODERATOR = "moderator"
    ASSOCIATION = "association"
    PROPERTY = "property"
    OBSERVER = "observer"

    @property
    def is_staff(self) -> bool:
        return self is not Role.RESIDENT


STAFF_ROLES = (Role.MODERATOR, Role.ASSOCIATION, Role.PROPERTY, Role.OBSERVER)


class Tenure(str, enum.Enum):
    OWNER = "owner"
    TENANT = "tenant"


class MembershipStatus(str, enum.Enum):
    ACTIVE = "active"
    REVOKED = "revoked"
    #: a resident barred by a moderator (civic.moderation); only ACTIVE memberships count
    SUSPENDED = "suspended"


class ClaimStatus(str, enum.Enum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class Community(CreatedMixin, Base):
    __tablename__ = "community"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    #: the district / street office it belongs to, e.g. "浦东新区花木街道"
    district: Mapped[str] = mapped_column(String(80), default="")

    # --- rules of procedure (moderators edit them in the community settings) -------------
    #: how many co-signs an issue needs: households / share / owners (see ThresholdKind)
    threshold_kind: Mapped[str] = mapped_column(String(20), default="households",
                                                server_default="households")
    threshold_households: Mapped[int] = mapped_column(default=20, server_default="20")
    #: SHARE kind: numerator/denominator of the verified households, e.g. 1/5
    threshold_share_num: Mapped[int] = mapped_column(default=1, server_default="1")
    threshold_share_den: Mapped[int] = mapped_column(default=5, server_default="5")
    #: days an issue collects co-signs before it expires
    collect_days: Mapped[int] = mapped_column(default=30, server_default="30")
    #: days the committee has to triage an issue that reached its threshold
    triage_days: Mapped[int] = mapped_column(default=3, server_default="3")
    #: how many days before a round the notice must be out (会议通知)
    notice_days: Mapped[int] = mapped_column(default=3, server_default="3")
    #: the publicity period of a decision (公示期)
    publicity_days: Mapped[int] = mapped_column(default=7, server_default="7")
    #: days owners may object to a ballot's provisional result
    ballot_objection_days: Mapped[int] = mapped_column(default=7, server_default="7")
    #: the rules of procedure on owners who do not vote in a ballot: NULL (counted for
    #: nobody, the default), "agree" or "majority" (see civic.ballots.art278)
    silent_counts_as: Mapped[str | None] = mapped_column(String(10))

    buildings: Mapped[list[Building]] = relationship(
        back_populates="community", order_by="Building.sort_key", cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<Community {self.slug}>"


class Building(Base):
    __tablename__ = "building"
    __table_args__ = (UniqueConstraint("community_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    #: as residents say it: "5号楼"
    name: Mapped[str] = mapped_column(String(40))
    #: natural ordering key (numeric part first), so 2号楼 sorts before 10号楼
    sort_key: Mapped[str] = mapped_column(String(60), default="")

    community: Mapped[Community] = relationship(back_populates="buildings")
    units: Mapped[list[Unit]] = relationship(back_populates="building", order_by="Unit.sort_key")

    def __repr__(self) -> str:
        return f"<Building {self.name}>"


class Owner(Base):
    """A person (or the developer) owning one or more units: one head in owners' ballots."""

    __tablename__ = "owner"
    __table_args__ = (UniqueConstraint("community_id", "ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    #: roster name, visible to moderators only
    name: Mapped[str] = mapped_column(String(80))
    #: the roster's owner key: given in the sheet's 业主编号 column, else the name
    ref: Mapped[str] = mapped_column(String(80))
    #: the developer, holding units not sold or not delivered (all count as one person)
    is_developer: Mapped[bool] = mapped_column(default=False)

    units: Mapped[list[Unit]] = relationship(back_populates="owner")

    def __repr__(self) -> str:
        return f"<Owner {self.id}>"


class Unit(Base):
    __tablename__ = "unit"
    __table_args__ = (
        UniqueConstraint("building_id", "number"),
        CheckConstraint("area > 0", name="area_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("building.id"), index=True)
    #: 房号 as written on the door, e.g. "301" or "2单元301"
    number: Mapped[str] = mapped_column(String(20))
    sort_key: Mapped[str] = mapped_column(String(60), default="")
    #: exclusive floor area (专有部分面积) in m², exact, from the property register
    area: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("owner.id"), index=True)

    building: Mapped[Building] = relationship(back_populates="units")
    owner: Mapped[Owner | None] = relationship(back_populates="units")

    @property
    def label(self) -> str:
        return f"{self.building.name}{self.number}"

    def __repr__(self) -> str:
        return f"<Unit {self.id} {self.number}>"


class Membership(CreatedMixin, Base):
    """A user's role in one community; residents are bound to a unit (household)."""

    __tablename__ = "membership"
    __table_args__ = (
        UniqueConstraint("user_id", "community_id", "role"),
        CheckConstraint("(role = 'resident') = (unit_id IS NOT NULL)", name="resident_has_unit"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    role: Mapped[Role] = mapped_column(str_enum(Role))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    #: owner or tenant, for residents
    tenure: Mapped[Tenure | None] = mapped_column(str_enum(Tenure))
    status: Mapped[MembershipStatus] = mapped_column(
        str_enum(MembershipStatus), default=MembershipStatus.ACTIVE)
    #: staff: the official title shown publicly, e.g. "居委会主任"
    title: Mapped[str] = mapped_column(String(40), default="")
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str] = mapped_column(String(200), default="")

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    community: Mapped[Community] = relationship()
    unit: Mapped[Unit | None] = relationship()

    @property
    def is_active(self) -> bool:
        return self.status is MembershipStatus.ACTIVE

    def __repr__(self) -> str:
        return f"<Membership {self.user_id}@{self.community_id} {self.role.value}>"


class InvitationCode(CreatedMixin, Base):
    """A one-time code printed for a unit; entering it binds an account to that unit."""

    __tablename__ = "invitation_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    tenure: Mapped[Tenure] = mapped_column(str_enum(Tenure))
    #: SHA-256 of the normalised code; the code itself is shown only once, when printed
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    #: set when a newer code for the same unit replaced this one before use
    voided_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    unit: Mapped[Unit] = relationship()

    def __repr__(self) -> str:
        return f"<InvitationCode {self.id} unit={self.unit_id}>"


class Claim(CreatedMixin, Base):
    """A resident's request to be verified to a unit, decided by a moderator."""

    __tablename__ = "claim"
    __table_args__ = (
        # one pending claim per user and community, enforced by the database
        Index("uq_claim_pending", "user_id", "community_id", unique=True,
              postgresql_where=text("status = 'pending'"), sqlite_where=text("status = 'pending'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    tenure: Mapped[Tenure] = mapped_column(str_enum(Tenure))
    #: what the resident tells the committee to support the claim
    note: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[ClaimStatus] = mapped_column(str_enum(ClaimStatus), default=ClaimStatus.PENDING)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None]
    reason: Mapped[str] = mapped_column(String(300), default="")

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    unit: Mapped[Unit] = relationship()

    def __repr__(self) -> str:
        return f"<Claim {self.id} {self.status.value}>"
