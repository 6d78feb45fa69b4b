"""Browser tests: the real server in a subprocess (migrated and seeded through the CLI), driven
by Debian's Chromium through Playwright, with axe-core checking every page.
Never downloads a browser: Chromium comes from apt (see .ci/run)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import dbutil

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
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="package")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("live")
    pg_url = (
        dbutil.create_postgres_database(dbutil.POSTGRES_URL, "live")
        if dbutil.POSTGRES_URL
        else None
    )
    env = {
        **os.environ,
        "CITIZENHUB_ENVIRONMENT": "development",
        "CITIZENHUB_DATABASE_URL": pg_url or dbutil.sqlite_url(tmp, "live"),
        "CITIZENHUB_UPLOAD_DIR": str(tmp / "uploads"),
        "CITIZENHUB_PRINT_DEMO_CREDENTIALS": "false",
        "CITIZENHUB_LOG_LEVEL": "WARNING",
        "CITIZENHUB_RATE_LIMIT_READ_PER_MINUTE": "100000",
        "CITIZENHUB_RATE_LIMIT_WRITE_PER_MINUTE": "100000",
        "CITIZENHUB_PASSWORD_HASH_MEMORY_KIB": "8192",
        "CITIZENHUB_PASSWORD_HASH_TIME_COST": "1",
    }
    cli = str(BIN / "citizen-hub")
    for command in ("migrate", "seed-demo"):
        subprocess.run([cli, command], env=env, check=True, capture_output=True, timeout=120)
    port = _free_port()
    log = (tmp / "server.log").open("w")
    server = subprocess.Popen(
        [cli, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start: {(tmp / 'server.log').read_text()}")
            time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        if pg_url:
            dbutil.drop_postgres_database(pg_url)


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
