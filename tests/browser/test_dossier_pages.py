"""The dossier pages with JavaScript on and off: axe finds nothing on the lookup form (and its
errors), a looked-up status page, the dossiers a resident follows, the staff's queue, a case, the
registration form and its receipt, and the refusal of another department's dossier; a dossier is
looked up with the keyboard alone.

Lookups are throttled per address (10 a minute by default) and failed ones per code: these tests
make a few, and fail only on a code that does not exist."""

from __future__ import annotations

import re
from typing import Any

import pytest

from app.dossiers.demo import DEMO_DOSSIERS
from tests.browser.conftest import axe_here, sign_in
from tests.browser.test_alert_pages import tab_to

pytestmark = pytest.mark.browser
STAFF = "staff@demo.citizenhub.vn"  # of the urban department
CITIZEN = "citizen@demo.citizenhub.vn"  # follows YB-DEMO-0001 and YB-DEMO-0003
DEMO = {d.code: d for d in DEMO_DOSSIERS}
WAITING = DEMO["YB-DEMO-0002"]  # waiting for a supplement, of the urban department
HEALTH = DEMO["YB-DEMO-0003"]  # of the health department: not the demo staff member's


def test_lookup_form_errors_and_a_status_page(live_server: str, page: Any) -> None:
    page.goto(live_server + "/dossiers/lookup")
    assert page.locator("nav a[href='/dossiers/lookup']").count() == 1
    axe_here(page)

    # A code that does not exist: a readable error, the form kept.
    page.fill("#code", "YB-000101-9999")
    page.fill("#phone_last4", "1234")
    page.locator("form.lookup-form button[type='submit']").click()
    page.wait_for_load_state()
    assert page.locator(".error-summary[role='alert'] a[href='#code']").count() == 1
    assert page.input_value("#code") == "YB-000101-9999"
    assert page.input_value("#phone_last4") == "1234"
    axe_here(page)

    page.fill("#code", WAITING.code)
    page.fill("#phone_last4", WAITING.phone_last4)
    page.locator("form.lookup-form button[type='submit']").click()
    page.wait_for_url(f"**/dossiers/{WAITING.code}?done=found")
    assert page.locator(".paused-box li").count() == 2
    assert page.locator("table.dossier-history tbody tr").count() >= 3
    assert page.locator(f"a[href='/procedures/{WAITING.procedure}']").count() == 1
    axe_here(page)
    page.goto(f"{live_server}/dossiers/{WAITING.code}?lang=en")  # the proof is kept
    assert (
        "Waiting for more documents"
        in page.locator(".dossier-status-needs_supplement").inner_text()
    )
    axe_here(page)


def test_keyboard_only_lookup(live_server: str, page: Any) -> None:
    """Tab, typing and Enter: nothing else."""
    page.goto(live_server + "/dossiers/lookup?lang=en")
    tab_to(page, "el.id === 'code'")
    page.keyboard.type(WAITING.code.lower())
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "phone_last4"
    page.keyboard.type(WAITING.phone_last4)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith(f"/dossiers/{WAITING.code}?done=found")
    assert WAITING.phone_last4 not in page.url
    badge = page.locator(".dossier-status-needs_supplement")
    assert badge.inner_text() == "Waiting for more documents"
    missing = page.locator(".paused-box li").all_inner_texts()
    assert missing == [
        "Bản vẽ mặt bằng công trình trên lô đất có chữ ký của chủ hộ",
        "Bản sao Giấy chứng nhận quyền sử dụng đất",
    ]
    assert "The clock is paused" in page.locator(".paused-box h2").inner_text()


def test_the_dossiers_a_resident_follows(live_server: str, page: Any) -> None:
    sign_in(page, live_server, CITIZEN)
    page.goto(live_server + "/me/dossiers")
    codes = page.locator("table.responsive-table tbody th a").all_inner_texts()
    assert {"YB-DEMO-0001", "YB-DEMO-0003"} <= set(codes)
    assert page.locator(".overdue-flag").count() >= 1  # YB-DEMO-0001 is overdue
    axe_here(page)
    page.goto(live_server + "/dossiers/YB-DEMO-0003")  # a follower needs no digits
    assert page.locator("form[action='/dossiers/YB-DEMO-0003/unfollow']").count() == 1
    axe_here(page)


def test_staff_queue_case_registration_and_refusal(live_server: str, page: Any) -> None:
    sign_in(page, live_server, STAFF)
    assert page.locator("nav a[href='/staff/dossiers']").count() == 1
    page.goto(live_server + "/staff/dossiers")
    assert page.locator("table.queue-table tbody tr").count() >= 5
    assert page.locator(".status-counts a").count() >= 3
    axe_here(page)
    page.goto(live_server + "/staff/dossiers?overdue=1&lang=en")
    assert page.locator(".overdue-flag").count() >= 1
    axe_here(page)

    page.goto(f"{live_server}/staff/dossiers/{WAITING.code}")
    assert page.locator("select#status-to option").count() >= 2
    assert page.locator("form[action$='/notes'] textarea#note-text").count() == 1
    axe_here(page)
    # Refusing without a reason: a readable error at the field.
    page.select_option("#status-to", "rejected")
    page.locator("form[action$='/status'] button[type='submit']").click()
    page.wait_for_load_state()
    assert page.locator(".error-summary[role='alert'] a[href='#status-note']").count() == 1
    assert page.get_attribute("#status-note", "aria-invalid") == "true"
    axe_here(page)

    page.goto(live_server + "/staff/dossiers/new?find=giay+phep+xay+dung")
    assert page.locator("input[name='procedure_code'][type='radio']").count() >= 1
    axe_here(page)
    page.goto(live_server + "/staff/dossiers/new?procedure=2.000720")
    page.locator("form.dossier-form button[type='submit']").click()
    page.wait_for_load_state()
    assert page.locator(".error-summary a[href='#applicant_name']").count() == 1
    axe_here(page)
    page.fill("#applicant_name", "Đinh Thị Thử" if page.js_enabled else "Đinh Văn Thử")
    page.fill("#phone", "0912 000 111")
    page.locator("form.dossier-form button[type='submit']").click()
    page.wait_for_load_state()
    pin = page.locator("code.receipt-pin").inner_text()
    assert re.fullmatch(r"\d{6}", pin)
    assert page.locator(".receipt code.big-code").first.inner_text().startswith("YB-")
    axe_here(page)
    page.emulate_media(media="print")
    assert not page.locator(".site-header").is_visible()
    assert not page.locator(".pin-warning").is_visible()
    assert page.locator(".receipt-pin").is_visible()
    page.emulate_media(media="screen")

    # Another department's dossier: a readable refusal, not a form.
    response = page.goto(f"{live_server}/staff/dossiers/{HEALTH.code}")
    assert response is not None and response.status == 403
    assert page.locator("form[action$='/status']").count() == 0
    axe_here(page)
