"""The staff pages for events with JavaScript on and off: axe finds nothing on the list, the form,
the form with errors, an event's edit page with its history, the retire confirmation and the
refusal page; and a staff member adds a weekly event with the keyboard alone."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.browser.conftest import axe_here, sign_in
from tests.browser.test_alert_pages import tab_to

pytestmark = pytest.mark.browser
STAFF = "staff@demo.citizenhub.vn"  # of the urban department
MANAGER = "manager@demo.citizenhub.vn"
HEALTH_EVENT = "browser-health-fair"


@pytest.fixture(scope="module")
def health_event(live_server: str) -> Iterator[str]:
    """An event of the health department, added through the API by a manager: the urban staff
    member may not change it."""
    from app.demo.loader import DEMO_PASSWORD

    token = httpx.post(
        f"{live_server}/api/v1/auth/token",
        data={"username": MANAGER, "password": DEMO_PASSWORD},
        timeout=10,
    ).json()["access_token"]
    body = {
        "code": HEALTH_EVENT,
        "category": "other",
        "title": {"vi": "Ngày hội sức khỏe thử nghiệm", "en": "Test health fair"},
        "starts_at": "2031-05-10T08:00:00",
        "ends_at": "2031-05-10T11:00:00",
        "department_code": "health",
    }
    r = httpx.post(
        f"{live_server}/api/v1/events",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert r.status_code in (201, 409), r.text
    yield HEALTH_EVENT


def test_list_form_errors_and_confirmation(live_server: str, page: Any, health_event: str) -> None:
    sign_in(page, live_server, STAFF)
    page.goto(live_server + "/staff/events")
    assert page.locator("table.responsive-table tbody tr").count() >= 5  # the demo's events
    axe_here(page)
    page.goto(live_server + "/staff/events?show=past&q=cho&lang=en")
    axe_here(page)

    page.goto(live_server + "/staff/events/new")
    assert page.locator("input#starts_at[type='datetime-local']").count() == 1
    axe_here(page)
    page.fill("#title_vi", "Sự kiện thử")
    page.check("#repeat-weekly")
    page.fill("#price_vnd", "miễn phí")
    page.locator("form.event-form button[type='submit']").click()
    page.wait_for_load_state()
    summary = page.locator(".error-summary[role='alert']")
    assert summary.count() == 1
    for target in ("#category", "#starts_at", "#ends_at", "#days-MO", "#price_vnd"):
        assert summary.locator(f"a[href='{target}']").count() == 1, target
    assert page.input_value("#title_vi") == "Sự kiện thử"  # kept
    assert page.is_checked("#repeat-weekly")
    assert page.get_attribute("#price_vnd", "aria-invalid") == "true"
    axe_here(page)

    # A demo event belongs to no department: any staff member may change it.
    page.goto(live_server + "/staff/events/demo-nghia-lo-sunday-market/edit")
    assert page.is_checked("#repeat-weekly") and page.is_checked("#days-SU")
    assert page.locator("#history-title ~ table tbody tr").count() >= 1
    axe_here(page)
    page.goto(live_server + "/staff/events/demo-nghia-lo-sunday-market/retire")
    assert page.locator("form[action$='/retire'] button[type='submit']").count() == 1
    axe_here(page)

    # An event of another department: a readable refusal, not a form.
    response = page.goto(f"{live_server}/staff/events/{health_event}/edit")
    assert response is not None and response.status == 403
    assert page.locator("form.event-form").count() == 0
    axe_here(page)


def type_date(page: Any, day_month: str, year: str) -> None:
    """A day whose day and month are the same number ("0303"), so that what is typed means the
    same whether the browser's date field asks for the day or the month first."""
    page.keyboard.type(day_month)
    page.keyboard.type(year)


def test_keyboard_only_add_a_weekly_event(live_server: str, page: Any) -> None:
    # Each run adds its own event: 3 March 2031 is a Monday, 4 April 2031 a Friday.
    if page.js_enabled:
        title, day, weekday, code_day = "Đêm nhạc thử (JS)", "0303", "MO", "2031-03-03"
    else:
        title, day, weekday, code_day = "Đêm nhạc thử (không JS)", "0404", "FR", "2031-04-04"
    sign_in(page, live_server, STAFF)
    page.goto(live_server + "/staff/events?lang=en")
    tab_to(page, "el.getAttribute('href') === '/staff/events/new'")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/staff/events/new")

    tab_to(page, "el.id === 'title_vi'")
    page.keyboard.type(title)
    tab_to(page, "el.id === 'category'")
    for _ in range(3):  # Choose… -> Festival -> Market -> Performance
        page.keyboard.press("ArrowDown")
    assert page.evaluate("document.querySelector('#category').value") == "performance"
    tab_to(page, "el.id === 'starts_at'")
    type_date(page, day, "2031")
    page.keyboard.press("Tab")  # from the year to the hour
    page.keyboard.type("1800")
    tab_to(page, "el.id === 'ends_at'")
    type_date(page, day, "2031")
    page.keyboard.press("Tab")
    # Hours from 13 to 19 mean the same on a 12-hour field (it takes the PM) as on 24 hours.
    page.keyboard.type("1930")
    assert page.input_value("#starts_at") == f"{code_day}T18:00"
    assert page.input_value("#ends_at") == f"{code_day}T19:30"
    tab_to(page, "el.name === 'repeat'")
    assert page.evaluate("document.activeElement.id") == "repeat-none"
    page.keyboard.press("ArrowDown")
    assert page.is_checked("#repeat-weekly")
    tab_to(page, f"el.id === 'days-{weekday}'")
    page.keyboard.press("Space")
    tab_to(page, "el.id === 'until'")
    type_date(page, "0606", "2031")
    assert page.input_value("#until") == "2031-06-06"
    tab_to(page, "el.id === 'price_vnd'")
    page.keyboard.type("0")
    tab_to(page, "el.type === 'submit' && el.closest('form.event-form')")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/edit?done=created" in page.url, page.url
    assert page.locator("p.notice[role='status']").count() == 1
    assert page.locator("#history-title ~ table tbody tr").count() == 1
    assert page.locator(".facts .event-dates li").count() >= 5
    axe_here(page)

    code = page.url.split("/")[-2]
    event = httpx.get(f"{live_server}/api/v1/events/{code}?lang=en", timeout=10).json()
    assert event["title"] == title and event["category"] == "performance"
    assert event["starts_at"] == f"{code_day}T18:00:00+07:00"
    assert event["rrule"] == f"FREQ=WEEKLY;UNTIL=20310606T165959Z;BYDAY={weekday}"
    assert event["recurrence"].startswith("Every week on ")
    assert ", until June " in event["recurrence"] and event["recurrence"].endswith(", 2031")
    assert event["price"]["free"] is True
