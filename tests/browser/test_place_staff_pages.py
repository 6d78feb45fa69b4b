"""The staff pages for places with JavaScript on and off: axe finds nothing on the list, the form,
the form with errors, a place's edit page, the retire confirmation and the refusal page; and a
staff member finds a place and changes it with the keyboard alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.browser.conftest import axe_here, sign_in
from tests.browser.test_alert_pages import tab_to

pytestmark = pytest.mark.browser
STAFF = "staff@demo.citizenhub.vn"  # of the urban department


def test_list_form_errors_and_confirmation(live_server: str, page: Any) -> None:
    sign_in(page, live_server, STAFF)
    page.goto(live_server + "/staff/places")
    assert page.locator("table.responsive-table tbody tr").count() >= 20
    axe_here(page)
    page.goto(live_server + "/staff/places?stale=1&category=sights&lang=en")
    assert page.locator(".overdue-flag").count() >= 1
    axe_here(page)

    page.goto(live_server + "/staff/places/new")
    axe_here(page)
    page.fill("#name_vi", "Điểm thử")
    page.fill("#opening_hours", "Mo-Fr 08:00-17:00; Tuesday")
    page.locator("form.place-form button[type='submit']").click()
    page.wait_for_load_state()
    summary = page.locator(".error-summary[role='alert']")
    assert summary.count() == 1
    for target in ("#category", "#lat", "#lon", "#opening_hours"):
        assert summary.locator(f"a[href='{target}']").count() == 1, target
    assert page.input_value("#name_vi") == "Điểm thử"  # kept
    assert page.get_attribute("#opening_hours", "aria-invalid") == "true"
    axe_here(page)

    page.goto(live_server + "/staff/places/demo-toilet-mam-xoi/edit")
    assert page.is_checked("#accessible_toilet-no") and page.is_checked("#hearing_loop-unknown")
    assert page.locator("#history-title").count() == 1
    axe_here(page)
    page.goto(live_server + "/staff/places/demo-toilet-mam-xoi/retire")
    assert page.locator("form[action$='/retire'] button[type='submit']").count() == 1
    axe_here(page)

    # A place of another department: a readable refusal, not a form.
    response = page.goto(live_server + "/staff/places/demo-one-stop-centre/edit")
    assert response is not None and response.status == 403
    assert page.locator("form.place-form").count() == 0
    axe_here(page)


def test_keyboard_only_find_and_change_a_place(live_server: str, page: Any) -> None:
    # Each run changes its own place, so JavaScript on and off both start from the demo data.
    code, words = (
        ("demo-toilet-yen-hoa-park", "ve sinh yen hoa")
        if page.js_enabled
        else ("demo-toilet-khau-pha", "ve sinh khau pha")
    )
    sign_in(page, live_server, STAFF)
    page.goto(live_server + "/staff/places?lang=en")
    tab_to(page, "el.id === 'q'")
    page.keyboard.type(words)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "q=ve+sinh" in page.url
    tab_to(page, f"el.getAttribute('href') === '/staff/places/{code}/edit'")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith(f"/staff/places/{code}/edit")

    tab_to(page, "el.id === 'phone'")
    page.keyboard.press("Control+A")
    page.keyboard.type("+84 216 0000 999")
    tab_to(page, "el.name === 'hearing_loop'")
    assert page.evaluate("document.activeElement.id") == "hearing_loop-unknown"
    page.keyboard.press("ArrowUp")  # Not known -> No -> Yes
    page.keyboard.press("ArrowUp")
    assert page.is_checked("#hearing_loop-yes")
    tab_to(page, "el.id === 'verified'")
    page.keyboard.press("Space")
    assert page.is_checked("#verified")
    tab_to(page, "el.type === 'submit' && el.closest('form.place-form')")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith(f"/staff/places/{code}/edit?done=saved"), page.url
    assert page.locator("p.notice[role='status']").count() == 1
    assert page.locator("#history-title ~ table tbody tr").count() >= 2
    axe_here(page)

    place = httpx.get(f"{live_server}/api/v1/places/{code}", timeout=10).json()
    assert place["phone"] == "+84 216 0000 999"
    assert place["accessibility"]["hearing_loop"] is True
    assert place["accessibility"]["braille"] is None  # untouched: still not known
    checked = datetime.fromisoformat(place["last_verified_at"].replace("Z", "+00:00"))
    assert datetime.now(UTC) - checked < timedelta(minutes=5)
