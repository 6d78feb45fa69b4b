"""The help pages with JavaScript on and off: axe finds nothing on /help, a guide and the staff
pages, the emergency numbers come first as tel: links, and a staff member writes a guide with
the keyboard alone."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from app.demo.loader import DEMO_PASSWORD
from tests.browser.conftest import axe_here, sign_in
from tests.browser.test_alert_pages import tab_to

pytestmark = pytest.mark.browser
STAFF = "staff@demo.citizenhub.vn"
GUIDE = {
    "slug": "browser-mountain-safety",
    "title": {"vi": "An toàn trên núi", "en": "Safety in the mountains"},
    "summary": {"vi": "Thời tiết và sóng điện thoại.", "en": "Weather and phone signal."},
    "body": {
        "vi": "Thời tiết thay đổi nhanh.\n\n- Mang áo mưa.\n- Lưu số 113, 114, 115.",
        "en": "The weather changes fast.\n\n- Bring a raincoat.\n- Save 113, 114 and 115.",
    },
}


@pytest.fixture(scope="module")
def help_data(live_server: str) -> None:
    """A hotline, an information point at a demo place and a guide, through the staff API
    (whether or not the demo loader adds practical help, these are there)."""
    token = httpx.post(
        f"{live_server}/api/v1/auth/token",
        data={"username": STAFF, "password": DEMO_PASSWORD},
        timeout=10,
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    for path, body in [
        (
            "/api/v1/help/contacts",
            {
                "code": "browser-hotline",
                "kind": "hotline",
                "phone": "0216 3862 222",
                "name": {"vi": "Đường dây nóng du lịch", "en": "Tourism hotline"},
                "hours": "Mo-Su 07:00-22:00",
            },
        ),
        (
            "/api/v1/help/contacts",
            {
                "code": "browser-tourist-info",
                "kind": "tourist_info",
                "name": {"vi": "Điểm thông tin du lịch", "en": "Tourist information point"},
                "place_code": "demo-tourist-info-yen-bai",
                "hours": "Mo-Su 07:30-17:00; PH off",
            },
        ),
        ("/api/v1/guides", GUIDE),
    ]:
        r = httpx.post(live_server + path, json=body, headers=headers, timeout=10)
        assert r.status_code in (201, 409), r.text


def test_help_page_and_a_guide(live_server: str, page: Any, help_data: None) -> None:
    page.goto(live_server + "/help")
    calls = page.locator("main a[href^='tel:']")
    assert [calls.nth(i).get_attribute("href") for i in range(3)] == [
        "tel:113",
        "tel:114",
        "tel:115",
    ]
    # The demo's information point and this test's both link to the place.
    assert page.locator("a[href='/places/demo-tourist-info-yen-bai']").count() >= 1
    axe_here(page)
    page.goto(live_server + "/help?lang=en")
    axe_here(page)
    page.locator(f"a[href='/help/{GUIDE['slug']}']").click()
    page.wait_for_url(re.compile(rf".*/help/{GUIDE['slug']}$"))
    assert page.locator("h1").inner_text() == "Safety in the mountains"
    assert page.locator("main ul li").count() == 2
    axe_here(page)


def test_staff_pages_and_their_errors(live_server: str, page: Any, help_data: None) -> None:
    sign_in(page, live_server, STAFF)
    page.goto(live_server + "/staff/help")
    axe_here(page)
    page.goto(live_server + "/staff/help/guides/new")
    axe_here(page)
    page.locator("form.help-form button[type='submit']").click()
    page.wait_for_load_state()
    assert page.locator(".error-summary[role='alert'] a[href='#slug']").count() == 1
    axe_here(page)
    page.goto(live_server + "/staff/help/contacts/new")
    axe_here(page)
    page.goto(live_server + "/staff/help/contacts/browser-tourist-info/edit")
    axe_here(page)
    page.goto(live_server + f"/staff/help/guides/{GUIDE['slug']}/retire")
    axe_here(page)


def test_keyboard_only_write_a_guide(live_server: str, page: Any) -> None:
    slug = "keyboard-guide-" + ("js" if page.js_enabled else "no-js")
    sign_in(page, live_server, STAFF)
    page.goto(live_server + "/staff/help/guides/new")
    tab_to(page, "el.id === 'slug'")
    page.keyboard.type(slug)
    tab_to(page, "el.id === 'title_vi'")
    page.keyboard.type("Chợ phiên Bắc Hà")
    page.keyboard.press("Tab")
    page.keyboard.type("Họp vào sáng Chủ nhật.")
    page.keyboard.press("Tab")
    page.keyboard.type("Chợ họp từ sáng sớm.\n\n- Đi sớm.\n- Mang tiền mặt.")
    page.keyboard.press("Tab")
    page.keyboard.type("Bắc Hà Sunday market")
    tab_to(page, "el.type === 'submit' && el.closest('form.help-form')")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/staff/help?done=guide-created"), page.url
    assert page.locator("p.notice[role='status']").count() == 1
    axe_here(page)

    tab_to(page, f"el.getAttribute('href') === '/staff/help/guides/{slug}/edit'")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    tab_to(page, "el.getAttribute('href') && el.getAttribute('href').startsWith('/help/')")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith(f"/help/{slug}")
    assert page.locator("h1").inner_text() == "Chợ phiên Bắc Hà"
    assert [t.strip() for t in page.locator("main ul li").all_inner_texts()] == [
        "Đi sớm.",
        "Mang tiền mặt.",
    ]
    axe_here(page)
