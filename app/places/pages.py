"""Accessible pages for places: find places near a ward, a place or your position (a list first;
the map is only a link out), and a place's page with its accessibility panel. No JavaScript
needed; with it, "use my position" fills the point in."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from shapely.geometry import shape

from app.auth.deps import PageUserOptional, SettingsDep
from app.db import SessionDep
from app.errors import NotFound
from app.kit.i18n import format_datetime, format_number, locale_of
from app.kit.i18n import gettext as _
from app.kit.langtext import pick
from app.kit.templating import render
from app.org import repository as org_repo
from app.org import service as org_service
from app.places import repository, service, views
from app.places.api import WHEELCHAIR_AT_LEAST, clock
from app.places.labels import (
    CATEGORY_LABELS,
    category_label,
    feature_label,
    wheelchair_label,
)
from app.places.models import FEATURES, Category, Wheelchair

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 20
RADIUS_CHOICES = (1_000, 5_000, 20_000, 50_000)
DEFAULT_RADIUS = 5_000


def distance_text(metres: float) -> str:
    if metres < 1_000:
        return _("%(num)s m", num=format_number(int(round(metres, -1))))
    return _("%(num)s km", num=format_number(round(metres / 1_000, 1)))


def _ward_centre(ward: Any) -> tuple[float, float]:
    import json

    polygon = shape({"type": "Polygon", "coordinates": [json.loads(ward.polygon)]})
    point = polygon.representative_point()
    return point.y, point.x


async def _resolve_near(
    session: Any, ward_code: str | None, near: str | None
) -> tuple[tuple[float, float] | None, str | None, bool]:
    """(point, what it is, not found?) from a ward code or words naming a ward or a place."""
    if ward_code:
        ward = await org_repo.ward_by_code(session, ward_code)
        if ward is not None:
            return _ward_centre(ward), ward.name, False
        return None, None, True
    if near and near.strip():
        wards = await org_service.search_wards(session, near)
        if wards:
            return _ward_centre(wards[0]), wards[0].name, False
        found = await repository.search(session, repository.Filters(query=near.strip()), limit=1)
        if found:
            row = found[0]
            return (row["lat"], row["lon"]), None, False
        return None, None, True
    return None, None, False


@router.get("/places", response_class=HTMLResponse)
async def places_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: PageUserOptional,
    ward: Annotated[str | None, Query(max_length=40)] = None,
    near: Annotated[str | None, Query(max_length=200)] = None,
    lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
    lon: Annotated[float | None, Query(ge=-180, le=180)] = None,
    radius: Annotated[int, Query(ge=100, le=100_000)] = DEFAULT_RADIUS,
    category: Annotated[str | None, Query(max_length=20)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    accessible: Annotated[str | None, Query(max_length=10)] = None,
    open_now: Annotated[str | None, Query(max_length=5)] = None,
    page: Annotated[int, Query(ge=1, le=500)] = 1,
) -> Response:
    locale = locale_of(request)
    messages: list[str] = []
    categories = (category,) if category in CATEGORY_LABELS else ()
    grades: tuple[str, ...] = ()
    if accessible in ("yes", "limited"):
        grades = WHEELCHAIR_AT_LEAST[Wheelchair(accessible)]
    filters = repository.Filters(
        categories=categories, wheelchair=grades, query=(q or "").strip() or None
    )
    point: tuple[float, float] | None = None
    near_label: str | None = None
    if lat is not None and lon is not None:
        point, near_label = (lat, lon), _("your position")
    else:
        point, near_label, missing = await _resolve_near(session, ward, near)
        if missing:
            messages.append(
                _(
                    "We could not find “%(place)s”. Choose a ward or commune from the list.",
                    place=near or ward or "",
                )
            )
        elif near_label is None and point is not None:
            near_label = near
    now = await clock(session, settings)
    searched = point is not None or filters.query or filters.categories or filters.wheelchair
    rows: list[dict[str, Any]] = []
    if searched:
        rows = await service.find_places(
            session,
            filters,
            point=point,
            radius_m=radius,
            limit=PAGE_SIZE + 1,  # one more tells whether there is a next page
            offset=(page - 1) * PAGE_SIZE,
            keep=now.is_open if open_now else None,
        )
    more = len(rows) > PAGE_SIZE
    items = [_card(r, locale, now) for r in rows[:PAGE_SIZE]]
    wards = await org_repo.list_wards(session)
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "page"]
    return render(
        request,
        "places/list.html",
        {
            "items": items,
            "searched": bool(searched),
            "messages": messages,
            "near_label": near_label,
            "point": point,
            "filters": {
                "ward": ward or "",
                "near": near or "",
                "radius": radius,
                "category": category or "",
                "q": q or "",
                "accessible": accessible or "",
                "open_now": bool(open_now),
                "lat": lat,
                "lon": lon,
            },
            "ward_groups": org_service.wards_by_district(wards, "ward-{}"),
            "categories": [(c.value, category_label(c.value)) for c in Category],
            "radius_choices": [(r, distance_text(r)) for r in RADIUS_CHOICES],
            "page": page,
            "next_url": f"/places?{urlencode([*params, ('page', page + 1)])}" if more else None,
            "prev_url": f"/places?{urlencode([*params, ('page', page - 1)])}" if page > 1 else None,
        },
    )


def _card(row: dict[str, Any], locale: str, now: views.Clock) -> dict[str, Any]:
    item = views.item(row, locale, now)
    item["category_label"] = category_label(row["category"])
    item["wheelchair_label"] = wheelchair_label(row["wheelchair"]) if row["wheelchair"] else None
    item["distance_text"] = distance_text(row["distance_m"]) if "distance_m" in row else None
    item["hours_text"] = _hours_text(item, now.zone)
    return item


def _hours_text(item: dict[str, Any], zone: str) -> str | None:
    state = item["open_state"]
    if state is None:
        return None
    if state == "unknown":
        return _("Opening hours: ask before you go")
    change = item["next_change"]
    when = None
    if change:
        from datetime import datetime

        when = format_datetime(datetime.fromisoformat(change), zone)
    if state == "open":
        return _("Open now, until %(time)s", time=when) if when else _("Open now")
    return _("Closed now, opens %(time)s", time=when) if when else _("Closed now")


@router.get("/places/{place_code}", response_class=HTMLResponse)
async def place_page(
    request: Request,
    place_code: str,
    session: SessionDep,
    settings: SettingsDep,
    user: PageUserOptional,
) -> Response:
    row = await repository.one(session, place_code)
    if row is None or row["retired_at"] is not None:
        raise NotFound(_("There is no place with this code."))
    locale = locale_of(request)
    now = await clock(session, settings)
    place = views.detail(row, locale, now)
    place["category_label"] = category_label(row["category"])
    place["hours_text"] = _hours_text(place, settings.time_zone)
    access = place["accessibility"]
    features = [
        {
            "label": feature_label(name),
            "value": access[name],
            "text": _("Yes") if access[name] else (_("No") if access[name] is False else None),
        }
        for name in FEATURES
    ]
    nearby = await repository.nearby(session, row["lat"], row["lon"], 5_000, limit=6)
    neighbours = [_card(r, locale, now) for r in nearby if r["code"] != row["code"]][:5]
    verified = row["last_verified_at"]
    whats_on = await _events_here(session, row, locale, now.now, settings.time_zone)
    return render(
        request,
        "places/place.html",
        {
            "place": place,
            "wheelchair_text": wheelchair_label(access["wheelchair"]),
            "features": features,
            "known_features": [f for f in features if f["value"] is not None],
            "unknown_features": [f for f in features if f["value"] is None],
            "neighbours": neighbours,
            "whats_on": whats_on,
            "verified_text": format_datetime(verified, settings.time_zone) if verified else None,
            "osm_url": f"https://www.openstreetmap.org/?mlat={row['lat']:.5f}&mlon={row['lon']:.5f}#map=17/{row['lat']:.5f}/{row['lon']:.5f}",
            "zone": ZoneInfo(settings.time_zone),
        },
    )


async def _events_here(
    session: Any, row: dict[str, Any], locale: str, now: Any, zone: str
) -> list[dict[str, str]]:
    """The next events held at this place, within the coming 90 days."""
    from datetime import timedelta

    from app.events import service as events

    here, _total = await events.occurrences(
        session, now, now + timedelta(days=90), place_code=row["code"], limit=5
    )
    return [
        {
            "code": o.event.code,
            "title": pick(o.event.title, locale),
            "when": format_datetime(o.starts_at, zone),
        }
        for o in here
    ]
