"""Opening hours as a visitor needs them: open now and the next change, in the province's time,
across midnight, and on public holidays from the province's calendar (Tết and staff days off
included, which the parsing library alone does not know)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.calendar.models import CalendarDay
from app.calendar.service import forget_days_off
from app.places import hours

VN = ZoneInfo("Asia/Ho_Chi_Minh")
OFFICE = "Mo-Fr 07:30-11:30,13:30-17:00; PH off"


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=VN)


def never(_day: date) -> bool:
    return False


@pytest.fixture(autouse=True)
def fresh_holidays() -> None:
    forget_days_off()


def test_a_night_market_open_across_midnight() -> None:
    bar = "Mo-Su 18:00-02:00"
    late = hours.evaluate(bar, at(2026, 11, 27, 1, 30), never)
    assert late.is_open and late.next_change == at(2026, 11, 27, 2, 0)
    before = hours.evaluate(bar, at(2026, 11, 26, 23, 59), never)
    assert before.is_open and before.next_change == at(2026, 11, 27, 2, 0)
    after = hours.evaluate(bar, at(2026, 11, 27, 2, 0), never)
    assert not after.is_open and after.next_change == at(2026, 11, 27, 18, 0)


def test_answers_in_the_province_time_whatever_zone_is_asked() -> None:
    # 03:00 UTC is 10:00 in Yên Bái: the office is open.
    state = hours.evaluate(OFFICE, datetime(2026, 11, 26, 3, 0, tzinfo=ZoneInfo("UTC")), never)
    assert state.is_open and state.next_change == at(2026, 11, 26, 11, 30)
    lunch = hours.evaluate(OFFICE, at(2026, 11, 26, 12, 0), never)
    assert lunch.state == "closed" and lunch.next_change == at(2026, 11, 26, 13, 30)


async def test_closed_through_tet_from_the_province_calendar(session: AsyncSession) -> None:
    # Tết 2027: 4-10 February are public holidays (the holidays library, lunar).
    moment = at(2027, 2, 8, 9, 0)  # a Monday
    is_holiday = await hours.holiday_checker(session, moment, "Asia/Ho_Chi_Minh")
    state = hours.evaluate(OFFICE, moment, is_holiday)
    assert state.state == "closed"
    assert state.next_change == at(2027, 2, 11, 7, 30)  # Thursday, the first working day after
    # The library on its own would call it open: its Vietnamese calendar has no lunar days.
    assert hours.evaluate(OFFICE, moment, never).is_open


async def test_special_hours_on_holidays(session: AsyncSession) -> None:
    hospital_clinic = "Mo-Su 07:00-17:00; PH 08:00-11:00"
    moment = at(2027, 9, 2, 10, 0)  # National Day
    is_holiday = await hours.holiday_checker(session, moment, "Asia/Ho_Chi_Minh")
    state = hours.evaluate(hospital_clinic, moment, is_holiday)
    assert state.is_open and state.next_change == at(2027, 9, 2, 11, 0)


async def test_a_staff_day_off_counts_as_a_public_holiday(session: AsyncSession) -> None:
    moment = at(2027, 3, 8, 9, 0)  # an ordinary Monday...
    session.add(
        CalendarDay(day=date(2027, 3, 8), kind="day_off", name_vi="Nghỉ bù", name_en="Bridge")
    )
    await session.flush()
    is_holiday = await hours.holiday_checker(session, moment, "Asia/Ho_Chi_Minh")
    assert hours.evaluate(OFFICE, moment, is_holiday).state == "closed"
    assert hours.evaluate(OFFICE, moment, never).is_open


def test_invalid_expressions_are_refused_with_the_reason() -> None:
    with pytest.raises(hours.InvalidHours):
        hours.validate("Mo-Fx 08:00-17:00")
    with pytest.raises(hours.InvalidHours):
        hours.validate("  ")
    assert hours.validate(" 24/7 ") == "24/7"
