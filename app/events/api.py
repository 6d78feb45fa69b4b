"""Events over JSON and iCalendar: what is on (one item per occurrence), an event, calendar
feeds, and staff creating, changing and retiring events."""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from app.auth.deps import SettingsDep, StaffUser
from app.config import Settings
from app.db import SessionDep, utcnow
from app.errors import InvalidInput
from app.events import ics, service, views
from app.events import repository as repo
from app.events.models import EventCategory
from app.events.schemas import EventIn, EventPatch, EventRead, OccurrenceList
from app.kit.cache import cached_headers, conditional_response
from app.kit.i18n import gettext as _
from app.kit.i18n import locale_of
from app.kit.langtext import pick

router = APIRouter(prefix="/api/v1", tags=["events"])

#: A new or changed event shows within a minute; calendar apps poll far less often anyway.
PUBLIC_CACHE_SECONDS = 60
CALENDAR_CACHE_SECONDS = 900
Code = Annotated[str, Path(max_length=60, description="The event's code")]


def cached_json(request: Request, model: BaseModel) -> Response:
    body = model.model_dump_json().encode()
    return conditional_response(
        request, body, cached_headers(body, PUBLIC_CACHE_SECONDS, "application/json")
    )


def base_url(request: Request, settings: Settings) -> str:
    return (settings.public_base_url or str(request.base_url)).rstrip("/")


def near_of(lat: float | None, lon: float | None, radius: float) -> service.Near | None:
    if lat is None and lon is None:
        return None
    if lat is None or lon is None:
        missing = "lat" if lat is None else "lon"
        raise InvalidInput(
            _("Give both lat and lon, or neither."),
            errors=[{"field": missing, "in": "query", "reason": _("send lat and lon together")}],
        )
    return service.Near(lat, lon, radius)


# Public ------------------------------------------------------------------------------------


@router.get("/events", response_model=OccurrenceList, summary="What is on")
async def list_events(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    start: Annotated[
        str | None,
        Query(
            alias="from",
            max_length=40,
            description="A date (2026-09-20) or an ISO 8601 datetime; without an offset it is "
            "the province's time. Default: now.",
        ),
    ] = None,
    end: Annotated[
        str | None,
        Query(
            alias="to",
            max_length=40,
            description="A date (that day included) or a datetime (excluded). Default: 60 days "
            "after `from`; at most a year after it.",
        ),
    ] = None,
    lat: Annotated[float | None, Query(ge=-90, le=90, description="With lon: near here")] = None,
    lon: Annotated[float | None, Query(ge=-180, le=180)] = None,
    radius: Annotated[
        float, Query(gt=0, le=service.MAX_RADIUS_M, description="Metres around lat/lon")
    ] = service.DEFAULT_RADIUS_M,
    category: Annotated[list[EventCategory], Query(description="One or more")] = [],  # noqa: B006
    q: Annotated[
        str | None, Query(max_length=100, description="Words of the title, accents optional")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> Response:
    """One item per occurrence: a weekly market appears once for each Sunday of the period.
    Soonest first; with `lat` and `lon`, only events at a place within `radius`, nearest first.
    An occurrence under way at `from` is included. Titles are in the language of `?lang=` or
    Accept-Language (else Vietnamese)."""
    zone = ZoneInfo(settings.time_zone)
    window_start, window_end = service.window(start, end, utcnow(), zone)
    found, total = await service.occurrences(
        session,
        window_start,
        window_end,
        categories=[c.value for c in category],
        query=q,
        near=near_of(lat, lon, radius),
        limit=limit,
        offset=offset,
    )
    locale = locale_of(request)
    page = OccurrenceList(
        items=[views.occurrence(o, locale) for o in found],
        total=total,
        limit=limit,
        offset=offset,
        start=window_start.astimezone(zone),
        end=window_end.astimezone(zone),
    )
    return cached_json(request, page)


def calendar_response(request: Request, body: bytes, filename: str | None = None) -> Response:
    headers = cached_headers(body, CALENDAR_CACHE_SECONDS, ics.MEDIA_TYPE)
    if filename:
        headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return conditional_response(request, body, headers)


@router.get(
    "/events.ics",
    summary="Every current event as an iCalendar feed",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}}},
)
async def events_calendar(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """Subscribe to it in a calendar app: events not over yet, recurring ones with their rule.
    In the language of `?lang=` or Accept-Language."""
    rows = await repo.current(session, utcnow())
    body = ics.calendar(
        rows,
        locale_of(request),
        base_url(request, settings),
        _("Events in Yên Bái province"),
    )
    return calendar_response(request, body)


# Declared before /events/{event_code}, which would otherwise take "x.ics" for a code.
@router.get(
    "/events/{event_code}.ics",
    summary="One event as iCalendar (add to calendar)",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}}},
)
async def event_calendar(
    event_code: Code, request: Request, session: SessionDep, settings: SettingsDep
) -> Response:
    row = await service.get_public(session, event_code)
    locale = locale_of(request)
    body = ics.calendar([row], locale, base_url(request, settings), pick(row.event.title, locale))
    return calendar_response(request, body, f"{row.event.code}.ics")


@router.get("/events/{event_code}", response_model=EventRead, summary="An event and its next dates")
async def get_event(event_code: Code, request: Request, session: SessionDep) -> Response:
    """404 for a retired event."""
    row = await service.get_public(session, event_code)
    return cached_json(request, views.event(row, locale_of(request), utcnow()))


# Staff -------------------------------------------------------------------------------------


@router.post("/events", response_model=EventRead, status_code=201, summary="Add an event")
async def create_event(
    data: EventIn, request: Request, user: StaffUser, session: SessionDep, response: Response
) -> Any:
    """Staff add events of their department (or of none); managers any. The start of a
    recurring event must be the first date of its rule."""
    row = await service.create_event(session, user, data)
    response.headers["Location"] = f"/api/v1/events/{row.event.code}"
    return views.event(row, locale_of(request), utcnow())


@router.patch("/events/{event_code}", response_model=EventRead, summary="Change an event")
async def update_event(
    event_code: Code, data: EventPatch, request: Request, user: StaffUser, session: SessionDep
) -> Any:
    """Only the fields sent change; null clears an optional one. Moving the start without
    sending the end keeps the event's length."""
    row = await service.get_for_change(session, event_code)
    row = await service.update_event(session, user, row, data)
    return views.event(row, locale_of(request), utcnow())


@router.post("/events/{event_code}/retire", response_model=EventRead, summary="Retire an event")
async def retire_event(
    event_code: Code, request: Request, user: StaffUser, session: SessionDep
) -> Any:
    """It leaves every list, page and calendar feed (its page answers 404); the record stays."""
    row = await service.get_for_change(session, event_code)
    row = await service.retire_event(session, user, row)
    return views.event(row, locale_of(request), utcnow())


@router.post(
    "/events/{event_code}/restore", response_model=EventRead, summary="Bring a retired event back"
)
async def restore_event(
    event_code: Code, request: Request, user: StaffUser, session: SessionDep
) -> Any:
    row = await service.get_for_change(session, event_code)
    row = await service.restore_event(session, user, row)
    return views.event(row, locale_of(request), utcnow())
