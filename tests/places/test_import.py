"""Importing places from OpenStreetMap (issue 5): what each tag becomes, what is skipped and why,
re-imports that change nothing or only what changed, staff edits that survive, the command
end to end, and a reader that streams. The extracts in tests/places/data/ are written to look
like real Overpass and overpass-turbo exports around Yên Bái and Mù Cang Chải."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import LineString, Point, shape
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import Role
from app.places import importer, osm
from app.places import service as places
from app.places.models import Category, Place
from app.places.schemas import PlaceIn, PlacePatch
from tests import dbutil
from tests.builders import create_department, create_user

DATA = Path(__file__).with_name("data")
OVERPASS = DATA / "yen_bai_overpass.json"
GEOJSON = DATA / "yen_bai.geojson"
PROVINCE = (103.9, 21.3, 105.2, 22.3)  # west, south, east, north

EXPECTED_SKIPS = {
    "node/8817264599": "no name",
    "way/977120468": "no coordinates (a way without a center: export it with `out center;`)",
    "node/5021174419": "unknown category (amenity=fuel)",
    "node/9034117801": 'invalid opening_hours "sáng 7h-11h, chiều 14h-22h"',
    "node/6102938491": 'invalid website "Facebook Homestay Chú Páo"',
}
GOOD_RECORDS = 29  # 35 elements: 5 bad records and one bare node of a way


def element(osm_id: str) -> dict[str, Any]:
    kind, number = osm_id.split("/")
    elements = json.loads(OVERPASS.read_text(encoding="utf-8"))["elements"]
    return next(e for e in elements if e["type"] == kind and e["id"] == int(number))


def mapped(osm_id: str) -> PlaceIn:
    return osm.to_place(osm.from_overpass(element(osm_id)))


async def run_import(session: AsyncSession, path: Path | bytes, **options: Any) -> importer.Summary:
    stream = io.BytesIO(path) if isinstance(path, bytes) else path.open("rb")
    with stream:
        return await importer.import_places(session, stream, importer.Options(**options))


async def by_source_id(session: AsyncSession, source_id: str, source: str = "osm") -> Place:
    place = await session.scalar(
        select(Place).where(Place.source == source, Place.source_id == source_id)
    )
    assert place is not None, source_id
    return place


async def count_places(session: AsyncSession, source: str = "osm") -> int:
    return await session.scalar(
        select(func.count()).select_from(Place).where(Place.source == source)
    )  # type: ignore[return-value]


# Mapping ---------------------------------------------------------------------------------------


def test_a_hotel_maps_every_field() -> None:
    hotel = mapped("node/4816254390")
    assert hotel.category is Category.accommodation
    assert hotel.name == {
        "vi": "Khách sạn Mường Thanh Grand Yên Bái",
        "en": "Muong Thanh Grand Yen Bai Hotel",
    }
    assert hotel.address == ("445 Đường Điện Biên, Phường Hồng Hà, Thành phố Yên Bái, Yên Bái")
    assert (hotel.lat, hotel.lon) == (21.6962151, 104.8781423)
    assert hotel.phone == "+84 216 3868 888"
    assert hotel.website == "https://grandyenbai.muongthanh.com"
    assert hotel.accessibility.wheelchair == "yes"
    assert hotel.accessibility.accessible_toilet is True
    assert hotel.accessibility.tactile_guidance is None  # not tagged: unknown, not "no"
    assert hotel.tags == ["hotel"]
    assert (hotel.source, hotel.source_id) == ("osm", "node/4816254390")
    assert hotel.description == {} and hotel.opening_hours is None


def test_contact_tags_first_phone_and_a_bare_domain() -> None:
    homestay = mapped("node/6102938475")
    assert homestay.phone == "+84 98 765 4321"  # "a; b": the first number
    assert homestay.website == "http://www.liumihomestay.vn"
    assert homestay.accessibility.wheelchair == "no"
    assert homestay.address == "Thị trấn Mù Cang Chải, Huyện Mù Cang Chải, Yên Bái"

    restaurant = mapped("node/8817264530")
    assert restaurant.category is Category.food
    assert restaurant.phone == "+84 912 345 678"  # contact:phone
    assert restaurant.opening_hours == "Mo-Su 10:00-22:00"
    assert restaurant.tags == ["restaurant", "vietnamese", "fish", "sticky_rice"]

    cafe = mapped("node/9034117762")
    assert cafe.website == "https://ruongbacthang.cafe"  # contact:website
    assert cafe.name == {"vi": "Cà phê Ruộng Bậc Thang", "en": "Rice Terraces Café"}


def test_names_and_descriptions_in_every_language() -> None:
    hill = mapped("node/7420015633")
    assert hill.name == {"vi": "Đồi Mâm Xôi", "en": "Mam Xoi Hill", "fr": "Colline Mam Xoi"}
    assert hill.description["vi"].startswith("Đồi ruộng bậc thang hình mâm xôi")
    assert hill.description["en"].startswith("Terraced hill shaped like a tray")
    # A plain name that only repeats name:en is English, not Vietnamese.
    assert mapped("node/9307715542").name == {"en": "Mu Cang Chai Ecolodge"}


@pytest.mark.parametrize(
    ("tags", "names"),
    [
        ({"name": "Chợ Nghĩa Lộ"}, {"vi": "Chợ Nghĩa Lộ"}),
        ({"name": "Cho Nghia Lo", "name:vi": "Chợ Nghĩa Lộ"}, {"vi": "Chợ Nghĩa Lộ"}),
        ({"name:en": "Nghia Lo Market"}, {"en": "Nghia Lo Market"}),
        (
            {"name": "Chợ", "name:en": "Market", "name:zh-Hans": "市场", "name:etymology": "x"},
            {"vi": "Chợ", "en": "Market", "zh-Hans": "市场"},
        ),
    ],
)
def test_which_language_a_name_is_in(tags: dict[str, str], names: dict[str, str]) -> None:
    assert osm.texts(tags, "name") == names


def test_accessibility_is_yes_no_or_unknown() -> None:
    memorial = mapped("node/3398047126")
    assert memorial.accessibility.wheelchair == "limited"
    assert memorial.accessibility.tactile_guidance is False
    centre = mapped("node/9911527704")
    assert centre.category is Category.government
    assert centre.accessibility.tactile_guidance is True
    assert centre.accessibility.accessible_toilet is True
    ecolodge = mapped("node/9307715542")
    assert ecolodge.accessibility.wheelchair is None  # "designated" is not a grade we know


def test_ways_and_relations_sit_at_their_center() -> None:
    museum = mapped("way/412207789")
    assert (museum.lat, museum.lon) == (21.7081265, 104.8805531)
    assert museum.category is Category.culture
    assert museum.opening_hours == "Tu-Su 07:30-11:00,13:30-17:00; PH off"
    terraces = mapped("relation/11872335")
    assert terraces.source_id == "relation/11872335"
    assert terraces.category is Category.sights


def test_a_way_exported_with_its_geometry_sits_inside_it() -> None:
    ring = [(104.874, 21.71), (104.877, 21.71), (104.877, 21.7108), (104.8748, 21.7108)]
    ring += [(104.8748, 21.7125), (104.874, 21.7125), (104.874, 21.71)]
    way = {
        "type": "way",
        "id": 512273940,
        "geometry": [{"lat": lat, "lon": lon} for lon, lat in ring],
        "tags": {"leisure": "park", "name": "Công viên Yên Hòa"},
    }
    park = osm.to_place(osm.from_overpass(way))
    assert shape({"type": "Polygon", "coordinates": [ring]}).contains(Point(park.lon, park.lat))
    node = {"type": "node", "id": 1, "tags": {"amenity": "cafe", "name": "Cà phê"}}
    with pytest.raises(osm.Skip, match=r"^no coordinates$"):
        osm.to_place(osm.from_overpass(node))


def test_unnamed_atms_take_their_brand_and_toilets_a_plain_name() -> None:
    atm = mapped("node/7203391548")
    assert (atm.category, atm.name) == (Category.finance, {"vi": "Agribank"})
    toilets = mapped("node/7203391560")
    assert toilets.category is Category.toilets
    assert toilets.name == {"vi": "Nhà vệ sinh công cộng", "en": "Public toilets"}
    assert toilets.accessibility.accessible_toilet is True


def test_tourist_information_is_a_sight_with_a_tag() -> None:
    info = mapped("node/9204471180")
    assert info.category is Category.sights
    assert "tourist_information" in info.tags


@pytest.mark.parametrize(
    ("tags", "category"),
    [
        ({"tourism": "hotel"}, Category.accommodation),
        ({"tourism": "camp_site"}, Category.accommodation),
        ({"tourism": "chalet"}, Category.accommodation),
        ({"tourism": "viewpoint", "natural": "peak"}, Category.sights),
        ({"tourism": "attraction"}, Category.sights),
        ({"tourism": "information"}, Category.sights),
        ({"natural": "cave_entrance"}, Category.nature),
        ({"waterway": "waterfall", "tourism": "attraction"}, Category.nature),
        ({"leisure": "park"}, Category.nature),
        ({"leisure": "nature_reserve"}, Category.nature),
        ({"historic": "archaeological_site"}, Category.culture),
        ({"historic": "temple", "tourism": "attraction"}, Category.culture),
        ({"tourism": "gallery"}, Category.culture),
        ({"amenity": "place_of_worship"}, Category.culture),
        ({"amenity": "theatre"}, Category.culture),
        ({"amenity": "food_court"}, Category.food),
        ({"amenity": "bar"}, Category.food),
        ({"shop": "bakery"}, Category.shopping),
        ({"amenity": "marketplace"}, Category.shopping),
        ({"amenity": "taxi"}, Category.transport),
        ({"amenity": "parking"}, Category.transport),
        ({"highway": "bus_stop"}, Category.transport),
        ({"public_transport": "station"}, Category.transport),
        ({"amenity": "clinic"}, Category.health),
        ({"amenity": "dentist"}, Category.health),
        ({"amenity": "kindergarten"}, Category.education),
        ({"amenity": "university"}, Category.education),
        ({"amenity": "townhall"}, Category.government),
        ({"office": "government"}, Category.government),
        ({"amenity": "bank"}, Category.finance),
        ({"amenity": "toilets"}, Category.toilets),
        ({"amenity": "fire_station"}, Category.emergency),
        ({"amenity": "ambulance_station"}, Category.emergency),
        ({"tourism": "hotel", "amenity": "restaurant"}, Category.accommodation),
        ({"amenity": "fuel"}, None),
        ({"shop": "no", "building": "yes"}, None),
        ({"highway": "residential"}, None),
    ],
)
def test_categories_from_tags(tags: dict[str, str], category: Category | None) -> None:
    found = osm.category_of(tags)
    assert (found[0] if found else None) == category


def geojson_features() -> dict[str, dict[str, Any]]:
    features = json.loads(GEOJSON.read_text(encoding="utf-8"))["features"]
    return {f["properties"].get("name") or f["properties"]["tags"]["name"]: f for f in features}


def test_geojson_points_lines_and_polygons() -> None:
    features = geojson_features()
    park_feature = features["Công viên Yên Hòa"]
    park = osm.to_place(osm.from_geojson(park_feature))
    assert park.source_id == "way/512273940"
    assert park.category is Category.nature and park.opening_hours == "24/7"
    polygon = shape(park_feature["geometry"])
    assert not polygon.contains(polygon.centroid)  # an L: its centroid lies outside it
    assert polygon.contains(Point(park.lon, park.lat))

    bridge_feature = features["Cầu treo Tú Lệ"]
    bridge = osm.to_place(osm.from_geojson(bridge_feature))
    assert (
        LineString(bridge_feature["geometry"]["coordinates"]).distance(
            Point(bridge.lon, bridge.lat)
        )
        < 1e-9
    )
    assert bridge.category is Category.sights

    lake_feature = features["Hồ Thác Bà"]
    lake = osm.to_place(osm.from_geojson(lake_feature))
    assert shape(lake_feature["geometry"]).contains(Point(lake.lon, lake.lat))
    assert lake.description["vi"].startswith("Hồ nhân tạo lớn")

    temple = osm.to_place(osm.from_geojson(features["Đền Tuần Quán"]))
    assert (temple.lat, temple.lon) == (21.7098812, 104.8912346)
    assert temple.source_id == "node/3310245817"
    assert temple.address == "Phường Yên Ninh, Thành phố Yên Bái"


def test_geojson_ids_of_other_exporters() -> None:
    features = geojson_features()
    camp = osm.to_place(osm.from_geojson(features["Khu cắm trại Hồ Thác Bà"]))
    assert camp.source_id == "node/6620198734"  # osmtogeojson's older {"tags": {...}} layout
    assert camp.category is Category.accommodation and camp.phone == "+84 97 123 4567"
    bank = osm.to_place(osm.from_geojson(features["Vietcombank Chi nhánh Yên Bái"]))
    assert bank.source_id == "node/7718820145"  # osmium's "n123"
    assert bank.category is Category.finance
    with pytest.raises(osm.Skip, match="no coordinates"):
        osm.to_place(osm.from_geojson(features["Khu bảo tồn thiên nhiên Nà Hẩu"]))


def test_a_record_with_several_problems_names_them_all() -> None:
    feature = osm.OsmFeature("node/1", {"amenity": "fuel"}, None, None)
    with pytest.raises(osm.Skip) as skip:
        osm.to_place(feature)
    assert str(skip.value) == "no name; no coordinates; unknown category (amenity=fuel)"


# Importing -------------------------------------------------------------------------------------


async def test_import_counts_and_reports_every_bad_record(session: AsyncSession) -> None:
    report = io.StringIO()
    with OVERPASS.open("rb") as stream:
        summary = await importer.import_places(session, stream, importer.Options(), report=report)
    assert summary.format == "overpass"
    assert (summary.created, summary.updated, summary.unchanged) == (GOOD_RECORDS, 0, 0)
    assert summary.skipped == len(EXPECTED_SKIPS)
    assert summary.untagged == 1
    assert dict(summary.skips) == EXPECTED_SKIPS
    assert await count_places(session) == GOOD_RECORDS

    rows = list(csv.DictReader(io.StringIO(report.getvalue())))
    assert {row["id"]: row["reason"] for row in rows} == EXPECTED_SKIPS
    assert {row["id"]: row["name"] for row in rows}["node/5021174419"] == (
        "Cửa hàng xăng dầu Petrolimex số 12"
    )

    hotel = await by_source_id(session, "node/4816254390")
    assert hotel.code == "osm-node-4816254390"
    assert hotel.name["en"] == "Muong Thanh Grand Yen Bai Hotel"
    assert hotel.wheelchair == "yes" and hotel.accessible_toilet is True
    assert hotel.tactile_guidance is None
    assert "muong thanh" in hotel.search_name


async def test_running_twice_changes_nothing(session: AsyncSession) -> None:
    await run_import(session, OVERPASS)
    before = {p.source_id: p.updated_at for p in await session.scalars(select(Place))}
    again = await run_import(session, OVERPASS)
    assert (again.created, again.updated, again.unchanged) == (0, 0, GOOD_RECORDS)
    assert again.skipped == len(EXPECTED_SKIPS)
    after = {p.source_id: p.updated_at for p in await session.scalars(select(Place))}
    assert after == before


async def test_an_edited_feature_updates_only_that_place(session: AsyncSession) -> None:
    await run_import(session, OVERPASS)
    document = json.loads(OVERPASS.read_text(encoding="utf-8"))
    for item in document["elements"]:
        if item["id"] == 9034117762:  # the café now opens later and has a French name
            item["tags"]["opening_hours"] = "Mo-Su 07:00-22:00"
            item["tags"]["name:fr"] = "Café des Rizières"
    before = {p.source_id: p.updated_at for p in await session.scalars(select(Place))}

    summary = await run_import(session, json.dumps(document).encode())
    assert (summary.created, summary.updated, summary.unchanged) == (0, 1, GOOD_RECORDS - 1)
    cafe = await by_source_id(session, "node/9034117762")
    assert cafe.opening_hours == "Mo-Su 07:00-22:00"
    assert cafe.name["fr"] == "Café des Rizières"
    assert "cafe des rizieres" in cafe.search_name
    changed = {
        p.source_id
        for p in await session.scalars(select(Place))
        if p.updated_at != before[p.source_id]
    }
    assert changed == {"node/9034117762"}


async def test_what_staff_added_survives_a_reimport(session: AsyncSession) -> None:
    await run_import(session, OVERPASS)
    staff = await create_user(session, role=Role.staff)
    restaurant = await by_source_id(session, "node/8817264530")
    await places.update_place(
        session,
        staff,
        restaurant,
        PlacePatch(
            description={"vi": "Cá suối nướng, xôi ngũ sắc; nên đặt bàn cuối tuần."},
            price_level=1,
        ),
    )
    summary = await run_import(session, OVERPASS)
    assert (summary.updated, summary.unchanged) == (0, GOOD_RECORDS)
    restaurant = await by_source_id(session, "node/8817264530")
    assert restaurant.description == {"vi": "Cá suối nướng, xôi ngũ sắc; nên đặt bàn cuối tuần."}
    assert restaurant.price_level == 1
    assert restaurant.opening_hours == "Mo-Su 10:00-22:00"


async def test_points_outside_the_box_are_skipped(session: AsyncSession) -> None:
    summary = await run_import(session, OVERPASS, bbox=PROVINCE)
    assert summary.created == GOOD_RECORDS - 1
    reasons = dict(summary.skips)
    assert reasons["node/2245019387"] == "coordinates outside the box (22.33597, 103.84322)"
    assert await session.scalar(select(Place).where(Place.source_id == "node/2245019387")) is None


async def test_a_dry_run_saves_nothing(session: AsyncSession) -> None:
    summary = await run_import(session, OVERPASS, dry_run=True, batch_size=5)
    assert summary.created == GOOD_RECORDS
    assert await count_places(session) == 0


async def test_the_department_owns_what_the_import_creates(session: AsyncSession) -> None:
    tourism = await create_department(session, "tourism-import")
    other = await create_department(session, "culture-import")
    await run_import(session, OVERPASS, department_code="tourism-import")
    museum = await by_source_id(session, "way/412207789")
    assert museum.department_id == tourism.id

    summary = await run_import(session, OVERPASS, department_code="culture-import")
    assert summary.unchanged == GOOD_RECORDS  # only created places get the department
    museum = await by_source_id(session, "way/412207789")
    assert museum.department_id == tourism.id != other.id

    with pytest.raises(importer.UnknownDepartment):
        await run_import(session, OVERPASS, department_code="no-such-department")


async def test_a_record_the_database_refuses_is_skipped_and_the_rest_imported(
    session: AsyncSession,
) -> None:
    # Staff already used the code the importer would give the hotel.
    await places.create_place(
        session,
        None,
        PlaceIn(
            code="osm-node-4816254390",
            category=Category.accommodation,
            name={"vi": "Khách sạn Mường Thanh (nhập tay)"},
            lat=21.6962,
            lon=104.8781,
        ),
    )
    summary = await run_import(session, OVERPASS)
    assert summary.created == GOOD_RECORDS - 1
    reason = dict(summary.skips)["node/4816254390"]
    assert reason.startswith("refused by the database:")
    assert await count_places(session) == GOOD_RECORDS - 1


async def test_commits_in_batches(session: AsyncSession, monkeypatch: pytest.MonkeyPatch) -> None:
    commits = 0
    commit = session.commit

    async def counting() -> None:
        nonlocal commits
        commits += 1
        await commit()

    monkeypatch.setattr(session, "commit", counting)
    summary = await run_import(session, OVERPASS, batch_size=10)
    assert summary.created == GOOD_RECORDS
    assert commits == 3  # after places 10 and 20, then the last 9


async def test_geojson_import(session: AsyncSession) -> None:
    summary = await run_import(session, GEOJSON)
    assert summary.format == "geojson"
    assert (summary.created, summary.skipped) == (6, 1)
    assert dict(summary.skips) == {"relation/14500321": "no coordinates (no geometry)"}
    lake = await by_source_id(session, "relation/2951207")
    assert lake.category == "nature" and lake.name == {"vi": "Hồ Thác Bà", "en": "Thac Ba Lake"}
    again = await run_import(session, GEOJSON)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 6)


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"<?xml version='1.0'?><osm version='0.6'></osm>",
        b"[1, 2, 3]",
        b'{"type": "Feature", "geometry": null, "properties": {}}',
        b'{"version": 0.6, "generator": "Overpass API"}',
    ],
)
async def test_what_is_not_geojson_or_overpass_is_refused(
    session: AsyncSession, content: bytes
) -> None:
    with pytest.raises(importer.NotOsmData):
        await run_import(session, content)
    assert await count_places(session) == 0


async def test_a_file_that_breaks_off_keeps_what_came_before(session: AsyncSession) -> None:
    text = OVERPASS.read_bytes()
    cut = text.index(b'"id": 9034117762')  # inside the 12th element
    summary = await run_import(session, text[:cut])
    assert summary.broken is not None and "after 11 records" in summary.broken
    assert summary.created == 11
    assert await count_places(session) == 11


async def test_an_overpass_remark_is_passed_on(session: AsyncSession) -> None:
    document = {
        "version": 0.6,
        "elements": [element("node/4816254390")],
        "remark": 'runtime error: Query timed out in "query" at line 3 after 26 seconds.',
    }
    summary = await run_import(session, json.dumps(document).encode())
    assert summary.created == 1
    assert summary.remark is not None and "timed out" in summary.remark


def _write_big_extract(path: Path, n: int) -> None:
    """An Overpass file of n elements, written piece by piece (the test holds no big list)."""
    with path.open("w", encoding="utf-8") as out:
        out.write('{"version": 0.6, "generator": "test", "elements": [\n')
        for i in range(n):
            tags = {
                "amenity": "restaurant",
                "cuisine": "vietnamese",
                "opening_hours": "Mo-Su 07:00-21:00",
                "addr:subdistrict": "Xã Tú Lệ",
                "addr:district": "Huyện Văn Chấn",
            }
            if i % 10:  # every tenth has no name: skipped, reported
                tags["name"] = f"Quán ăn số {i}"
                tags["name:en"] = f"Eatery {i}"
                tags["description"] = "Phở, bún chả và xôi ngũ sắc. " * 4
            element = {
                "type": "node",
                "id": 10**9 + i,
                "lat": 21.3 + (i % 997) / 1000,
                "lon": 103.9 + (i % 1297) / 1000,
                "tags": tags,
            }
            out.write(("," if i else "") + json.dumps(element, ensure_ascii=False) + "\n")
        out.write("]}\n")


async def test_the_import_streams_in_constant_memory(
    session: AsyncSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """20,000 features go through reading, mapping, batching and the report in no more memory
    than 2,000 do (a batch of places is the most ever held). The database writes are replaced:
    their memory is the database's business."""

    async def upsert(_session: AsyncSession, data: PlaceIn) -> places.Upserted:
        return places.Upserted("created", None)  # type: ignore[arg-type]

    monkeypatch.setattr(importer, "upsert_from_source", upsert)
    await run_import(session, OVERPASS)  # warm the caches (compiled statements, hours)

    async def peak_for(n: int) -> tuple[int, int, importer.Summary]:
        path = tmp_path / f"extract-{n}.json"
        _write_big_extract(path, n)
        with path.open("rb") as stream, (tmp_path / f"report-{n}.csv").open("w") as report:
            tracemalloc.start()
            try:
                summary = await importer.import_places(
                    session, stream, importer.Options(), report=report
                )
                peak = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
        return peak, path.stat().st_size, summary

    small_peak, _small_size, _ = await peak_for(2_000)
    peak, size, summary = await peak_for(20_000)
    assert (summary.created, summary.skipped) == (18_000, 2_000)
    assert len(summary.skips) == importer.SHOWN_SKIPS
    with (tmp_path / "report-20000.csv").open() as report:
        assert sum(1 for _ in report) == 2_001  # every skip in the report, none kept in memory
    assert peak < small_peak * 1.2 + 200_000, f"{peak:,} bytes for 20,000, {small_peak:,} for 2,000"
    assert peak < size / 3, f"peak {peak:,} bytes for a {size:,} byte file"


# The command -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cli_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    with dbutil.cli_database(tmp_path_factory.mktemp("import-cli"), "import", 120) as env:
        yield env


cli = dbutil.run_cli


def counts(output: str) -> dict[str, int]:
    return {
        label: int(n)
        for label, n in re.findall(r"\b(created|updated|unchanged|skipped)\W+(\d+)", output)
    }


def _read_places(url: str) -> dict[str, tuple[str | None, int | None]]:
    """Imported places: source id -> (ward code, department id)."""
    from app.db import create_engine, create_sessionmaker
    from app.org.models import Ward

    async def go() -> dict[str, tuple[str | None, int | None]]:
        engine = create_engine(url)
        try:
            async with create_sessionmaker(engine)() as session:
                rows = await session.execute(
                    select(Place.source_id, Ward.code, Place.department_id)
                    .outerjoin(Ward, Ward.id == Place.ward_id)
                    .where(Place.source == "osm")
                )
                return {source_id: (ward, dept) for source_id, ward, dept in rows}
        finally:
            await engine.dispose()

    return asyncio.run(go())


def test_the_command_end_to_end(cli_env: dict[str, str], tmp_path: Path) -> None:
    assert cli(cli_env, "migrate").returncode == 0
    assert cli(cli_env, "seed-demo").returncode == 0  # wards and departments

    dry = cli(cli_env, "import-places", str(OVERPASS), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "nothing was saved" in dry.stdout and counts(dry.stdout)["created"] == GOOD_RECORDS
    assert _read_places(cli_env["CITIZENHUB_DATABASE_URL"]) == {}

    report = tmp_path / "skipped.csv"
    first = cli(
        cli_env,
        "import-places",
        str(OVERPASS),
        "--report",
        str(report),
        "--department",
        "environment",
        "--batch-size",
        "7",
    )
    assert first.returncode == 0, first.stderr
    assert counts(first.stdout) == {
        "created": GOOD_RECORDS,
        "updated": 0,
        "unchanged": 0,
        "skipped": len(EXPECTED_SKIPS),
    }
    for record_id, reason in EXPECTED_SKIPS.items():
        assert re.search(rf"{re.escape(record_id)}\s+{re.escape(reason)}", first.stdout)
    assert "Overpass JSON" in first.stdout
    assert "Importing" in first.stderr  # the progress bar
    with report.open(encoding="utf-8") as rows:
        assert {row["id"]: row["reason"] for row in csv.DictReader(rows)} == EXPECTED_SKIPS

    stored = _read_places(cli_env["CITIZENHUB_DATABASE_URL"])
    assert len(stored) == GOOD_RECORDS
    assert stored["node/4816254390"][0] == "hong-ha"  # the hotel's ward, found from its point
    assert stored["way/412207789"][0] == "nguyen-thai-hoc"
    assert len({dept for _ward, dept in stored.values()}) == 1 and None not in {
        dept for _ward, dept in stored.values()
    }

    again = cli(cli_env, "import-places", str(OVERPASS))
    assert again.returncode == 0, again.stderr
    assert counts(again.stdout) == {
        "created": 0,
        "updated": 0,
        "unchanged": GOOD_RECORDS,
        "skipped": len(EXPECTED_SKIPS),
    }

    geojson = cli(cli_env, "import-places", str(GEOJSON), "--bbox", ",".join(map(str, PROVINCE)))
    assert geojson.returncode == 0, geojson.stderr
    assert counts(geojson.stdout)["created"] == 6 and "GeoJSON" in geojson.stdout


def test_the_command_refuses_what_it_cannot_read(cli_env: dict[str, str], tmp_path: Path) -> None:
    assert cli(cli_env, "migrate").returncode == 0
    missing = cli(cli_env, "import-places", str(tmp_path / "nowhere.json"))
    assert missing.returncode == 2 and "Cannot read" in missing.stderr

    xml = tmp_path / "extract.osm"
    xml.write_text("<?xml version='1.0'?><osm version='0.6'></osm>", encoding="utf-8")
    refused = cli(cli_env, "import-places", str(xml))
    assert refused.returncode == 2 and "not valid JSON" in refused.stderr

    other = tmp_path / "other.json"
    other.write_text('{"rows": []}', encoding="utf-8")
    refused = cli(cli_env, "import-places", str(other))
    assert refused.returncode == 2 and "neither GeoJSON" in refused.stderr

    broken = tmp_path / "broken.json"
    text = OVERPASS.read_bytes()
    broken.write_bytes(text[: text.index(b'"id": 9034117762')])
    partial = cli(cli_env, "import-places", str(broken), "--source", "osm-partial")
    assert partial.returncode == 2 and "breaks off after 11 records" in partial.stderr
    assert counts(partial.stdout)["created"] == 11

    assert cli(cli_env, "import-places", str(OVERPASS), "--bbox", "1,2,3").returncode == 2
    assert cli(cli_env, "import-places", str(OVERPASS), "--source", "OSM!").returncode == 2
    unknown = cli(cli_env, "import-places", str(OVERPASS), "--department", "no-such")
    assert unknown.returncode == 2 and "no department" in unknown.stderr
