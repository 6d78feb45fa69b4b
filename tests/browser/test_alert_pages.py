"""The alert pages with JavaScript on and off: axe finds nothing on the public list, an alert's
page and every page of the composer, and a manager composes, previews and sends an alert with
the keyboard alone."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.browser.conftest import axe_here, sign_in

pytestmark = pytest.mark.browser
MANAGER = "manager@demo.citizenhub.vn"


def tab_to(page: Any, check: str, limit: int = 250) -> None:
    """Press Tab until `check` (a JavaScript expression about document.activeElement) holds."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(el => Boolean({check}))(document.activeElement)"):
            return
    pytest.fail(f"not reachable with Tab: {check}")


def test_public_alert_list_and_an_alert(live_server: str, page: Any) -> None:
    items = httpx.get(f"{live_server}/api/v1/alerts", timeout=10).json()["items"]
    assert {i["active"] for i in items} == {True, False}  # the demo has both
    page.goto(live_server + "/alerts")
    assert page.locator("link[rel='alternate'][type='application/atom+xml']").count() == 1
    assert page.locator("#active-title ~ ul .severity-badge").count() >= 1
    axe_here(page)
    page.goto(live_server + "/alerts?lang=en&ward=la-pan-tan")
    axe_here(page)
    page.locator(".alert-card h3 a").first.click()
    page.wait_for_url(re.compile(r".*/alerts/\d+"))
    axe_here(page)
    expired = next(i for i in items if not i["active"])
    page.goto(f"{live_server}/alerts/{expired['id']}")
    assert page.locator(".alert-state-expired, .alert-state-cancelled").count() >= 1
    axe_here(page)


def test_composer_pages_and_their_errors(live_server: str, page: Any) -> None:
    sign_in(page, live_server, MANAGER)
    page.goto(live_server + "/staff/alerts")
    axe_here(page)
    page.goto(live_server + "/staff/alerts/new")
    axe_here(page)
    page.locator("form.alert-form button[type='submit']").click()
    page.wait_for_load_state()
    summary = page.locator(".error-summary[role='alert']")
    assert summary.count() == 1 and page.locator("a[href='#severity-0']").count() == 1
    axe_here(page)


def test_keyboard_only_compose_preview_send_and_cancel(live_server: str, page: Any) -> None:
    sign_in(page, live_server, MANAGER)
    page.goto(live_server + "/staff/alerts/new")
    tab_to(page, "el.id === 'severity-0'")
    page.keyboard.press("ArrowDown")  # the radio group: from Emergency to Warning
    assert page.evaluate("document.activeElement.id") == "severity-1"
    assert page.is_checked("#severity-1")
    tab_to(page, "el.id === 'title_vi'")
    page.keyboard.type("Cảnh báo mưa lớn và lũ quét")
    page.keyboard.press("Tab")
    page.keyboard.type("Mưa rất to trong đêm nay. Không qua ngầm, tràn; tránh xa sườn dốc.")
    page.keyboard.press("Tab")
    page.keyboard.type("Heavy rain and flash floods")
    page.keyboard.press("Tab")
    page.keyboard.type("Very heavy rain tonight. Do not cross fords; keep away from steep slopes.")
    tab_to(page, "el.name === 'area'")
    page.keyboard.press("ArrowDown")  # the whole province -> only the chosen wards
    assert page.is_checked("#area-wards")
    tab_to(page, "el.id === 'wards-0'")
    page.keyboard.press("Space")
    assert page.is_checked("#wards-0")
    tab_to(page, "el.type === 'submit' && el.closest('form.alert-form')")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert re.search(r"/staff/alerts/\d+\?done=created$", page.url), page.url
    assert page.locator(".push-title").first.inner_text().startswith("CẢNH BÁO: ")
    axe_here(page)

    tab_to(page, "el.getAttribute('href') && el.getAttribute('href').endsWith('/send')")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/send")
    axe_here(page)
    tab_to(page, "el.type === 'submit' && el.closest('form[action$=\"/send\"]')")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("?done=sent")
    assert page.locator(".alert-state-active").count() == 1
    axe_here(page)

    tab_to(page, "el.getAttribute('href') && el.getAttribute('href').endsWith('/cancel')")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    axe_here(page)
    tab_to(page, "el.type === 'submit' && el.closest('form[action$=\"/cancel\"]')")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("?done=cancelled")
    assert page.locator(".alert-state-cancelled").count() == 1
