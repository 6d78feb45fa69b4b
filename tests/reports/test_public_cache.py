"""The public list is cached for a few seconds and revalidated with ETags (slow links)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.reports.conftest import World, submit


async def test_etag_gives_304_and_cache_expires(
    client: httpx.AsyncClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    import app.reports.api as reports_api

    monkeypatch.setattr(reports_api, "PUBLIC_CACHE_SECONDS", 0.3)
    first_code = (await submit(client)).json()["code"]
    first = await client.get("/api/v1/reports")
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"].startswith("public, max-age=")
    again = await client.get("/api/v1/reports", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    second_code = (await submit(client, {"X-Device-ID": "device-cache-02"})).json()["code"]
    cached = (await client.get("/api/v1/reports")).json()
    assert [i["code"] for i in cached["items"]] == [first_code]  # at most a few seconds old
    await asyncio.sleep(0.4)
    fresh = await client.get("/api/v1/reports", headers={"If-None-Match": etag})
    assert fresh.status_code == 200
    assert {i["code"] for i in fresh.json()["items"]} == {first_code, second_code}


async def test_languages_are_cached_apart(client: httpx.AsyncClient, world: World) -> None:
    await submit(client)
    vi = (await client.get("/api/v1/reports", headers={"Accept-Language": "vi"})).json()
    en = (await client.get("/api/v1/reports", headers={"Accept-Language": "en"})).json()
    assert vi["items"][0]["service_name"] == "Đèn đường hỏng"
    assert en["items"][0]["service_name"] == "Broken street light"


async def test_signed_in_requests_bypass_the_cache(client: httpx.AsyncClient, world: World) -> None:
    await client.get("/api/v1/reports")
    code = (await submit(client)).json()["code"]
    mine = (await client.get("/api/v1/reports", headers=world.citizen_headers)).json()
    assert code in [i["code"] for i in mine["items"]]
