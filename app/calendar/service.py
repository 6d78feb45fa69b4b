"""Vietnamese working time: which days are working days, and deadlines counted in them.

A day is a working day unless it is a Saturday or Sunday or a public holiday of the `holidays`
library (which knows lunar Tết, the Hùng Kings festival and the Government's announced swaps).
The staff's calendar (table calendar_day) overrides the library for single dates: an extra day
off, or a working day (a make-up Saturday, or a public holiday the Government moved).

Other domains load a calendar once per computation and then call its synchronous methods:

    years = years_for_deadline(received_at, 15, settings.time_zone)
    calendar = await load_calendar(session, years, time_zone=settings.time_zone)
    due_at = calendar.add_working_days(received_at, 15)  # timezone-aware, UTC

The library's holidays are cached in-process per year (they are static). The staff's overrides
are read from the database by every load_calendar(): never cache a WorkingCalendar across
requests, another worker may have changed them.
"""

from __future__ import annotations

import logging
import time as _time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.calendar import repository as repo
from app.calendar.models import MAX_YEAR, MIN_YEAR, CalendarDay, DayKind, DayReason, Source
from app.calendar.schemas import CalendarDayCreate, CalendarDayUpdate
from app.errors import Conflict, InvalidInput, NotFound
from app.kit.i18n import get_locale
from app.kit.i18n import gettext as _

logger = logging.getLogger("citizenhub.calendar")

DEFAULT_TIME_ZONE = "Asia/Ho_Chi_Minh"
# A working day ends at 17:00 local time: a deadline "within N working days" falls then.
END_OF_WORKING_DAY = time(17, 0)
WEEKEND = (5, 6)  # Saturday, Sunday (date.weekday())


class YearNotLoaded(ValueError):
    """A computation reached a year whose staff overrides were not loaded: load more years."""

    def __init__(self, year: int) -> None:
        super().__init__(f"the working calendar was not loaded for {year}")
        self.year = year


@dataclass(frozen=True, slots=True)
class DayInfo:
    """Whether a day is a working day, and why."""

    day: date
    working: bool
    reason: DayReason
    source: Source | None = None
    name_vi: str | None = None
    name_en: str | None = None
    note: str | None = None

    @property
    def weekend(self) -> bool:
        return self.day.weekday() in WEEKEND

    def name(self, locale: str) -> str | None:
        return self.name_en if locale == "en" else self.name_vi


@dataclass(frozen=True, slots=True)
class StaffDay:
    """A staff override, detached from the ORM so a calendar is a plain value."""

    day: date
    kind: DayKind
    name_vi: str
    name_en: str
    note: str | None = None

    @classmethod
    def from_row(cls, row: CalendarDay) -> StaffDay:
        return cls(row.day, row.kind_enum, row.name_vi, row.name_en, row.note)


@dataclass(frozen=True, slots=True)
class LibraryYear:
    holidays: dict[date, tuple[str, str]]  # day -> (name_vi, name_en)
    weekend_workdays: frozenset[date]  # Saturdays worked to make up a swapped day off


@lru_cache(maxsize=256)
def library_year(year: int) -> LibraryYear:
    """The library's public holidays of one year, in Vietnamese and English (cached: static)."""
    check_year(year)
    vi = holidays.country_holidays("VN", years=year, language="vi")
    en = holidays.country_holidays("VN", years=year, language="en_US")
    # A swap may pair a day off with a make-up Saturday in the year before or after it.
    around = holidays.country_holidays("VN", years=range(year - 1, year + 2))
    return LibraryYear(
        holidays={day: (name, en.get(day) or name) for day, name in vi.items()},
        weekend_workdays=frozenset(d for d in around.weekend_workdays if d.year == year),
    )


def check_year(year: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(f"the working calendar covers {MIN_YEAR} to {MAX_YEAR}, not {year}")


def library_day_info(day: date) -> DayInfo:
    """What the library alone says about a day (no staff overrides)."""
    library = library_year(day.year)
    if day in library.weekend_workdays:
        return DayInfo(
            day,
            True,
            DayReason.make_up_working_day,
            Source.library,
            "Ngày làm việc bù",
            "Make-up working day",
        )
    names = library.holidays.get(day)
    if names is not None:
        return DayInfo(day, False, DayReason.public_holiday, Source.library, *names)
    if day.weekday() in WEEKEND:
        return DayInfo(day, False, DayReason.weekend)
    return DayInfo(day, True, DayReason.working_day)


def _aware(moment: datetime, what: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware")
    return moment


def add_hours(start: datetime, hours: float) -> datetime:
    """Clock hours, weekends and holidays included (urgent services), in UTC."""
    return _aware(start, "start").astimezone(UTC) + timedelta(hours=hours)


def years_for_deadline(
    start: datetime, working_days: int, time_zone: str = DEFAULT_TIME_ZONE
) -> range:
    """The years add_working_days(start, working_days) may reach (a year has > 200 working days)."""
    first = _aware(start, "start").astimezone(ZoneInfo(time_zone)).year
    return range(first, min(first + working_days // 200 + 1, MAX_YEAR) + 1)


def years_between(start: datetime, end: datetime, time_zone: str = DEFAULT_TIME_ZONE) -> range:
    zone = ZoneInfo(time_zone)
    a = _aware(start, "start").astimezone(zone).year
    b = _aware(end, "end").astimezone(zone).year
    return range(min(a, b), max(a, b) + 1)


class WorkingCalendar:
    """The library's holidays plus the staff's overrides for some years. Pure and synchronous;
    build one with load_calendar() for each computation and do not keep it across requests."""

    def __init__(
        self,
        years: Iterable[int],
        overrides: Iterable[StaffDay] = (),
        *,
        time_zone: str = DEFAULT_TIME_ZONE,
    ) -> None:
        self.years = frozenset(years)
        for year in self.years:
            check_year(year)
        self.zone = ZoneInfo(time_zone)
        self._overrides = {o.day: o for o in overrides if o.day.year in self.years}

    # Days -------------------------------------------------------------------------------

    def day_info(self, day: date) -> DayInfo:
        """Whether `day` is a working day and why (staff override > library > weekend)."""
        if day.year not in self.years:
            raise YearNotLoaded(day.year)
        override = self._overrides.get(day)
        if override is None:
            return library_day_info(day)
        if override.kind is DayKind.day_off:
            reason, working = DayReason.staff_day_off, False
        else:
            reason, working = DayReason.make_up_working_day, True
        return DayInfo(
            day, working, reason, Source.staff, override.name_vi, override.name_en, override.note
        )

    def is_working_day(self, day: date) -> bool:
        return self.day_info(day).working

    def holidays_in(self, year: int) -> list[DayInfo]:
        """Every day of `year` that is not an ordinary weekday or weekend day, merged: public
        holidays (also those on a weekend, for their names), staff days off and make-up working
        days, with their source."""
        if year not in self.years:
            raise YearNotLoaded(year)
        days = set(library_year(year).holidays) | set(library_year(year).weekend_workdays)
        days |= {d for d in self._overrides if d.year == year}
        infos = (self.day_info(d) for d in sorted(days))
        return [i for i in infos if i.reason not in (DayReason.working_day, DayReason.weekend)]

    # Deadlines --------------------------------------------------------------------------

    def local_date(self, moment: datetime) -> date:
        return _aware(moment, "the moment").astimezone(self.zone).date()

    def end_of_day(self, day: date) -> datetime:
        """17:00 local time on `day`, in UTC."""
        return datetime.combine(day, END_OF_WORKING_DAY, tzinfo=self.zone).astimezone(UTC)

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """The due moment of something received at `start` with `days` working days to answer.

        The day of receipt is not counted: day 1 is the first working day after the (local) date
        of receipt, whether that date is a working day or not, and the deadline is the end
        (17:00 local) of the Nth working day, in UTC. With days=0 it is the end of the day of
        receipt, or of the next working day if that is not one (a clock resumed with nothing
        left)."""
        if days < 0:
            raise ValueError("days must not be negative")
        day = self.local_date(start)
        if days == 0:
            while not self.is_working_day(day):
                day += timedelta(days=1)
            return self.end_of_day(day)
        counted = 0
        while counted < days:
            day += timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        return self.end_of_day(day)

    def add_hours(self, start: datetime, hours: float) -> datetime:
        return add_hours(start, hours)

    def working_days_between(self, start: datetime, end: datetime) -> int:
        """Working days after the local date of `start` up to and including that of `end`
        (negative when `end` is earlier). add_working_days(s, n) gives a moment e with
        working_days_between(s, e) == n for n >= 1, so:

        - overdue by: working_days_between(due_at, now) (when now > due_at);
        - a clock paused at p keeps remaining = max(0, working_days_between(p, due_at)) (the
          day of the pause is used up) and, resumed at r, is due add_working_days(r, remaining).
        """
        a, b = self.local_date(start), self.local_date(end)
        if b < a:
            return -self._count(b, a)
        return self._count(a, b)

    def _count(self, after: date, until: date) -> int:
        count, day = 0, after + timedelta(days=1)
        while day <= until:
            count += self.is_working_day(day)
            day += timedelta(days=1)
        return count

    def non_working_days(self, start: datetime, end: datetime) -> list[DayInfo]:
        """The days skipped between the local dates of start (excluded) and end (included)."""
        a, b = self.local_date(start), self.local_date(end)
        days = (a + timedelta(days=n) for n in range(1, (b - a).days + 1))
        return [info for info in map(self.day_info, days) if not info.working]


async def load_calendar(
    session: AsyncSession, years: Iterable[int], *, time_zone: str = DEFAULT_TIME_ZONE
) -> WorkingCalendar:
    """The working calendar of `years`, with the staff's overrides as they are now.
    Pass settings.time_zone."""
    wanted = sorted(set(years))
    if not wanted:
        raise ValueError("load at least one year")
    rows = await repo.days_between(session, date(wanted[0], 1, 1), date(wanted[-1], 12, 31))
    return WorkingCalendar(wanted, map(StaffDay.from_row, rows), time_zone=time_zone)


# One-off questions (each loads what it needs) ------------------------------------------------


async def is_working_day(session: AsyncSession, day: date) -> bool:
    return (await load_calendar(session, [day.year])).is_working_day(day)


async def day_info(session: AsyncSession, day: date) -> DayInfo:
    return (await load_calendar(session, [day.year])).day_info(day)


# Days off around a moment, for opening hours' PH rules ----------------------------------------

_DAYS_OFF_TTL = 60.0  # seconds: another worker sees a staff edit within a minute
_days_off_cache: dict[tuple[str, tuple[int, ...]], tuple[float, frozenset[date]]] = {}
DAY_OFF_REASONS = (DayReason.public_holiday, DayReason.staff_day_off)


async def days_off_checker(
    session: AsyncSession, moment: datetime, days_ahead: int, time_zone: str = DEFAULT_TIME_ZONE
) -> Callable[[date], bool]:
    """is_day_off(day) for the local days from `moment` to `days_ahead` later: public holidays
    (Tết and the Hùng Kings' day included) and the staff's days off, not weekends. Read from the
    database at most once a minute per process (open-now answers need it on every request);
    a staff edit in this process clears it at once. Years the calendar does not cover: none."""
    local = moment.astimezone(ZoneInfo(time_zone)).date()
    years = tuple(
        y
        for y in sorted({(local - timedelta(days=1)).year, (local + timedelta(days_ahead)).year})
        if MIN_YEAR <= y <= MAX_YEAR
    )
    if not years:
        return lambda _day: False
    key = (time_zone, years)
    now = _time.monotonic()
    cached = _days_off_cache.get(key)
    if cached is None or cached[0] < now:
        calendar = await load_calendar(session, years, time_zone=time_zone)
        days = frozenset(
            info.day
            for year in years
            for info in calendar.holidays_in(year)
            if info.reason in DAY_OFF_REASONS
        )
        _days_off_cache[key] = cached = (now + _DAYS_OFF_TTL, days)
    return cached[1].__contains__


def forget_days_off() -> None:
    """Drop the cached days off (after a staff edit, and between tests)."""
    _days_off_cache.clear()


async def add_working_days(
    session: AsyncSession, start: datetime, days: int, *, time_zone: str = DEFAULT_TIME_ZONE
) -> datetime:
    years = years_for_deadline(start, days, time_zone)
    calendar = await load_calendar(session, years, time_zone=time_zone)
    return calendar.add_working_days(start, days)


async def working_days_between(
    session: AsyncSession, start: datetime, end: datetime, *, time_zone: str = DEFAULT_TIME_ZONE
) -> int:
    calendar = await load_calendar(
        session, years_between(start, end, time_zone), time_zone=time_zone
    )
    return calendar.working_days_between(start, end)


async def holidays_in(session: AsyncSession, year: int) -> list[DayInfo]:
    return (await load_calendar(session, [year])).holidays_in(year)


# The staff's calendar ------------------------------------------------------------------------


def _day_problem(reason: str, message: str) -> InvalidInput:
    return InvalidInput(message, errors=[{"field": "day", "in": "body", "reason": reason}])


def _check_override(day: date, kind: DayKind) -> None:
    """An override must change something: a day off on a day that would be worked, a working
    day on a weekend day or public holiday."""
    try:
        library = library_day_info(day)
    except ValueError as exc:
        raise _day_problem(
            "out of range",
            _(
                "The calendar covers the years %(first)s to %(last)s.",
                first=MIN_YEAR,
                last=MAX_YEAR,
            ),
        ) from exc
    if kind is DayKind.working_day and library.working:
        raise _day_problem(
            "already a working day",
            _(
                "This day is already a working day. A make-up working day must be a Saturday, "
                "a Sunday or a public holiday it cancels."
            ),
        )
    if kind is DayKind.day_off and not library.working:
        if library.reason is DayReason.public_holiday:
            raise _day_problem(
                "already a public holiday",
                _(
                    "This day is already a public holiday: %(name)s.",
                    name=library.name(get_locale()),
                ),
            )
        raise _day_problem("already a weekend day", _("This day is already a weekend day."))


async def get_day(session: AsyncSession, day: date) -> CalendarDay:
    row = await repo.get_day(session, day)
    if row is None:
        raise NotFound(_("The calendar has no entry for this day."))
    return row


async def add_day(session: AsyncSession, actor: User, data: CalendarDayCreate) -> CalendarDay:
    _check_override(data.day, data.kind)
    taken = Conflict(
        _("The calendar already has an entry for this day; change or delete it instead."),
        errors=[{"field": "day", "in": "body", "reason": "taken"}],
    )
    if await repo.get_day(session, data.day) is not None:
        raise taken
    row = CalendarDay(
        day=data.day,
        kind=data.kind.value,
        name_vi=data.name_vi,
        name_en=data.name_en,
        note=data.note,
        created_by_id=actor.id,
    )
    session.add(row)
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent request added it meanwhile
        raise taken from exc
    forget_days_off()
    logger.info("calendar day added", extra={"day": str(data.day), "actor_id": actor.id})
    return row


async def update_day(
    session: AsyncSession, actor: User, day: date, data: CalendarDayUpdate
) -> CalendarDay:
    row = await get_day(session, day)
    fields = data.model_fields_set
    if "kind" in fields and data.kind is not None and data.kind.value != row.kind:
        _check_override(row.day, data.kind)
        row.kind = data.kind.value
    if "name_vi" in fields and data.name_vi is not None:
        row.name_vi = data.name_vi
    if "name_en" in fields and data.name_en is not None:
        row.name_en = data.name_en
    if "note" in fields:
        row.note = data.note
    await session.flush()
    forget_days_off()
    logger.info("calendar day changed", extra={"day": str(day), "actor_id": actor.id})
    return row


async def remove_day(session: AsyncSession, actor: User, day: date) -> None:
    row = await get_day(session, day)
    await session.delete(row)
    await session.flush()
    forget_days_off()
    logger.info("calendar day removed", extra={"day": str(day), "actor_id": actor.id})
