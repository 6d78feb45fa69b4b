"""What is on: occurrences in a window, recurring events expanded in local time, filters by
date, place, kind and words, pages of results, languages and caching."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.events.models import Event
from tests.events.conftest import (
    MU_CANG_CHAI,
    NGHIA_LO,
    NGHIA_LO_SOUTH,
    add_event,
    create_place,
)

SEPTEMBER = {"from": "2030-09-01", "to": "2030-09-30"}


async def listed(client: httpx.AsyncClient, **params: object) -> dict:
    r = await client.get("/api/v1/events", params=params)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def test_a_weekly_market_is_listed_once_per_sunday_in_local_time(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await add_event(
        session,
        code="sunday-market",
        category="market",
        title={"vi": "Chợ phiên Nghĩa Lộ"},
        starts_at="2030-09-01T06:00:00",
        ends_at="2030-09-01T11:00:00",
        rrule="FREQ=WEEKLY;BYDAY=SU",
    )
    await add_event(
        session,
        code="xoe-night",
        starts_at="2030-09-20T19:00:00",
        ends_at="2030-09-20T21:00:00",
    )
    body = await listed(client, **SEPTEMBER)
    assert [(i["code"], i["starts_at"]) for i in body["items"]] == [
        ("sunday-market", "2030-09-01T06:00:00+07:00"),
        ("sunday-market", "2030-09-08T06:00:00+07:00"),
        ("sunday-market", "2030-09-15T06:00:00+07:00"),
        ("xoe-night", "2030-09-20T19:00:00+07:00"),
        ("sunday-market", "2030-09-22T06:00:00+07:00"),
        ("sunday-market", "2030-09-29T06:00:00+07:00"),
    ]
    assert body["total"] == 6
    market = body["items"][0]
    assert market["ends_at"] == "2030-09-01T11:00:00+07:00" and market["recurring"] is True
    assert market["links"] == {
        "page": "/events/sunday-market",
        "ics": "/api/v1/events/sunday-market.ics",
        "api": "/api/v1/events/sunday-market",
    }
    # Far in the future the rule still holds, and the time of day stays 06:00 local.
    later = await listed(client, **{"from": "2031-03-01", "to": "2031-03-10"})
    assert [i["starts_at"] for i in later["items"]] == [
        "2031-03-02T06:00:00+07:00",
        "2031-03-09T06:00:00+07:00",
    ]


async def test_a_rule_with_an_end_stops_and_a_bounded_window_cuts(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    row = await add_event(
        session,
        code="three-saturdays",
        category="performance",
        starts_at="2030-09-07T20:00:00",
        ends_at="2030-09-07T21:30:00",
        rrule="FREQ=WEEKLY;BYDAY=SA;COUNT=3",
    )
    assert row.event.last_ends_at == datetime(2030, 9, 21, 14, 30, tzinfo=UTC)
    body = await listed(client, **SEPTEMBER)
    assert [i["starts_at"][:10] for i in body["items"]] == [
        "2030-09-07",
        "2030-09-14",
        "2030-09-21",
    ]
    # A window ending on the 14th (that day included) sees two.
    body = await listed(client, **{"from": "2030-09-01", "to": "2030-09-14"})
    assert body["total"] == 2


async def test_nineteen_hours_in_ho_chi_minh_city_is_noon_utc(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    row = await add_event(session, code="evening")
    stored = await session.get(Event, row.event.id)
    assert stored is not None
    assert stored.starts_at == datetime(2030, 9, 20, 12, 0, tzinfo=UTC)
    assert stored.ends_at == datetime(2030, 9, 20, 14, 0, tzinfo=UTC)
    # The same moment asked for in UTC, in local time without an offset, and with an offset.
    for start in ("2030-09-20T12:30:00Z", "2030-09-20T19:30:00", "2030-09-20T19:30:00+07:00"):
        body = await listed(client, **{"from": start, "to": "2030-09-21"})
        assert [i["code"] for i in body["items"]] == ["evening"], start
        assert body["items"][0]["starts_at"] == "2030-09-20T19:00:00+07:00"
    # It ends at 14:00Z: from then on it is over; up to noon UTC it has not begun.
    assert (await listed(client, **{"from": "2030-09-20T14:00:00Z"}))["total"] == 0
    before = {"from": "2030-09-20T00:00:00Z", "to": "2030-09-20T12:00:00Z"}
    assert (await listed(client, **before))["total"] == 0
    # A whole local day, 20 September, holds it; the window is echoed with the local offset.
    day = await listed(client, **{"from": "2030-09-20", "to": "2030-09-20"})
    assert day["total"] == 1
    assert day["start"] == "2030-09-20T00:00:00+07:00" and day["end"] == "2030-09-21T00:00:00+07:00"


async def test_an_event_under_way_is_listed_and_all_day_events_cover_local_days(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    row = await add_event(
        session,
        code="terraces-festival",
        all_day=True,
        starts_at="2030-09-20",
        ends_at="2030-09-22",
    )
    stored = row.event
    assert stored.starts_at == datetime(2030, 9, 19, 17, 0, tzinfo=UTC)  # local midnight
    assert stored.ends_at == datetime(2030, 9, 22, 17, 0, tzinfo=UTC)  # midnight after the 22nd
    body = await listed(client, **{"from": "2030-09-21T10:00:00", "to": "2030-09-21"})
    item = body["items"][0]
    assert item["all_day"] is True and item["starts_at"] == "2030-09-20T00:00:00+07:00"
    assert item["ends_at"] == "2030-09-23T00:00:00+07:00"
    assert (await listed(client, **{"from": "2030-09-23", "to": "2030-09-30"}))["total"] == 0


async def test_the_default_window_is_the_next_sixty_days(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    soon = datetime.now(UTC) + timedelta(days=10)
    later = datetime.now(UTC) + timedelta(days=75)
    past = datetime.now(UTC) - timedelta(days=3)
    for code, moment in (("soon", soon), ("later", later), ("past", past)):
        await add_event(
            session,
            code=code,
            starts_at=moment.isoformat(),
            ends_at=(moment + timedelta(hours=2)).isoformat(),
        )
    body = await listed(client)
    assert [i["code"] for i in body["items"]] == ["soon"]
    start = datetime.fromisoformat(body["start"])
    assert abs((start - datetime.now(UTC)).total_seconds()) < 120
    assert datetime.fromisoformat(body["end"]) - start == timedelta(days=60)


async def test_kinds_and_words_of_the_title_without_accents(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await add_event(session, code="market", category="market", title={"vi": "Chợ phiên Đồng Tâm"})
    await add_event(
        session, code="tea", category="festival", title={"vi": "Ngày hội Trà Shan Tuyết"}
    )
    await add_event(
        session,
        code="xoe",
        category="performance",
        title={"vi": "Đêm Xòe Thái", "en": "Thái Xòe night"},
    )
    by_kind = await listed(client, **SEPTEMBER, category="market")
    assert [i["code"] for i in by_kind["items"]] == ["market"]
    two_kinds = await listed(client, **{**SEPTEMBER, "category": ["market", "performance"]})
    assert sorted(i["code"] for i in two_kinds["items"]) == ["market", "xoe"]
    for q, expected in (
        ("cho phien", ["market"]),
        ("DONG tam", ["market"]),  # đ folds to d
        ("Đồng Tâm", ["market"]),
        ("xoe", ["xoe"]),
        ("night", ["xoe"]),  # any language of the title
        ("tra shan", ["tea"]),
        ("lễ hội", []),
    ):
        body = await listed(client, **SEPTEMBER, q=q)
        assert [i["code"] for i in body["items"]] == expected, q
    bad = await client.get("/api/v1/events", params={"category": "concert"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "category.0"


async def test_near_a_point_only_events_at_places_within_the_radius_nearest_first(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await create_place(session, "t-nghia-lo-field", NGHIA_LO, "Cánh đồng Mường Lò")
    await create_place(session, "t-nghia-lo-south", NGHIA_LO_SOUTH, "Bản Sang Thái")
    await create_place(session, "t-mu-cang-chai", MU_CANG_CHAI, "Mù Cang Chải")
    await add_event(session, code="far", place_code="t-mu-cang-chai", starts_at="2030-09-03T08:00")
    await add_event(
        session, code="south", place_code="t-nghia-lo-south", starts_at="2030-09-02T08:00"
    )
    await add_event(
        session, code="field", place_code="t-nghia-lo-field", starts_at="2030-09-05T08:00"
    )
    await add_event(session, code="no-place", venue={"vi": "Nhà văn hóa bản Ten"})
    body = await listed(client, **SEPTEMBER, lat=NGHIA_LO[0], lon=NGHIA_LO[1], radius=10_000)
    assert [i["code"] for i in body["items"]] == ["field", "south"]  # nearest first, not soonest
    field, south = body["items"]
    assert field["venue"]["distance_m"] < 10
    assert 4_800 < south["venue"]["distance_m"] < 5_200
    assert south["venue"] == {
        "name": "Bản Sang Thái",
        "place_code": "t-nghia-lo-south",
        "lat": NGHIA_LO_SOUTH[0],
        "lon": NGHIA_LO_SOUTH[1],
        "distance_m": south["venue"]["distance_m"],
        "url": "/places/t-nghia-lo-south",
    }
    wide = await listed(client, **SEPTEMBER, lat=NGHIA_LO[0], lon=NGHIA_LO[1], radius=100_000)
    assert [i["code"] for i in wide["items"]] == ["field", "south", "far"]
    everything = await listed(client, **SEPTEMBER)
    free_text = next(i for i in everything["items"] if i["code"] == "no-place")
    assert free_text["venue"] == {
        "name": "Nhà văn hóa bản Ten",
        "place_code": None,
        "lat": None,
        "lon": None,
        "distance_m": None,
        "url": None,
    }
    half = await client.get("/api/v1/events", params={"lat": NGHIA_LO[0]})
    assert half.status_code == 422 and half.json()["errors"][0]["field"] == "lon"


async def test_pages_of_results(client: httpx.AsyncClient, session: AsyncSession) -> None:
    await add_event(
        session,
        code="daily",
        starts_at="2030-09-01T08:00",
        ends_at="2030-09-01T09:00",
        rrule="FREQ=DAILY",
    )
    first = await listed(client, **SEPTEMBER, limit=10)
    second = await listed(client, **SEPTEMBER, limit=10, offset=10)
    last = await listed(client, **SEPTEMBER, limit=10, offset=20)
    assert first["total"] == second["total"] == last["total"] == 30
    days = [i["starts_at"][:10] for p in (first, second, last) for i in p["items"]]
    assert days == [f"2030-09-{d:02d}" for d in range(1, 31)]
    assert (second["limit"], second["offset"]) == (10, 10)
    too_many = await client.get("/api/v1/events", params={"limit": 500})
    assert too_many.status_code == 422


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "20 September"}, "from"),
        ({"to": "2030-13-01"}, "to"),
        ({"from": "2030-09-10", "to": "2030-09-01"}, "to"),
        ({"from": "2030-01-01", "to": "2031-06-01"}, "to"),
    ],
)
async def test_a_window_that_makes_no_sense_is_refused(
    client: httpx.AsyncClient, params: dict[str, str], field: str
) -> None:
    r = await client.get("/api/v1/events", params=params)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert [(e["field"], e["in"]) for e in r.json()["errors"]] == [(field, "query")]


async def test_titles_in_the_language_asked_for_with_a_fallback(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await add_event(session, code="both", title={"vi": "Đêm Xòe", "en": "Xòe night"})
    await add_event(session, code="vi-only", title={"vi": "Chợ phiên"}, price_vnd=None)
    await add_event(session, code="paid", title={"vi": "Bay dù lượn"}, price_vnd=1_800_000)
    en = await client.get("/api/v1/events", params=SEPTEMBER, headers={"Accept-Language": "en"})
    items = {i["code"]: i for i in en.json()["items"]}
    assert items["both"]["title"] == "Xòe night" and items["both"]["title_lang"] == "en"
    assert items["vi-only"]["title"] == "Chợ phiên" and items["vi-only"]["title_lang"] == "vi"
    assert items["both"]["price"] == {"vnd": 0, "free": True, "text": "Free", "note": ""}
    assert items["vi-only"]["price"]["text"] == "Price not known"
    assert items["paid"]["price"]["text"] == "₫1,800,000"
    assert items["both"]["category_label"] == "Festival"
    vi = await client.get("/api/v1/events", params={**SEPTEMBER, "lang": "vi"})
    items = {i["code"]: i for i in vi.json()["items"]}
    assert items["both"]["title"] == "Đêm Xòe" and items["both"]["title_lang"] == "vi"
    assert items["paid"]["price"]["text"].replace("\xa0", " ") == "1.800.000 ₫"


async def test_the_list_has_an_etag(client: httpx.AsyncClient, session: AsyncSession) -> None:
    await add_event(session, code="first")
    first = await client.get("/api/v1/events", params=SEPTEMBER)
    assert first.headers["cache-control"] == "public, max-age=60"
    etag = first.headers["etag"]
    again = await client.get("/api/v1/events", params=SEPTEMBER, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    await add_event(session, code="second")
    changed = await client.get("/api/v1/events", params=SEPTEMBER, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
