"""The rules of events: what is on in a window (recurring events expanded), create, change and
retire (never delete: calendars that subscribed should see it go), and who may do it.
Services flush, never commit."""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.models import Role, User
from app.db import utcnow
from app.errors import Conflict, InvalidInput, NotFound
from app.events import recurrence
from app.events import repository as repo
from app.events.models import Event
from app.events.recurrence import Schedule, local_midnight
from app.events.repository import EventRow
from app.events.schemas import EventIn, EventPatch
from app.kit.geo import distance_m
from app.kit.i18n import N_
from app.kit.i18n import gettext as _
from app.kit.langtext import pick
from app.kit.text import fold, search_terms
from app.org import repository as org_repo
from app.places.service import check_may_edit

SUBJECT = "event"
DEFAULT_WINDOW = timedelta(days=60)
MAX_WINDOW = timedelta(days=366)
DEFAULT_RADIUS_M = 20_000.0
MAX_RADIUS_M = 300_000.0
NEXT_COUNT = 10


class EventNotFound(NotFound):
    code = "event-not-found"
    title = N_("There is no event with this code.")


def _error(field: str, reason: str, where: str = "body") -> dict[str, str]:
    return {"field": field, "in": where, "reason": reason}


def _raise(errors: list[dict[str, str]]) -> None:
    if errors:
        detail = errors[0]["reason"] if len(errors) == 1 else _("Some fields are not valid.")
        raise InvalidInput(detail, errors=errors)


# Reading ---------------------------------------------------------------------------------


async def get_public(session: AsyncSession, code: str) -> EventRow:
    """A live event; a retired one is gone for the public."""
    row = await repo.by_code(session, code)
    if row is None or row.event.retired_at is not None:
        raise EventNotFound()
    return row


async def get_for_change(session: AsyncSession, code: str) -> EventRow:
    row = await repo.by_code(session, code, for_update=True)
    if row is None:
        raise EventNotFound()
    return row


@dataclass(frozen=True, slots=True)
class Occurrence:
    row: EventRow
    starts_at: datetime  # in the event's own time zone
    ends_at: datetime
    distance_m: float | None = None

    @property
    def event(self) -> Event:
        return self.row.event


@dataclass(frozen=True, slots=True)
class Near:
    lat: float
    lon: float
    radius_m: float = DEFAULT_RADIUS_M


def next_occurrences(
    event: Event, now: datetime, count: int = NEXT_COUNT
) -> list[tuple[datetime, datetime]]:
    return Schedule.of(event).next(now, count)


def matches(row: EventRow, terms: Sequence[str]) -> bool:
    """Every word of the query in one of the titles, accents and case aside."""
    titles = " ".join(fold(v) for v in row.event.title.values())
    return all(term in titles for term in terms)


async def occurrences(
    session: AsyncSession,
    start: datetime,
    end: datetime,
    *,
    categories: Sequence[str] = (),
    query: str | None = None,
    near: Near | None = None,
    place_code: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Occurrence], int]:
    """Occurrences meeting [start, end), soonest first; with `near`, only those at a place
    within the radius, nearest first (then soonest); with `place_code`, those held there. The
    count is of every match."""
    rows = await repo.in_window(session, start, end, categories=categories, place_code=place_code)
    terms = search_terms(query) if query else []
    found: list[Occurrence] = []
    for row in rows:
        if terms and not matches(row, terms):
            continue
        distance = None
        if near is not None:
            if row.place is None:
                continue
            distance = distance_m(near.lat, near.lon, row.place.lat, row.place.lon)
            if distance > near.radius_m:
                continue
        for occ_start, occ_end in Schedule.of(row.event).between(start, end):
            found.append(Occurrence(row, occ_start, occ_end, distance))
    if near is not None:
        found.sort(key=lambda o: (o.distance_m or 0.0, o.starts_at, o.event.id))
    else:
        found.sort(key=lambda o: (o.starts_at, fold(pick(o.event.title, "vi")), o.event.id))
    return found[offset : offset + limit], len(found)


# The window of a list ------------------------------------------------------------------------

_SPACED_OFFSET = re.compile(r"(\d) (\d{2}:?\d{2})$")


def parse_when(text: str) -> date | datetime:
    """A date (2026-09-20) or an ISO 8601 datetime; a "+" that arrived as a space (an
    unencoded query string) is read as the "+" it was. ValueError otherwise."""
    text = _SPACED_OFFSET.sub(r"\1+\2", text.strip())
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return date.fromisoformat(text)
    return datetime.fromisoformat(text)


def _instant(value: date | datetime, zone: ZoneInfo, *, end_of_day: bool) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=zone)
    day = value + timedelta(days=1) if end_of_day else value
    return local_midnight(day, zone)


def window(
    start_text: str | None,
    end_text: str | None,
    now: datetime,
    zone: ZoneInfo,
    where: str = "query",
) -> tuple[datetime, datetime]:
    """[start, end) from ?from= and ?to=: dates are local days (`to` inclusive), datetimes
    without an offset local time. From now for 60 days by default; at most 366 days."""
    errors = []
    start = now.replace(second=0, microsecond=0)
    end: datetime | None = None
    if start_text:
        try:
            start = _instant(parse_when(start_text), zone, end_of_day=False)
        except ValueError:
            errors.append(_error("from", _("Give a date such as 2026-09-20."), where))
    if end_text:
        try:
            end = _instant(parse_when(end_text), zone, end_of_day=True)
        except ValueError:
            errors.append(_error("to", _("Give a date such as 2026-09-20."), where))
    _raise(errors)
    end = end or start + DEFAULT_WINDOW
    if end <= start:
        _raise([_error("to", _("The end of the period must be after its start."), where)])
    if end - start > MAX_WINDOW:
        _raise([_error("to", _("Choose a period of at most a year."), where)])
    return start.astimezone(UTC), end.astimezone(UTC)


def weekend(today: date) -> tuple[date, date]:
    """This weekend: the coming Saturday and Sunday (today on a Saturday; on a Sunday, today
    alone)."""
    if today.weekday() == 6:
        return today, today
    saturday = today + timedelta(days=5 - today.weekday())
    return saturday, saturday + timedelta(days=1)


# Writing ---------------------------------------------------------------------------------


@dataclass
class Draft:
    """An event as typed: dates or datetimes (naive = wall clock in time_zone), codes."""

    category: str
    title: dict[str, str]
    description: dict[str, str]
    starts_at: date | datetime
    ends_at: date | datetime | None
    time_zone: str
    all_day: bool
    rrule: str | None
    place_code: str | None
    venue: dict[str, str]
    price_vnd: int | None
    price_note: dict[str, str]
    accessibility_notes: dict[str, str]
    url: str | None
    department_code: str | None

    @classmethod
    def of_input(cls, data: EventIn) -> Draft:
        values = data.model_dump(exclude={"code", "is_demo"})
        values["category"] = data.category.value
        return cls(**values)

    @classmethod
    def of_row(cls, row: EventRow) -> Draft:
        event = row.event
        zone = ZoneInfo(event.time_zone)
        starts: date | datetime = event.starts_at.astimezone(zone)
        ends: date | datetime = event.ends_at.astimezone(zone)
        if event.all_day:
            starts = event.starts_at.astimezone(zone).date()
            ends = event.ends_at.astimezone(zone).date() - timedelta(days=1)
        return cls(
            category=event.category,
            title=event.title,
            description=event.description,
            starts_at=starts,
            ends_at=ends,
            time_zone=event.time_zone,
            all_day=event.all_day,
            rrule=event.rrule,
            place_code=row.place.code if row.place else None,
            venue=event.venue,
            price_vnd=event.price_vnd,
            price_note=event.price_note,
            accessibility_notes=event.accessibility_notes,
            url=event.url,
            department_code=row.department_code,
        )


def _day(value: date | datetime, zone: ZoneInfo) -> date:
    if isinstance(value, datetime):
        return value.astimezone(zone).date() if value.tzinfo else value.date()
    return value


def _times(
    draft: Draft, zone: ZoneInfo
) -> tuple[datetime | None, datetime | None, list[dict[str, str]]]:
    """UTC start and end of the first occurrence; an all-day event runs from the local
    midnight of its first day to the one after its last."""
    start, end = draft.starts_at, draft.ends_at
    if draft.all_day:
        first = _day(start, zone)
        last = first if end is None else _day(end, zone)
        if last < first:
            return None, None, [_error("ends_at", _("The last day cannot be before the first."))]
        return (
            local_midnight(first, zone).astimezone(UTC),
            local_midnight(last + timedelta(days=1), zone).astimezone(UTC),
            [],
        )
    errors = []
    if not isinstance(start, datetime):
        errors.append(_error("starts_at", _("Give a time of day, or make it an all-day event.")))
    if end is None:
        errors.append(_error("ends_at", _("Give the time it ends.")))
    elif not isinstance(end, datetime):
        errors.append(_error("ends_at", _("Give a time of day, or make it an all-day event.")))
    if errors:
        return None, None, errors
    assert isinstance(start, datetime) and isinstance(end, datetime)
    starts = (start if start.tzinfo else start.replace(tzinfo=zone)).astimezone(UTC)
    ends = (end if end.tzinfo else end.replace(tzinfo=zone)).astimezone(UTC)
    if ends <= starts:
        return None, None, [_error("ends_at", _("The end must be after the start."))]
    return starts, ends, []


async def _resolve(session: AsyncSession, draft: Draft) -> dict[str, Any]:
    """Column values of a draft, every problem reported at once with the field it is about."""
    errors: list[dict[str, str]] = []
    zone = recurrence.zone_of(draft.time_zone)  # checked by the schema already
    starts, ends, problems = _times(draft, zone)
    errors += problems
    rule = recurrence.with_utc_until(draft.rrule, zone) if draft.rrule else None
    last_end: datetime | None = ends
    if starts and ends and rule:
        schedule = Schedule(starts.astimezone(zone), ends.astimezone(zone), zone, rule)
        first = schedule.first_start()
        if first is None:
            errors.append(_error("rrule", _("The rule has no date on or after the start.")))
        elif first != schedule.starts_at:
            errors.append(
                _error(
                    "starts_at",
                    _(
                        "The start must be one of the dates of the rule: the first is %(first)s.",
                        first=first.isoformat(),
                    ),
                )
            )
        else:
            found = schedule.last_end()
            last_end = found.astimezone(UTC) if found else None
    place_id = None
    if draft.place_code:
        place = await repo.place_by_code(session, draft.place_code)
        if place is None:
            errors.append(_error("place_code", _("There is no place with this code.")))
        elif place.retired_at is not None:
            errors.append(_error("place_code", _("This place is closed for good.")))
        else:
            place_id = place.id
    department_id = None
    if draft.department_code:
        department = await org_repo.department_by_code(session, draft.department_code)
        if department is None:
            errors.append(_error("department_code", _("There is no department with this code.")))
        else:
            department_id = department.id
    _raise(errors)
    return {
        "category": draft.category,
        "title": draft.title,
        "description": draft.description,
        "starts_at": starts,
        "ends_at": ends,
        "time_zone": draft.time_zone,
        "all_day": draft.all_day,
        "rrule": rule,
        "last_ends_at": last_end,
        "place_id": place_id,
        "venue": draft.venue,
        "price_vnd": draft.price_vnd,
        "price_note": draft.price_note,
        "accessibility_notes": draft.accessibility_notes,
        "url": draft.url,
        "department_id": department_id,
    }


async def new_code(session: AsyncSession, title: dict[str, str]) -> str:
    """A readable code from the title: "cho-phien-nghia-lo-3fa2"."""
    slug = re.sub(r"[^a-z0-9]+", "-", fold(pick(title, "vi"))).strip("-")[:48].strip("-")
    while True:
        code = f"{slug or 'event'}-{secrets.token_hex(2)}"
        if not await repo.code_taken(session, code):
            return code


async def create_event(
    session: AsyncSession, actor: User | None, data: EventIn, *, now: datetime | None = None
) -> EventRow:
    values = await _resolve(session, Draft.of_input(data))
    if actor is not None:
        if values["department_id"] is None and not actor.has_role(Role.manager):
            values["department_id"] = actor.department_id
        check_may_edit(actor, values["department_id"])
    if data.code and await repo.code_taken(session, data.code):
        raise Conflict(_("An event with this code already exists."))
    code = data.code or await new_code(session, data.title)
    moment = now or utcnow()
    event = Event(code=code, is_demo=data.is_demo, created_at=moment, updated_at=moment, **values)
    session.add(event)
    await session.flush()
    await audit.record(
        session, actor.id if actor else None, "event.create", SUBJECT, event.id, code=code
    )
    return await _reload(session, code)


async def _reload(session: AsyncSession, code: str) -> EventRow:
    row = await repo.by_code(session, code)
    assert row is not None
    return row


async def update_event(
    session: AsyncSession, actor: User, row: EventRow, patch: EventPatch
) -> EventRow:
    event = row.event
    check_may_edit(actor, event.department_id)
    draft = Draft.of_row(row)
    sent = patch.model_fields_set
    old_length = draft.ends_at - draft.starts_at if draft.ends_at is not None else None
    for name in sent:
        value = getattr(patch, name)
        if name == "category" and value is not None:
            value = value.value
        if name in ("description", "venue", "price_note", "accessibility_notes") and value is None:
            value = {}
        setattr(draft, name, value)
    # Moving the start moves the end with it: the length stays.
    same_kind = isinstance(draft.starts_at, datetime) == isinstance(draft.ends_at, datetime)
    if "starts_at" in sent and "ends_at" not in sent and old_length is not None and same_kind:
        draft.ends_at = draft.starts_at + old_length
    values = await _resolve(session, draft)
    if "department_code" in sent:
        check_may_edit(actor, values["department_id"])
    changed = {k: v for k, v in values.items() if getattr(event, k) != v}
    if not changed:
        return row
    for key, value in changed.items():
        setattr(event, key, value)
    event.updated_at = utcnow()
    await session.flush()
    await audit.record(session, actor.id, "event.update", SUBJECT, event.id, fields=sorted(changed))
    return await _reload(session, event.code)


async def retire_event(session: AsyncSession, actor: User, row: EventRow) -> EventRow:
    check_may_edit(actor, row.event.department_id)
    await audit.set_retired(session, actor.id, row.event, SUBJECT, True)
    return row


async def restore_event(session: AsyncSession, actor: User, row: EventRow) -> EventRow:
    """Back in the lists and feeds, as it was (a called-off event that takes place after all)."""
    check_may_edit(actor, row.event.department_id)
    await audit.set_retired(session, actor.id, row.event, SUBJECT, False)
    return row
