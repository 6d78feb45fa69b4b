"""Every page, with JavaScript on and off: axe finds nothing, keyboard alone gets everywhere."""

from __future__ import annotations

from typing import Any

import pytest

from app.demo.loader import DEMO_PASSWORD
from tests.browser.conftest import check_axe, sign_in

pytestmark = pytest.mark.browser

PUBLIC_PAGES = [
    "/",
    "/residents",
    "/visitors",
    "/businesses",
    "/accessibility",
    "/preferences",
    "/login",
    "/register",
    "/privacy",
    "/no-such-page",
]


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_pages_have_no_axe_violations(live_server: str, page: Any, path: str) -> None:
    page.goto(live_server + path)
    assert page.locator("h1").count() == 1
    check_axe(page)
    page.goto(live_server + path + "?lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    check_axe(page)


def test_account_pages_have_no_axe_violations(live_server: str, page: Any) -> None:
    sign_in(page, live_server, "citizen@demo.citizenhub.vn")
    page.goto(live_server + "/account")
    assert page.locator("h1").count() == 1
    check_axe(page)


def test_preferences_pages_have_no_axe_violations_in_every_mode(
    live_server: str, page: Any
) -> None:
    page.goto(live_server + "/preferences")
    for box in ("#high_contrast", "#large_text", "#reduced_motion", "#simple_language"):
        page.check(box)
    page.get_by_role("button", name="Lưu cài đặt").click()
    page.wait_for_url("**/preferences?saved=1**")
    assert "pref-high-contrast" in (page.locator("html").get_attribute("class") or "")
    for path in ("/", "/preferences", "/login"):
        page.goto(live_server + path)
        check_axe(page)


def test_keyboard_only_sign_in_and_sign_out(live_server: str, page: Any) -> None:
    page.goto(live_server + "/login")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.getAttribute('href')")
    assert focused == "#main", "the first Tab stop is the skip link"
    # Tab to the identifier field, type, Tab to the password, type, Enter submits.
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "identifier":
            break
    else:
        pytest.fail("the identifier field is not reachable with Tab")
    page.keyboard.type("staff@demo.citizenhub.vn")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "password"
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(live_server + "/")
    assert (
        page.get_by_role("link", name="Tài khoản của tôi").count() == 1
        or page.locator('a[href="/account"]').count() >= 1
    )
    # Sign out with the keyboard: focus the button and press Enter.
    page.locator("form[action='/logout'] button").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("a[href='/login']").count() >= 1


def test_focus_is_visible(live_server: str, page: Any) -> None:
    page.goto(live_server + "/")
    page.keyboard.press("Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    box_shadow = page.evaluate("getComputedStyle(document.activeElement).boxShadow")
    top = page.evaluate("document.activeElement.getBoundingClientRect().top")
    assert outline != "none" or box_shadow != "none"
    assert top >= 0, "the skip link shows itself when focused"


def test_api_docs_render_from_local_assets(live_server: str, browser: Any) -> None:
    context = browser.new_context()
    page = context.new_page()
    failed: list[str] = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.goto(live_server + "/docs")
    page.wait_for_selector('[data-path="/api/v1/auth/token"]', timeout=15_000)
    assert not failed
    context.close()
