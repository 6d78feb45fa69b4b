"""Helpers for driving the server-rendered forms like a browser without JavaScript."""

from __future__ import annotations

import re

import httpx

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


async def csrf_token(client: httpx.AsyncClient, path: str) -> str:
    page = await client.get(path)
    match = _TOKEN.search(page.text)
    assert match, f"no CSRF field on {path}"
    return match.group(1)


async def submit(
    client: httpx.AsyncClient, form_page: str, action: str, data: dict[str, str]
) -> httpx.Response:
    token = await csrf_token(client, form_page)
    return await client.post(action, data={**data, "csrf_token": token})


async def page_login(client: httpx.AsyncClient, identifier: str, password: str) -> httpx.Response:
    return await submit(
        client, "/login", "/login", {"identifier": identifier, "password": password}
    )
