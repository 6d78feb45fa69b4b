"""The working-day calendar over JSON: public reading and deadline checks, staff editing."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query, status

from app.auth.deps import SettingsDep, StaffUser
from app.calendar import service
from app.calendar.models import MAX_YEAR, MIN_YEAR
from app.calendar.schemas import (
    CalendarDayCreate,
    CalendarDayRead,
    CalendarDayUpdate,
    CalendarYearRead,
    DayInfoRead,
    DeadlineRead,
)
from app.db import SessionDep
from app.errors import InvalidInput
from app.kit.i18n import gettext as _

router = APIRouter(prefix="/api/v1", tags=["calendar"])

MAX_WORKING_DAYS = 365


# Declared before /calendar/{year}, which would otherwise claim "deadline" as a year.
@router.get("/calendar/deadline", response_model=DeadlineRead, summary="Compute a due date")
async def deadline(
    session: SessionDep,
    settings: SettingsDep,
    start: Annotated[
        datetime,
        Query(
            description="When it was received, ISO 8601 (e.g. 2027-02-04T09:30:00+07:00; "
            "encode + as %2B). Without an offset it is local time."
        ),
    ],
    working_days: Annotated[
        int, Query(ge=0, le=MAX_WORKING_DAYS, description="Working days allowed")
    ],
) -> Any:
    """Counting starts on the first working day after the day of receipt; the due moment is the
    end of the last working day (17:00 local time). Weekends, public holidays (lunar Tết, the Hùng
    Kings festival …) and the province's extra days off are skipped; make-up working days count."""
    zone = ZoneInfo(settings.time_zone)
    if start.tzinfo is None:
        start = start.replace(tzinfo=zone)
    out_of_range = InvalidInput(
        _("The calendar covers the years %(first)s to %(last)s.", first=MIN_YEAR, last=MAX_YEAR),
        errors=[{"field": "start", "in": "query", "reason": "out of range"}],
    )
    if not MIN_YEAR <= start.astimezone(zone).year <= MAX_YEAR:
        raise out_of_range
    years = service.years_for_deadline(start, working_days, settings.time_zone)
    calendar = await service.load_calendar(session, years, time_zone=settings.time_zone)
    try:
        due_at = calendar.add_working_days(start, working_days)
    except service.YearNotLoaded as exc:  # past the last year the calendar covers
        raise out_of_range from exc
    return DeadlineRead(
        start=start.astimezone(UTC),
        working_days=working_days,
        due_at=due_at,
        due_at_local=due_at.astimezone(zone),
        skipped=[DayInfoRead.model_validate(i) for i in calendar.non_working_days(start, due_at)],
    )


@router.get("/calendar/{year}", response_model=CalendarYearRead, summary="A year's calendar")
async def year_calendar(
    session: SessionDep,
    settings: SettingsDep,
    year: Annotated[int, Path(ge=MIN_YEAR, le=MAX_YEAR)],
) -> Any:
    """Every day of the year that is not an ordinary weekday or weekend day: public holidays
    (from the law, including those on a weekend, for their names), the province's extra days off
    and make-up working days, merged, each with its source (library or staff)."""
    calendar = await service.load_calendar(session, [year], time_zone=settings.time_zone)
    days = [DayInfoRead.model_validate(i) for i in calendar.holidays_in(year)]
    return CalendarYearRead(year=year, days=days)


@router.post(
    "/calendar/days",
    response_model=CalendarDayRead,
    status_code=status.HTTP_201_CREATED,
    summary="Add a day off or a make-up working day (staff)",
)
async def add_day(data: CalendarDayCreate, actor: StaffUser, session: SessionDep) -> Any:
    """A day off must be a day otherwise worked (not a weekend day or a public holiday). A
    working day must be a Saturday or Sunday, or a public holiday that the Government moved.
    A day has at most one entry: 409 if it already has one."""
    return await service.add_day(session, actor, data)


@router.patch(
    "/calendar/days/{day}",
    response_model=CalendarDayRead,
    summary="Change a day off or make-up working day (staff)",
)
async def update_day(
    day: date, data: CalendarDayUpdate, actor: StaffUser, session: SessionDep
) -> Any:
    return await service.update_day(session, actor, day, data)


@router.delete(
    "/calendar/days/{day}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a day off or make-up working day (staff)",
)
async def remove_day(day: date, actor: StaffUser, session: SessionDep) -> None:
    """The day goes back to what the law says (weekend, public holiday or working day)."""
    await service.remove_day(session, actor, day)
