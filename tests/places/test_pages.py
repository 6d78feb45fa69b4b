"""The places pages without JavaScript: find places near a ward or a named place, filter to
accessible places, read a place's accessibility panel."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.builders import create_ward
from tests.places.test_api import HOSPITAL, HOTEL_MCC, LAKE, TERRACES, add


def results(response: httpx.Response) -> str:
    """The results section only (the form's hints name places too)."""
    assert response.status_code == 200, response.text
    return response.text[response.text.index('id="results-title"') :]


@pytest.fixture
async def province(session: AsyncSession) -> None:
    ring = [[104.05, 21.82], [104.12, 21.82], [104.12, 21.88], [104.05, 21.88], [104.05, 21.82]]
    await create_ward(session, "la-pan-tan", ring)
    await add(session, TERRACES, LAKE, HOSPITAL, HOTEL_MCC)


async def test_near_a_named_place_lists_nearest_first(
    client: httpx.AsyncClient, province: None
) -> None:
    r = await client.get("/places", params={"near": "mu cang chai terraces", "radius": 5000})
    html = results(r)
    assert html.index("Ruộng bậc thang Mù Cang Chải") < html.index("Khách sạn Trung tâm")
    assert "Hồ Thác Bà" not in html  # 90 km away


async def test_accessible_only_filter(client: httpx.AsyncClient, province: None) -> None:
    r = await client.get(
        "/places", params={"near": "benh vien", "radius": 100000, "accessible": "limited"}
    )
    html = results(r)
    assert "Bệnh viện Đa khoa tỉnh Yên Bái" in html
    assert "Khách sạn Trung tâm" in html  # partly accessible
    assert "Ruộng bậc thang Mù Cang Chải" not in html  # wheelchair: no
    assert "Hồ Thác Bà" not in html  # not known is not shown as accessible


async def test_an_unknown_place_name_says_so(client: httpx.AsyncClient, province: None) -> None:
    r = await client.get("/places", params={"near": "atlantis"})
    assert r.status_code == 200
    assert 'role="alert"' in r.text and "atlantis" in r.text


async def test_place_page_separates_known_from_unknown(
    client: httpx.AsyncClient, province: None
) -> None:
    r = await client.get("/places/provincial-hospital", headers={"Accept-Language": "en"})
    html = r.text
    assert "Wheelchair accessible" in html
    panel = html[html.index('id="access-title"') : html.index('id="visit-title"')]
    assert "Step-free entrance" in panel and "Yes" in panel
    not_known = panel[panel.index("Not known yet:") :]
    assert "Hearing loop" in not_known  # unknown, listed as unknown, never as "No"
    assert (await client.get("/places/nowhere")).status_code == 404


async def test_near_a_ward_from_the_list(client: httpx.AsyncClient, province: None) -> None:
    html = results(await client.get("/places", params={"ward": "la-pan-tan", "radius": 20000}))
    assert "Ruộng bậc thang Mù Cang Chải" in html
    assert "Bệnh viện" not in html
    category = results(await client.get("/places", params={"category": "health"}))
    assert "Bệnh viện Đa khoa tỉnh Yên Bái" in category
    assert "Hồ Thác Bà" not in category


async def test_place_page_lists_what_is_on_there(
    client: httpx.AsyncClient, session: AsyncSession, province: None
) -> None:
    from datetime import timedelta

    from app.auth.models import Role
    from app.db import utcnow
    from tests.builders import signed_in

    _m, manager = await signed_in(client, session, role=Role.manager)
    soon = (utcnow() + timedelta(days=3)).replace(microsecond=0)
    r = await client.post(
        "/api/v1/events",
        json={
            "category": "festival",
            "title": {"vi": "Lễ hội mùa vàng", "en": "Golden season festival"},
            "starts_at": soon.isoformat(),
            "ends_at": (soon + timedelta(hours=3)).isoformat(),
            "place_code": "mu-cang-chai-terraces",
        },
        headers=manager,
    )
    assert r.status_code == 201, r.text
    html = (await client.get("/places/mu-cang-chai-terraces")).text
    section = html[html.index('id="events-title"') :]
    assert "Lễ hội mùa vàng" in section and f"/events/{r.json()['code']}" in section
    other = (await client.get("/places/thac-ba-lake")).text
    assert 'id="events-title"' not in other
