from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

# The tables these reference must be in the metadata whoever imports this module first.
from app.alerts import models as _alerts  # noqa: F401
from app.db import Base, IdMixin, utcnow
from app.devices import models as _devices  # noqa: F401
from app.inbox import models as _inbox  # noqa: F401


class DeliveryStatus(StrEnum):
    queued = "queued"
    sending = "sending"
    sent = "sent"
    failed = "failed"  # refused for good (INVALID_ARGUMENT, out of retries, device gone)
    dead = "dead"  # FCM said the token is dead; the device is removed


class Delivery(IdMixin, Base):
    """The outbox: one push to one device (a notification) or to one topic (an alert), written in
    the transaction of its cause and sent by a dispatcher after commit."""

    __tablename__ = "push_delivery"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'sending', 'sent', 'failed', 'dead')", name="status"),
        CheckConstraint("(device_id IS NULL) OR (topic IS NULL)", name="one_target"),
        # The claim reads queued rows in (priority, due time) order straight from this index.
        Index("ix_push_delivery_claim", "status", "priority", "next_attempt_at"),
    )

    notification_id: Mapped[int | None] = mapped_column(
        ForeignKey("notification.id", ondelete="CASCADE"), index=True
    )
    alert_id: Mapped[int | None] = mapped_column(
        ForeignKey("alert.id", ondelete="CASCADE"), index=True
    )
    # NULL with no topic: the device was removed before the push went out.
    device_id: Mapped[int | None] = mapped_column(
        ForeignKey("device.id", ondelete="SET NULL"), index=True
    )
    topic: Mapped[str | None] = mapped_column(String(200))
    platform: Mapped[str | None] = mapped_column(String(10))
    locale: Mapped[str] = mapped_column(String(8), default="vi")
    priority: Mapped[str] = mapped_column(String(6), default="normal")
    status: Mapped[str] = mapped_column(String(8), default=DeliveryStatus.queued.value)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    error_code: Mapped[str | None] = mapped_column(String(40))
    message_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChannelHalt(Base):
    """A platform FCM refused for our credentials (THIRD_PARTY_AUTH_ERROR: the APNs key or web
    push keys). Nothing is sent on it until `halted_until` or an operator resumes it."""

    __tablename__ = "push_channel_halt"

    platform: Mapped[str] = mapped_column(String(10), primary_key=True)
    error_code: Mapped[str] = mapped_column(String(40))
    halted_at: Mapped[datetime] = mapped_column(default=utcnow)
    halted_until: Mapped[datetime]


class DeviceTopic(IdMixin, Base):
    """A topic a device should be subscribed to (its language's province-wide alerts, and the
    alerts of its chosen wards). `synced` is false until FCM has confirmed it."""

    __tablename__ = "push_device_topic"
    __table_args__ = (UniqueConstraint("device_id", "topic"),)

    device_id: Mapped[int] = mapped_column(ForeignKey("device.id", ondelete="CASCADE"))
    topic: Mapped[str] = mapped_column(String(200), index=True)


class TopicChange(IdMixin, Base):
    """The outbox of topic membership: subscribe or unsubscribe one token, applied after commit
    by the dispatcher (FCM's registrations API), retried like a delivery."""

    __tablename__ = "push_topic_change"
    __table_args__ = (
        CheckConstraint("op IN ('add', 'remove')", name="op"),
        CheckConstraint("status IN ('queued', 'sending', 'sent', 'failed', 'dead')", name="status"),
        Index("ix_push_topic_change_status_next_attempt_at", "status", "next_attempt_at"),
    )

    token: Mapped[str] = mapped_column(String(1024))
    topic: Mapped[str] = mapped_column(String(200))
    op: Mapped[str] = mapped_column(String(6))
    status: Mapped[str] = mapped_column(String(8), default=DeliveryStatus.queued.value)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    error_code: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
