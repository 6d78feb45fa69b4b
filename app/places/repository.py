"""Every query of places. The hot reads (nearby, search) are Core statements answered by each
database's own index, nearest first straight from the index rather than "all within the radius,
then sort":

- PostgreSQL: a GiST index on ll_to_earth(lat, lon) (cube + earthdistance). `earth_box @>` bounds
  the scan to the radius and `<->` walks the index in distance order (KNN), so LIMIT stops early.
- SQLite: an R*Tree of coordinates, searched in growing boxes: a box that holds the circle of
  radius r returns every place within r; once `limit` places lie within r, nothing outside can be
  nearer. The first box is sized from the wanted count, so most queries take one or two probes.

Distances are haversine on a sphere of mean radius on both databases (app.kit.geo), so both give
the same answer and the same order.
"""

from __future__ import annotations

import math
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Integer,
    Select,
    bindparam,
    column,
    func,
    literal_column,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession

from app.kit.geo import EARTH_RADIUS_M, bbox, distance_m
from app.kit.text import search_terms
from app.org.models import Department, Ward
from app.places.models import Place

place = Place.__table__
ward = Ward.__table__
department = Department.__table__

_RELATED = [
    ward.c.code.label("ward_code"),
    ward.c.name.label("ward_name"),
    department.c.code.label("department_code"),
    department.c.name_vi.label("department_name_vi"),
    department.c.name_en.label("department_name_en"),
]
# A place's page, the offline download, staff: the whole place, its ward and department names.
FULL_COLUMNS = [*(c for c in place.c if c.name not in ("search_name", "search_body")), *_RELATED]
# Lists (nearby, search, browse; app.places.views.item): what a list item shows, so the hot
# path reads and converts a third of the bytes (no descriptions, notes or sources).
LIST_COLUMNS = [
    *(
        place.c[name]
        for name in (
            "id",
            "code",
            "category",
            "name",
            "address",
            "lat",
            "lon",
            "phone",
            "website",
            "opening_hours",
            "photos",
            "price_level",
            "tags",
            "last_verified_at",
            "retired_at",
            "wheelchair",
            "step_free_entrance",
            "accessible_toilet",
            "updated_at",
        )
    ),
    *_RELATED,
]

# earthdistance measures on a sphere of earth() = 6,378,168 m; our haversine on the mean radius.
# The box is drawn a little wider so that it always holds our circle; haversine decides.
_EARTH_BOX_SCALE = 6_378_168.0 / EARTH_RADIUS_M * 1.0005
_FTS = table("place_fts", column("rowid"))
_RTREE = table(
    "place_rtree",
    column("id"),
    column("min_lat"),
    column("max_lat"),
    column("min_lon"),
    column("max_lon"),
)
# Candidates re-ranked in Python by how well the name matches (text search).
RERANK_WINDOW = 200


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


@dataclass(frozen=True, slots=True)
class Filters:
    categories: tuple[str, ...] = ()
    wheelchair: tuple[str, ...] = ()  # accepted grades, e.g. ("yes", "limited")
    query: str | None = None
    ward_code: str | None = None
    include_retired: bool = False


def _base(filters: Filters, columns: list[Any] = LIST_COLUMNS) -> Select[Any]:
    stmt = select(*columns).select_from(
        place.outerjoin(ward, ward.c.id == place.c.ward_id).outerjoin(
            department, department.c.id == place.c.department_id
        )
    )
    if not filters.include_retired:
        stmt = stmt.where(place.c.retired_at.is_(None))
    if filters.categories:
        stmt = stmt.where(place.c.category.in_(filters.categories))
    if filters.wheelchair:
        stmt = stmt.where(place.c.wheelchair.in_(filters.wheelchair))
    if filters.ward_code:
        stmt = stmt.where(ward.c.code == filters.ward_code)
    return stmt


# Text -------------------------------------------------------------------------------------

_SAFE_TERM = re.compile(r"^\w+$")


def _terms(query: str) -> list[str]:
    return [t for t in search_terms(query) if _SAFE_TERM.match(t)][:12]


def _pg_vector() -> Any:
    # Must match the expression of ix_place_search (migration 0007) for the index to be used.
    return literal_column(
        "(setweight(to_tsvector('simple', place.search_name), 'A')"
        " || setweight(to_tsvector('simple', place.search_body), 'B'))"
    )


def _pg_tsquery(terms: list[str]) -> str:
    # Every word must match; the last one also as a prefix (people stop typing early).
    parts = [f"'{t}'" for t in terms[:-1]] + [f"'{terms[-1]}':*"]
    return " & ".join(parts)


def _sqlite_match(terms: list[str]) -> str:
    return " ".join([*(f'"{t}"' for t in terms[:-1]), f'"{terms[-1]}"*'])


def _text_filter(stmt: Select[Any], dialect: str, terms: list[str]) -> Select[Any]:
    if dialect == "postgresql":
        return stmt.where(
            _pg_vector().op("@@")(func.to_tsquery(literal_column("'simple'"), _pg_tsquery(terms)))
        )
    return stmt.where(
        place.c.id.in_(
            select(literal_column("rowid"))
            .select_from(text("place_fts"))
            .where(text("place_fts MATCH :fts_match"))
        )
    ).params(fts_match=_sqlite_match(terms))


def _name_score(search_name: str, terms: list[str], phrase: str) -> tuple[int, int]:
    words = search_name.split()
    in_name = sum(1 for t in terms if any(w.startswith(t) for w in words))
    return (1 if phrase and phrase in search_name else 0, in_name)


async def search(
    session: AsyncSession, filters: Filters, *, limit: int, offset: int = 0
) -> list[dict[str, Any]]:
    """Places matching every word of the query (accent-insensitive), best first: the whole
    phrase in a name, then more words in a name, then the database's own rank (names weigh
    more than descriptions, tags and addresses)."""
    assert filters.query
    terms = _terms(filters.query)
    if not terms:
        return []
    dialect = _dialect(session)
    if dialect == "postgresql":
        stmt = _text_filter(_base(filters), dialect, terms).add_columns(place.c.search_name)
        rank = func.ts_rank(
            _pg_vector(), func.to_tsquery(literal_column("'simple'"), _pg_tsquery(terms))
        )
        stmt = stmt.add_columns(rank.label("rank")).order_by(rank.desc(), place.c.id)
    else:  # FTS5: join the match itself so bm25() ranks it (names weigh ten times more)
        stmt = (
            _base(filters)
            .add_columns(place.c.search_name)
            .join(_FTS, _FTS.c.rowid == place.c.id)
            .where(text("place_fts MATCH :fts_match"))
            .params(fts_match=_sqlite_match(terms))
        )
        bm25: Any = literal_column("bm25(place_fts, 10.0, 1.0)")
        stmt = stmt.add_columns(bm25.label("rank")).order_by(bm25, place.c.id)
    window = max(RERANK_WINDOW, offset + limit)
    rows = [dict(r) for r in (await session.execute(stmt.limit(window))).mappings()]
    phrase = " ".join(terms)
    # bm25 is better when lower, ts_rank when higher: make "higher is better" for both.
    sign = 1 if dialect == "postgresql" else -1
    rows.sort(
        key=lambda r: (*_name_score(r["search_name"], terms, phrase), sign * (r["rank"] or 0)),
        reverse=True,
    )
    return rows[offset : offset + limit]


# Nearby -----------------------------------------------------------------------------------


Keep = Callable[[dict[str, Any]], bool]


async def nearby(
    session: AsyncSession,
    lat: float,
    lon: float,
    radius_m: float,
    filters: Filters = Filters(),
    *,
    limit: int = 20,
    keep: Keep | None = None,
) -> list[dict[str, Any]]:
    """Up to `limit` places within radius_m of the point, nearest first, each with
    `distance_m`. `keep` is a further test in Python (open now) applied in distance order."""
    if _dialect(session) == "postgresql":
        return await _nearby_postgres(session, lat, lon, radius_m, filters, limit, keep)
    return await _nearby_sqlite(session, lat, lon, radius_m, filters, limit, keep)


def _with_text(stmt: Select[Any], session: AsyncSession, filters: Filters) -> Select[Any] | None:
    if not filters.query:
        return stmt
    terms = _terms(filters.query)
    if not terms:
        return None
    return _text_filter(stmt, _dialect(session), terms)


@lru_cache(maxsize=64)
def _pg_knn(categories: bool, wheelchair: bool, ward_code: bool, text_query: bool) -> Select[Any]:
    """The nearest-first statement for one shape of filters, built once and reused with bind
    parameters: SQLAlchemy then skips rebuilding the select and its cache key on every call
    (half a millisecond on this hot path)."""
    center = func.ll_to_earth(bindparam("lat"), bindparam("lon"))
    point = func.ll_to_earth(place.c.lat, place.c.lon)
    stmt = _base(Filters()).where(
        func.earth_box(center, bindparam("box_m")).op("@>")(point),
    )
    if categories:
        stmt = stmt.where(place.c.category.in_(bindparam("categories", expanding=True)))
    if wheelchair:
        stmt = stmt.where(place.c.wheelchair.in_(bindparam("wheelchair", expanding=True)))
    if ward_code:
        stmt = stmt.where(ward.c.code == bindparam("ward_code"))
    if text_query:
        stmt = stmt.where(
            _pg_vector().op("@@")(func.to_tsquery(literal_column("'simple'"), bindparam("tsquery")))
        )
    return (
        stmt.order_by(point.op("<->")(center))
        .limit(bindparam("page", type_=Integer))
        .offset(bindparam("skip", type_=Integer))
    )


async def _nearby_postgres(
    session: AsyncSession,
    lat: float,
    lon: float,
    radius_m: float,
    filters: Filters,
    limit: int,
    keep: Keep | None,
) -> list[dict[str, Any]]:
    terms = _terms(filters.query) if filters.query else []
    if filters.query and not terms:
        return []
    stmt = _pg_knn(
        bool(filters.categories), bool(filters.wheelchair), bool(filters.ward_code), bool(terms)
    )
    params: dict[str, Any] = {"lat": lat, "lon": lon, "box_m": radius_m * _EARTH_BOX_SCALE}
    if filters.categories:
        params["categories"] = list(filters.categories)
    if filters.wheelchair:
        params["wheelchair"] = list(filters.wheelchair)
    if filters.ward_code:
        params["ward_code"] = filters.ward_code
    if terms:
        params["tsquery"] = _pg_tsquery(terms)
    found: list[dict[str, Any]] = []
    # Without a Python test, one query of `limit` rows; with one, pages until enough are kept.
    page = limit if keep is None else max(limit * 4, 50)
    offset = 0
    while True:
        result = await session.execute(stmt, {**params, "page": page, "skip": offset})
        rows = result.mappings().all()
        for row in rows:
            d = distance_m(lat, lon, row["lat"], row["lon"])
            if d > radius_m:
                return found  # ordered by distance: nothing further can be within the radius
            item = dict(row)
            item["distance_m"] = d
            if keep is None or keep(item):
                found.append(item)
                if len(found) == limit:
                    return found
        if len(rows) < page:
            return found
        offset += page
        page *= 2


# R*Tree coordinates are 32-bit floats rounded outwards: a point can read up to ~2 m off. The
# probe keeps this much slack and the exact distance from the place row decides.
_RTREE_SLACK_M = 10.0
_FIRST_PROBE_M = 250.0
# Places per square metre around recent queries: sizes the first probe so that it usually
# holds enough places at once (one probe, not three). A hint for speed only, per process:
# whatever it says, the growing loop below gives the same, exact answer.
# Kept per kind of filter: health places are far sparser than places of every kind.
_density_hint: dict[Filters, float] = {}


def _first_radius(filters: Filters, limit: int, radius_m: float) -> float:
    density = _density_hint.get(filters)
    if density is None:
        return min(radius_m, _FIRST_PROBE_M)
    wanted = math.sqrt(limit * 1.6 / (math.pi * density))
    return min(radius_m, max(30.0, wanted))


def _learn_density(filters: Filters, found: int, r: float) -> None:
    if found <= 0 or (filters not in _density_hint and len(_density_hint) >= 256):
        return
    seen = found / (math.pi * r * r)
    # A geometric mean: towns and mountains differ a thousandfold; no single query decides.
    old = _density_hint.get(filters)
    _density_hint[filters] = math.sqrt(old * seen) if old else seen


def _probe_sql(filters: Filters, terms: list[str] | None) -> str:
    """Ids and (approximate) coordinates in a box straight from the R*Tree; filters, when any,
    through the place's primary key. CROSS JOIN keeps SQLite from starting at a category index
    and probing the R*Tree once per place of that category."""
    sql = "SELECT r.id, r.min_lat, r.min_lon FROM place_rtree AS r"
    where = [
        "r.max_lat >= :min_lat",
        "r.min_lat <= :max_lat",
        "r.max_lon >= :min_lon",
        "r.min_lon <= :max_lon",
    ]
    if filters.categories or filters.wheelchair or terms or filters.ward_code:
        sql += " CROSS JOIN place AS p ON p.id = r.id"
        if filters.categories:
            where.append("p.category IN (" + ",".join(map(_quote, filters.categories)) + ")")
        if filters.wheelchair:
            where.append("p.wheelchair IN (" + ",".join(map(_quote, filters.wheelchair)) + ")")
        if filters.ward_code:
            where.append("p.ward_id = (SELECT id FROM ward WHERE code = :ward_code)")
        if terms:
            where.append("p.id IN (SELECT rowid FROM place_fts WHERE place_fts MATCH :fts_match)")
    return sql + " WHERE " + " AND ".join(where)


def _quote(value: str) -> str:
    # Values come from enums (categories, grades), never from free text; quoted all the same.
    return "'" + value.replace("'", "''") + "'"


async def _nearby_sqlite(
    session: AsyncSession,
    lat: float,
    lon: float,
    radius_m: float,
    filters: Filters,
    limit: int,
    keep: Keep | None,
) -> list[dict[str, Any]]:
    terms = _terms(filters.query) if filters.query else None
    if filters.query and not terms:
        return []
    probe = text(_probe_sql(filters, terms))
    params: dict[str, Any] = {}
    if terms:
        params["fts_match"] = _sqlite_match(terms)
    if filters.ward_code:
        params["ward_code"] = filters.ward_code
    # Grow the circle until `limit` places (that pass `keep`) lie inside it. Each probe reads
    # ids and coordinates from the R*Tree only, so its cost follows the places in the box, not
    # the size of the table; full rows are read for the few that can be the answer.
    r = _first_radius(filters, limit, radius_m)
    while True:
        min_lat, max_lat, min_lon, max_lon = bbox(lat, lon, r + _RTREE_SLACK_M)
        box = {"min_lat": min_lat, "max_lat": max_lat, "min_lon": min_lon, "max_lon": max_lon}
        rows = (await session.execute(probe, {**params, **box})).all()
        near = sorted((distance_m(lat, lon, row[1], row[2]), row[0]) for row in rows)
        near = [item for item in near if item[0] <= r + _RTREE_SLACK_M]
        sure = sum(1 for d, _id in near if d <= r - _RTREE_SLACK_M)
        if keep is None:
            if sure >= limit or r >= radius_m:
                _learn_density(filters, sure, r)
                return await _closest_rows(session, lat, lon, radius_m, filters, near, limit)
            found = sure
        else:
            kept = await _kept_rows(session, lat, lon, min(r, radius_m), filters, near, limit, keep)
            if len(kept) >= limit or r >= radius_m:
                return kept[:limit]
            found = len(kept)
        factor = math.sqrt((limit + 1) / max(found, 1)) * 1.3
        r = min(radius_m, r * min(max(factor, 2.0), 8.0))


async def _rows_by_id(
    session: AsyncSession, lat: float, lon: float, ids: list[int]
) -> list[dict[str, Any]]:
    stmt = _base(Filters()).where(place.c.id.in_(ids))
    out = []
    for row in (await session.execute(stmt)).mappings():
        item = dict(row)
        item["distance_m"] = distance_m(lat, lon, item["lat"], item["lon"])
        out.append(item)
    out.sort(key=lambda item: (item["distance_m"], item["id"]))
    return out


async def _closest_rows(
    session: AsyncSession,
    lat: float,
    lon: float,
    radius_m: float,
    filters: Filters,
    near: list[tuple[float, int]],
    limit: int,
) -> list[dict[str, Any]]:
    """The `limit` nearest of the probe's candidates, decided on exact coordinates: those whose
    approximate distance is within the slack of the limit-th are read too."""
    if not near:
        return []
    edge = near[min(limit, len(near)) - 1][0] + 2 * _RTREE_SLACK_M
    ids = [place_id for d, place_id in near if d <= edge]
    rows = await _rows_by_id(session, lat, lon, ids)
    return [row for row in rows if row["distance_m"] <= radius_m][:limit]


async def _kept_rows(
    session: AsyncSession,
    lat: float,
    lon: float,
    r: float,
    filters: Filters,
    near: list[tuple[float, int]],
    limit: int,
    keep: Keep,
) -> list[dict[str, Any]]:
    """Candidates within r that pass `keep`, nearest first, read in chunks until enough."""
    kept: dict[int, dict[str, Any]] = {}
    chunk = max(limit * 2, 40)
    for start in range(0, len(near), chunk):
        part = near[start : start + chunk]
        # Read the chunk and what lies within the slack after it; below `settled` no unread
        # candidate can be nearer, so those kept are final.
        edge = part[-1][0] + 2 * _RTREE_SLACK_M
        ids = [i for d, i in near[start:] if d <= edge and i not in kept]
        for row in await _rows_by_id(session, lat, lon, ids):
            if row["distance_m"] <= r and keep(row):
                kept[row["id"]] = row
        settled = part[-1][0] + _RTREE_SLACK_M
        ordered = sorted(kept.values(), key=lambda item: (item["distance_m"], item["id"]))
        final = [item for item in ordered if item["distance_m"] <= settled]
        if len(final) >= limit:
            return final
    return sorted(kept.values(), key=lambda item: (item["distance_m"], item["id"]))


# Browsing, pages and downloads ------------------------------------------------------------


async def browse(
    session: AsyncSession, filters: Filters, *, limit: int, offset: int = 0
) -> list[dict[str, Any]]:
    """Places by name (no point, no query): a category, a ward, the accessible ones."""
    stmt = _base(filters).order_by(place.c.search_name, place.c.id).limit(limit).offset(offset)
    return [dict(r) for r in (await session.execute(stmt)).mappings()]


async def for_staff(
    session: AsyncSession,
    filters: Filters,
    *,
    retired: bool,
    verified_before: datetime | None,
    limit: int,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """(a page of places by name, how many match) for the staff list: the live places or the
    retired ones; with `verified_before`, only those not checked since then (never counts);
    words match like the search."""
    base = _base(replace(filters, include_retired=True), FULL_COLUMNS).where(
        place.c.retired_at.is_not(None) if retired else place.c.retired_at.is_(None)
    )
    if verified_before is not None:
        base = base.where(
            or_(place.c.last_verified_at.is_(None), place.c.last_verified_at < verified_before)
        )
    stmt = _with_text(base, session, filters)
    if stmt is None:
        return [], 0
    total = int(await session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    page = stmt.order_by(place.c.search_name, place.c.id).limit(limit).offset(offset)
    return [dict(r) for r in (await session.execute(page)).mappings()], total


async def one(session: AsyncSession, code: str) -> dict[str, Any] | None:
    stmt = _base(Filters(include_retired=True), FULL_COLUMNS).where(place.c.code == code)
    row = (await session.execute(stmt)).mappings().first()
    return dict(row) if row else None


async def dataset_version(
    session: AsyncSession, since: datetime | None
) -> tuple[datetime | None, int, int]:
    """(latest change, live places, changed since `since`): enough to answer 304 without
    reading the rows."""
    changed = func.count().filter(place.c.updated_at > since) if since else func.count()
    row = (
        await session.execute(
            select(
                func.max(place.c.updated_at),
                func.count().filter(place.c.retired_at.is_(None)),
                changed,
            )
        )
    ).one()
    latest = row[0]
    if isinstance(latest, str):  # SQLite hands back text for an aggregate of a datetime
        latest = datetime.fromisoformat(latest)
    if latest is not None and latest.tzinfo is None:
        latest = latest.replace(tzinfo=UTC)
    return latest, int(row[1] or 0), int(row[2] or 0)


async def stream_changed(
    session: AsyncSession,
    since: datetime | None,
    filters: Filters = Filters(),
) -> AsyncIterator[dict[str, Any]]:
    """Every place changed after `since` (all when None), retired ones included, oldest change
    first, read in chunks so memory stays flat whatever the size of the province."""
    stmt = _base(
        Filters(
            categories=filters.categories,
            ward_code=filters.ward_code,
            wheelchair=filters.wheelchair,
            include_retired=since is not None,
        ),
        FULL_COLUMNS,
    )
    if since is not None:
        stmt = stmt.where(place.c.updated_at > since)
    stmt = stmt.order_by(place.c.updated_at, place.c.id).execution_options(yield_per=500)
    result = await session.stream(stmt)
    async for row in result.mappings():
        yield dict(row)
