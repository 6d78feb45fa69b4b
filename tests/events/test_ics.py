"""The iCalendar feeds, read back with icalendar's own parser as a calendar app would."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import icalendar
from dateutil.rrule import rrulestr
from sqlalchemy.ext.asyncio import AsyncSession

from tests.events.conftest import NGHIA_LO, add_event, create_place

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def parse(response: httpx.Response) -> icalendar.Calendar:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    return icalendar.Calendar.from_ical(response.content)


def by_uid(cal: icalendar.Calendar) -> dict[str, icalendar.Event]:
    return {str(e["UID"]): e for e in cal.walk("VEVENT")}


async def _world(session: AsyncSession) -> None:
    await create_place(
        session, "t-field", NGHIA_LO, "Cánh đồng Mường Lò", names={"en": "Mường Lò fields"}
    )
    await add_event(
        session,
        code="sunday-market",
        category="market",
        title={"vi": "Chợ phiên Nghĩa Lộ", "en": "Nghĩa Lộ Sunday market"},
        description={"vi": "Thổ cẩm, rau rừng, cốm.", "en": "Brocade, wild greens, green rice."},
        starts_at="2030-09-01T06:00:00",
        ends_at="2030-09-01T11:00:00",
        rrule="FREQ=WEEKLY;BYDAY=SU",
        place_code="t-field",
        accessibility_notes={"vi": "Lối vào bằng phẳng.", "en": "Step-free way in."},
    )
    await add_event(
        session,
        code="terraces",
        title={"vi": "Lễ hội Ruộng bậc thang", "en": "Terraced fields festival"},
        all_day=True,
        starts_at="2030-09-20",
        ends_at="2030-09-22",
        venue={"vi": "Thị trấn Mù Cang Chải"},
        price_vnd=None,
    )
    await add_event(
        session,
        code="xoe-autumn",
        category="performance",
        title={"vi": "Đêm Xòe"},
        starts_at="2030-09-07T20:00:00",
        ends_at="2030-09-07T21:30:00",
        rrule="FREQ=WEEKLY;BYDAY=SA;UNTIL=20301005",
    )
    await add_event(
        session,
        code="long-over",
        starts_at="2020-01-01T10:00",
        ends_at="2020-01-01T12:00",
    )


async def test_the_feed_reads_back_with_rules_zones_and_stable_uids(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await _world(session)
    response = await client.get("/api/v1/events.ics", params={"lang": "en"})
    cal = parse(response)
    assert str(cal["VERSION"]) == "2.0" and "Citizen Hub" in str(cal["PRODID"])
    assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["Asia/Ho_Chi_Minh"]
    events = by_uid(cal)
    # Current events only: the one over in 2020 is not there.
    assert set(events) == {
        "sunday-market@citizenhub",
        "terraces@citizenhub",
        "xoe-autumn@citizenhub",
    }
    market = events["sunday-market@citizenhub"]
    assert str(market["SUMMARY"]) == "Nghĩa Lộ Sunday market"
    assert market.start == datetime(2030, 9, 1, 6, 0, tzinfo=TZ)
    assert market["DTSTART"].params["TZID"] == "Asia/Ho_Chi_Minh"
    assert market.end == datetime(2030, 9, 1, 11, 0, tzinfo=TZ)
    assert market["RRULE"].to_ical() == b"FREQ=WEEKLY;BYDAY=SU"
    assert str(market["LOCATION"]) == "Mường Lò fields"
    assert (market["GEO"].latitude, market["GEO"].longitude) == NGHIA_LO
    assert str(market["URL"]) == "https://testserver/events/sunday-market"
    description = str(market["DESCRIPTION"])
    assert "Brocade, wild greens" in description and "Step-free way in." in description
    assert "Price: Free" in description
    assert market["LAST-MODIFIED"].dt.tzinfo is not None
    assert b"DTSTART;TZID=Asia/Ho_Chi_Minh:20300901T060000" in response.content

    terraces = events["terraces@citizenhub"]
    assert terraces.start == date(2030, 9, 20) and terraces.end == date(2030, 9, 23)
    assert str(terraces["LOCATION"]) == "Thị trấn Mù Cang Chải" and "GEO" not in terraces
    assert "Price: Price not known" in str(terraces["DESCRIPTION"])

    xoe = events["xoe-autumn@citizenhub"]
    assert xoe["RRULE"]["UNTIL"] == [datetime(2030, 10, 5, 16, 59, 59, tzinfo=UTC)]


async def test_the_rule_in_the_feed_expands_to_the_dates_the_api_lists(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await _world(session)
    cal = parse(await client.get("/api/v1/events.ics"))
    start = datetime(2030, 9, 1, tzinfo=TZ)
    end = datetime(2030, 11, 1, tzinfo=TZ)
    expanded = set()
    for item in cal.walk("VEVENT"):
        if "RRULE" not in item:
            continue
        rule = rrulestr(item["RRULE"].to_ical().decode(), dtstart=item.start)
        length = item.end - item.start
        for moment in rule.between(start - length, end):
            expanded.add((str(item["UID"]).split("@")[0], moment.isoformat()))
    listed = await client.get(
        "/api/v1/events", params={"from": "2030-09-01", "to": "2030-10-31", "limit": 200}
    )
    from_api = {(i["code"], i["starts_at"]) for i in listed.json()["items"] if i["recurring"]}
    assert expanded == from_api
    saturdays = sorted(m for code, m in expanded if code == "xoe-autumn")
    assert saturdays == [
        f"2030-{d}T20:00:00+07:00" for d in ("09-07", "09-14", "09-21", "09-28", "10-05")
    ]
    assert len([m for code, m in expanded if code == "sunday-market"]) == 9


async def test_one_event_to_add_to_a_calendar(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await _world(session)
    response = await client.get("/api/v1/events/terraces.ics")
    assert response.headers["content-disposition"] == 'attachment; filename="terraces.ics"'
    cal = parse(response)
    assert list(by_uid(cal)) == ["terraces@citizenhub"]
    assert str(cal.walk("VEVENT")[0]["SUMMARY"]) == "Lễ hội Ruộng bậc thang"  # Vietnamese first
    english = parse(
        await client.get("/api/v1/events/terraces.ics", headers={"Accept-Language": "en-GB,en"})
    )
    assert str(english.walk("VEVENT")[0]["SUMMARY"]) == "Terraced fields festival"
    assert len(cal.walk("VTIMEZONE")) == 1
    assert (await client.get("/api/v1/events/no-such-event.ics")).status_code == 404


async def test_an_all_day_rule_ends_on_a_date_and_other_zones_get_their_own_vtimezone(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await add_event(
        session,
        code="monthly-fair",
        all_day=True,
        starts_at="2030-09-01",
        ends_at="2030-09-01",
        rrule="FREQ=MONTHLY;UNTIL=20301201",
    )
    await add_event(
        session,
        code="paris-show",
        time_zone="Europe/Paris",
        starts_at="2030-10-26T20:00:00",
        ends_at="2030-10-26T22:00:00",
        rrule="FREQ=DAILY;COUNT=3",
    )
    cal = parse(await client.get("/api/v1/events.ics"))
    assert sorted(str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")) == [
        "Asia/Ho_Chi_Minh",
        "Europe/Paris",
    ]
    events = by_uid(cal)
    fair = events["monthly-fair@citizenhub"]
    assert fair["RRULE"]["UNTIL"] == [date(2030, 12, 1)]
    assert [
        d.date() for d in rrulestr(fair["RRULE"].to_ical().decode(), dtstart=datetime(2030, 9, 1))
    ] == [
        date(2030, 9, 1),
        date(2030, 10, 1),
        date(2030, 11, 1),
        date(2030, 12, 1),
    ]
    # Summer time ends in Paris on 27 October 2030: 20:00 local stays 20:00 local.
    show = events["paris-show@citizenhub"]
    rule = rrulestr(show["RRULE"].to_ical().decode(), dtstart=show.start)
    assert [m.astimezone(UTC).hour for m in rule] == [18, 19, 19]
    listed = await client.get(
        "/api/v1/events", params={"from": "2030-10-26", "to": "2030-10-30", "category": "festival"}
    )
    shows = [i["starts_at"] for i in listed.json()["items"] if i["code"] == "paris-show"]
    assert shows == [
        "2030-10-26T20:00:00+02:00",
        "2030-10-27T20:00:00+01:00",
        "2030-10-28T20:00:00+01:00",
    ]


async def test_feeds_have_an_etag_and_answer_304(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await _world(session)
    for path in ("/api/v1/events.ics", "/api/v1/events/terraces.ics"):
        first = await client.get(path)
        assert first.headers["cache-control"].startswith("public, max-age=")
        etag = first.headers["etag"]
        same = await client.get(path)
        assert same.headers["etag"] == etag and same.content == first.content
        again = await client.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        other_language = await client.get(
            path, headers={"If-None-Match": etag, "Accept-Language": "en"}
        )
        assert other_language.status_code == 200
    first = await client.get("/api/v1/events.ics")
    await add_event(
        session,
        code="new-one",
        starts_at=(datetime.now(UTC) + timedelta(days=3)).isoformat(),
        ends_at=(datetime.now(UTC) + timedelta(days=3, hours=1)).isoformat(),
    )
    changed = await client.get(
        "/api/v1/events.ics", headers={"If-None-Match": first.headers["etag"]}
    )
    assert changed.status_code == 200 and b"new-one@citizenhub" in changed.content
