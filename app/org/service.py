"""Departments and wards: where a point lies, and the province's organisation."""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache

from shapely.geometry import Point, Polygon
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, InvalidInput
from app.kit.i18n import gettext as _
from app.kit.text import fold, nfc
from app.org import repository as repo
from app.org.models import Department, Ward
from app.org.schemas import DepartmentCreate


@lru_cache(maxsize=1024)
def _shape(polygon_json: str) -> Polygon:
    return Polygon(json.loads(polygon_json))


def ward_from_ring(code: str, name: str, kind: str, district: str, ring: list[list[float]]) -> Ward:
    if len(ring) < 4 or ring[0] != ring[-1]:
        raise InvalidInput(_("A boundary must be a closed ring of at least three points."))
    shape = Polygon(ring)
    if not shape.is_valid:
        raise InvalidInput(_("The boundary crosses itself."))
    min_lon, min_lat, max_lon, max_lat = shape.bounds
    name = nfc(name)
    return Ward(
        code=code,
        name=name,
        name_folded=fold(name),
        kind=kind,
        district=nfc(district),
        polygon=json.dumps(ring),
        min_lat=min_lat,
        max_lat=max_lat,
        min_lon=min_lon,
        max_lon=max_lon,
    )


async def locate_ward(session: AsyncSession, lat: float, lon: float) -> Ward | None:
    """The ward whose polygon holds the point (SQL narrows by bounding box, shapely decides)."""
    point = Point(lon, lat)
    for ward in await repo.wards_whose_box_holds(session, lat, lon):
        if _shape(ward.polygon).covers(point):
            return ward
    return None


async def search_wards(session: AsyncSession, query: str | None) -> Sequence[Ward]:
    return await repo.list_wards(session, fold(query) if query else None)


async def create_department(session: AsyncSession, data: DepartmentCreate) -> Department:
    if await repo.department_by_code(session, data.code):
        raise Conflict(_("A department with this code already exists."))
    department = Department(code=data.code, name_vi=data.name_vi, name_en=data.name_en)
    session.add(department)
    await session.flush()
    return department


def wards_by_district(
    wards: Sequence[Ward], box_id: str
) -> list[tuple[str, list[tuple[str, Ward]]]]:
    """Wards and communes grouped by district, in (district, name) order, each with the id of
    its checkbox on a form: `box_id.format(n)`, n counting from 0 across the districts."""
    groups: dict[str, list[tuple[str, Ward]]] = {}
    for index, ward in enumerate(sorted(wards, key=lambda w: (w.district, w.name))):
        groups.setdefault(ward.district, []).append((box_id.format(index), ward))
    return list(groups.items())
