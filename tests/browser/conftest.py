"""Browser tests: the real server in a subprocess (migrated and seeded through the CLI), driven
by Debian's Chromium through Playwright, with axe-core checking every page.
Never downloads a browser: Chromium comes from apt (see .ci/run)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.liveserver import live_server as run_live_server

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


@pytest.fixture(scope="package")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with run_live_server(tmp_path_factory.mktemp("live"), "live") as live:
        yield live.base


# Package scope: Playwright's sync API keeps its own event loop running while open, which
# pytest-asyncio's loop must not meet; it is closed before any other test package runs.
@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture(params=[True, False], ids=["js-on", "js-off"])
def page(request: pytest.FixtureRequest, browser: Any) -> Iterator[Any]:
    context = browser.new_context(java_script_enabled=request.param, locale="vi-VN")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.js_enabled = request.param
    page.browser_for_axe = browser
    yield page
    context.close()


def check_axe(page: Any) -> None:
    """No WCAG 2.0/2.1/2.2 A or AA violation, target-size included.

    axe is JavaScript and needs timers, which a JavaScript-disabled page does not run. So for
    "JavaScript off" the page's DOM as rendered without JavaScript is served again, at the same
    address, to a page whose own scripts are all blocked, and axe audits that."""
    if getattr(page, "js_enabled", True):
        _run_axe(page)
        return
    html, url = page.content(), page.url
    context = page.browser_for_axe.new_context(java_script_enabled=True)
    try:
        clone = context.new_page()
        clone.route("**/*.js", lambda route: route.abort())
        clone.route(
            lambda address: address == url,
            lambda route: route.fulfill(
                status=200, content_type="text/html; charset=utf-8", body=html
            ),
        )
        clone.goto(url)
        _run_axe(clone)
    finally:
        context.close()


def _run_axe(page: Any) -> None:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(
        page,
        options={
            "runOnly": {"type": "tag", "values": AXE_TAGS},
            "rules": {"target-size": {"enabled": True}},
            "resultTypes": ["violations", "passes"],
        },
    )
    response = results.response
    ran = {rule["id"] for rule in response["passes"]} | {
        rule["id"] for rule in response["violations"]
    }
    assert "color-contrast" in ran, "axe did not run its usual rules"
    assert results.violations_count == 0, f"{page.url}\n{results.generate_report()}"


def sign_in(page: Any, base: str, identifier: str) -> None:
    """Through the sign-in form, with the demo password."""
    from app.demo.loader import DEMO_PASSWORD

    page.goto(base + "/login")
    page.fill("#identifier", identifier)
    page.fill("#password", DEMO_PASSWORD)
    page.locator("main form[action='/login'] button[type='submit']").click()
    page.wait_for_url(base + "/")


def axe_here(page: Any) -> None:
    """One h1, and axe finds nothing."""
    assert page.locator("h1").count() == 1
    check_axe(page)
