"""Open311 fixtures: the reports `world`, a partner key, and a real server for the georeport
client (migrated, seeded and given a key through the CLI, as an operator would)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.open311 import service
from tests.liveserver import live_server
from tests.reports.conftest import World, world

__all__ = ["World", "world"]

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


@dataclass
class LiveServer:
    url: str  # the Open311 root, e.g. http://127.0.0.1:1234/open311/v2
    api_key: str


@pytest.fixture(scope="module")
def live_open311(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`citizen-hub serve` on its own database with the demo province and a partner key."""
    with live_server(tmp_path_factory.mktemp("open311-live"), "open311") as live:
        key = live.cli("open311-keys", "create", "--name", "partner").strip()
        yield LiveServer(f"{live.base}{BASE}", key)
