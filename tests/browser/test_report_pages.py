"""The report pages and the staff workbench, with JavaScript on and off: axe finds nothing on
any of them, and a report can be sent with the keyboard alone."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.browser.conftest import axe_here, sign_in

pytestmark = pytest.mark.browser


def demo_reports(base: str) -> dict[str, dict[str, Any]]:
    """The demo province's public reports, by status."""
    items = httpx.get(f"{base}/api/v1/reports?page_size=50", timeout=10).json()["items"]
    return {item["status"]: item for item in items}


def test_public_list_and_a_report_page(live_server: str, page: Any) -> None:
    page.goto(live_server + "/reports")
    axe_here(page)
    page.select_option("#filter-status", "open")
    page.locator("form.filters button[type='submit']").click()
    page.wait_for_url(re.compile(r".*/reports\?.*status=open"))
    page.locator(".report-card h3 a").first.click()
    page.wait_for_url("**/reports/*-*")
    assert page.locator(".status-badge").count() >= 1
    axe_here(page)
    resolved = demo_reports(live_server)["resolved"]["code"]
    page.goto(f"{live_server}/reports/{resolved}?lang=en")  # timeline with a proof photo
    assert page.locator("ol.timeline img[alt]").count() >= 1
    axe_here(page)


def test_sending_a_report_service_step_form_step_and_errors(live_server: str, page: Any) -> None:
    page.goto(live_server + "/reports/new")
    axe_here(page)
    page.goto(live_server + "/reports/new?service=landslide")  # lists, a datetime, a number
    assert page.locator("input[type='datetime-local']").count() == 1
    axe_here(page)
    page.locator("form.report-form button[type='submit']").click()
    page.wait_for_load_state()
    assert page.locator(".error-summary[role='alert'] a[href='#description']").count() == 1
    axe_here(page)


def test_tracking_page_and_its_errors(live_server: str, page: Any) -> None:
    page.goto(live_server + "/reports/track")
    axe_here(page)
    page.fill("#code", "ABCD-2345")
    page.fill("#secret", "not-the-secret")
    page.locator("main form button[type='submit']").click()
    page.wait_for_load_state()
    assert page.locator(".error-summary[role='alert']").count() == 1
    assert page.locator("#code").input_value() == "ABCD-2345"
    axe_here(page)


def test_a_residents_own_reports_and_owner_actions(live_server: str, page: Any) -> None:
    reports = demo_reports(live_server)  # the demo citizen sent them all
    sign_in(page, live_server, "citizen@demo.citizenhub.vn")
    page.goto(live_server + "/account/reports")
    assert page.locator("table.responsive-table tbody tr").count() >= 5
    axe_here(page)
    page.goto(f"{live_server}/reports/{reports['resolved']['code']}")
    assert page.locator("input[name='rating']").count() == 5
    assert page.locator("form[action$='/dispute'] input[type='file']").count() == 1
    axe_here(page)
    page.goto(f"{live_server}/reports/{reports['submitted']['code']}")
    assert page.locator("form[action$='/withdraw']").count() == 1
    axe_here(page)


def test_the_staff_queue_and_a_case(live_server: str, page: Any) -> None:
    sign_in(page, live_server, "staff@demo.citizenhub.vn")
    assert page.locator("nav a[href='/staff/reports']").count() == 1
    page.goto(live_server + "/staff/reports")
    assert page.locator("table.queue-table tbody tr").count() >= 1
    axe_here(page)
    page.locator("table.queue-table a.cell-link").first.click()
    page.wait_for_url("**/staff/reports/*-*")
    assert page.locator("select#status-to").count() == 1
    axe_here(page)
    page.set_viewport_size({"width": 360, "height": 800})  # the table reflows; still no issue
    page.goto(live_server + "/staff/reports")
    axe_here(page)


def _focused(page: Any) -> dict[str, Any]:
    return page.evaluate(
        """() => { const e = document.activeElement; return {
            id: e.id, tag: e.tagName, type: e.type || '', name: e.name || '',
            required: !!e.required,
            groupChecked: e.type === 'radio'
              && !!document.querySelector(`input[name="${e.name}"]:checked`),
            submitsReport: e.type === 'submit' && !!e.closest('form.report-form'),
            submitsChoice: e.type === 'submit' && !!e.closest('form.service-choice') }; }"""
    )


def test_keyboard_only_submission(live_server: str, page: Any) -> None:
    """Tab, Space, typing and Enter: nothing else."""
    page.goto(live_server + "/reports/new")
    for _ in range(60):
        page.keyboard.press("Tab")
        if _focused(page)["name"] == "service":
            break
    else:
        pytest.fail("no service can be reached with Tab")
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    assert _focused(page)["submitsChoice"], "Tab leads from the choice to Continue"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "service=" in page.url

    typed: set[str] = set()
    for _ in range(80):
        page.keyboard.press("Tab")
        now = _focused(page)
        if now["submitsReport"]:
            break
        if now["id"] == "description" and "description" not in typed:
            page.keyboard.type("Biển báo bị đổ, che mất lối rẽ vào trường.")
            typed.add("description")
        elif now["id"] == "address" and "address" not in typed:
            page.keyboard.type("Ngã ba trước cổng trường Tiểu học Hồng Hà")
            typed.add("address")
        elif now["type"] in ("radio", "checkbox") and now["required"] and not now["groupChecked"]:
            page.keyboard.press("Space")
        elif now["type"] == "text" and now["required"] and now["id"] not in typed:
            page.keyboard.type("3")
            typed.add(now["id"])
    else:
        pytest.fail("the send button cannot be reached with Tab")
    assert {"description", "address"} <= typed
    with page.expect_navigation():
        page.keyboard.press("Enter")
    codes = page.locator("code.big-code")
    assert codes.count() == 2, page.content()
    code = codes.first.inner_text()
    page.locator(f"a[href='/reports/{code}']").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    # This browser keeps the secret: the owner can withdraw it, with the keyboard too.
    assert page.locator("form[action$='/withdraw']").count() == 1
