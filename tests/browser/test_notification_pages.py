"""The notification settings and the inbox, with JavaScript on and off: axe finds nothing, in
the normal state and with errors shown, and quiet hours can be changed with the keyboard alone."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import axe_here, sign_in

pytestmark = pytest.mark.browser

CITIZEN = "citizen@demo.citizenhub.vn"


def test_settings_page_and_its_errors(live_server: str, page: Any) -> None:
    sign_in(page, live_server, CITIZEN)
    page.goto(live_server + "/account")
    page.locator("main a[href='/account/notifications']").click()
    page.wait_for_url("**/account/notifications")
    assert page.locator("input[type='time']").count() == 2
    assert page.locator("input[name='alert_wards']").count() >= 10
    axe_here(page)
    # Quiet hours that start and end at once: the summary links to the field.
    page.check("#quiet-on")
    page.fill("#quiet-start", "22:00")
    page.fill("#quiet-end", "22:00")
    page.locator("form.notification-form button[type='submit']").click()
    page.wait_for_load_state()
    assert page.locator(".error-summary[role='alert'] a[href='#quiet-end']").count() == 1
    assert page.locator("#quiet-end").get_attribute("aria-invalid") == "true"
    assert page.locator("#quiet-end").input_value() == "22:00"
    axe_here(page)
    # A subscription, listed with its own remove button; following it twice is explained.
    for _ in range(2):
        page.select_option("#sub-group", "roads_lighting")
        page.locator("form[action$='/subscriptions'] button[type='submit']").click()
        page.wait_for_load_state()
    assert page.locator(".error-summary a[href='#sub-ward']").count() == 1
    assert page.locator(".subscription-list form button").count() >= 1
    axe_here(page)
    page.locator(".subscription-list form button").first.click()
    page.wait_for_url("**/account/notifications?done=unfollowed")
    assert page.locator("p.notice[role='status']").count() == 1
    axe_here(page)
    page.goto(live_server + "/account/notifications?lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    axe_here(page)
    page.goto(live_server + "/account/notifications?lang=vi")


def test_inbox_page_filter_and_marking(live_server: str, page: Any) -> None:
    sign_in(page, live_server, CITIZEN)
    page.goto(live_server + "/account/inbox")
    items = page.locator("ol.inbox-list > li")
    assert items.count() >= 1, "the demo citizen's reports changed status: there is news"
    axe_here(page)
    page.goto(live_server + "/account/inbox?unread=1")
    axe_here(page)
    # The first run (JavaScript on or off) finds them unread; the package shares one server.
    if page.locator("form[action='/account/inbox/read-all']").count():
        page.locator("form[action='/account/inbox/read-all'] button").click()
        page.wait_for_url("**/account/inbox?done=all_read")
        assert page.locator("p.notice[role='status']").count() == 1
        axe_here(page)
    assert page.locator(".unread-flag").count() == 0
    page.goto(live_server + "/account/inbox?unread=1")
    assert page.locator("ol.inbox-list").count() == 0  # the empty state
    axe_here(page)


def _focused(page: Any) -> dict[str, Any]:
    return page.evaluate(
        """() => { const e = document.activeElement; return {
            id: e.id, type: e.type || '', checked: !!e.checked,
            saves: e.type === 'submit' && !!e.closest('form.notification-form') }; }"""
    )


def _tab_to(page: Any, wanted: str, limit: int = 200) -> dict[str, Any]:
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = _focused(page)
        if now["id"] == wanted or (wanted == "save" and now["saves"]):
            return now
    pytest.fail(f"{wanted} cannot be reached with Tab")


def test_keyboard_only_quiet_hours(live_server: str, page: Any) -> None:
    """Tab, Space, typing and Enter: nothing else. The time fields show 24 or 12 hours as the
    browser's language says; what is typed works in both (the evening start keeps its PM)."""
    sign_in(page, live_server, CITIZEN)
    page.goto(live_server + "/account/notifications")
    if _tab_to(page, "quiet-on")["checked"] is False:
        page.keyboard.press("Space")
    assert _focused(page)["checked"]
    _tab_to(page, "quiet-start", limit=3)
    page.keyboard.type("1115")
    _tab_to(page, "quiet-end", limit=5)  # the time field's own parts take a Tab each
    page.keyboard.type("0545")
    typed = (page.locator("#quiet-start").input_value(), page.locator("#quiet-end").input_value())
    assert typed[0] in ("11:15", "23:15") and typed[1] == "05:45"
    _tab_to(page, "save")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/account/notifications?done=saved")
    assert page.locator("p.notice[role='status']").count() == 1
    assert page.locator("#quiet-on").is_checked()
    assert page.locator("#quiet-start").input_value() == typed[0]
    assert page.locator("#quiet-end").input_value() == typed[1]
