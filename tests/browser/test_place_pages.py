"""The places pages with JavaScript on and off: axe finds nothing on the search page, its
results and a place's page, and a visitor finds accessible places near a village with the
keyboard alone."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import axe_here
from tests.browser.test_alert_pages import tab_to

pytestmark = pytest.mark.browser


def test_search_results_and_a_place(live_server: str, page: Any) -> None:
    page.goto(live_server + "/places")
    assert page.locator(".category-links a").count() >= 13
    axe_here(page)
    page.goto(live_server + "/places?ward=la-pan-tan&radius=20000&lang=en")
    assert page.locator(".place-card").count() >= 2
    axe_here(page)
    page.goto(live_server + "/places?near=nghia+lo&category=health&open_now=1&accessible=limited")
    axe_here(page)
    page.goto(live_server + "/places/demo-one-stop-centre")
    assert page.locator("#access-title").count() == 1
    assert page.locator(".access-list dt").count() >= 3
    axe_here(page)
    page.goto(live_server + "/places/demo-mu-cang-chai-terraces?lang=en")
    axe_here(page)


def test_the_position_button_only_with_javascript(live_server: str, page: Any) -> None:
    """Without scripts the button would do nothing, so it is not shown; the ward list and
    the place field work either way."""
    page.goto(live_server + "/places")
    assert page.locator("#use-position").is_visible() == page.js_enabled
    assert page.locator("#near-ward").is_visible() and page.locator("#near-text").is_visible()


def test_keyboard_only_find_accessible_places_near_a_village(live_server: str, page: Any) -> None:
    page.goto(live_server + "/places?lang=en")
    tab_to(page, "el.id === 'near-text'")
    page.keyboard.type("tu le")
    tab_to(page, "el.id === 'accessible'")
    page.keyboard.press("Space")
    assert page.is_checked("#accessible")
    tab_to(page, "el.type === 'submit' && el.closest('#place-search')")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/places\?.*near=tu\+le.*"))
    heading = page.locator("#results-title").inner_text()
    assert "Places near" in heading
    cards = page.locator(".place-card")
    assert cards.count() >= 1
    tab_to(page, "el.closest('.place-card') && el.tagName === 'A'")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/places/[a-z0-9-]+"))
    assert page.locator("#access-title").count() == 1
