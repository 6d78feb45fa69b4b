"""The places API as an app or a partner reads it: nearby with filters, text search in vi and
en without accents, a place, problem+json for bad input, staff changes with roles and audit."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEntry
from app.auth.models import Role
from app.places.models import Place
from app.places.schemas import PlaceIn
from app.places.service import create_place
from tests.builders import create_department, signed_in

TERRACES = {
    "code": "mu-cang-chai-terraces",
    "category": "sights",
    "name": {"vi": "Ruộng bậc thang Mù Cang Chải", "en": "Mù Cang Chải rice terraces"},
    "description": {"vi": "Ruộng bậc thang của người Mông.", "en": "Terraced fields of the Hmong."},
    "lat": 21.8520,
    "lon": 104.0870,
    "tags": ["ruộng bậc thang", "terraces"],
    "accessibility": {"wheelchair": "no", "notes": {"en": "Steep dirt paths."}},
}
LAKE = {
    "code": "thac-ba-lake",
    "category": "nature",
    "name": {"vi": "Hồ Thác Bà", "en": "Thác Bà Lake"},
    "description": {"vi": "Hồ nhân tạo lớn với hàng nghìn đảo nhỏ."},
    "lat": 21.9000,
    "lon": 105.0000,
}
HOSPITAL = {
    "code": "provincial-hospital",
    "category": "health",
    "name": {"vi": "Bệnh viện Đa khoa tỉnh Yên Bái", "en": "Yên Bái General Hospital"},
    "address": "Đường Điện Biên, Yên Bái",
    "lat": 21.7030,
    "lon": 104.8890,
    "opening_hours": "24/7",
    "accessibility": {
        "wheelchair": "yes",
        "step_free_entrance": True,
        "accessible_toilet": True,
        "hearing_loop": None,
    },
}
HOTEL_MCC = {
    "code": "hotel-mu-cang-chai",
    "category": "accommodation",
    "name": {"vi": "Khách sạn Trung tâm", "en": "Centre Hotel"},
    "address": "Thị trấn Mù Cang Chải",
    "lat": 21.8510,
    "lon": 104.0900,
    "opening_hours": "Mo-Su 00:00-00:01",
    "accessibility": {"wheelchair": "limited"},
}
CLOSED_OFFICE = {
    "code": "never-open",
    "category": "government",
    "name": {"vi": "Văn phòng đóng cửa"},
    "lat": 21.7040,
    "lon": 104.8900,
    "opening_hours": "off",
}


async def add(session: AsyncSession, *places: dict[str, Any]) -> None:
    for data in places:
        await create_place(session, None, PlaceIn.model_validate(data))
    await session.commit()


@pytest.fixture
async def province(session: AsyncSession) -> None:
    await add(session, TERRACES, LAKE, HOSPITAL, HOTEL_MCC, CLOSED_OFFICE)


async def codes(client: httpx.AsyncClient, **params: Any) -> list[str]:
    r = await client.get("/api/v1/places", params=params)
    assert r.status_code == 200, r.text
    return [item["code"] for item in r.json()["items"]]


async def test_nearby_is_nearest_first_with_distances(
    client: httpx.AsyncClient, province: None
) -> None:
    r = await client.get("/api/v1/places", params={"lat": 21.852, "lon": 104.088, "radius": 3000})
    items = r.json()["items"]
    assert [i["code"] for i in items] == ["mu-cang-chai-terraces", "hotel-mu-cang-chai"]
    assert items[0]["distance_m"] < items[1]["distance_m"] < 3000
    assert items[0]["name"] == "Ruộng bậc thang Mù Cang Chải"  # Vietnamese by default


async def test_filters_category_wheelchair_and_open_now(
    client: httpx.AsyncClient, province: None
) -> None:
    near_city = {"lat": 21.70, "lon": 104.89, "radius": 100_000}
    assert await codes(client, **near_city, category="health") == ["provincial-hospital"]
    assert set(await codes(client, **near_city, category=["health", "government"])) == {
        "provincial-hospital",
        "never-open",
    }
    assert await codes(client, **near_city, wheelchair="yes") == ["provincial-hospital"]
    assert set(await codes(client, **near_city, wheelchair="limited")) == {
        "provincial-hospital",
        "hotel-mu-cang-chai",
    }
    # Unknown is not "no": the lake has no grade and appears under neither.
    assert await codes(client, **near_city, wheelchair="no") == ["mu-cang-chai-terraces"]
    open_now = await codes(client, **near_city, open_now="true")
    assert "provincial-hospital" in open_now  # 24/7
    assert "never-open" not in open_now
    assert "thac-ba-lake" not in open_now  # no hours known: not claimed open


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("mu cang chai", "mu-cang-chai-terraces"),
        ("Mù Cang Chải", "mu-cang-chai-terraces"),
        ("ho thac ba", "thac-ba-lake"),
        ("thac ba lake", "thac-ba-lake"),
        ("benh vien", "provincial-hospital"),
        ("general hospital", "provincial-hospital"),
        ("dien bien", "provincial-hospital"),  # the address
        ("terraces", "mu-cang-chai-terraces"),  # a tag / the English name
        ("ruong bac tha", "mu-cang-chai-terraces"),  # still typing: the last word is a prefix
    ],
)
async def test_text_search_is_accent_insensitive_and_ranked(
    client: httpx.AsyncClient, province: None, query: str, first: str
) -> None:
    found = await codes(client, q=query)
    assert found and found[0] == first, found


async def test_name_matches_rank_above_address_matches(
    client: httpx.AsyncClient, province: None
) -> None:
    # The hotel only has "Mù Cang Chải" in its address; the terraces have it in the name.
    assert await codes(client, q="mu cang chai") == ["mu-cang-chai-terraces", "hotel-mu-cang-chai"]


async def test_text_narrows_nearby(client: httpx.AsyncClient, province: None) -> None:
    assert await codes(client, lat=21.852, lon=104.088, radius=3000, q="khach san") == [
        "hotel-mu-cang-chai"
    ]


async def test_english_texts_with_fallback(client: httpx.AsyncClient, province: None) -> None:
    r = await client.get("/api/v1/places/thac-ba-lake", headers={"Accept-Language": "en"})
    body = r.json()
    assert body["name"] == "Thác Bà Lake"
    # No English description: the Vietnamese one, marked as such for screen readers.
    assert body["description"].startswith("Hồ nhân tạo")
    assert body["description_lang"] == "vi"


async def test_place_detail_keeps_unknown_apart_from_no(
    client: httpx.AsyncClient, province: None
) -> None:
    body = (await client.get("/api/v1/places/provincial-hospital")).json()
    access = body["accessibility"]
    assert access["wheelchair"] == "yes"
    assert access["step_free_entrance"] is True
    assert access["hearing_loop"] is None
    assert body["open_state"] == "open" and body["open_now"] is True
    assert body["stale"] is True  # never verified
    assert (await client.get("/api/v1/places/nowhere")).status_code == 404


@pytest.mark.parametrize(
    "params",
    [
        {"lat": 21.7},
        {"lat": 21.7, "lon": 104.8, "radius": 500_000},
        {"lat": 95, "lon": 104.8},
        {"category": "casino"},
        {"wheelchair": "maybe"},
        {"limit": 0},
    ],
)
async def test_bad_queries_are_problem_json(
    client: httpx.AsyncClient, params: dict[str, Any]
) -> None:
    r = await client.get("/api/v1/places", params=params)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"]


async def test_staff_create_change_retire_with_audit(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    health = await create_department(session, code="health")
    _staff, staff = await signed_in(client, session, role=Role.staff, department=health)
    r = await client.post("/api/v1/places", json=HOSPITAL, headers=staff)
    assert r.status_code == 201, r.text
    assert r.json()["department"]["code"] == "health"  # the staff member's department
    r = await client.patch(
        "/api/v1/places/provincial-hospital",
        json={"phone": "0216 3852 000", "verified": True},
        headers=staff,
    )
    assert r.status_code == 200, r.text
    assert r.json()["phone"] == "0216 3852 000" and r.json()["stale"] is False
    assert (
        await client.post("/api/v1/places/provincial-hospital/retire", headers=staff)
    ).status_code == 200
    assert (await client.get("/api/v1/places/provincial-hospital")).status_code == 404
    assert await codes(client, lat=21.703, lon=104.889) == []
    history = (await client.get("/api/v1/places/provincial-hospital/history", headers=staff)).json()
    assert [e["action"] for e in history["items"]] == [
        "place.create",
        "place.update",
        "place.retire",
    ]
    assert history["items"][1]["data"]["fields"] == ["last_verified_at", "phone"]
    place = await session.scalar(select(Place).where(Place.code == "provincial-hospital"))
    entries = (
        await session.scalars(select(AuditEntry).where(AuditEntry.subject_id == place.id))
    ).all()
    assert {e.actor_id for e in entries if e.subject_type == "place"} == {_staff.id}


async def test_staff_of_another_department_may_not_change_a_place(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    health = await create_department(session, code="health")
    other = await create_department(session, code="transport")
    await add(session, {**HOSPITAL, "department_code": "health"})
    _outsider, outsider = await signed_in(client, session, role=Role.staff, department=other)
    r = await client.patch(
        "/api/v1/places/provincial-hospital", json={"phone": "113"}, headers=outsider
    )
    assert r.status_code == 403
    _manager, manager = await signed_in(client, session, role=Role.manager, department=health)
    r = await client.patch(
        "/api/v1/places/provincial-hospital", json={"phone": "0216 3852 000"}, headers=manager
    )
    assert r.status_code == 200
    _citizen, citizen = await signed_in(client, session, role=Role.citizen)
    assert (await client.post("/api/v1/places", json=LAKE, headers=citizen)).status_code == 403
    assert (await client.post("/api/v1/places", json=LAKE)).status_code == 401


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"opening_hours": "Mo-Fx 08:00"}, "opening_hours"),
        ({"website": "javascript:alert(1)"}, "website"),
        ({"name": {}}, "name"),
        ({"lat": 21.7}, None),
        ({"accessibility": {"wheelchair": "sometimes"}}, "wheelchair"),
        ({"category": "casino"}, "category"),
    ],
)
async def test_bad_changes_are_refused_and_lose_nothing(
    client: httpx.AsyncClient, session: AsyncSession, change: dict[str, Any], field: str | None
) -> None:
    health = await create_department(session, code="health")
    await add(session, {**HOSPITAL, "department_code": "health"})
    _staff, staff = await signed_in(client, session, role=Role.staff, department=health)
    r = await client.patch("/api/v1/places/provincial-hospital", json=change, headers=staff)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    if field:
        assert any(field in str(e.get("field", "")) for e in r.json()["errors"]), r.json()
    body = (await client.get("/api/v1/places/provincial-hospital")).json()
    assert body["opening_hours"] == "24/7" and body["name"].startswith("Bệnh viện")


async def test_open_now_fills_the_page_when_browsing_and_searching(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    # By name the closed ones come first: the filter must apply before the page is cut.
    closed = [
        {**CLOSED_OFFICE, "code": f"a-closed-{i}", "name": {"vi": f"A quầy thuốc đóng {i}"}}
        for i in range(4)
    ]
    open_ = [
        {**HOSPITAL, "code": f"b-open-{i}", "name": {"vi": f"B quầy thuốc mở {i}"}}
        for i in range(4)
    ]
    await add(session, *closed, *open_)
    browsed = await codes(client, category=["government", "health"], open_now="true", limit=3)
    assert browsed == ["b-open-0", "b-open-1", "b-open-2"]
    searched = await codes(client, q="quay thuoc", open_now="true", limit=3)
    assert len(searched) == 3 and all(code.startswith("b-open-") for code in searched)
    second = await codes(
        client, category=["government", "health"], open_now="true", limit=3, offset=3
    )
    assert second == ["b-open-3"]
