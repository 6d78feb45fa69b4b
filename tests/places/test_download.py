"""The offline app keeps every place on the phone: a whole download, then deltas with
`updated_since` that return exactly what changed (retirements included), and 304 when nothing
did. GeoJSON for maps and partners."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import Role
from tests.builders import create_department, signed_in
from tests.places.test_api import HOSPITAL, LAKE, TERRACES, add


async def test_a_delta_returns_exactly_what_changed(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    health = await create_department(session, code="health")
    await add(session, TERRACES, LAKE, {**HOSPITAL, "department_code": "health"})
    _user, staff = await signed_in(client, session, role=Role.staff, department=health)
    _m, manager = await signed_in(client, session, role=Role.manager, department=health)

    whole = await client.get("/api/v1/places/download")
    assert whole.status_code == 200
    body = whole.json()
    assert {p["code"] for p in body["places"]} == {
        "mu-cang-chai-terraces",
        "thac-ba-lake",
        "provincial-hospital",
    }
    assert body["deleted"] == []
    terraces = next(p for p in body["places"] if p["code"] == "mu-cang-chai-terraces")
    assert terraces["name"] == TERRACES["name"]  # every language, for the phone to choose
    assert terraces["accessibility"]["notes"] == {"en": "Steep dirt paths."}
    since = body["next_since"]

    # Nothing changed: an empty delta.
    empty = (await client.get("/api/v1/places/download", params={"updated_since": since})).json()
    assert empty["places"] == [] and empty["deleted"] == []

    await client.patch(
        "/api/v1/places/provincial-hospital", json={"phone": "0216 3852 000"}, headers=staff
    )
    await client.post("/api/v1/places/thac-ba-lake/retire", headers=manager)
    new = {**LAKE, "code": "suoi-giang", "name": {"vi": "Suối Giàng"}, "lat": 21.63, "lon": 104.72}
    assert (await client.post("/api/v1/places", json=new, headers=manager)).status_code == 201

    delta = (await client.get("/api/v1/places/download", params={"updated_since": since})).json()
    assert sorted(p["code"] for p in delta["places"]) == ["provincial-hospital", "suoi-giang"]
    assert delta["deleted"] == ["thac-ba-lake"]
    hospital = next(p for p in delta["places"] if p["code"] == "provincial-hospital")
    assert hospital["phone"] == "0216 3852 000"

    # The next delta from the new mark is empty again.
    after = (
        await client.get("/api/v1/places/download", params={"updated_since": delta["next_since"]})
    ).json()
    assert after["places"] == [] and after["deleted"] == []

    # A full download no longer lists the retired lake.
    full = (await client.get("/api/v1/places/download")).json()
    assert "thac-ba-lake" not in {p["code"] for p in full["places"]}


async def test_not_modified_until_something_changes(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await add(session, TERRACES, LAKE)
    first = await client.get("/api/v1/places/download")
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert "public" in first.headers["cache-control"]
    again = await client.get("/api/v1/places/download", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    by_date = await client.get("/api/v1/places/download", headers={"If-Modified-Since": modified})
    assert by_date.status_code == 304
    await add(session, HOSPITAL)
    changed = await client.get("/api/v1/places/download", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and len(changed.json()["places"]) == 3


async def test_updated_since_needs_a_time_zone(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/places/download", params={"updated_since": "2026-11-26T08:00"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "updated_since"


async def test_geojson_is_rfc7946_and_filtered(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await add(session, TERRACES, LAKE, HOSPITAL)
    r = await client.get("/api/v1/places.geojson", headers={"Accept-Language": "en"})
    assert r.headers["content-type"].startswith("application/geo+json")
    collection = r.json()
    assert collection["type"] == "FeatureCollection"
    by_id = {f["id"]: f for f in collection["features"]}
    assert by_id["thac-ba-lake"]["geometry"] == {"type": "Point", "coordinates": [105.0, 21.9]}
    assert by_id["thac-ba-lake"]["properties"]["name"] == "Thác Bà Lake"
    health = (await client.get("/api/v1/places.geojson", params={"category": "health"})).json()
    assert [f["id"] for f in health["features"]] == ["provincial-hospital"]
    cached = await client.get(
        "/api/v1/places.geojson",
        params={"category": "health"},
        headers={"If-None-Match": r.headers["etag"]},
    )
    assert cached.status_code == 200  # another query: another ETag
