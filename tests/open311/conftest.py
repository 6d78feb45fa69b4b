"""Open311 fixtures: the reports `world`, a partner key, and a real server for the georeport
client (migrated, seeded and given a key through the CLI, as an operator would)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.open311 import service
from tests import dbutil
from tests.reports.conftest import World, world

__all__ = ["World", "world"]

CLI = str(Path(sys.executable).parent / "citizen-hub")
XML_DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>'
BASE = "/open311/v2"


@pytest.fixture
async def api_key(session: AsyncSession) -> str:
    _key, plain = await service.create_key(session, "partner-t")
    await session.commit()
    return plain


async def post_request(
    client: httpx.AsyncClient,
    key: str | None,
    fmt: str = "json",
    headers: dict[str, str] | None = None,
    **fields: Any,
) -> httpx.Response:
    """A partner's form: street light at ward A, pole_state=off unless overridden."""
    form: dict[str, Any] = {
        "service_code": "street_light",
        "lat": "21.70",
        "long": "104.87",
        "description": "Đèn đường trước số 12 bị tắt",
        "attribute[pole_state]": "off",
    }
    if key is not None:
        form["api_key"] = key
    form.update(fields)
    form = {k: v for k, v in form.items() if v is not None}
    return await client.post(f"{BASE}/requests.{fmt}", data=form, headers=headers or {})


def parse_xml(response: httpx.Response) -> ET.Element:
    """Well-formed UTF-8 XML with the spec's declaration and content type."""
    assert response.headers["content-type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(XML_DECLARATION), response.content[:80]
    return ET.fromstring(response.content)  # noqa: S314 - our own answer


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    url: str  # the Open311 root, e.g. http://127.0.0.1:1234/open311/v2
    api_key: str


@pytest.fixture(scope="module")
def live_open311(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`citizen-hub serve` in a subprocess on its own database with the demo province."""
    tmp = tmp_path_factory.mktemp("open311-live")
    pg_url = (
        dbutil.create_postgres_database(dbutil.POSTGRES_URL, "open311")
        if dbutil.POSTGRES_URL
        else None
    )
    env = {
        **os.environ,
        "CITIZENHUB_ENVIRONMENT": "development",
        "CITIZENHUB_DATABASE_URL": pg_url or dbutil.sqlite_url(tmp, "open311"),
        "CITIZENHUB_UPLOAD_DIR": str(tmp / "uploads"),
        "CITIZENHUB_PRINT_DEMO_CREDENTIALS": "false",
        "CITIZENHUB_LOG_LEVEL": "WARNING",
        "CITIZENHUB_RATE_LIMIT_READ_PER_MINUTE": "100000",
        "CITIZENHUB_RATE_LIMIT_WRITE_PER_MINUTE": "100000",
        "CITIZENHUB_PASSWORD_HASH_MEMORY_KIB": "8192",
        "CITIZENHUB_PASSWORD_HASH_TIME_COST": "1",
    }
    server: subprocess.Popen[bytes] | None = None
    log = (tmp / "server.log").open("w")
    try:
        for command in (["migrate"], ["seed-demo"]):
            subprocess.run([CLI, *command], env=env, check=True, capture_output=True, timeout=120)
        created = subprocess.run(
            [CLI, "open311-keys", "create", "--name", "partner"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        )
        key = created.stdout.strip()
        port = _free_port()
        server = subprocess.Popen(
            [CLI, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
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
        yield LiveServer(f"{base}{BASE}", key)
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
        log.close()
        if pg_url:
            dbutil.drop_postgres_database(pg_url)
