"""Nearby places equal the brute-force answer: every place within the radius, by haversine
distance, nearest first, on both databases (R*Tree on SQLite, GiST KNN on PostgreSQL)."""

from __future__ import annotations

import math
import random

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import utcnow
from app.places import repository as repo
from app.places.models import Place
from tests.places.conftest import LAT_RANGE, LON_RANGE, insert_rows, random_rows


def haversine(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    # Written again here on purpose: the test does not trust the code under test's formula.
    r = 6_371_000.0
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((phi2 - phi1) / 2) ** 2
        + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * r * math.asin(math.sqrt(a))


def brute_force(rows, lat, lon, radius, limit, accept=lambda row: True):  # type: ignore[no-untyped-def]
    within = [
        (haversine(lat, lon, row["lat"], row["lon"]), row["code"]) for row in rows if accept(row)
    ]
    within = sorted(item for item in within if item[0] <= radius)
    return [code for _d, code in within[:limit]]


@pytest.fixture
async def places(session: AsyncSession) -> list[dict]:
    rows = random_rows(3000, seed=11)
    await insert_rows(session, rows)
    return rows


async def test_nearby_equals_brute_force_in_the_same_order(
    session: AsyncSession, places: list[dict]
) -> None:
    rng = random.Random(5)
    for _ in range(25):
        lat, lon = rng.uniform(*LAT_RANGE), rng.uniform(*LON_RANGE)
        radius = rng.choice([500, 2_000, 5_000, 20_000, 60_000])
        limit = rng.choice([1, 5, 20, 50])
        got = await repo.nearby(session, lat, lon, radius, limit=limit)
        assert [r["code"] for r in got] == brute_force(places, lat, lon, radius, limit)
        for row in got:
            assert row["distance_m"] == pytest.approx(
                haversine(lat, lon, row["lat"], row["lon"]), abs=0.01
            )


async def test_filters_category_and_wheelchair_keep_the_order(
    session: AsyncSession, places: list[dict]
) -> None:
    lat, lon = 21.7, 104.6
    filters = repo.Filters(categories=("health", "food"), wheelchair=("yes", "limited"))
    got = await repo.nearby(session, lat, lon, 40_000, filters, limit=30)
    expected = brute_force(
        places,
        lat,
        lon,
        40_000,
        30,
        lambda r: r["category"] in ("health", "food") and r["wheelchair"] in ("yes", "limited"),
    )
    assert [r["code"] for r in got] == expected
    assert expected, "the random data should hold some matches"


async def test_a_python_test_such_as_open_now_still_gives_the_nearest_that_pass(
    session: AsyncSession, places: list[dict]
) -> None:
    lat, lon = 21.8, 104.5
    odd = lambda row: int(row["code"].rsplit("-", 1)[1]) % 7 == 0  # noqa: E731
    got = await repo.nearby(session, lat, lon, 50_000, limit=15, keep=odd)
    assert [r["code"] for r in got] == brute_force(places, lat, lon, 50_000, 15, odd)


async def test_retired_places_drop_out_and_come_back(
    session: AsyncSession, places: list[dict]
) -> None:
    lat, lon = places[0]["lat"], places[0]["lon"]
    first = await repo.nearby(session, lat, lon, 1_000, limit=1)
    assert first[0]["code"] == places[0]["code"]
    await session.execute(
        update(Place).where(Place.code == places[0]["code"]).values(retired_at=utcnow())
    )
    after = await repo.nearby(session, lat, lon, 1_000, limit=1)
    assert all(r["code"] != places[0]["code"] for r in after)
    await session.execute(
        update(Place).where(Place.code == places[0]["code"]).values(retired_at=None)
    )
    assert (await repo.nearby(session, lat, lon, 1_000, limit=1))[0]["code"] == places[0]["code"]


async def test_moving_a_place_moves_it_in_the_index(
    session: AsyncSession, places: list[dict]
) -> None:
    target = places[1]
    await session.execute(
        update(Place).where(Place.code == target["code"]).values(lat=22.25, lon=105.15)
    )
    got = await repo.nearby(session, 22.25, 105.15, 100, limit=1)
    assert [r["code"] for r in got] == [target["code"]]


async def test_empty_when_nothing_is_within_the_radius(session: AsyncSession) -> None:
    await insert_rows(session, random_rows(10, seed=3, lat=21.5, lon=104.5))
    assert await repo.nearby(session, 10.0, 106.0, 5_000, limit=10) == []


async def test_a_dense_town_gives_the_same_answer(session: AsyncSession) -> None:
    """Thousands of places within a kilometre: the first probe already holds more than enough,
    and near-ties a few metres apart still come out in the exact order."""
    rng = random.Random(17)
    rows = random_rows(2500, seed=17)
    for row in rows:
        row["lat"] = 21.7050 + rng.gauss(0, 0.004)
        row["lon"] = 104.8750 + rng.gauss(0, 0.004)
    await insert_rows(session, rows)
    for _ in range(10):
        lat, lon = 21.7050 + rng.gauss(0, 0.003), 104.8750 + rng.gauss(0, 0.003)
        for radius, limit in ((150, 50), (2_000, 20), (5_000, 100)):
            got = await repo.nearby(session, lat, lon, radius, limit=limit)
            assert [r["code"] for r in got] == brute_force(rows, lat, lon, radius, limit)
        third = lambda row: int(row["code"].rsplit("-", 1)[1]) % 3 == 0  # noqa: E731
        got = await repo.nearby(session, lat, lon, 3_000, limit=30, keep=third)
        assert [r["code"] for r in got] == brute_force(rows, lat, lon, 3_000, 30, third)
        filters = repo.Filters(categories=("health",))
        got = await repo.nearby(session, lat, lon, 3_000, filters, limit=10)
        expected = brute_force(rows, lat, lon, 3_000, 10, lambda r: r["category"] == "health")
        assert [r["code"] for r in got] == expected
