"""Every query of events. Events are few (hundreds, not millions): the database narrows them to
those whose span meets the window (ix_event_span), and Python expands the recurring ones."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.events.models import Event
from app.org.models import Department
from app.places.models import Place


@dataclass(frozen=True, slots=True)
class PlaceRef:
    """What an event shows of its venue's place record."""

    code: str
    name: dict[str, str]
    lat: float
    lon: float
    retired: bool


@dataclass(frozen=True, slots=True)
class EventRow:
    event: Event
    place: PlaceRef | None
    department_code: str | None


def _select() -> Select[Event, str, dict[str, str], float, float, datetime | None, str]:
    return (
        select(
            Event,
            Place.code,
            Place.name,
            Place.lat,
            Place.lon,
            Place.retired_at,
            Department.code,
        )
        .outerjoin(Place, Place.id == Event.place_id)
        .outerjoin(Department, Department.id == Event.department_id)
    )


def _rows(result: Any) -> list[EventRow]:
    rows = []
    for event, code, name, lat, lon, place_retired, department_code in result.all():
        place = PlaceRef(code, name or {}, lat, lon, place_retired is not None) if code else None
        rows.append(EventRow(event, place, department_code))
    return rows


async def in_window(
    session: AsyncSession,
    start: datetime,
    end: datetime,
    *,
    categories: Sequence[str] = (),
    place_code: str | None = None,
) -> list[EventRow]:
    """Live events that may have an occurrence meeting [start, end): they start before its end
    and their last occurrence ends after its start (or they never end); at one place if given."""
    stmt = _select().where(
        Event.retired_at.is_(None),
        Event.starts_at < end,
        or_(Event.last_ends_at.is_(None), Event.last_ends_at > start),
    )
    if categories:
        stmt = stmt.where(Event.category.in_(list(categories)))
    if place_code is not None:
        stmt = stmt.where(Place.code == place_code)
    return _rows(await session.execute(stmt.order_by(Event.starts_at, Event.id)))


async def current(session: AsyncSession, now: datetime) -> list[EventRow]:
    """Live events not over yet: the calendar feed."""
    stmt = _select().where(
        Event.retired_at.is_(None),
        or_(Event.last_ends_at.is_(None), Event.last_ends_at > now),
    )
    return _rows(await session.execute(stmt.order_by(Event.starts_at, Event.id)))


async def by_code(session: AsyncSession, code: str, *, for_update: bool = False) -> EventRow | None:
    stmt = _select().where(Event.code == code).execution_options(populate_existing=True)
    if for_update:
        stmt = stmt.with_for_update(of=Event)
    rows = _rows(await session.execute(stmt))
    return rows[0] if rows else None


async def code_taken(session: AsyncSession, code: str) -> bool:
    return await session.scalar(select(Event.id).where(Event.code == code)) is not None


async def place_by_code(session: AsyncSession, code: str) -> Place | None:
    return await session.scalar(select(Place).where(Place.code == code))


async def for_staff(session: AsyncSession, *, retired: bool) -> list[EventRow]:
    """Every live event, or every retired one: the staff list (few enough to sort in Python)."""
    done = Event.retired_at.is_not(None) if retired else Event.retired_at.is_(None)
    return _rows(await session.execute(_select().where(done).order_by(Event.starts_at, Event.id)))
