from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, IdMixin, utcnow
from app.org.models import Ward


class Severity(StrEnum):
    """Most urgent first. Emergencies and warnings go out at high priority and ignore quiet
    hours; announcements are ordinary news."""

    emergency = "emergency"
    warning = "warning"
    advisory = "advisory"
    announcement = "announcement"


class AlertStatus(StrEnum):
    draft = "draft"
    sent = "sent"
    cancelled = "cancelled"


alert_ward = Table(
    "alert_ward",
    Base.metadata,
    Column("alert_id", ForeignKey("alert.id", ondelete="CASCADE"), primary_key=True),
    Column("ward_id", ForeignKey("ward.id", ondelete="RESTRICT"), primary_key=True),
)


class Alert(IdMixin, Base):
    """An emergency alert or announcement for the whole province or chosen wards and communes."""

    __tablename__ = "alert"
    __table_args__ = (
        CheckConstraint(
            "severity IN ('emergency', 'warning', 'advisory', 'announcement')", name="severity"
        ),
        CheckConstraint("status IN ('draft', 'sent', 'cancelled')", name="status"),
        Index("ix_alert_status_sent_at", "status", "sent_at"),
    )

    severity: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(10), default=AlertStatus.draft.value)
    title_vi: Mapped[str] = mapped_column(String(200))
    body_vi: Mapped[str] = mapped_column(Text)
    title_en: Mapped[str] = mapped_column(String(200))
    body_en: Mapped[str] = mapped_column(Text)
    whole_province: Mapped[bool] = mapped_column(default=True)
    expires_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    sent_at: Mapped[datetime | None]
    cancelled_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    cancelled_at: Mapped[datetime | None]

    wards: Mapped[list[Ward]] = relationship(secondary=alert_ward, lazy="raise")

    def title(self, locale: str) -> str:
        return self.title_en if locale == "en" and self.title_en else self.title_vi

    def body(self, locale: str) -> str:
        return self.body_en if locale == "en" and self.body_en else self.body_vi
