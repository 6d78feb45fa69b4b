from __future__ import annotations

from datetime import date
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, IdMixin, TimestampMixin

# The years the calendar covers (the library knows Vietnamese lunar holidays well beyond them).
MIN_YEAR = 2000
MAX_YEAR = 2099


class DayKind(StrEnum):
    day_off = "day_off"  # an extra day off (the Government's extra Tết days, a bridge day)
    working_day = "working_day"  # a make-up working Saturday, or a cancelled public holiday


class DayReason(StrEnum):
    """Why a day is, or is not, a working day."""

    working_day = "working_day"  # an ordinary weekday
    weekend = "weekend"
    public_holiday = "public_holiday"
    staff_day_off = "staff_day_off"
    make_up_working_day = "make_up_working_day"  # a weekend day or a holiday declared worked


class Source(StrEnum):
    library = "library"  # the `holidays` package: the law and the Government's announced swaps
    staff = "staff"  # this province's staff, in the calendar_day table


class CalendarDay(IdMixin, TimestampMixin, Base):
    """A staff override of the public-holiday library for one date."""

    __tablename__ = "calendar_day"
    __table_args__ = (CheckConstraint("kind IN ('day_off', 'working_day')", name="kind"),)

    day: Mapped[date] = mapped_column(Date, unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    name_vi: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )

    @property
    def kind_enum(self) -> DayKind:
        return DayKind(self.kind)
