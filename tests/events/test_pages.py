"""The event pages as a browser without JavaScript gets them: plain links and GET forms."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from app.events.service import weekend
from tests.events.conftest import NGHIA_LO, add_event, create_place

SEPTEMBER = {"from": "2030-09-01", "to": "2030-09-30"}


async def test_the_list_groups_occurrences_by_day(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await add_event(
        session,
        code="sunday-market",
        category="market",
        title={"vi": "Chợ phiên Nghĩa Lộ", "en": "Nghĩa Lộ Sunday market"},
        starts_at="2030-09-01T06:00:00",
        ends_at="2030-09-01T11:00:00",
        rrule="FREQ=WEEKLY;BYDAY=SU",
    )
    await add_event(session, code="xoe", title={"vi": "Đêm Xòe"}, category="performance")
    page = await client.get("/events", params={**SEPTEMBER, "lang": "en"})
    assert page.status_code == 200
    html = page.text
    days = re.findall(r'<h2 id="day-([0-9-]+)">([^<]+)</h2>', html)
    assert [d for d, _ in days] == [
        "2030-09-01",
        "2030-09-08",
        "2030-09-15",
        "2030-09-20",
        "2030-09-22",
        "2030-09-29",
    ]
    assert days[0][1] == "Sunday, September 1, 2030"
    friday = html.split('id="day-2030-09-20"')[1].split("</section>")[0]
    assert 'href="/events/xoe"' in friday and "Đêm Xòe" in friday and "sunday-market" not in friday
    assert 'lang="vi"' in friday  # a Vietnamese-only title on an English page
    assert '<time datetime="2030-09-20T19:00:00+07:00">7:00\u202fPM – 9:00\u202fPM</time>' in friday
    assert "6 events from Sunday, September 1, 2030 to Monday, September 30, 2030." in html
    assert 'type="text/calendar"' in html and "/api/v1/events.ics?lang=en" in html
    market_only = await client.get("/events", params={**SEPTEMBER, "category": "market"})
    assert "/events/xoe" not in market_only.text and "/events/sunday-market" in market_only.text


async def test_quick_links_for_today_and_this_weekend(client: httpx.AsyncClient) -> None:
    html = (await client.get("/events")).text
    links = re.findall(r'href="(/events\?from=[^"]+)"', html)
    saturday, sunday = weekend(datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date())
    assert f"/events?from={saturday.isoformat()}&amp;to={sunday.isoformat()}" in links
    assert len(links) == 3
    weekend_url = f"/events?from={saturday.isoformat()}&to={sunday.isoformat()}"
    chosen = (await client.get(weekend_url)).text
    assert f'href="{weekend_url.replace("&", "&amp;")}" aria-current="page"' in chosen


def test_this_weekend_is_the_coming_saturday_and_sunday() -> None:
    wednesday = date(2030, 9, 18)
    assert weekend(wednesday) == (date(2030, 9, 21), date(2030, 9, 22))
    assert weekend(date(2030, 9, 21)) == (date(2030, 9, 21), date(2030, 9, 22))
    assert weekend(date(2030, 9, 22)) == (date(2030, 9, 22), date(2030, 9, 22))
    assert weekend(date(2030, 9, 23)) == (date(2030, 9, 28), date(2030, 9, 29))
    assert weekend(date(2030, 9, 20)) == (wednesday + timedelta(days=3), date(2030, 9, 22))


async def test_filters_that_make_no_sense_are_explained(client: httpx.AsyncClient) -> None:
    page = await client.get("/events", params={"from": "2030-09-10", "to": "2030-09-01"})
    assert page.status_code == 422
    assert 'class="error-summary"' in page.text and 'href="#filter-to"' in page.text
    assert 'id="filter-to" name="to" type="date" value="2030-09-01"' in page.text
    assert 'aria-invalid="true"' in page.text
    kind = await client.get("/events", params={"category": "concert"})
    assert kind.status_code == 422 and 'href="#filter-category"' in kind.text


async def test_an_event_page_says_when_where_how_much_and_how_accessible(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await create_place(session, "t-field", NGHIA_LO, "Cánh đồng Mường Lò")
    await add_event(
        session,
        code="sunday-market",
        category="market",
        title={"vi": "Chợ phiên Nghĩa Lộ"},
        starts_at="2030-09-01T06:00:00",
        ends_at="2030-09-01T11:00:00",
        rrule="FREQ=WEEKLY;BYDAY=SU",
        place_code="t-field",
        price_vnd=0,
        price_note={"vi": "Vào chợ tự do."},
        accessibility_notes={"vi": "Lối vào bằng phẳng từ đường chính."},
        url="https://nghialo.yenbai.gov.vn/cho-phien",
    )
    page = await client.get("/events/sunday-market")
    assert page.status_code == 200
    html = page.text
    assert "<h1>Chợ phiên Nghĩa Lộ</h1>" in html
    assert '<a href="/places/t-field">Cánh đồng Mường Lò</a>' in html
    assert "Lối vào bằng phẳng từ đường chính." in html and "Vào chợ tự do." in html
    assert 'href="/api/v1/events/sunday-market.ics?lang=vi"' in html
    assert 'href="https://nghialo.yenbai.gov.vn/cho-phien"' in html
    assert html.count("<li><time datetime=") == 10  # the next ten Sundays
    assert '<time datetime="2030-09-08T06:00:00+07:00">' in html
    assert "openstreetmap.org/?mlat=21.601" in html
    assert (await client.get("/events/no-such-event")).status_code == 404


async def test_a_past_one_off_event_says_it_is_over(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await add_event(
        session,
        code="old-fair",
        title={"vi": "Hội chợ cũ"},
        starts_at="2020-03-01T08:00",
        ends_at="2020-03-01T17:00",
        venue={"vi": "Sân vận động Yên Bái"},
    )
    html = (await client.get("/events/old-fair", params={"lang": "en"})).text
    assert "This event is over." in html
    assert "Sân vận động Yên Bái" in html and "/places/" not in html
    main = html.split("<main")[1].split("</main>")[0]
    assert "This event is over." in main and ".ics" not in main  # nothing left to add
