"""The procedure pages with JavaScript on and off: axe finds nothing on the search, a checklist
(also in its print layout) and the life events; a business owner finds the household-business
checklist with the keyboard alone; printed, the checklist has no navigation and a square to
tick before each document."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import axe_here
from tests.browser.test_alert_pages import tab_to

pytestmark = pytest.mark.browser
HOUSEHOLD = "2.000720"


def test_search_checklist_and_life_events(live_server: str, page: Any) -> None:
    page.goto(live_server + "/procedures")
    assert page.locator("#results-title ~ ul.category-links a").count() >= 3
    axe_here(page)
    page.goto(live_server + "/procedures?q=dang+ky+ho+kinh+doanh")
    assert page.locator(".procedure-card").count() >= 1
    axe_here(page)
    page.goto(live_server + "/procedures?q=giay+phep&level=province&online=any&lang=en")
    axe_here(page)
    page.goto(live_server + "/procedures?q=xyzzy+quux")
    assert page.locator(".procedure-card").count() == 0
    axe_here(page)
    page.goto(live_server + f"/procedures/{HOUSEHOLD}")
    assert page.locator(".checklist input[type='checkbox']").count() >= 2
    axe_here(page)
    page.goto(live_server + f"/procedures/{HOUSEHOLD}?lang=en")
    axe_here(page)
    page.goto(live_server + f"/procedures/{HOUSEHOLD}?print=1")
    assert page.locator("#print-now").is_visible() == page.js_enabled
    assert not page.locator(".main-nav").is_visible()
    axe_here(page)
    page.goto(live_server + "/life-events")
    assert page.locator("a[href='/life-events/mo-nha-hang']").count() == 1
    axe_here(page)
    page.goto(live_server + "/life-events/mo-nha-hang")
    assert page.locator(".life-event-steps > li").count() >= 2
    axe_here(page)
    page.goto(live_server + "/life-events/mo-nha-hang?lang=en")
    axe_here(page)


def test_keyboard_only_find_the_household_business_checklist(live_server: str, page: Any) -> None:
    page.goto(live_server + "/procedures")
    tab_to(page, "el.id === 'q'")
    page.keyboard.type("dang ky ho kinh doanh")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert re.search(r"/procedures\?q=dang\+ky\+ho\+kinh\+doanh", page.url), page.url
    tab_to(page, "el.closest('.procedure-card') && el.tagName === 'A'")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith(f"/procedures/{HOUSEHOLD}"), page.url
    assert page.locator("h1").inner_text() == "Đăng ký thành lập hộ kinh doanh"
    # The checklist can be ticked off from the keyboard, too.
    tab_to(page, "el.id === 'doc-1'")
    page.keyboard.press("Space")
    assert page.is_checked("#doc-1")


def test_printed_checklist(live_server: str, page: Any) -> None:
    page.goto(live_server + f"/procedures/{HOUSEHOLD}")
    assert page.locator(".main-nav").is_visible()
    assert not page.locator(".print-url").first.is_visible()
    page.emulate_media(media="print")
    assert not page.locator(".main-nav").is_visible()
    assert not page.locator(".site-footer").is_visible()
    assert not page.locator("a.button[href$='?print=1']").is_visible()
    assert page.locator("#documents-title").is_visible()
    labels = page.locator(".checklist label")
    assert labels.count() >= 2 and labels.first.is_visible()
    assert not page.locator(".checklist input[type='checkbox']").first.is_visible()
    square = page.evaluate(
        "getComputedStyle(document.querySelector('.checklist label'), '::before').content"
    )
    assert "☐" in square
    # The address of a link that matters is written out on paper.
    assert page.locator(".print-url").first.is_visible()
    assert "dichvucong.gov.vn" in page.locator("#channels-title + ul + p").inner_text()
    colour = page.evaluate("getComputedStyle(document.querySelector('main a')).color")
    assert colour == "rgb(0, 0, 0)"
