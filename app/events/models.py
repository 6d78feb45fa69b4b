"""Festivals, markets and performances: one-off or recurring (an iCalendar RRULE), at a place."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, IdMixin, TimestampMixin


class EventCategory(StrEnum):
    festival = "festival"
    market = "market"
    performance = "performance"
    sport = "sport"
    exhibition = "exhibition"
    other = "other"


class Event(IdMixin, TimestampMixin, Base):
    __tablename__ = "event"
    __table_args__ = (
        CheckConstraint(
            "category IN ('festival', 'market', 'performance', 'sport', 'exhibition', 'other')",
            name="category",
        ),
        CheckConstraint("ends_at >= starts_at", name="ends_after_start"),
        CheckConstraint("price_vnd >= 0", name="price"),
        Index("ix_event_updated", "updated_at", "id"),
        # Range queries: an event may occur between starts_at and last_ends_at (NULL = forever).
        Index("ix_event_span", "starts_at", "last_ends_at"),
    )

    code: Mapped[str] = mapped_column(String(60), unique=True)
    category: Mapped[str] = mapped_column(String(20))
    title: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    description: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # The first occurrence, in UTC; the wall-clock rules of recurrence follow time_zone.
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    time_zone: Mapped[str] = mapped_column(String(60), default="Asia/Ho_Chi_Minh")
    all_day: Mapped[bool] = mapped_column(Boolean, default=False)
    rrule: Mapped[str | None] = mapped_column(String(500))  # RFC 5545 RRULE value, e.g. FREQ=…
    last_ends_at: Mapped[datetime | None]  # end of the last occurrence; NULL when unbounded
    place_id: Mapped[int | None] = mapped_column(
        ForeignKey("place.id", ondelete="SET NULL"), index=True
    )
    venue: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # when no place record
    price_vnd: Mapped[int | None] = mapped_column(Integer)  # 0 = free, None = not known
    price_note: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    accessibility_notes: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    url: Mapped[str | None] = mapped_column(String(500))
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("department.id", ondelete="SET NULL"), index=True
    )
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    retired_at: Mapped[datetime | None]
