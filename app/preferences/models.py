from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Time
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, IdMixin, utcnow


class NotificationPreference(Base):
    """A signed-in person's push settings; no row means the defaults (everything on, no quiet
    hours). The language is the account's own `locale`."""

    __tablename__ = "notification_preference"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    # Push about my reports and the ones I follow (the inbox gets them either way).
    report_updates: Mapped[bool] = mapped_column(default=True)
    # Push about new reports in the wards and service groups I subscribe to.
    area_reports: Mapped[bool] = mapped_column(default=True)
    # Local time of the province; start after end wraps midnight (22:00-06:00).
    quiet_start: Mapped[time | None] = mapped_column(Time)
    quiet_end: Mapped[time | None] = mapped_column(Time)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ReportSubscription(IdMixin, Base):
    """New public reports in a ward (or anywhere), about a service group (or any)."""

    __tablename__ = "report_subscription"
    __table_args__ = (Index("ix_report_subscription_ward_id_group", "ward_id", "service_group"),)

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    ward_id: Mapped[int | None] = mapped_column(ForeignKey("ward.id", ondelete="CASCADE"))
    service_group: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AlertArea(IdMixin, Base):
    """A ward or commune whose emergency alerts someone wants besides the province-wide ones:
    for a signed-in person (all their devices) or for one anonymous install."""

    __tablename__ = "alert_area"
    __table_args__ = (CheckConstraint("(user_id IS NULL) <> (device_id IS NULL)", name="owner"),)

    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    device_id: Mapped[int | None] = mapped_column(
        ForeignKey("device.id", ondelete="CASCADE"), index=True
    )
    ward_id: Mapped[int] = mapped_column(ForeignKey("ward.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
