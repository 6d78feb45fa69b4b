from __future__ import annotations

from datetime import UTC, datetime

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.reports.models import Report
from app.reports.service import deadline_for
from tests.reports.conftest import World, submit


async def test_public_list_filters_and_never_shows_who_reported(
    client: httpx.AsyncClient, world: World
) -> None:
    a = (
        await submit(
            client,
            world.citizen_headers,
            reporter_name="Nguyễn Thị Lan",
            reporter_phone="0912345678",
        )
    ).json()["code"]
    b = (await submit(client, {"X-Device-ID": "device-public-01"}, lat=21.70, lon=104.89)).json()[
        "code"
    ]
    listed = (await client.get("/api/v1/reports")).json()
    assert {a, b} <= {i["code"] for i in listed["items"]}
    raw = (await client.get("/api/v1/reports")).text
    assert (
        "Nguyễn Thị Lan" not in raw and "0912345678" not in raw and world.citizen.email not in raw
    )
    west = (
        await client.get("/api/v1/reports", params={"bbox": "104.86,21.69,104.879,21.71"})
    ).json()
    assert [i["code"] for i in west["items"]] == [a]
    by_ward = (await client.get("/api/v1/reports", params={"ward": "ward-b"})).json()
    assert [i["code"] for i in by_ward["items"]] == [b]
    open_only = (await client.get("/api/v1/reports", params={"status": "resolved"})).json()
    assert open_only["total"] == 0
    paged = (await client.get("/api/v1/reports", params={"page_size": 1, "page": 2})).json()
    assert paged["total"] == 2 and len(paged["items"]) == 1
    future = (
        await client.get("/api/v1/reports", params={"since": "2100-01-01T00:00:00+07:00"})
    ).json()
    assert future["total"] == 0
    bad = await client.get("/api/v1/reports", params={"bbox": "1,2,3"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "bbox"


async def test_geojson_feed(client: httpx.AsyncClient, world: World) -> None:
    code = (await submit(client)).json()["code"]
    r = await client.get("/api/v1/reports.geojson")
    assert r.headers["content-type"].startswith("application/geo+json")
    feature = r.json()["features"][0]
    assert feature["geometry"] == {"type": "Point", "coordinates": [104.87, 21.70]}
    assert feature["properties"]["code"] == code and "reporter_name" not in feature["properties"]


async def test_nearby_then_me_too_instead_of_a_duplicate(
    client: httpx.AsyncClient, world: World
) -> None:
    code = (await submit(client)).json()["code"]
    near = (
        await client.get(
            "/api/v1/reports/nearby",
            params={"service": "street_light", "lat": 21.7002, "lon": 104.8701, "radius": 50},
        )
    ).json()
    assert [i["code"] for i in near] == [code]
    far = (
        await client.get(
            "/api/v1/reports/nearby",
            params={"service": "street_light", "lat": 21.705, "lon": 104.87, "radius": 50},
        )
    ).json()
    assert far == []
    device = {"X-Device-ID": "device-metoo-001"}
    once = await client.post(f"/api/v1/reports/{code}/support", headers=device)
    twice = await client.post(f"/api/v1/reports/{code}/support", headers=device)
    assert once.json()["support_count"] == twice.json()["support_count"] == 1
    signed = await client.post(f"/api/v1/reports/{code}/support", headers=world.citizen_headers)
    assert signed.json()["support_count"] == 2
    nobody = await client.post(f"/api/v1/reports/{code}/support")
    assert nobody.status_code == 422
    # Supporting follows: the supporter now hears about changes.
    assert (
        await client.delete(f"/api/v1/reports/{code}/follow", headers=world.citizen_headers)
    ).status_code == 204
    assert (
        await client.post(f"/api/v1/reports/{code}/follow", headers=world.citizen_headers)
    ).status_code == 204


async def test_lookup_by_code_and_secret_is_throttled(
    client: httpx.AsyncClient, app, world: World
) -> None:
    first = (await submit(client, reporter_email="an@example.vn")).json()
    found = await client.post(
        "/api/v1/reports/lookup", json={"code": first["code"], "secret": first["secret"]}
    )
    assert found.status_code == 200 and found.json()["reporter_email"] == "an@example.vn"
    wrong = await client.post(
        "/api/v1/reports/lookup", json={"code": first["code"], "secret": "x" * 16}
    )
    assert wrong.status_code == 404
    app.state.settings.report_lookups_per_minute = 2
    codes = [
        (
            await client.post(
                "/api/v1/reports/lookup", json={"code": "AAAA-AAAA", "secret": "y" * 16}
            )
        ).status_code
        for _ in range(3)
    ]
    assert codes[-1] == 429


async def test_my_reports(client: httpx.AsyncClient, world: World) -> None:
    code = (await submit(client, world.citizen_headers)).json()["code"]
    await submit(client)
    mine = (await client.get("/api/v1/me/reports", headers=world.citizen_headers)).json()
    assert [i["code"] for i in mine["items"]] == [code]


async def test_working_day_deadline_across_tet(session: AsyncSession, world: World) -> None:
    """5 working days from Thursday 4 February 2027 (29 Tết; Tết runs to Wednesday 10 February):
    the counting starts on Thursday 11, so the fifth working day is Wednesday 17 February,
    due at the end of the working day (17:00 in Hà Nội, 10:00 UTC)."""
    received = datetime(2027, 2, 4, 3, 0, tzinfo=UTC)  # 10:00 in Hà Nội
    due = await deadline_for(session, world.light, received, "Asia/Ho_Chi_Minh")
    assert due == datetime(2027, 2, 17, 10, 0, tzinfo=UTC)
    clock = world.light
    clock.deadline_unit, clock.deadline_value = "hours", 24
    assert await deadline_for(session, clock, received, "Asia/Ho_Chi_Minh") == datetime(
        2027, 2, 5, 3, 0, tzinfo=UTC
    )


async def test_deadline_is_stored_on_submission(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    code = (await submit(client)).json()["code"]
    row = (await session.execute(select(Report).where(Report.code == code))).scalar_one()
    assert row.deadline_at > row.created_at
