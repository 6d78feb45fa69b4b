"""Places: nearby, search, a place, GeoJSON, the offline download; staff changes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.deps import SettingsDep, StaffUser
from app.config import Settings
from app.db import SessionDep, utcnow
from app.errors import InvalidInput, NotFound
from app.kit.cache import cached_public
from app.kit.i18n import gettext as _
from app.kit.i18n import locale_of
from app.places import hours, repository, service, views
from app.places.labels import CATEGORY_LABELS
from app.places.models import Category, Wheelchair
from app.places.schemas import PlaceIn, PlacePatch

router = APIRouter(prefix="/api/v1", tags=["places"])

LIST_CACHE_SECONDS = 5
DOWNLOAD_CACHE_SECONDS = 300
MAX_RADIUS_M = 100_000
PUBLIC_CACHED_PATHS = {"/api/v1/places"}

# wheelchair=limited asks for "at least partly accessible".
WHEELCHAIR_AT_LEAST = {
    Wheelchair.yes: ("yes",),
    Wheelchair.limited: ("yes", "limited"),
    Wheelchair.no: ("no",),
}

Lat = Annotated[float | None, Query(ge=-90, le=90, description="Latitude of the point (WGS84)")]
Lon = Annotated[float | None, Query(ge=-180, le=180, description="Longitude of the point")]
Radius = Annotated[int, Query(ge=1, le=MAX_RADIUS_M, description="Metres from the point")]
Categories = Annotated[
    list[Category] | None,
    Query(alias="category", description="One or more categories (repeat the parameter)"),
]
WheelchairQ = Annotated[
    Wheelchair | None,
    Query(
        alias="wheelchair",
        description="yes: fully accessible; limited: fully or partly; no: not accessible",
    ),
]
Text = Annotated[
    str | None,
    Query(alias="q", max_length=200, description="Words, with or without accents, any language"),
]
Ward = Annotated[str | None, Query(description="Ward or commune code")]


async def clock(session: AsyncSession, settings: Settings) -> views.Clock:
    now = utcnow()
    is_holiday = await hours.holiday_checker(session, now, settings.time_zone)
    return views.Clock(now, is_holiday, settings.time_zone, settings.place_stale_after_days)


def _filters(
    categories: list[Category] | None,
    wheelchair: Wheelchair | None,
    q: str | None,
    ward: str | None,
) -> repository.Filters:
    return repository.Filters(
        categories=tuple(c.value for c in categories or ()),
        wheelchair=WHEELCHAIR_AT_LEAST[wheelchair] if wheelchair else (),
        query=q.strip() if q and q.strip() else None,
        ward_code=ward,
    )


@router.get(
    "/places",
    summary="Places nearby, by text, or by category and ward",
    description="With `lat` and `lon`: places within `radius` metres, nearest first (each with "
    "`distance_m`), the other filters narrowing them. Without a point but with `q`: a ranked "
    "text search (accent-insensitive, every language). Otherwise places by name. `open_now` "
    "keeps places whose opening hours say open at this moment in the province's time zone, "
    "public holidays included.",
)
async def list_places(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    lat: Lat = None,
    lon: Lon = None,
    radius: Radius = 5_000,
    categories: Categories = None,
    wheelchair: WheelchairQ = None,
    q: Text = None,
    ward: Ward = None,
    open_now: Annotated[bool, Query(description="Only places open now")] = False,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
) -> Response:
    if (lat is None) != (lon is None):
        raise InvalidInput(
            _("Give both lat and lon, or neither."),
            errors=[{"field": "lat" if lat is None else "lon", "in": "query", "reason": "missing"}],
        )
    filters = _filters(categories, wheelchair, q, ward)
    locale = locale_of(request)

    async def build() -> dict[str, Any]:
        now = await clock(session, settings)
        rows = await service.find_places(
            session,
            filters,
            point=(lat, lon) if lat is not None and lon is not None else None,
            radius_m=radius,
            limit=limit,
            offset=offset,
            keep=now.is_open if open_now else None,
        )
        return {
            "items": [views.item(r, locale, now) for r in rows],
            "limit": limit,
            "offset": offset,
        }

    return await cached_public(request, build, LIST_CACHE_SECONDS, "application/json")


@router.get("/places/categories", summary="Categories of places, with their names")
async def categories(request: Request) -> dict[str, Any]:
    return {
        "items": [{"code": c.value, "name": _(CATEGORY_LABELS[c.value])} for c in Category],
    }


def _version_etag(*parts: object) -> str:
    raw = "|".join(str(p) for p in parts).encode()
    return 'W/"' + hashlib.blake2b(raw, digest_size=12).hexdigest() + '"'


def _not_modified(request: Request, etag: str, latest: datetime | None) -> bool:
    if (match := request.headers.get("if-none-match")) is not None:
        return etag in match or match.strip() == "*"
    since = request.headers.get("if-modified-since")
    if since and latest is not None:
        try:
            return latest.replace(microsecond=0) <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
    return False


def _stream_headers(etag: str, latest: datetime | None, max_age: int) -> dict[str, str]:
    headers = {
        "ETag": etag,
        "Cache-Control": f"public, max-age={max_age}",
        "Vary": "Accept-Language",
    }
    if latest is not None:
        headers["Last-Modified"] = format_datetime(latest, usegmt=True)
    return headers


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@router.get(
    "/places/download",
    summary="Every place of the province, or what changed since a moment (offline app)",
    description="Without `updated_since`: every live place, in every language. With it: the "
    "places created or changed after that moment, and under `deleted` the codes of places "
    "retired since. Keep `next_since` and send it as `updated_since` next time. Answers 304 to "
    "If-None-Match (ETag) or If-Modified-Since when nothing changed. Streamed: memory stays "
    "flat whatever the size of the province.",
)
async def download(
    request: Request,
    session: SessionDep,
    updated_since: Annotated[datetime | None, Query(description="ISO 8601 with a zone")] = None,
) -> Response:
    if updated_since is not None and updated_since.tzinfo is None:
        raise InvalidInput(
            _("Give updated_since with a time zone, for example 2026-11-26T08:00:00Z."),
            errors=[{"field": "updated_since", "in": "query", "reason": "no time zone"}],
        )
    latest, live, changed = await repository.dataset_version(session, updated_since)
    etag = _version_etag("download", latest, live, changed, updated_since)
    headers = _stream_headers(etag, latest, DOWNLOAD_CACHE_SECONDS)
    if _not_modified(request, etag, latest):
        return Response(status_code=304, headers=headers)
    generated_at = utcnow()
    sessionmaker = request.app.state.sessionmaker

    async def body() -> AsyncIterator[bytes]:
        # Its own session: the request's is closed once the handler returns.
        async with sessionmaker() as own:
            head = {
                "generated_at": views.iso(generated_at),
                "updated_since": views.iso(updated_since),
                "next_since": views.iso(latest),
            }
            yield (_dumps(head)[:-1] + ',"places":[').encode()
            deleted: list[str] = []
            first = True
            async for row in repository.stream_changed(own, updated_since):
                if row["retired_at"] is not None:
                    deleted.append(row["code"])
                    continue
                yield (("" if first else ",") + _dumps(views.offline(row))).encode()
                first = False
            yield ('],"deleted":' + _dumps(deleted) + "}").encode()

    return StreamingResponse(body(), media_type="application/json", headers=headers)


@router.get(
    "/places.geojson",
    summary="Places as GeoJSON (RFC 7946), filtered like the list",
    description="Every matching live place as a FeatureCollection, streamed.",
)
async def geojson(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    categories: Categories = None,
    wheelchair: WheelchairQ = None,
    ward: Ward = None,
) -> Response:
    filters = _filters(categories, wheelchair, None, ward)
    locale = locale_of(request)
    latest, live, _changed = await repository.dataset_version(session, None)
    now = await clock(session, settings)
    # Open/closed states change with the clock: the ETag holds the five-minute slot too.
    slot = int(now.now.timestamp() // DOWNLOAD_CACHE_SECONDS)
    etag = _version_etag("geojson", latest, live, request.url.query, locale, slot)
    headers = _stream_headers(etag, latest, DOWNLOAD_CACHE_SECONDS)
    if request.headers.get("if-none-match") and _not_modified(request, etag, latest):
        return Response(status_code=304, headers=headers)
    sessionmaker = request.app.state.sessionmaker

    async def body() -> AsyncIterator[bytes]:
        async with sessionmaker() as own:
            yield b'{"type":"FeatureCollection","features":['
            first = True
            async for row in repository.stream_changed(own, None, filters):
                yield (("" if first else ",") + _dumps(views.feature(row, locale, now))).encode()
                first = False
            yield b"]}"

    return StreamingResponse(body(), media_type="application/geo+json", headers=headers)


async def _place_row(session: AsyncSession, code: str, *, retired_ok: bool) -> dict[str, Any]:
    row = await repository.one(session, code)
    if row is None or (row["retired_at"] is not None and not retired_ok):
        raise NotFound(_("There is no place with this code."))
    return row


@router.get("/places/{place_code}", summary="One place, with accessibility and opening hours")
async def get_place(
    request: Request, place_code: str, session: SessionDep, settings: SettingsDep
) -> dict[str, Any]:
    row = await _place_row(session, place_code, retired_ok=False)
    return views.detail(row, locale_of(request), await clock(session, settings))


# Staff ------------------------------------------------------------------------------------


async def _detail_of(
    request: Request, session: AsyncSession, settings: Settings, code: str
) -> dict[str, Any]:
    row = await _place_row(session, code, retired_ok=True)
    return views.detail(row, locale_of(request), await clock(session, settings))


@router.post("/places", status_code=201, summary="Add a place (staff)")
async def create_place(
    request: Request, data: PlaceIn, user: StaffUser, session: SessionDep, settings: SettingsDep
) -> dict[str, Any]:
    place = await service.create_place(session, user, data)
    return await _detail_of(request, session, settings, place.code)


@router.patch("/places/{place_code}", summary="Change a place (staff of its department, managers)")
async def update_place(
    request: Request,
    place_code: str,
    patch: PlacePatch,
    user: StaffUser,
    session: SessionDep,
    settings: SettingsDep,
) -> dict[str, Any]:
    place = await service.get_by_code(session, place_code)
    await service.update_place(session, user, place, patch)
    return await _detail_of(request, session, settings, place_code)


@router.post("/places/{place_code}/retire", summary="Retire a place (it leaves lists and maps)")
async def retire_place(
    request: Request, place_code: str, user: StaffUser, session: SessionDep, settings: SettingsDep
) -> dict[str, Any]:
    place = await service.get_by_code(session, place_code)
    await service.retire_place(session, user, place)
    return await _detail_of(request, session, settings, place_code)


@router.post("/places/{place_code}/restore", summary="Bring a retired place back")
async def restore_place(
    request: Request, place_code: str, user: StaffUser, session: SessionDep, settings: SettingsDep
) -> dict[str, Any]:
    place = await service.get_by_code(session, place_code)
    await service.restore_place(session, user, place)
    return await _detail_of(request, session, settings, place_code)


@router.get("/places/{place_code}/history", summary="Who changed a place, and what (staff)")
async def place_history(place_code: str, user: StaffUser, session: SessionDep) -> dict[str, Any]:
    place = await service.get_by_code(session, place_code)
    entries = await audit.trail(session, service.SUBJECT, place.id)
    return {
        "items": [
            {"action": e.action, "actor_id": e.actor_id, "at": views.iso(e.at), "data": e.data}
            for e in entries
        ]
    }
