from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, IdMixin, utcnow


class Device(IdMixin, Base):
    """An app install that can receive push notifications: its FCM registration token, for a
    signed-in person or an anonymous install id."""

    __tablename__ = "device"
    __table_args__ = (
        CheckConstraint("platform IN ('web', 'android', 'ios')", name="platform"),
        Index("ix_device_last_seen_at", "last_seen_at"),
    )

    token: Mapped[str] = mapped_column(String(1024), unique=True)
    platform: Mapped[str] = mapped_column(String(10))
    locale: Mapped[str] = mapped_column(String(8), default="vi")
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    install_id: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    stale_at: Mapped[datetime | None]
