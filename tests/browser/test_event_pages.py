"""The event pages with JavaScript on and off: axe finds nothing on the list (with and without
filters, with an error) and on an event's page, and a visitor narrows the list to markets and
opens one with the keyboard alone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import icalendar
import pytest

from tests.browser.conftest import axe_here
from tests.browser.test_alert_pages import tab_to

pytestmark = pytest.mark.browser
MANAGER = "manager@demo.citizenhub.vn"
TZ = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture(scope="module")
def events(live_server: str) -> Iterator[dict[str, str]]:
    """A weekly market and a performance in two days, added through the API by a manager
    (whether or not the demo loaded its own events)."""
    from app.demo.loader import DEMO_PASSWORD

    token = httpx.post(
        f"{live_server}/api/v1/auth/token",
        data={"username": MANAGER, "password": DEMO_PASSWORD},
        timeout=10,
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    today = datetime.now(TZ).date()
    last_sunday = today - timedelta(days=(today.weekday() + 1) % 7)
    soon = today + timedelta(days=2)
    bodies = [
        {
            "code": "browser-sunday-market",
            "category": "market",
            "title": {"vi": "Chợ phiên thử nghiệm", "en": "Test Sunday market"},
            "starts_at": f"{last_sunday.isoformat()}T06:00:00",
            "ends_at": f"{last_sunday.isoformat()}T11:00:00",
            "rrule": "FREQ=WEEKLY;BYDAY=SU",
            "place_code": "demo-nghia-lo-market",
            "price_vnd": 0,
            "accessibility_notes": {"vi": "Lối vào bằng phẳng.", "en": "Step-free way in."},
        },
        {
            "code": "browser-xoe-night",
            "category": "performance",
            "title": {"vi": "Đêm Xòe thử nghiệm"},
            "description": {"vi": "Múa xòe quanh đống lửa."},
            "starts_at": f"{soon.isoformat()}T19:00:00",
            "ends_at": f"{soon.isoformat()}T21:00:00",
            "venue": {"vi": "Nhà văn hóa bản Ten"},
            "price_vnd": 50_000,
        },
    ]
    for body in bodies:
        r = httpx.post(f"{live_server}/api/v1/events", json=body, headers=headers, timeout=10)
        assert r.status_code in (201, 409), r.text
    yield {"market": "browser-sunday-market", "show": "browser-xoe-night"}


def test_the_list_and_an_event(live_server: str, page: Any, events: dict[str, str]) -> None:
    page.goto(live_server + "/events")
    assert page.locator("link[rel='alternate'][type='text/calendar']").count() == 1
    assert page.locator("section h2[id^='day-']").count() >= 2
    assert page.locator(f"a[href='/events/{events['show']}']").count() == 1
    axe_here(page)
    page.goto(live_server + "/events?lang=en&category=market")
    assert page.locator(f"a[href='/events/{events['show']}']").count() == 0
    axe_here(page)
    page.locator(f"a[href='/events/{events['market']}']").first.click()
    page.wait_for_url(re.compile(rf".*/events/{events['market']}$"))
    assert page.locator("a[href='/places/demo-nghia-lo-market']").count() == 1
    assert page.locator(".event-dates li").count() == 10
    axe_here(page)
    ics = page.locator("a[href$='.ics?lang=en']").get_attribute("href")
    response = httpx.get(live_server + ics, timeout=10)
    cal = icalendar.Calendar.from_ical(response.content)
    assert [str(e["UID"]) for e in cal.walk("VEVENT")] == [f"{events['market']}@citizenhub"]
    page.goto(f"{live_server}/events/{events['show']}")
    assert page.locator("h1").inner_text() == "Đêm Xòe thử nghiệm"
    axe_here(page)


def test_the_list_with_an_error(live_server: str, page: Any) -> None:
    page.goto(live_server + "/events?from=2030-09-10&to=2030-09-01")
    summary = page.locator(".error-summary[role='alert']")
    assert summary.count() == 1 and page.locator("a[href='#filter-to']").count() == 1
    assert page.get_attribute("#filter-to", "aria-invalid") == "true"
    axe_here(page)


def test_keyboard_only_markets_this_week_then_one_market(
    live_server: str, page: Any, events: dict[str, str]
) -> None:
    page.goto(live_server + "/events?lang=en")
    tab_to(page, "el.id === 'filter-category'")
    page.keyboard.press("ArrowDown")  # All kinds -> Festival
    page.keyboard.press("ArrowDown")  # -> Market
    assert page.evaluate("document.querySelector('#filter-category').value") == "market"
    tab_to(page, "el.type === 'submit' && el.closest('form.filters')")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "category=market" in page.url
    tab_to(page, f"el.getAttribute('href') === '/events/{events['market']}'")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith(f"/events/{events['market']}")
    tab_to(page, "el.getAttribute('href') === '/places/demo-nghia-lo-market'")
    tab_to(page, "el.getAttribute('href') && el.getAttribute('href').includes('.ics')")
