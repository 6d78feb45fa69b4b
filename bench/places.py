"""Nearby-places benchmark: `app.places.repository.nearby` on 100,000 and 1,000,000 synthetic
places, on SQLite and PostgreSQL, and GET /api/v1/places?lat=&lon= against the framework ceiling.

    .venv/bin/python bench/places.py [--db sqlite|postgres|both] [--sizes 100000,1000000]
                                     [--queries 2000] [--duration 10] [--quick] [--keep-db]
                                     [--verbose] [--profile] [--json FILE] [--strict]

For each database and size:

  load   a fresh database (Alembic `upgrade head`), 180 grid wards, six departments and N
         synthetic places over the province's box (lat 21.3-22.3, lon 103.9-105.2): 70 % around
         ten towns (gaussian, 2-3.5 km), 30 % uniform. SQLite: executemany in transactions of 100,000 rows with `synchronous=OFF` (the migration's
         triggers fill the R*Tree and FTS5 tables). PostgreSQL: asyncpg COPY with the place
         indexes dropped and foreign-key triggers off, then the same indexes rebuilt from their own
         definitions, then ANALYZE.
  query  `repository.nearby(session, lat, lon, 5000, limit=20)` through a real AsyncSession (the
         application's engine settings), warm, at --queries points drawn like the places; then
         the same with category=health. Median and p95. "raw" replays the very statements the
         repository sent for each point with the bare driver (sqlite3, asyncpg): the database's
         share. Also the rows the database returned per point and the statements per point.
  plan   PostgreSQL: EXPLAIN (ANALYZE, BUFFERS) of one point's query, as first executed and as
         a warm connection's prepared statement runs it, must be an Index Scan on ix_place_earth
         ordered by `<->`; SQLite: EXPLAIN QUERY PLAN must search the R*Tree
         (`place_rtree VIRTUAL TABLE INDEX 2:`). --verbose prints the plans.

Then, on the largest size of each database, `citizen-hub serve` (1 worker, bench/run.py's server
settings) and wrk GET /api/v1/places?lat=..&lon=..&radius=5000&limit=20 cycling through 20,000
points (more than the response cache's 2,048 entries, so every request reaches the database)
and through 1,000 points (for information: a point that comes back within 5 s is a cache hit),
beside the bare-framework ceiling measured in the same run.

Targets: nearby <= 1 ms (median) at 1,000,000 places and at most 2x slower for 10x the places;
the uncached endpoint >= 0.40x the ceiling on PostgreSQL. Exits 1 when something fails;
`--strict` also when a target is missed. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import json
import math
import os
import pstats
import random
import re
import secrets
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from bisect import bisect
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import accumulate, islice, pairwise
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402 - after the path is set
from bench import run as harness  # noqa: E402

QUERY_TARGET_MS = 1.0  # median nearby at TARGET_SIZE places
TARGET_SIZE = 1_000_000
GROWTH_TARGET = 2.0  # median at 10x the places / median at 1x
HTTP_TARGET = 0.40  # the hot nearby read (req/s / ceiling req/s), PostgreSQL
RADIUS_M = 5_000
LIMIT = 20
FILTERED = "health"
DATA_VERSION = 2  # bump when the generated rows change (invalidates --keep-db caches)
CACHE_DIR = ROOT / "var" / "bench-places"
LOAD_CHUNK = 100_000
UNCACHED_POINTS = 20_000  # > the response cache's 2,048 entries: every request misses it
CACHED_POINTS = 1_000

LAT_RANGE = (21.3, 22.3)
LON_RANGE = (103.9, 105.2)
CLUSTERED = 0.70
# (lat, lon, gaussian spread in km, share of the clustered places): approximate town centres.
TOWNS = [
    (21.7229, 104.9113, 3.5, 0.25),  # Yên Bái city
    (21.5980, 104.5130, 3.0, 0.12),  # Nghĩa Lộ
    (21.5730, 104.6390, 2.5, 0.08),  # Văn Chấn
    (21.8710, 104.6890, 2.5, 0.09),  # Văn Yên (Mậu A)
    (22.1100, 104.7680, 3.0, 0.09),  # Lục Yên (Yên Thế)
    (21.8120, 104.9710, 2.5, 0.09),  # Yên Bình
    (21.7560, 104.8220, 2.0, 0.08),  # Trấn Yên
    (21.7480, 105.0270, 2.0, 0.06),  # Thác Bà
    (21.8520, 104.0900, 2.0, 0.08),  # Mù Cang Chải
    (21.4660, 104.3820, 2.0, 0.06),  # Trạm Tấu
]
_TOWN_CUMULATIVE = list(accumulate(t[3] for t in TOWNS))

# category: (share, [(vi, en) name patterns], (vi, en) description)
CATEGORIES: dict[str, tuple[float, list[tuple[str, str]], tuple[str, str]]] = {
    "food": (
        0.20,
        [("Quán phở", "Pho shop"), ("Nhà hàng", "Restaurant"), ("Quán cà phê", "Café")],
        ("Món ăn địa phương, giá bình dân", "Local dishes at ordinary prices"),
    ),
    "shopping": (
        0.14,
        [("Chợ", "Market"), ("Cửa hàng tạp hoá", "Grocery")],
        ("Hàng thiết yếu và đặc sản", "Everyday goods and local specialities"),
    ),
    "accommodation": (
        0.08,
        [("Nhà nghỉ", "Guesthouse"), ("Khách sạn", "Hotel"), ("Homestay", "Homestay")],
        ("Phòng nghỉ sạch sẽ", "Clean rooms"),
    ),
    "health": (
        0.06,
        [("Trạm y tế", "Health station"), ("Nhà thuốc", "Pharmacy"), ("Phòng khám", "Clinic")],
        ("Khám chữa bệnh và thuốc", "Care and medicines"),
    ),
    "education": (
        0.08,
        [("Trường tiểu học", "Primary school"), ("Trường THCS", "Lower secondary school")],
        ("Trường công lập", "Public school"),
    ),
    "government": (
        0.05,
        [("UBND xã", "Commune People's Committee"), ("Bộ phận một cửa", "One-stop desk")],
        ("Tiếp nhận hồ sơ hành chính", "Administrative procedures"),
    ),
    "finance": (
        0.06,
        [("Ngân hàng", "Bank"), ("Cây ATM", "ATM")],
        ("Giao dịch ngân hàng", "Banking"),
    ),
    "transport": (
        0.05,
        [("Bến xe", "Bus station"), ("Bãi đỗ xe", "Car park")],
        ("Xe khách liên tỉnh", "Intercity coaches"),
    ),
    "sights": (
        0.06,
        [("Điểm ngắm cảnh", "Viewpoint"), ("Ruộng bậc thang", "Rice terraces")],
        ("Cảnh đẹp của tỉnh", "A fine view of the province"),
    ),
    "nature": (
        0.06,
        [("Thác", "Waterfall"), ("Hang", "Cave")],
        ("Thiên nhiên hoang sơ", "Unspoilt nature"),
    ),
    "culture": (
        0.08,
        [("Đền", "Temple"), ("Nhà văn hoá", "Cultural house")],
        ("Di tích và lễ hội", "Heritage and festivals"),
    ),
    "toilets": (
        0.05,
        [("Nhà vệ sinh công cộng", "Public toilets")],
        ("Mở cửa ban ngày", "Open in the daytime"),
    ),
    "emergency": (
        0.03,
        [("Công an xã", "Commune police"), ("Đội cứu hoả", "Fire station")],
        ("Gọi 113, 114, 115", "Call 113, 114, 115"),
    ),
}
_CATEGORY_NAMES = list(CATEGORIES)
_CATEGORY_CUMULATIVE = list(accumulate(c[0] for c in CATEGORIES.values()))
STREETS = [
    "Đường Nguyễn Thái Học",
    "Đường Điện Biên",
    "Đường Hoàng Hoa Thám",
    "Đường Trần Hưng Đạo",
    "Đường Lê Lợi",
    "Đường Yên Ninh",
    "Quốc lộ 32",
    "Quốc lộ 37",
    "Quốc lộ 70",
    "Tỉnh lộ 166",
    "Thôn Bản Lướt",
    "Bản Nậm Khắt",
]
OPENING_HOURS: list[str | None] = [
    None,
    None,
    "Mo-Fr 07:30-11:30,13:30-17:00",
    "Mo-Su 06:00-22:00",
    "Mo-Sa 08:00-20:00; PH off",
    "24/7",
    "Mo-Su 07:00-21:00",
]
WHEELCHAIR: list[str | None] = [None, None, None, None, None, "yes", "yes", "limited", "no", "no"]
# Wards: the box cut into a grid (the province has about 170 wards and communes); places carry
# the ward of their cell, and public-service places a department, so lists join real rows.
WARD_ROWS, WARD_COLS = 12, 15
DEPARTMENTS = {
    "health": ("Sở Y tế", "Department of Health"),
    "education": ("Sở Giáo dục và Đào tạo", "Department of Education and Training"),
    "government": ("Văn phòng UBND tỉnh", "Provincial People's Committee Office"),
    "transport": ("Sở Giao thông Vận tải", "Department of Transport"),
    "emergency": ("Công an tỉnh", "Provincial Police"),
    "culture": ("Sở Văn hoá, Thể thao và Du lịch", "Department of Culture, Sports and Tourism"),
}
_DEPARTMENT_IDS = {category: n for n, category in enumerate(DEPARTMENTS, start=1)}
COLUMNS = (
    "code",
    "category",
    "ward_id",
    "department_id",
    "name",
    "description",
    "address",
    "lat",
    "lon",
    "phone",
    "opening_hours",
    "photos",
    "tags",
    "source",
    "is_demo",
    "wheelchair",
    "accessibility_notes",
    "search_name",
    "search_body",
    "created_at",
    "updated_at",
)


# --------------------------------------------------------------------------------------------
# Synthetic data


def random_point(rng: random.Random) -> tuple[float, float]:
    """A point of the province: CLUSTERED of them around a town, the rest anywhere in the box."""
    while True:
        if rng.random() < CLUSTERED:
            lat0, lon0, spread_km, _share = TOWNS[
                min(bisect(_TOWN_CUMULATIVE, rng.random() * _TOWN_CUMULATIVE[-1]), len(TOWNS) - 1)
            ]
            lat = rng.gauss(lat0, spread_km / 111.2)
            lon = rng.gauss(lon0, spread_km / (111.32 * math.cos(math.radians(lat0))))
        else:
            lat, lon = rng.uniform(*LAT_RANGE), rng.uniform(*LON_RANGE)
        if LAT_RANGE[0] <= lat <= LAT_RANGE[1] and LON_RANGE[0] <= lon <= LON_RANGE[1]:
            return round(lat, 6), round(lon, 6)


def ward_of(lat: float, lon: float) -> int:
    row = min(int((lat - LAT_RANGE[0]) / (LAT_RANGE[1] - LAT_RANGE[0]) * WARD_ROWS), WARD_ROWS - 1)
    col = min(int((lon - LON_RANGE[0]) / (LON_RANGE[1] - LON_RANGE[0]) * WARD_COLS), WARD_COLS - 1)
    return row * WARD_COLS + col + 1


def ward_rows() -> list[tuple[Any, ...]]:
    """(id, code, name, name_folded, kind, district, polygon, min_lat, max_lat, min_lon, max_lon)"""
    height = (LAT_RANGE[1] - LAT_RANGE[0]) / WARD_ROWS
    width = (LON_RANGE[1] - LON_RANGE[0]) / WARD_COLS
    rows = []
    for row in range(WARD_ROWS):
        for col in range(WARD_COLS):
            n = row * WARD_COLS + col + 1
            s, w = LAT_RANGE[0] + row * height, LON_RANGE[0] + col * width
            ring = [[w, s], [w + width, s], [w + width, s + height], [w, s + height], [w, s]]
            rows.append(
                (
                    n,
                    f"bench-{n:03d}",
                    f"Xã Thử {n}",
                    f"xa thu {n}",
                    "commune",
                    "Huyện Thử",
                    json.dumps(ring),
                    s,
                    s + height,
                    w,
                    w + width,
                )
            )
    return rows


WARD_COLUMNS = (
    "id",
    "code",
    "name",
    "name_folded",
    "kind",
    "district",
    "polygon",
    "min_lat",
    "max_lat",
    "min_lon",
    "max_lon",
)
DEPARTMENT_COLUMNS = ("id", "code", "name_vi", "name_en", "created_at")


def department_rows(stamp: Any) -> list[tuple[Any, ...]]:
    return [
        (_DEPARTMENT_IDS[category], f"bench-{category}", vi, en, stamp)
        for category, (vi, en) in DEPARTMENTS.items()
    ]


def random_points(n: int, seed: int) -> list[tuple[float, float]]:
    rng = random.Random(seed)
    return [random_point(rng) for _ in range(n)]


def _patterns() -> dict[str, tuple[list[tuple[str, str]], str, str]]:
    """Per category: (JSON name format, folded name format) per pattern, description JSON and its
    folded text: the keys `app.places.service.search_keys` writes, computed once per pattern."""
    from app.kit.text import fold

    out = {}
    for category, (_share, names, (desc_vi, desc_en)) in CATEGORIES.items():
        formats = [
            (
                json.dumps({"vi": f"{vi} @", "en": f"{en} @"}, ensure_ascii=False),
                f"{fold(vi)} @ {fold(en)} @",
            )
            for vi, en in names
        ]
        description = json.dumps({"vi": desc_vi, "en": desc_en}, ensure_ascii=False)
        out[category] = (formats, description, f"{fold(desc_vi)} {fold(desc_en)}")
    return out


def place_rows(n: int, seed: int, stamp: Any) -> Iterator[tuple[Any, ...]]:
    """N places in COLUMNS order; `stamp` is created_at/updated_at as the driver wants it."""
    from app.kit.text import fold

    rng = random.Random(seed)
    draw = rng.random
    patterns = _patterns()
    streets = [(s, fold(s)) for s in STREETS]
    total, last = _CATEGORY_CUMULATIVE[-1], len(_CATEGORY_NAMES) - 1
    for i in range(1, n + 1):
        lat, lon = random_point(rng)
        category = _CATEGORY_NAMES[min(bisect(_CATEGORY_CUMULATIVE, draw() * total), last)]
        formats, description, folded_description = patterns[category]
        name_json, folded_name = formats[i % len(formats)]
        street, folded_street = streets[int(draw() * len(streets))]
        number = int(draw() * 399) + 1
        text_i = str(i)
        yield (
            f"bench-{i:07d}",
            category,
            ward_of(lat, lon),
            _DEPARTMENT_IDS.get(category),
            name_json.replace("@", text_i),
            description,
            f"Số {number}, {street}",
            lat,
            lon,
            f"0216 3{int(draw() * 900_000) + 100_000}" if i % 2 else None,
            OPENING_HOURS[int(draw() * len(OPENING_HOURS))],
            "[]",
            "[]",
            "bench",
            False,
            WHEELCHAIR[int(draw() * len(WHEELCHAIR))],
            "{}",
            folded_name.replace("@", text_i),
            f"{folded_description} so {number}, {folded_street}",
            stamp,
            stamp,
        )


def check_rows() -> None:
    """The generated rows are what the application would store: valid categories, opening
    hours it can evaluate, and the search keys app.places.service.search_keys computes."""
    from app.places import hours
    from app.places.models import Category
    from app.places.service import search_keys

    now = datetime.now(UTC)
    for expression in OPENING_HOURS:
        if expression:
            hours.evaluate(expression, now, lambda _day: False, "Asia/Ho_Chi_Minh")
    assert set(CATEGORIES) == {c.value for c in Category}, "a category is missing"
    index = {name: c for c, name in enumerate(COLUMNS)}
    for row in place_rows(300, 1, now):
        expected = search_keys(
            json.loads(row[index["name"]]),
            json.loads(row[index["description"]]),
            [],
            row[index["address"]],
        )
        got = (row[index["search_name"]], row[index["search_body"]])
        assert got == expected, f"search keys differ from the service's: {got} != {expected}"


# --------------------------------------------------------------------------------------------
# Databases


@dataclass
class Loaded:
    database: str  # sqlite | postgres
    size: int
    url: str  # the application's URL (sqlite+aiosqlite / postgresql+asyncpg)
    raw: str  # SQLite file path, or asyncpg DSN
    load_s: float | None = None  # None: reused from --keep-db
    megabytes: float = 0.0


def cache_key(size: int, seed: int) -> str:
    from app.ops.migrations import head_revision

    return f"{size}_{seed}_v{DATA_VERSION}_{head_revision()}"


def insert_sql(table: str, columns: tuple[str, ...]) -> str:
    names, marks = ", ".join(columns), ", ".join("?" * len(columns))
    return f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608 - our own constants


def load_sqlite(path: Path, size: int, seed: int) -> float:
    from sqlalchemy.dialects import sqlite

    from app.ops.migrations import upgrade
    from app.places.models import Place

    started = time.perf_counter()
    path.unlink(missing_ok=True)
    upgrade(f"sqlite+aiosqlite:///{path}")
    to_sqlite = Place.__table__.c.created_at.type.bind_processor(sqlite.dialect())
    stamp = to_sqlite(datetime.now(UTC)) if to_sqlite else datetime.now(UTC)
    con = sqlite3.connect(path, isolation_level=None)
    try:
        con.execute("PRAGMA synchronous=OFF")
        con.execute("PRAGMA cache_size=-262144")  # 256 MiB for the R*Tree, FTS and unique indexes
        for table, columns, rows in (
            ("ward", WARD_COLUMNS, ward_rows()),
            ("department", DEPARTMENT_COLUMNS, department_rows(stamp)),
        ):
            con.executemany(insert_sql(table, columns), rows)
        insert = insert_sql("place", COLUMNS)
        rows = place_rows(size, seed, stamp)
        while chunk := list(islice(rows, LOAD_CHUNK)):
            con.execute("BEGIN")
            con.executemany(insert, chunk)
            con.execute("COMMIT")
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()
    return time.perf_counter() - started


async def load_postgres(dsn: str, size: int, seed: int) -> None:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        # Indexes (not constraints) are built after the COPY: far faster than row by row.
        indexes = await conn.fetch(
            """SELECT indexname, indexdef FROM pg_indexes
               WHERE schemaname = current_schema() AND tablename = 'place'
                 AND indexname NOT IN (SELECT conname FROM pg_constraint
                                       WHERE conrelid = 'place'::regclass)"""
        )
        for index in indexes:
            await conn.execute(f'DROP INDEX "{index["indexname"]}"')
        now = datetime.now(UTC)
        # The rows are consistent by construction: skip the per-row foreign-key triggers.
        await conn.execute("SET session_replication_role = replica")
        await conn.copy_records_to_table("ward", records=ward_rows(), columns=WARD_COLUMNS)
        await conn.copy_records_to_table(
            "department", records=department_rows(now), columns=DEPARTMENT_COLUMNS
        )
        await conn.copy_records_to_table(
            "place", records=place_rows(size, seed, now), columns=COLUMNS
        )
        await conn.execute("SET session_replication_role = DEFAULT")
        await conn.execute("SET maintenance_work_mem = '512MB'")
        for index in indexes:
            await conn.execute(index["indexdef"])
        await conn.execute("ANALYZE")  # every table, as autovacuum would
        await conn.execute(f"COMMENT ON TABLE place IS 'bench/places.py {size} {seed}'")
    finally:
        await conn.close()


async def postgres_loaded(dsn: str, size: int, seed: int) -> bool:
    import asyncpg

    try:
        conn = await asyncpg.connect(dsn)
    except (OSError, asyncpg.PostgresError):
        return False
    try:
        comment = await conn.fetchval("SELECT obj_description('place'::regclass, 'pg_class')")
        return bool(comment == f"bench/places.py {size} {seed}")
    except asyncpg.PostgresError:
        return False
    finally:
        await conn.close()


async def postgres_megabytes(dsn: str) -> float:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        return float(await conn.fetchval("SELECT pg_database_size(current_database())")) / 1e6
    finally:
        await conn.close()


def prepare(
    database: str, size: int, args: argparse.Namespace, workdir: Path, stack: contextlib.ExitStack
) -> Loaded:
    """A database holding `size` places: loaded now, or reused with --keep-db."""
    from app.ops.migrations import upgrade

    key = cache_key(size, args.seed)
    if database == "sqlite":
        folder = CACHE_DIR if args.keep_db else workdir
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"places-{key}.sqlite3"
        done = path.with_suffix(".loaded")
        loaded = Loaded(database, size, f"sqlite+aiosqlite:///{path}", str(path))
        if args.keep_db and path.exists() and done.exists():
            harness.log(f"[sqlite] reusing {path}")
        else:
            done.unlink(missing_ok=True)
            harness.log(f"[sqlite] loading {size:,} places into {path}")
            loaded.load_s = load_sqlite(path, size, args.seed)
            if args.keep_db:
                done.write_text(key + "\n")
        files = list(folder.glob(f"{path.name}*"))  # the database, its -wal and -shm
        loaded.megabytes = sum(p.stat().st_size for p in files) / 1e6
        if not args.keep_db:
            stack.callback(lambda: [p.unlink(missing_ok=True) for p in files])
        return loaded

    name = f"citizenhub_bench_places_{key}"
    if not args.keep_db:
        name = f"citizenhub_bench_{os.getpid()}_{secrets.token_hex(4)}"
    url = harness.pg_app_url(args.pg_admin_url, name)
    dsn = url.replace("postgresql+asyncpg://", "postgresql://", 1)
    loaded = Loaded(database, size, url, dsn)
    if args.keep_db and asyncio.run(postgres_loaded(dsn, size, args.seed)):
        harness.log(f"[postgres] reusing database {name}")
    else:
        started = time.perf_counter()
        if args.keep_db:
            harness.pg_drop(args.pg_admin_url, name)
        harness.pg_create(args.pg_admin_url, name)
        if not args.keep_db:
            stack.callback(harness.pg_drop, args.pg_admin_url, name)
        upgrade(url)
        harness.log(f"[postgres] loading {size:,} places into {name}")
        asyncio.run(load_postgres(dsn, size, args.seed))
        loaded.load_s = time.perf_counter() - started
    loaded.megabytes = asyncio.run(postgres_megabytes(dsn))
    return loaded


# --------------------------------------------------------------------------------------------
# Query timing


@dataclass
class Timing:
    database: str
    size: int
    variant: str  # "all" or the category
    queries: int
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    raw_p50_ms: float = 0.0
    raw_p95_ms: float = 0.0
    results: float = 0.0  # places answered per query (mean)
    rows_read: float = 0.0  # rows the database returned per query (mean, all statements)
    statements: float = 0.0  # statements per query (mean)
    plan: str = ""
    plan_ok: bool = False
    plan_label: str = ""
    plan_summary: str = ""


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


async def repository_pass(
    url: str,
    points: list[tuple[float, float]],
    warm: list[tuple[float, float]],
    category: str | None,
    budget_s: float,
    profile: cProfile.Profile | None = None,
) -> tuple[list[float], list[int], list[list[tuple[str, Any]]]]:
    """Time `repository.nearby` at each point in one warm session (the application's engine and
    session settings), recording the statements it sends; stop early, after at least 100 points,
    once `budget_s` seconds have gone."""
    from sqlalchemy import event

    from app.db import create_engine, create_sessionmaker
    from app.places import repository

    filters = repository.Filters(categories=(category,) if category else ())
    engine = create_engine(url)
    sessionmaker = create_sessionmaker(engine)
    recorded: list[list[tuple[str, Any]]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        if recorded and statement[:6].upper() == "SELECT":
            recorded[-1].append((statement, parameters))

    samples: list[float] = []
    results: list[int] = []
    try:
        async with sessionmaker() as session:
            for lat, lon in warm:
                await repository.nearby(session, lat, lon, RADIUS_M, filters, limit=LIMIT)
            event.listen(engine.sync_engine, "before_cursor_execute", record)
            if profile is not None:
                profile.enable()
            deadline = time.perf_counter() + budget_s
            for index, (lat, lon) in enumerate(points):
                if index >= 100 and time.perf_counter() > deadline:
                    harness.log(f"time budget spent: {index} of {len(points)} points measured")
                    break
                recorded.append([])
                started = time.perf_counter()
                rows = await repository.nearby(session, lat, lon, RADIUS_M, filters, limit=LIMIT)
                samples.append(time.perf_counter() - started)
                results.append(len(rows))
            if profile is not None:
                profile.disable()
            event.remove(engine.sync_engine, "before_cursor_execute", record)
    finally:
        await engine.dispose()
    return samples, results, recorded


def replay_sqlite(path: str, recorded: list[list[tuple[str, Any]]]) -> tuple[list[float], int]:
    con = sqlite3.connect(path)
    try:
        for statement, parameters in recorded[0] * 50:  # warm the page cache
            con.execute(statement, parameters).fetchall()
        samples, rows = [], 0
        for statements in recorded:
            started = time.perf_counter()
            for statement, parameters in statements:
                rows += len(con.execute(statement, parameters).fetchall())
            samples.append(time.perf_counter() - started)
        return samples, rows
    finally:
        con.close()


async def replay_postgres(
    dsn: str, recorded: list[list[tuple[str, Any]]]
) -> tuple[list[float], int]:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        for statement, parameters in recorded[0] * 50:
            await conn.fetch(statement, *parameters)
        samples, rows = [], 0
        for statements in recorded:
            started = time.perf_counter()
            for statement, parameters in statements:
                rows += len(await conn.fetch(statement, *parameters))
            samples.append(time.perf_counter() - started)
        return samples, rows
    finally:
        await conn.close()


def explain_sqlite(path: str, statement: str, parameters: Any) -> tuple[str, bool, str, str]:
    """(plan, ok, label, summary): ok when the R*Tree box search is the outer loop."""
    con = sqlite3.connect(path)
    try:
        details = [r[3] for r in con.execute("EXPLAIN QUERY PLAN " + statement, parameters)]
    finally:
        con.close()
    plan = "\n".join(details)
    first = details[0] if details else ""
    # The outer loop must be the R*Tree's box search (index 2), under its name or an alias.
    outer = re.match(r"SCAN (\w+) VIRTUAL TABLE INDEX 2:", first)
    ok = outer is not None and (
        outer.group(1) == "place_rtree"
        or re.search(rf"\bplace_rtree\s+(?:AS\s+)?{outer.group(1)}\b", statement) is not None
    )
    found = re.search(r"USING (?:COVERING )?INDEX (\w+)", first)
    label = "R*Tree box" if ok else f"{found.group(1) if found else first[:30]} first"
    return plan, ok, label, f"{label}: {' / '.join(details)}"


def _pg_plan_label(plan: str) -> tuple[bool, str, str]:
    scan = next((line for line in plan.splitlines() if "ix_place_earth" in line), "")
    ordered = re.search(r"Order By: .*ll_to_earth.*<->", plan) is not None
    ok = "Index Scan using ix_place_earth" in scan and "Bitmap" not in scan and ordered
    label = "KNN index scan" if ok else "bitmap + sort" if "Bitmap" in scan else "no ix_place_earth"
    rows = re.search(r"rows=(\d+) loops", scan)
    removed = re.search(r"Rows Removed by Filter: (\d+)", plan)
    execution = re.search(r"Execution Time: ([\d.]+) ms", plan)
    detail = (
        f"{label}, {rows.group(1) if rows else '?'} rows from ix_place_earth"
        f"{f' ({removed.group(1)} filtered out)' if removed else ''}, "
        f"executed in {execution.group(1) if execution else '?'} ms"
    )
    return ok, label, detail


def _pg_literal(value: Any) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return "NULL" if value is None else repr(value)


async def explain_postgres(dsn: str, statement: str, parameters: Any) -> tuple[str, bool, str, str]:
    """(plan, ok, label, summary) of the plan a warm connection runs: the application's driver
    prepares each statement, and after five executions PostgreSQL may switch to a generic plan
    (blind to the point and the radius), which can differ from the first executions' plan."""
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        first = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + statement, *parameters)
        await conn.execute(f"PREPARE bench_nearby AS {statement}")
        execute = f"EXECUTE bench_nearby({', '.join(map(_pg_literal, parameters))})"
        for _ in range(6):
            await conn.execute(execute)
        warm = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + execute)
    finally:
        await conn.close()
    first_plan, warm_plan = ("\n".join(r[0] for r in rows) for rows in (first, warm))
    ok, label, detail = _pg_plan_label(warm_plan)
    _first_ok, first_label, first_detail = _pg_plan_label(first_plan)
    if first_label != label:
        label += f" (first runs: {first_label})"
    plan = f"first executions:\n{first_plan}\nprepared, after six executions:\n{warm_plan}"
    return plan, ok, label, f"warm: {detail}; first executions: {first_detail}"


def warm_sqlite(path: str) -> None:
    """Read the database file once, so no timed query waits for the disk (a reused --keep-db
    file may have left the page cache)."""
    with open(path, "rb") as file:
        while file.read(1 << 20):
            pass


async def warm_postgres(dsn: str) -> None:
    """The same for PostgreSQL: the table and its indexes into the OS cache (pg_prewarm)."""
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        await conn.execute(
            """SELECT pg_prewarm(c.oid, 'read') FROM pg_class c
               WHERE c.oid = 'place'::regclass
                  OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = 'place'::regclass)"""
        )
    finally:
        await conn.close()


def time_queries(loaded: Loaded, args: argparse.Namespace) -> list[Timing]:
    points = random_points(args.queries, args.seed + 1)
    warm = random_points(min(200, max(20, args.queries // 10)), args.seed + 2)
    if loaded.database == "sqlite":
        warm_sqlite(loaded.raw)
    else:
        asyncio.run(warm_postgres(loaded.raw))
    timings = []
    for category in (None, FILTERED):
        variant = f"category={category}" if category else "all"
        harness.log(f"[{loaded.database}] {loaded.size:,} places, {variant}: {len(points)} queries")
        samples, results, recorded = asyncio.run(
            repository_pass(loaded.url, points, warm, category, args.budget)
        )
        if loaded.database == "sqlite":
            raw, rows = replay_sqlite(loaded.raw, recorded)
            plan = explain_sqlite(loaded.raw, *recorded[0][0])
        else:
            raw, rows = asyncio.run(replay_postgres(loaded.raw, recorded))
            plan = asyncio.run(explain_postgres(loaded.raw, *recorded[0][0]))
        timings.append(
            Timing(
                loaded.database,
                loaded.size,
                variant,
                len(samples),
                p50_ms=statistics.median(samples) * 1000,
                p95_ms=percentile(samples, 0.95) * 1000,
                raw_p50_ms=statistics.median(raw) * 1000,
                raw_p95_ms=percentile(raw, 0.95) * 1000,
                results=statistics.fmean(results),
                rows_read=rows / len(recorded),
                statements=statistics.fmean(len(s) for s in recorded),
                plan=plan[0],
                plan_ok=plan[1],
                plan_label=plan[2],
                plan_summary=plan[3],
            )
        )
    return timings


def profile_queries(loaded: Loaded, args: argparse.Namespace) -> str:
    points = random_points(args.queries, args.seed + 1)
    profile = cProfile.Profile()
    asyncio.run(repository_pass(loaded.url, points, points[:50], None, args.budget, profile))
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out).strip_dirs().sort_stats("tottime")
    stats.print_stats(25)
    return out.getvalue()


# --------------------------------------------------------------------------------------------
# HTTP


def nearby_path(lat: float, lon: float) -> str:
    return f"/api/v1/places?lat={lat}&lon={lon}&radius={RADIUS_M}&limit={LIMIT}"


def _found_places(status: int, body: bytes) -> bool:
    return status == 200 and bool(json.loads(body).get("items"))


def measure_http(
    loaded: Loaded, args: argparse.Namespace, workdir: Path, ceiling: harness.Result
) -> list[harness.Result]:
    server = common.app_server(
        f"{loaded.size:,} places", loaded.database, loaded.url, args, workdir
    )
    port = server.port
    results = []
    try:
        server.start()
        variants = [
            (
                "nearby-hot",
                1,
                HTTP_TARGET,
                "one point asked by everyone (a town centre): the hot read, answered from the "
                "5-second shared cache and revalidated by ETag",
            ),
            (
                "nearby",
                UNCACHED_POINTS,
                None,
                f"{UNCACHED_POINTS:,} points, more than the response cache holds: "
                "every request queries the database",
            ),
            (
                "nearby-1k",
                CACHED_POINTS,
                None,
                f"{CACHED_POINTS:,} points: a point asked again within 5 s is answered from the cache",
            ),
        ]
        for name, count, target, note in variants[: 2 if args.quick else 3]:
            points = random_points(count, args.seed + 3)
            result = common.measure_cycle(
                name,
                loaded.database,
                port,
                [nearby_path(lat, lon) for lat, lon in points],
                args,
                workdir,
                note,
                target=target,
                unit="points",
                accept=_found_places,
            )
            result.ratio = result.rps / ceiling.rps if result.requests else None
            if result.problems and not server.alive():
                result.problems.append(f"the server died:\n{server.log_tail()}")
            results.append(result)
    finally:
        server.stop()
    return results


# --------------------------------------------------------------------------------------------
# Output


def timing_table(timings: list[Timing], loads: list[Loaded]) -> str:
    loaded = {(x.database, x.size): x for x in loads}
    header = [
        "database",
        "places",
        "load s",
        "MB",
        "query",
        "points",
        "p50 ms",
        "p95 ms",
        "raw p50",
        "raw p95",
        "answered",
        "rows read",
        "stmts",
        "plan",
    ]
    body = []
    for t in timings:
        x = loaded[(t.database, t.size)]
        first = t.variant == "all"
        body.append(
            [
                t.database if first else "",
                f"{t.size:,}" if first else "",
                ("reused" if x.load_s is None else f"{x.load_s:.1f}") if first else "",
                f"{x.megabytes:,.0f}" if first else "",
                t.variant,
                f"{t.queries:,}",
                f"{t.p50_ms:.3f}",
                f"{t.p95_ms:.3f}",
                f"{t.raw_p50_ms:.3f}",
                f"{t.raw_p95_ms:.3f}",
                f"{t.results:.1f}",
                f"{t.rows_read:,.0f}",
                f"{t.statements:.2f}",
                t.plan_label,
            ]
        )
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
    lines = [
        "  ".join(
            c.ljust(w) if i in (0, 4, len(r) - 1) else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ).rstrip()
        for r in [header, *body]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def growth_lines(timings: list[Timing]) -> tuple[list[str], list[str]]:
    """Median at each size over the median at the previous size, and the 1 ms target."""
    lines, missed = [], []
    by_key = {(t.database, t.variant, t.size): t for t in timings}
    for database, variant in dict.fromkeys((t.database, t.variant) for t in timings):
        sizes = sorted(t.size for t in timings if (t.database, t.variant) == (database, variant))
        for small, large in pairwise(sizes):
            a, b = by_key[(database, variant, small)], by_key[(database, variant, large)]
            ratio = b.p50_ms / a.p50_ms
            judged = large >= 10 * small
            verdict = ("ok" if ratio <= GROWTH_TARGET else "ABOVE") if judged else "(not 10x: info)"
            line = (
                f"{database:<8} {variant:<16} {large:>9,} / {small:<9,} median {ratio:5.2f}x "
                f"(raw {b.raw_p50_ms / a.raw_p50_ms:5.2f}x)  target <= {GROWTH_TARGET:g}x {verdict}"
            )
            lines.append(line)
            if judged and ratio > GROWTH_TARGET:
                missed.append(f"{database} {variant}: {ratio:.2f}x for {large // small}x places")
        big = by_key.get((database, variant, TARGET_SIZE))
        if big is not None:
            ok = big.p50_ms <= QUERY_TARGET_MS
            lines.append(
                f"{database:<8} {variant:<16} median at {TARGET_SIZE:,}: {big.p50_ms:.3f} ms  "
                f"target <= {QUERY_TARGET_MS:g} ms {'ok' if ok else 'ABOVE'}"
            )
            if not ok:
                missed.append(f"{database} {variant}: {big.p50_ms:.3f} ms at {TARGET_SIZE:,}")
    return lines, missed


# --------------------------------------------------------------------------------------------
# Main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--db", choices=["sqlite", "postgres", "postgresql", "both"], default="both")
    p.add_argument("--sizes", default="100000,1000000", help="numbers of places, comma-separated")
    p.add_argument("--queries", type=int, default=2000, help="query points per size and variant")
    common.wrk_arguments(p)
    p.add_argument(
        "--budget",
        type=float,
        default=60,
        help="seconds at most for one size and variant's timed queries (at least 100 are run)",
    )
    p.add_argument("--seed", type=int, default=2026, help="random seed of places and points")
    p.add_argument(
        "--quick",
        action="store_true",
        help="a smoke test: sizes 2,000 and 20,000, 200 queries, 2 s of wrk, uncached only",
    )
    p.add_argument("--no-http", action="store_true", help="only the repository timings")
    p.add_argument(
        "--keep-db",
        action="store_true",
        help=f"keep the loaded databases ({CACHE_DIR.relative_to(ROOT)}/, PostgreSQL "
        "citizenhub_bench_places_*) and reuse them next time",
    )
    p.add_argument("--verbose", action="store_true", help="print the query plans")
    p.add_argument(
        "--profile", action="store_true", help="cProfile nearby at the largest size and print it"
    )
    common.closing_arguments(p)
    args = p.parse_args(argv)
    if args.db == "postgresql":
        args.db = "postgres"
    if args.quick:
        args.sizes, args.queries, args.duration, args.warmup = "2000,20000", 200, 2, 1
    try:
        args.sizes = sorted({int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()})
    except ValueError:
        p.error("--sizes wants numbers, e.g. 100000,1000000")
    if not args.sizes or args.sizes[0] < LIMIT:
        p.error(f"--sizes wants numbers of at least {LIMIT}")
    if args.queries < 10:
        p.error("--queries must be at least 10")
    common.check_http_arguments(p, args)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    databases = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    settings = ("sizes", "queries", "budget", "duration", "connections", "threads", "seed")
    report = common.start(args, settings, radius_m=RADIUS_M, limit=LIMIT, filtered=FILTERED)
    check_rows()
    loads: list[Loaded] = []
    timings: list[Timing] = []
    http: list[harness.Result] = []
    profiles: list[str] = []
    errors: list[str] = []
    ceiling: harness.Result | None = None
    workdir = Path(tempfile.mkdtemp(prefix="citizenhub-places-bench-"))
    try:
        with contextlib.ExitStack() as outer:
            if args.keep_workdir:
                outer.callback(harness.log, f"kept {workdir}")
            else:
                outer.callback(shutil.rmtree, workdir, ignore_errors=True)
            if not args.no_http:
                ceiling = common.measure_ceiling(args, workdir)
            for database in databases:
                for size in args.sizes:
                    try:
                        with contextlib.ExitStack() as stack:  # drops this database at the end
                            loaded = prepare(database, size, args, workdir, stack)
                            loads.append(loaded)
                            timings += time_queries(loaded, args)
                            if args.profile and size == args.sizes[-1]:
                                profiles.append(
                                    f"\n{database}, {size:,} places: nearby, top 25 by own time\n"
                                    + profile_queries(loaded, args)
                                )
                            if ceiling is not None and size == args.sizes[-1]:
                                http += measure_http(loaded, args, workdir, ceiling)
                    except Exception as exc:  # report it, go on with the next one
                        errors.append(f"[{database} {size:,}] {type(exc).__name__}: {exc}")
                        harness.log(f"[{database} {size:,}] FAILED: {exc!r}")
    except harness.BenchError as exc:
        errors.append(str(exc))
    except KeyboardInterrupt:
        harness.log("interrupted; servers stopped, databases dropped, temporary files removed")
        return 130

    missed: list[str] = []
    if timings:
        print(
            f"\nnearby: radius {RADIUS_M:,} m, limit {LIMIT}, up to {args.queries:,} points drawn "
            f"like the places (at most {args.budget:g} s each), one warm AsyncSession; ms per "
            "call of repository.nearby; raw = the same statements through the bare driver"
        )
        print(timing_table(timings, loads))
        lines, missed = growth_lines(timings)
        print("\n".join(lines))
        for t in timings:
            if args.verbose:
                print(f"\n{t.database}, {t.size:,} places, {t.variant}: plan\n{t.plan}")
            if not t.plan_ok:
                missed.append(f"{t.database} {t.size:,} {t.variant}: plan {t.plan_label}")
        for t in timings:
            if t.variant == "all" and t.size == args.sizes[-1]:
                print(f"plan {t.database} {t.size:,}: {t.plan_summary}")
    if ceiling is not None and http:
        for database in databases:
            rows = [r for r in http if r.database == database]
            if rows:
                size = next(
                    x.size for x in loads if x.database == database and x.size == args.sizes[-1]
                )
                title = (
                    f"\n{database}, {size:,} places: {args.duration:g} s per run, wrk {args.threads} "
                    f"threads, {args.connections} connections"
                )
                print(harness.table(title, [ceiling, *rows], database))
        missed += common.missed_targets(http)
    for text in profiles:
        print(text)
    return common.finish(
        args,
        report,
        ceiling=ceiling,
        loads=loads,
        timings=timings,
        http=http,
        missed=missed,
        errors=errors,
    )


if __name__ == "__main__":
    sys.exit(main())
