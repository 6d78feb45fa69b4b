import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from app.demo.loader import load_demo, read_data
from app.org.service import locate_ward
from tests.builders import _hasher


async def test_demo_loads_once_and_points_fall_in_their_ward(
    session: AsyncSession, settings
) -> None:
    first = await load_demo(session, _hasher, settings)
    assert first.created["departments"] == 6 and first.created["wards"] >= 12
    assert first.created["accounts"] == 4
    second = await load_demo(session, _hasher, settings)
    assert second.created == {}
    from shapely.geometry import Polygon

    for item in read_data()["wards"]:
        inside = Polygon(item["polygon"]).representative_point()
        ward = await locate_ward(session, inside.y, inside.x)
        assert ward is not None and ward.code == item["code"]
    assert await locate_ward(session, 10.77, 106.70) is None  # Hồ Chí Minh City is not Yên Bái


async def test_wards_api_filters_without_accents(
    client: httpx.AsyncClient, session: AsyncSession, settings
) -> None:
    await load_demo(session, _hasher, settings)
    await session.commit()
    names = [w["name"] for w in (await client.get("/api/v1/wards", params={"q": "mu cang"})).json()]
    assert names == ["Thị trấn Mù Cang Chải"]
    located = await client.get("/api/v1/wards/locate", params={"lat": 21.6958, "lon": 104.8831})
    assert located.status_code == 200 and located.json()["code"] == "hong-ha"
    outside = await client.get("/api/v1/wards/locate", params={"lat": 10.77, "lon": 106.70})
    assert outside.status_code == 404
