"""What staff send for an event and what the API answers, validated once for the API and the demo.

Times: a timed event takes datetimes; one without an offset is wall-clock time in the event's
`time_zone`. An all-day event takes dates (`ends_at` is its last day, inclusive). Checks that
need several fields at once (the end after the start, the rule's first occurrence) live in the
service, so that they answer with the field they are about."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

from app.events import recurrence
from app.events.models import EventCategory
from app.kit.langtext import LongText, ShortText
from app.places.schemas import Url

CODE_PATTERN = r"^[a-z0-9][a-z0-9_-]{1,59}$"  # no dots: /events/{code}.ics must stay unambiguous
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_PRICE_VND = 100_000_000


def _date_or_datetime(value: Any) -> Any:
    # Pydantic would read "2026-09-20" as a datetime at midnight: keep a bare date a date.
    if isinstance(value, str) and _DATE_ONLY.match(value.strip()):
        return date.fromisoformat(value.strip())
    return value


When = Annotated[datetime | date, BeforeValidator(_date_or_datetime)]


def _zone(value: str) -> str:
    recurrence.zone_of(value)
    return value


def _rule(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    try:
        return recurrence.check_syntax(value)
    except recurrence.InvalidRule as exc:
        raise ValueError(str(exc)) from exc


class EventIn(BaseModel):
    """A new event. `place_code` names a place record (its page, coordinates and accessibility);
    `venue` is free text for a venue that has none."""

    model_config = ConfigDict(extra="forbid")

    code: str | None = Field(default=None, pattern=CODE_PATTERN)
    category: EventCategory
    title: ShortText = Field(description='{"vi": "...", "en": "..."}: at least one language')
    description: LongText = Field(default_factory=dict)
    starts_at: When = Field(description="First occurrence: a datetime, or a date when all day")
    ends_at: When | None = Field(
        default=None, description="End of the first occurrence; for all-day events the last day"
    )
    time_zone: str = Field(default="Asia/Ho_Chi_Minh", max_length=60)
    all_day: bool = False
    rrule: str | None = Field(
        default=None, max_length=500, description="RFC 5545 RRULE value, e.g. FREQ=WEEKLY;BYDAY=SU"
    )
    place_code: str | None = Field(default=None, max_length=60)
    venue: ShortText = Field(default_factory=dict)
    price_vnd: int | None = Field(default=None, ge=0, le=MAX_PRICE_VND, description="0: free")
    price_note: ShortText = Field(default_factory=dict)
    accessibility_notes: LongText = Field(default_factory=dict)
    url: Url = None
    department_code: str | None = None
    is_demo: bool = False

    _valid_zone = field_validator("time_zone")(lambda cls, v: _zone(v))
    _valid_rule = field_validator("rrule")(lambda cls, v: _rule(v))

    @field_validator("title")
    @classmethod
    def _titled(cls, value: dict[str, str]) -> dict[str, str]:
        if not value:
            raise ValueError("give a title in at least one language")
        return value


class EventPatch(BaseModel):
    """Changes to an event: only the fields sent change; null clears an optional field."""

    model_config = ConfigDict(extra="forbid")

    category: EventCategory | None = None
    title: ShortText | None = None
    description: LongText | None = None
    starts_at: When | None = None
    ends_at: When | None = None
    time_zone: str | None = Field(default=None, max_length=60)
    all_day: bool | None = None
    rrule: str | None = Field(default=None, max_length=500)
    place_code: str | None = Field(default=None, max_length=60)
    venue: ShortText | None = None
    price_vnd: int | None = Field(default=None, ge=0, le=MAX_PRICE_VND)
    price_note: ShortText | None = None
    accessibility_notes: LongText | None = None
    url: Url = None
    department_code: str | None = None

    _valid_zone = field_validator("time_zone")(lambda cls, v: None if v is None else _zone(v))
    _valid_rule = field_validator("rrule")(lambda cls, v: _rule(v))

    @field_validator("category", "title", "starts_at", "time_zone", "all_day")
    @classmethod
    def _required_stay(cls, value: Any, info: ValidationInfo) -> Any:
        # Runs only for fields that were sent: null (or no text at all) would clear them.
        if value is None or value == {}:
            raise ValueError(f"{info.field_name} cannot be cleared")
        return value


# Answers ------------------------------------------------------------------------------------


class VenueRead(BaseModel):
    name: str = Field(description="The place's name, or the free-text venue")
    place_code: str | None = None
    lat: float | None = None
    lon: float | None = None
    distance_m: float | None = Field(default=None, description="From the point asked about")
    url: str | None = Field(default=None, description="The place's page")


class PriceRead(BaseModel):
    vnd: int | None = Field(description="In đồng; 0 is free; null when not known")
    free: bool
    text: str = Field(description="For people, in the language asked for")
    note: str


class LinksRead(BaseModel):
    page: str
    ics: str
    api: str


class OccurrenceRead(BaseModel):
    """One occurrence: a recurring event is listed once per date."""

    code: str
    category: EventCategory
    category_label: str
    title: str = Field(description="In the language asked for (else Vietnamese, else English)")
    title_lang: str | None
    starts_at: datetime = Field(description="With the offset of the event's time zone")
    ends_at: datetime
    all_day: bool
    time_zone: str
    recurring: bool
    venue: VenueRead | None
    price: PriceRead
    accessibility_notes: str
    links: LinksRead


class OccurrenceList(BaseModel):
    items: list[OccurrenceRead]
    total: int
    limit: int
    offset: int
    start: datetime = Field(description="The window asked about: from")
    end: datetime = Field(description="The window asked about: to (exclusive)")


class WhenRead(BaseModel):
    starts_at: datetime
    ends_at: datetime


class EventRead(BaseModel):
    code: str
    category: EventCategory
    category_label: str
    title: str
    title_lang: str | None
    description: str
    starts_at: datetime = Field(description="The first occurrence")
    ends_at: datetime
    last_ends_at: datetime | None = Field(description="End of the last one; null: no end")
    all_day: bool
    time_zone: str
    rrule: str | None
    recurrence: str | None = Field(description="The rule in words, in the language asked for")
    next_occurrences: list[WhenRead] = Field(description="The one under way and the next ones")
    venue: VenueRead | None
    price: PriceRead
    accessibility_notes: str
    url: str | None = Field(description="The organiser's page")
    department_code: str | None
    texts: dict[str, dict[str, str]] = Field(
        description="Every language of title, description, venue, price_note, accessibility_notes"
    )
    is_demo: bool
    retired_at: datetime | None
    created_at: datetime
    updated_at: datetime
    links: LinksRead
