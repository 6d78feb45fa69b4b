"""Accessible pages for events: what is on, day by day (plain GET filters, no JavaScript), and
an event's page with its dates, venue, price, accessibility notes and an "add to calendar" file.
Both read through the same service and views as the JSON API (app.events.api)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from app.auth.deps import PageUserOptional, SettingsDep
from app.db import SessionDep, utcnow
from app.errors import InvalidInput
from app.events import service, views
from app.events.models import EventCategory
from app.events.schemas import OccurrenceRead
from app.kit.i18n import gettext as _
from app.kit.i18n import locale_of
from app.kit.langtext import language_of
from app.kit.templating import render
from app.reports.pages import FormError, field_errors, pager

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
FILTER_IDS = {"from": "filter-from", "to": "filter-to", "category": "filter-category"}


def when_full(starts: datetime, ends: datetime, all_day: bool, locale: str) -> str:
    """The day and the time: "Sunday, 20 September 2026, 19:00 – 21:00"."""
    one_day = (
        (ends - timedelta(days=1)).date() <= starts.date()
        if all_day
        else (starts.date() == ends.date())
    )
    if not one_day:
        return views.when_text(starts, ends, all_day, locale)
    return f"{views.day_heading(starts.date(), locale)}, {views.when_text(starts, ends, all_day, locale)}"


def helpers(locale: str) -> dict[str, Any]:
    return {
        "when_text": lambda s, e, all_day: views.when_text(s, e, all_day, locale),
        "when_full": lambda s, e, all_day: when_full(s, e, all_day, locale),
    }


def by_day(
    items: Sequence[OccurrenceRead], first_day: date, zone: ZoneInfo, locale: str
) -> list[tuple[date, str, list[OccurrenceRead]]]:
    """Occurrences under the day they start on (one under way since before the period: under
    its first day), in order."""
    groups: dict[date, list[OccurrenceRead]] = {}
    for item in items:
        day = max(item.starts_at.astimezone(zone).date(), first_day)
        groups.setdefault(day, []).append(item)
    return [(day, views.day_heading(day, locale), groups[day]) for day in sorted(groups)]


def _range_url(first: date | str, last: date | str, category: str) -> str:
    params = {"from": str(first), "to": str(last)}
    if category:
        params["category"] = category
    return f"/events?{urlencode(params)}"


@router.get("/events", response_class=HTMLResponse)
async def event_list(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: PageUserOptional,
    start: Annotated[str, Query(alias="from", max_length=40)] = "",
    end: Annotated[str, Query(alias="to", max_length=40)] = "",
    category: Annotated[str, Query(max_length=20)] = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    zone = ZoneInfo(settings.time_zone)
    now = utcnow()
    locale = locale_of(request)
    errors: list[FormError] = []
    try:
        window_start, window_end = service.window(start or None, end or None, now, zone)
    except InvalidInput as exc:
        for item in exc.errors or []:
            errors.append(FormError(item["reason"], FILTER_IDS.get(item["field"])))
        window_start, window_end = service.window(None, None, now, zone)
    categories = [c.value for c in EventCategory]
    if category and category not in categories:
        errors.append(FormError(_("Choose a kind of event from the list."), FILTER_IDS["category"]))
    chosen = [category] if category in categories else []
    found, total = await service.occurrences(
        session,
        window_start,
        window_end,
        categories=chosen,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    items = [views.occurrence(o, locale) for o in found]
    today = now.astimezone(zone).date()
    saturday, sunday = service.weekend(today)
    first_day = window_start.astimezone(zone).date()
    current = _range_url(start, end, category) if start and end else ""
    last_day = (window_end.astimezone(zone) - timedelta(microseconds=1)).date()
    return render(
        request,
        "events/list.html",
        {
            **helpers(locale),
            "days": by_day(items, first_day, zone, locale),
            "total": total,
            "pager": pager(request, page, PAGE_SIZE, total),
            "errors": errors,
            "field_errors": field_errors(errors),
            "filters": {"from": start, "to": end, "category": category},
            "categories": [(c, views.category_label(c)) for c in categories],
            "period": (views.day_heading(first_day, locale), views.day_heading(last_day, locale)),
            "quick_links": [
                (label, url, url == current)
                for label, url in (
                    (_("Today"), _range_url(today, today, category)),
                    (_("This weekend"), _range_url(saturday, sunday, category)),
                    (_("The next 7 days"), _range_url(today, today + timedelta(days=6), category)),
                )
            ],
            "feed_url": f"/api/v1/events.ics?{urlencode({'lang': locale})}",
            "is_staff": user is not None and user.role != "citizen",
        },
        status_code=422 if errors else 200,
    )


@router.get("/events/{code}", response_class=HTMLResponse)
async def event_page(
    request: Request,
    session: SessionDep,
    code: Annotated[str, Path(max_length=60)],
) -> Response:
    row = await service.get_public(session, code)
    locale = locale_of(request)
    now = utcnow()
    item = views.event(row, locale, now)
    event = row.event
    place = row.place
    return render(
        request,
        "events/event.html",
        {
            **helpers(locale),
            "item": item,
            "langs": {
                "title": language_of(event.title, locale),
                "description": language_of(event.description, locale),
                "venue": language_of(place.name if place else event.venue, locale),
                "price_note": language_of(event.price_note, locale),
                "accessibility_notes": language_of(event.accessibility_notes, locale),
            },
            "map_url": (
                "https://www.openstreetmap.org/?"
                + urlencode({"mlat": place.lat, "mlon": place.lon})
                + f"#map=16/{place.lat}/{place.lon}"
                if place
                else None
            ),
            "ics_url": f"{item.links.ics}?{urlencode({'lang': locale})}",
        },
    )
