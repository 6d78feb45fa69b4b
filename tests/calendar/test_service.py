"""Working days and deadlines. Every expected due date below was counted by hand on a calendar;
the library's holidays the counts rely on are asserted first, so a change in the library shows
up as a failed premise, not as a puzzling deadline."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import holidays
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import Role
from app.calendar import service
from app.calendar.models import DayKind, DayReason, Source
from app.calendar.schemas import CalendarDayCreate, CalendarDayUpdate
from app.calendar.service import StaffDay, WorkingCalendar, YearNotLoaded, load_calendar
from app.errors import Conflict, InvalidInput
from tests.builders import create_user

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def local(year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=HCM)


def due(year: int, month: int, day: int) -> datetime:
    """17:00 in Hà Nội is 10:00 UTC (no daylight saving time in Vietnam)."""
    return datetime(year, month, day, 10, 0, tzinfo=UTC)


def library_days_off_around(anchor: date, span: int = 10) -> list[date]:
    """The library's holidays within `span` days of `anchor`, straight from the library."""
    years = {anchor.year - 1, anchor.year, anchor.year + 1}
    found = holidays.country_holidays("VN", years=years, language="en_US")
    return sorted(d for d in found if abs((d - anchor).days) <= span)


@pytest.fixture(scope="module")
def tet_2027() -> list[date]:
    """Tết Đinh Mùi: the 1st of the 1st lunar month is Saturday 6 February 2027. The library
    gives the public sector the 29th (Thursday 4) to the 5th day (Wednesday 10), the weekend
    days of Tết being moved to Thursday 4 and Wednesday 10."""
    names = holidays.country_holidays("VN", years=2027, language="en_US")
    new_year = [d for d, name in names.items() if name == "Lunar New Year"]
    assert new_year == [date(2027, 2, 6)]
    days_off = library_days_off_around(new_year[0])
    assert days_off == [date(2027, 2, d) for d in range(4, 11)], days_off
    return days_off


@pytest.fixture
def calendar() -> WorkingCalendar:
    return WorkingCalendar([2026, 2027, 2028])


def test_deadline_across_tet_2027(calendar: WorkingCalendar, tet_2027: list[date]) -> None:
    received = local(2027, 2, 4, 9, 30)  # Thursday 4 Feb, itself "29 Tết", a day off
    # Counted: Thu 11, Fri 12, (weekend 13-14), Mon 15, Tue 16, Wed 17.
    assert calendar.add_working_days(received, 5) == due(2027, 2, 17)
    assert calendar.working_days_between(received, due(2027, 2, 17)) == 5
    # Received the working day before Tết: one working day reaches past the whole holiday.
    assert calendar.add_working_days(local(2027, 2, 3, 16, 0), 1) == due(2027, 2, 11)
    skipped = calendar.non_working_days(received, due(2027, 2, 17))
    assert [d.day for d in skipped if d.reason is DayReason.public_holiday] == tet_2027[1:]
    assert [d.day for d in skipped if d.reason is DayReason.weekend] == [
        date(2027, 2, 13),
        date(2027, 2, 14),
    ]
    tet = calendar.day_info(date(2027, 2, 6))
    assert not tet.working and tet.source is Source.library
    assert (tet.name_vi, tet.name_en) == ("Tết Nguyên Đán", "Lunar New Year")


def test_deadline_across_a_weekend(calendar: WorkingCalendar) -> None:
    received = local(2027, 3, 4, 10, 0)  # Thursday: counted Fri 5, Mon 8, Tue 9
    assert library_days_off_around(date(2027, 3, 8)) == []
    assert calendar.add_working_days(received, 3) == due(2027, 3, 9)
    assert calendar.add_working_days(received, 1) == due(2027, 3, 5)
    assert calendar.add_working_days(received, 2) == due(2027, 3, 8)


def test_received_on_a_sunday_counts_from_monday(calendar: WorkingCalendar) -> None:
    received = local(2027, 3, 7, 11, 0)  # Sunday
    assert not calendar.is_working_day(date(2027, 3, 7))
    assert calendar.day_info(date(2027, 3, 7)).reason is DayReason.weekend
    assert calendar.add_working_days(received, 1) == due(2027, 3, 8)
    assert calendar.add_working_days(received, 2) == due(2027, 3, 9)


def test_the_local_date_decides_not_the_utc_one(calendar: WorkingCalendar) -> None:
    # 18:00 UTC on Thursday 4 March is 01:00 on Friday 5 March in Vietnam.
    received = datetime(2027, 3, 4, 18, 0, tzinfo=UTC)
    assert calendar.add_working_days(received, 1) == due(2027, 3, 8)
    late_thursday = local(2027, 3, 4, 23, 30)
    assert calendar.add_working_days(late_thursday, 1) == due(2027, 3, 5)
    with pytest.raises(ValueError, match="timezone-aware"):
        calendar.add_working_days(datetime(2027, 3, 4, 9, 0), 1)


def test_hung_kings_day(calendar: WorkingCalendar) -> None:
    # 10th of the 3rd lunar month: Friday 16 April 2027.
    names = holidays.country_holidays("VN", years=2027, language="en_US")
    assert names.get(date(2027, 4, 16)) == "Hung Kings' Commemoration Day"
    assert calendar.add_working_days(local(2027, 4, 15, 9, 0), 1) == due(2027, 4, 19)
    info = calendar.day_info(date(2027, 4, 16))
    assert info.reason is DayReason.public_holiday and info.name_vi == "Ngày Giỗ Tổ Hùng Vương"
    # 2026: Sunday 26 April, observed Monday 27; then 30 April and 1 May.
    assert library_days_off_around(date(2026, 4, 28), 3) == [
        date(2026, 4, 26),
        date(2026, 4, 27),
        date(2026, 4, 30),
        date(2026, 5, 1),
    ]
    # Received Friday 24 April 2026: Tue 28, Wed 29, then nothing until Monday 4 May.
    assert calendar.add_working_days(local(2026, 4, 24, 9, 0), 3) == due(2026, 5, 4)


def test_a_staff_day_off_shifts_a_deadline() -> None:
    bridge = StaffDay(date(2027, 3, 8), DayKind.day_off, "Nghỉ bù", "Bridge day")
    calendar = WorkingCalendar([2027], [bridge])
    # Thursday 4 March + 3: Fri 5, (Mon 8 off), Tue 9, Wed 10.
    assert calendar.add_working_days(local(2027, 3, 4, 10, 0), 3) == due(2027, 3, 10)
    info = calendar.day_info(date(2027, 3, 8))
    assert info.reason is DayReason.staff_day_off and info.source is Source.staff


def test_a_make_up_saturday_shortens_a_deadline() -> None:
    saturday = StaffDay(date(2027, 3, 6), DayKind.working_day, "Làm bù", "Make-up day")
    calendar = WorkingCalendar([2027], [saturday])
    # Thursday 4 March + 3: Fri 5, Sat 6, Mon 8.
    assert calendar.add_working_days(local(2027, 3, 4, 10, 0), 3) == due(2027, 3, 8)
    assert calendar.day_info(date(2027, 3, 6)).reason is DayReason.make_up_working_day


def test_a_cancelled_holiday_is_worked() -> None:
    moved = StaffDay(date(2027, 4, 16), DayKind.working_day, "Làm việc", "Worked")
    calendar = WorkingCalendar([2027], [moved])
    assert calendar.add_working_days(local(2027, 4, 15, 9, 0), 1) == due(2027, 4, 16)


def test_the_librarys_own_make_up_saturday_counts(calendar: WorkingCalendar) -> None:
    # The Government swapped Saturday 22 August 2026 for Monday 31 August 2026.
    assert calendar.is_working_day(date(2026, 8, 22))
    assert not calendar.is_working_day(date(2026, 8, 31))
    listed = {d.day: d for d in calendar.holidays_in(2026)}
    assert listed[date(2026, 8, 22)].reason is DayReason.make_up_working_day
    assert listed[date(2026, 8, 22)].source is Source.library


def test_pausing_and_resuming_a_clock(calendar: WorkingCalendar) -> None:
    received = local(2027, 3, 1, 9, 0)  # Monday; 5 days: Tue 2 … Mon 8
    due_at = calendar.add_working_days(received, 5)
    assert due_at == due(2027, 3, 8)
    paused = local(2027, 3, 3, 10, 0)  # Wednesday: Tue 2 and Wed 3 are used up
    remaining = calendar.working_days_between(paused, due_at)
    assert remaining == 3  # Thu 4, Fri 5, Mon 8
    resumed = local(2027, 3, 15, 8, 0)  # Monday: Tue 16, Wed 17, Thu 18
    new_due = calendar.add_working_days(resumed, remaining)
    assert new_due == due(2027, 3, 18)
    # Overdue on Monday 22 March by Fri 19 and Mon 22; and negative the other way.
    assert calendar.working_days_between(new_due, local(2027, 3, 22, 9, 0)) == 2
    assert calendar.working_days_between(local(2027, 3, 22, 9, 0), new_due) == -2
    # Nothing left: due the end of the resume day, or of the next working day.
    assert calendar.add_working_days(resumed, 0) == due(2027, 3, 15)
    assert calendar.add_working_days(local(2027, 3, 13, 9, 0), 0) == due(2027, 3, 15)


def test_clock_hours_ignore_the_calendar(calendar: WorkingCalendar) -> None:
    start = local(2027, 2, 5, 20, 0)  # Tết eve, evening
    assert calendar.add_hours(start, 24) == datetime(2027, 2, 6, 13, 0, tzinfo=UTC)
    assert service.add_hours(start, 1.5).tzinfo is UTC


def test_years_must_be_loaded() -> None:
    calendar = WorkingCalendar([2027])
    with pytest.raises(YearNotLoaded):
        calendar.add_working_days(local(2027, 12, 30, 9, 0), 5)
    assert service.years_for_deadline(local(2027, 12, 30, 9, 0), 5) == range(2027, 2029)
    with pytest.raises(ValueError):
        WorkingCalendar([1990])


def test_holidays_in_merges_library_and_staff() -> None:
    calendar = WorkingCalendar(
        [2027],
        [
            StaffDay(date(2027, 2, 11), DayKind.day_off, "Nghỉ thêm Tết", "Extra Tết day"),
            StaffDay(date(2027, 4, 16), DayKind.working_day, "Làm việc", "Worked"),
        ],
    )
    listed = {d.day: d for d in calendar.holidays_in(2027)}
    assert listed[date(2027, 2, 11)].source is Source.staff
    assert listed[date(2027, 2, 6)].weekend  # Tết on a Saturday is listed, for its name
    assert listed[date(2027, 4, 16)].reason is DayReason.make_up_working_day
    assert listed[date(2027, 4, 16)].source is Source.staff
    assert date(2027, 3, 6) not in listed  # an ordinary Saturday is not


# With the database ----------------------------------------------------------------------------


async def test_staff_entries_are_read_from_the_database(session: AsyncSession) -> None:
    staff = await create_user(session, role=Role.staff)
    received = local(2027, 3, 4, 10, 0)
    assert await service.add_working_days(session, received, 3) == due(2027, 3, 9)
    row = await service.add_day(
        session,
        staff,
        CalendarDayCreate(
            day=date(2027, 3, 8), kind=DayKind.day_off, name_vi="Nghỉ", name_en="Off"
        ),
    )
    assert row.created_by_id == staff.id
    # A calendar loaded afterwards sees it; nothing was cached.
    assert await service.add_working_days(session, received, 3) == due(2027, 3, 10)
    assert not await service.is_working_day(session, date(2027, 3, 8))
    assert (await service.day_info(session, date(2027, 3, 8))).name_en == "Off"
    assert await service.working_days_between(session, received, due(2027, 3, 10)) == 3
    assert date(2027, 3, 8) in {d.day for d in await service.holidays_in(session, 2027)}
    loaded = await load_calendar(session, [2027, 2028])
    assert loaded.years == frozenset({2027, 2028})

    with pytest.raises(Conflict):
        await service.add_day(
            session,
            staff,
            CalendarDayCreate(day=date(2027, 3, 8), kind=DayKind.day_off, name_vi="A", name_en="B"),
        )
    await service.update_day(
        session, staff, date(2027, 3, 8), CalendarDayUpdate(note="Quyết định số 1")
    )
    assert row.note == "Quyết định số 1" and row.kind == "day_off"
    await service.remove_day(session, staff, date(2027, 3, 8))
    assert await service.is_working_day(session, date(2027, 3, 8))


@pytest.mark.parametrize(
    ("day", "kind", "reason"),
    [
        (date(2027, 3, 10), DayKind.working_day, "already a working day"),  # a Wednesday
        (date(2027, 3, 6), DayKind.day_off, "already a weekend day"),  # a Saturday
        (date(2027, 4, 16), DayKind.day_off, "already a public holiday"),  # Hùng Kings
        (date(2026, 8, 22), DayKind.working_day, "already a working day"),  # library make-up
    ],
)
async def test_an_entry_must_change_something(
    session: AsyncSession, day: date, kind: DayKind, reason: str
) -> None:
    staff = await create_user(session, role=Role.staff)
    data = CalendarDayCreate(day=day, kind=kind, name_vi="Tên", name_en="Name")
    with pytest.raises(InvalidInput) as caught:
        await service.add_day(session, staff, data)
    assert caught.value.errors == [{"field": "day", "in": "body", "reason": reason}]


async def test_a_make_up_working_day_may_be_a_weekend_or_a_cancelled_holiday(
    session: AsyncSession,
) -> None:
    staff = await create_user(session, role=Role.staff)
    for day in (date(2027, 3, 6), date(2027, 4, 16), date(2026, 8, 31)):
        data = CalendarDayCreate(day=day, kind=DayKind.working_day, name_vi="Làm", name_en="Work")
        await service.add_day(session, staff, data)
        assert await service.is_working_day(session, day)
    # The library's make-up Saturday can be taken back as a day off.
    data = CalendarDayCreate(
        day=date(2026, 8, 22), kind=DayKind.day_off, name_vi="Nghỉ", name_en="Off"
    )
    await service.add_day(session, staff, data)
    assert not await service.is_working_day(session, date(2026, 8, 22))
