"""Opening hours in OpenStreetMap's `opening_hours` syntax, evaluated by opening-hours-py in the
province's time zone, with the province's own public holidays.

The library's built-in Vietnamese calendar lacks the lunar holidays (Tết, Hùng Kings), and staff
add days off, so `PH` is not left to it: each expression is compiled twice, once with PH matching
no day (no country given) and once with PH matching every day, and each local day is read from the variant that
fits it (app.calendar decides which days are public holidays)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from opening_hours import OpeningHours, State

_PH = re.compile(r"\bPH\b")
HORIZON_DAYS = 8  # next change further away than this is reported as "not within a week"


class InvalidHours(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class HoursState:
    state: str  # "open", "closed" or "unknown"
    next_change: datetime | None  # local time of the next change within the horizon
    comment: str = ""

    @property
    def is_open(self) -> bool:
        return self.state == "open"


@lru_cache(maxsize=4096)
def _compiled(expression: str, zone: str) -> tuple[OpeningHours, OpeningHours]:
    tz = ZoneInfo(zone)
    try:
        if not _PH.search(expression):
            plain = OpeningHours(expression, timezone=tz)
            return plain, plain
        # Without a country the library knows no holidays, so PH selects no day.
        ordinary = OpeningHours(expression, timezone=tz)
        holiday = OpeningHours(_PH.sub("Mo-Su", expression), timezone=tz)
    except (SyntaxError, ValueError, Exception) as exc:  # the library raises its own ParserError
        raise InvalidHours(str(exc).strip().splitlines()[0]) from exc
    return ordinary, holiday


def validate(expression: str, zone: str = "Asia/Ho_Chi_Minh") -> str:
    """The expression, stripped, when the library can parse it; InvalidHours otherwise."""
    expression = expression.strip()
    if not expression:
        raise InvalidHours("empty")
    _compiled(expression, zone)
    return expression


def _state(value: State) -> str:
    return {State.OPEN: "open", State.CLOSED: "closed"}.get(value, "unknown")


def evaluate(
    expression: str,
    moment: datetime,
    is_holiday: Callable[[date], bool],
    zone: str = "Asia/Ho_Chi_Minh",
) -> HoursState:
    """Open, closed or unknown at `moment`, and when that next changes (local time)."""
    ordinary, holiday = _compiled(expression, zone)
    tz = ZoneInfo(zone)
    local = moment.astimezone(tz)
    day = local.date()
    variant = holiday if is_holiday(day) else ordinary
    state, comment = variant.state(local)
    current = _state(state)
    if ordinary is holiday:
        return HoursState(current, _next(ordinary, local), comment)
    # Walk day by day, each from its own variant, until the state differs from now.
    cursor = local
    for _ in range(HORIZON_DAYS):
        end_of_day = datetime.combine(day + timedelta(days=1), time(0), tz)
        change = _next(variant, cursor)
        if change is not None and change < end_of_day:
            return HoursState(current, change, comment)
        day += timedelta(days=1)
        variant = holiday if is_holiday(day) else ordinary
        cursor = end_of_day
        if _state(variant.state(cursor)[0]) != current:
            return HoursState(current, cursor, comment)
    return HoursState(current, None, comment)


def _next(variant: OpeningHours, local: datetime) -> datetime | None:
    change = variant.next_change(local)
    if change is None:
        return None
    tz = local.tzinfo
    change = change if change.tzinfo else change.replace(tzinfo=tz)
    return change if change - local <= timedelta(days=HORIZON_DAYS) else None


# The province's public holidays, for PH rules --------------------------------------------------


async def holiday_checker(session: Any, moment: datetime, zone: str) -> Callable[[date], bool]:
    """is_holiday(day) for every day an evaluation from `moment` may look at: the province's
    public holidays and the staff's days off (app.calendar, cached there)."""
    from app.calendar.service import days_off_checker

    return await days_off_checker(session, moment, HORIZON_DAYS + 1, zone)
