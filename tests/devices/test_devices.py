from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import Role
from app.devices import service
from app.devices.models import Device
from tests.builders import PASSWORD, signed_in

TOKEN = "fcm-token-" + "a" * 140


async def test_register_is_idempotent_and_follows_the_account(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    anonymous = await client.post(
        "/api/v1/devices",
        json={"token": TOKEN, "platform": "android", "install_id": "install-0001"},
    )
    assert anonymous.status_code == 200
    again = await client.post(
        "/api/v1/devices",
        json={"token": TOKEN, "platform": "android", "locale": "en", "install_id": "install-0001"},
    )
    assert again.json()["locale"] == "en"
    rows = (await session.execute(select(Device))).scalars().all()
    assert len(rows) == 1 and rows[0].user_id is None and rows[0].install_id == "install-0001"
    user, headers = await signed_in(client, session, Role.citizen)
    user_id = user.id
    await client.post(
        "/api/v1/devices", headers=headers, json={"token": TOKEN, "platform": "android"}
    )
    session.expire_all()
    device = (await session.execute(select(Device))).scalar_one()
    assert device.user_id == user_id and device.install_id is None
    mine = (await client.get("/api/v1/me/devices", headers=headers)).json()
    assert [d["platform"] for d in mine] == ["android"] and "token" not in mine[0]


async def test_bad_tokens_are_refused_and_forgetting_needs_the_token(
    client: httpx.AsyncClient,
) -> None:
    bad = await client.post("/api/v1/devices", json={"token": "short", "platform": "web"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "token"
    wrong_platform = await client.post(
        "/api/v1/devices", json={"token": TOKEN, "platform": "symbian"}
    )
    assert wrong_platform.status_code == 422
    await client.post("/api/v1/devices", json={"token": TOKEN, "platform": "web"})
    assert (await client.post("/api/v1/devices/forget", json={"token": TOKEN})).status_code == 204
    assert (await client.post("/api/v1/devices/forget", json={"token": TOKEN})).status_code == 404


async def test_stale_after_30_days_pruned_after_270_and_dead_tokens_removed(
    session: AsyncSession,
) -> None:
    from app.db import utcnow

    now = utcnow()
    session.add_all(
        [
            Device(token="fresh-" + "x" * 30, platform="web", last_seen_at=now),
            Device(
                token="quiet-" + "x" * 30, platform="web", last_seen_at=now - timedelta(days=31)
            ),
            Device(
                token="gone-" + "x" * 30, platform="web", last_seen_at=now - timedelta(days=271)
            ),
            Device(token="dead-" + "x" * 30, platform="ios", last_seen_at=now),
        ]
    )
    await session.flush()
    assert await service.sweep(session) == (2, 1)  # quiet and gone flagged; gone pruned
    assert await service.forget_dead(session, ["dead-" + "x" * 30]) == 1
    left = {d.token.split("-")[0]: d for d in (await session.execute(select(Device))).scalars()}
    assert set(left) == {"fresh", "quiet"} and left["quiet"].stale_at is not None


async def test_account_deletion_removes_devices_and_export_lists_them(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    _user, headers = await signed_in(client, session, Role.citizen)
    await client.post("/api/v1/devices", headers=headers, json={"token": TOKEN, "platform": "ios"})
    export = (await client.get("/api/v1/me/export", headers=headers)).json()
    assert export["sections"]["devices"][0]["platform"] == "ios"
    await client.request("DELETE", "/api/v1/me", headers=headers, json={"password": PASSWORD})
    assert (await session.execute(select(Device))).first() is None
