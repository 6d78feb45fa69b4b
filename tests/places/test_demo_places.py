from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from shapely.geometry import Point, Polygon
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.demo.loader import read_data
from app.org import repository as org_repo
from app.org.models import Department, Ward
from app.org.service import ward_from_ring
from app.places import hours
from app.places.demo import load_demo, read_places
from app.places.models import Category, Place

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
# Other issues link to these codes.
REQUIRED = {
    "demo-mu-cang-chai-terraces",
    "demo-mam-xoi-hill",
    "demo-khau-pha-pass",
    "demo-thac-ba-lake",
    "demo-suoi-giang-tea-hills",
    "demo-tu-le-valley",
    "demo-tu-le-hot-spring",
    "demo-nghia-lo-muong-lo-field",
    "demo-nghia-lo-market",
    "demo-yen-bai-general-hospital",
    "demo-one-stop-centre",
    "demo-yen-bai-bus-station",
    "demo-nghia-lo-bus-station",
    "demo-tourist-info-yen-bai",
    "demo-tourist-info-mu-cang-chai",
}


async def _load_departments_and_wards(session: AsyncSession) -> None:
    data = read_data()
    for item in data["departments"]:
        session.add(Department(code=item["code"], name_vi=item["name_vi"], name_en=item["name_en"]))
    for item in data["wards"]:
        session.add(
            ward_from_ring(
                item["code"], item["name"], item["kind"], item["district"], item["polygon"]
            )
        )
    await session.flush()


def _by_code() -> dict:
    return {p.code: p for p in read_places()}


def test_every_record_is_a_valid_demo_place_named_in_vietnamese_and_english() -> None:
    places = read_places()  # PlaceIn validation: categories, hours, phones, urls, languages
    assert 45 <= len(places) <= 80
    codes = [p.code for p in places]
    assert len(set(codes)) == len(codes)
    for place in places:
        assert place.is_demo and place.source == "demo" and place.source_id == place.code
        assert place.code.startswith("demo-")
        assert place.name.get("vi") and place.name.get("en"), place.code
        assert place.description.get("vi") and place.description.get("en"), place.code
    assert any(set(p.name) - {"vi", "en"} for p in places)  # a few show more languages


def test_the_linked_codes_exist_and_every_category_is_covered() -> None:
    places = _by_code()
    assert REQUIRED - set(places) == set()
    assert {p.category for p in places.values()} == set(Category)


def test_every_place_lies_in_the_province_and_in_the_ward_it_names() -> None:
    wards = {w["code"]: Polygon(w["polygon"]) for w in read_data()["wards"]}
    departments = {d["code"] for d in read_data()["departments"]}
    for place in read_places():
        assert 21.3 <= place.lat <= 22.3 and 103.9 <= place.lon <= 105.2, place.code
        if place.ward_code is not None:
            assert wards[place.ward_code].covers(Point(place.lon, place.lat)), place.code
        if place.department_code is not None:
            assert place.department_code in departments, place.code


def test_hours_verification_and_accessibility_show_what_the_pages_must_handle() -> None:
    places = _by_code()
    never = lambda day: False  # noqa: E731
    hospitals = [p for p in places.values() if "hospital" in p.tags]
    assert len(hospitals) >= 3 and all(p.opening_hours == "24/7" for p in hospitals)

    centre = places["demo-one-stop-centre"].opening_hours
    assert centre is not None
    saturday = datetime(2026, 11, 28, 9, 0, tzinfo=ZONE)
    assert hours.evaluate(centre, saturday, never).state == "open"
    assert hours.evaluate(centre, saturday.replace(hour=14), never).state == "closed"
    assert hours.evaluate(centre, saturday + timedelta(days=1), never).state == "closed"
    national_day = datetime(2026, 9, 2, 9, 0, tzinfo=ZONE)  # a Wednesday
    assert hours.evaluate(centre, national_day, never).state == "open"
    assert hours.evaluate(centre, national_day, lambda d: d == date(2026, 9, 2)).state == "closed"

    half_past_midnight = datetime(2026, 11, 26, 0, 30, tzinfo=ZONE)
    late = [
        p.code
        for p in places.values()
        if p.category == Category.food
        and p.opening_hours
        and hours.evaluate(p.opening_hours, half_past_midnight, never).is_open
    ]
    assert late  # a restaurant open across midnight

    verified = [p.last_verified_at for p in places.values() if p.last_verified_at]
    assert max(verified) - min(verified) > timedelta(days=365)  # some stale, some fresh
    assert any(p.last_verified_at is None for p in places.values())

    access = places["demo-one-stop-centre"].accessibility
    assert access.wheelchair == "yes" and access.step_free_entrance and access.accessible_toilet
    assert access.tactile_guidance and access.hearing_loop and access.wheelchair_parking
    terraces = places["demo-mu-cang-chai-terraces"].accessibility
    assert terraces.wheelchair == "no" and terraces.notes["vi"] and terraces.notes["en"]
    assert terraces.braille is None  # unknown is not "no"


async def test_loading_creates_each_place_once_with_its_ward_and_department(
    session: AsyncSession,
) -> None:
    await _load_departments_and_wards(session)
    expected = len(read_places())
    assert await load_demo(session) == expected
    assert await load_demo(session) == 0
    count = await session.scalar(select(func.count()).select_from(Place).where(Place.is_demo))
    assert count == expected

    hospital = await session.scalar(
        select(Place).where(Place.code == "demo-yen-bai-general-hospital")
    )
    assert hospital is not None and hospital.source == "demo"
    assert hospital.opening_hours == "24/7" and hospital.wheelchair == "yes"
    assert hospital.step_free_entrance is True and hospital.braille is None
    health = await org_repo.department_by_code(session, "health")
    assert health is not None and hospital.department_id == health.id

    market = await session.scalar(select(Place).where(Place.code == "demo-nghia-lo-market"))
    assert market is not None
    assert await session.scalar(select(Ward.code).where(Ward.id == market.ward_id)) == "trung-tam"
    # Without a ward code, the ward is found from the point.
    memorial = await session.scalar(
        select(Place).where(Place.code == "demo-nguyen-thai-hoc-memorial")
    )
    assert memorial is not None
    ward = await session.scalar(select(Ward.code).where(Ward.id == memorial.ward_id))
    assert ward == "nguyen-thai-hoc"
    assert "thac ba" in (
        await session.scalar(select(Place.search_name).where(Place.code == "demo-thac-ba-lake"))
    )


async def test_a_retired_demo_place_stays_retired_when_loading_again(
    session: AsyncSession,
) -> None:
    await _load_departments_and_wards(session)
    await load_demo(session)
    lake = await session.scalar(select(Place).where(Place.code == "demo-thac-ba-lake"))
    assert lake is not None
    lake.retired_at = lake.updated_at
    await session.flush()
    assert await load_demo(session) == 0
    await session.refresh(lake)
    assert lake.retired_at is not None
