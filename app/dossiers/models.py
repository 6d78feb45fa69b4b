"""Dossiers (hồ sơ) lodged for a procedure at the one-stop centre, by post or online, their
status and history, the working-day clock (paused while a supplement is awaited), followers,
and the applicant's rating."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, IdMixin, TimestampMixin, check_in, utcnow
from app.procedures.models import Channel


class Status(StrEnum):
    received = "received"
    in_processing = "in_processing"
    needs_supplement = "needs_supplement"
    supplement_received = "supplement_received"
    rejected = "rejected"
    completed = "completed"
    result_returned = "result_returned"
    withdrawn = "withdrawn"


# What staff may move a dossier to, from each status.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.received: frozenset(
        {Status.in_processing, Status.needs_supplement, Status.rejected, Status.withdrawn}
    ),
    Status.in_processing: frozenset(
        {Status.needs_supplement, Status.rejected, Status.completed, Status.withdrawn}
    ),
    Status.needs_supplement: frozenset(
        {Status.supplement_received, Status.rejected, Status.withdrawn}
    ),
    Status.supplement_received: frozenset(
        {
            Status.in_processing,
            Status.needs_supplement,
            Status.rejected,
            Status.completed,
            Status.withdrawn,
        }
    ),
    Status.completed: frozenset({Status.result_returned}),
    Status.rejected: frozenset(),
    Status.result_returned: frozenset(),
    Status.withdrawn: frozenset(),
}
# The clock runs in these; it is paused in needs_supplement and stopped in the rest.
RUNNING = frozenset({Status.received, Status.in_processing, Status.supplement_received})
FINAL = frozenset({Status.rejected, Status.result_returned, Status.withdrawn})
# The applicant may rate the service once the result is ready.
RATEABLE = frozenset({Status.completed, Status.result_returned})


class ApplicantKind(StrEnum):
    person = "person"
    business = "business"


class Dossier(IdMixin, TimestampMixin, Base):
    __tablename__ = "dossier"
    __table_args__ = (
        CheckConstraint(check_in("status", Status), name="status"),
        CheckConstraint(check_in("applicant_kind", ApplicantKind), name="applicant_kind"),
        CheckConstraint(check_in("channel", Channel), name="channel"),
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating"),
        # The staff queue: a department's open dossiers by due date; overdue ones first.
        Index("ix_dossier_department_id_status_due_at", "department_id", "status", "due_at"),
        Index("ix_dossier_status_due_at", "status", "due_at"),
        Index("ix_dossier_procedure_id", "procedure_id"),
    )

    code: Mapped[str] = mapped_column(String(40), unique=True)
    procedure_id: Mapped[int] = mapped_column(ForeignKey("procedure.id", ondelete="RESTRICT"))
    # The department that handles it (the procedure's agency's, or the receiver's).
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("department.id", ondelete="SET NULL")
    )
    channel: Mapped[str] = mapped_column(String(10), default=Channel.in_person.value)
    applicant_kind: Mapped[str] = mapped_column(String(10))
    applicant_name: Mapped[str] = mapped_column(String(200))
    # The name accent-folded (app.kit.text.fold), so staff find "Nguyễn Văn Đức" by "nguyen van duc".
    applicant_key: Mapped[str] = mapped_column(String(200), default="")
    tax_code: Mapped[str | None] = mapped_column(String(14))  # businesses: 10 or 13 digits
    phone: Mapped[str | None] = mapped_column(String(20))
    # The second factor of a lookup: the last four digits of the phone, and a receipt PIN
    # (argon2 hash; the PIN itself is shown once, on the receipt).
    phone_last4: Mapped[str | None] = mapped_column(String(4))
    pin_hash: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    address: Mapped[str | None] = mapped_column(String(300))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    received_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(String(24), default=Status.received.value)
    received_at: Mapped[datetime]
    # Due: the end (17:00 local) of the last working day. While a supplement is awaited the
    # clock is paused: due_at is None and remaining_working_days holds what was left.
    due_at: Mapped[datetime | None]
    paused_at: Mapped[datetime | None]
    remaining_working_days: Mapped[int | None] = mapped_column(Integer)
    # What the applicant must still bring (the latest "needs supplement").
    missing: Mapped[list[str]] = mapped_column(JSON, default=list)
    completed_at: Mapped[datetime | None]
    returned_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]  # rejected, withdrawn or result returned
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[datetime | None]
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)


class DossierEvent(IdMixin, Base):
    """One line of a dossier's history: a status change or a note."""

    __tablename__ = "dossier_event"
    __table_args__ = (Index("ix_dossier_event_dossier_id_at", "dossier_id", "at"),)

    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossier.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str | None] = mapped_column(String(24))
    note: Mapped[str | None] = mapped_column(Text)
    missing: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Internal notes are for staff only; everything else the applicant sees.
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    due_at: Mapped[datetime | None]  # the due date after this event


class DossierFollower(IdMixin, Base):
    __tablename__ = "dossier_follower"
    __table_args__ = (UniqueConstraint("dossier_id", "user_id"),)

    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossier.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
