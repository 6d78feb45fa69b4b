"""Every query of the working calendar."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.calendar.models import CalendarDay


async def get_day(session: AsyncSession, day: date) -> CalendarDay | None:
    result = await session.execute(select(CalendarDay).where(CalendarDay.day == day))
    return result.scalar_one_or_none()


async def days_between(session: AsyncSession, first: date, last: date) -> Sequence[CalendarDay]:
    """The staff's entries from `first` to `last`, both included, in date order."""
    result = await session.execute(
        select(CalendarDay)
        .where(CalendarDay.day >= first, CalendarDay.day <= last)
        .order_by(CalendarDay.day)
    )
    return result.scalars().all()
