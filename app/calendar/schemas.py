from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.calendar.models import MAX_YEAR, MIN_YEAR, DayKind, DayReason, Source
from app.kit.text import nfc


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    cleaned = nfc(value).strip()
    if not cleaned:
        raise ValueError("must not be blank")
    return cleaned


def _note(value: str | None) -> str | None:
    if value is None:
        return None
    return nfc(value).strip() or None


def _in_range(value: date | None) -> date | None:
    if value is not None and not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"the calendar covers the years {MIN_YEAR} to {MAX_YEAR}")
    return value


class CalendarDayCreate(BaseModel):
    day: date = Field(description="The date, e.g. 2027-02-11")
    kind: DayKind = Field(
        description="day_off: an extra day off on a day otherwise worked; working_day: a "
        "Saturday or Sunday worked to make up, or a public holiday cancelled"
    )
    name_vi: str = Field(min_length=1, max_length=200, examples=["Nghỉ bù Tết Nguyên Đán"])
    name_en: str = Field(min_length=1, max_length=200, examples=["Extra Tết day off"])
    note: str | None = Field(
        None, max_length=2000, description="Why, e.g. the Government's decision that set it"
    )

    _names = field_validator("name_vi", "name_en")(_clean)
    _note = field_validator("note")(_note)
    _day = field_validator("day")(_in_range)


class CalendarDayUpdate(BaseModel):
    kind: DayKind | None = None
    name_vi: str | None = Field(None, min_length=1, max_length=200)
    name_en: str | None = Field(None, min_length=1, max_length=200)
    note: str | None = Field(None, max_length=2000)

    _names = field_validator("name_vi", "name_en")(_clean)
    _note = field_validator("note")(_note)


class CalendarDayRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    day: date
    kind: DayKind
    name_vi: str
    name_en: str
    note: str | None
    created_by_id: int | None = Field(description="Who added it (null once that account is gone)")
    created_at: datetime
    updated_at: datetime


class DayInfoRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    day: date
    working: bool = Field(description="Whether it counts as a working day")
    weekend: bool
    reason: DayReason
    source: Source | None = Field(
        description="library (the law and the Government's swaps) or staff (this province)"
    )
    name_vi: str | None
    name_en: str | None
    note: str | None = None


class CalendarYearRead(BaseModel):
    year: int
    days: list[DayInfoRead] = Field(
        description="Public holidays, staff days off and make-up working days, in date order"
    )


class DeadlineRead(BaseModel):
    start: datetime = Field(description="When it was received (UTC)")
    working_days: int
    due_at: datetime = Field(description="The end (17:00 local) of the last working day, in UTC")
    due_at_local: datetime = Field(description="The same moment in the province's time zone")
    skipped: list[DayInfoRead] = Field(
        description="The days between receipt and the due date that were not counted, and why"
    )
