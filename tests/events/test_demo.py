"""The demo events: real festivals of Yên Bái on their usual dates, always some ahead."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.events import demo
from app.events.models import Event
from tests.events.conftest import NGHIA_LO, create_place


@pytest.mark.parametrize("month", [1, 6, 9, 10, 12])
async def test_the_demo_always_has_events_ahead_and_loads_once(
    client: httpx.AsyncClient, session: AsyncSession, month: int
) -> None:
    now = datetime(2030, month, 28, 3, 0, tzinfo=UTC)
    await create_place(session, "demo-nghia-lo-market", NGHIA_LO, "Chợ Mường Lò")
    added = await demo.load_demo(session, now=now)
    assert added == 8
    assert await demo.load_demo(session, now=now) == 0
    await session.commit()
    count = await session.scalar(select(func.count()).select_from(Event).where(Event.is_demo))
    assert count == 8
    a_year = {"from": now.isoformat(), "to": now.replace(year=2031).isoformat(), "limit": 200}
    upcoming = await client.get("/api/v1/events", params=a_year)
    codes = {i["code"] for i in upcoming.json()["items"]}
    # Every festival is this year's or next year's, so all are within a year of loading.
    assert codes == {item.code for item in (*demo.FESTIVALS, *demo.WEEKLY)}
    market = await client.get("/api/v1/events/demo-nghia-lo-sunday-market")
    body = market.json()
    assert body["venue"]["place_code"] == "demo-nghia-lo-market"  # the place, when it is there
    assert body["rrule"] == "FREQ=WEEKLY;BYDAY=SU" and body["starts_at"].endswith("06:00:00+07:00")
    paragliding = (await client.get("/api/v1/events/demo-khau-pha-paragliding")).json()
    assert paragliding["venue"] == {
        "name": "Đèo Khau Phạ, Mù Cang Chải",  # no demo place: the venue in words
        "place_code": None,
        "lat": None,
        "lon": None,
        "distance_m": None,
        "url": None,
    }
    terraces = (await client.get("/api/v1/events/demo-mu-cang-chai-terraces-festival")).json()
    assert terraces["all_day"] is True
    assert datetime.fromisoformat(terraces["starts_at"]).month == 9
    assert datetime.fromisoformat(terraces["starts_at"]).weekday() == 4  # a Friday


def test_nth_weekday() -> None:
    from datetime import date

    assert demo.nth_weekday(2030, 9, demo.FR, 3) == date(2030, 9, 20)
    assert demo.nth_weekday(2030, 9, demo.WE, -1) == date(2030, 9, 25)
    assert demo.nth_weekday(2030, 10, demo.SA, 1) == date(2030, 10, 5)
