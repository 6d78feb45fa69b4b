"""Subscriptions to a ward or a service group: a record (and a push) for each new public report
that matches, never for the reporter, never for private services."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import Role
from app.inbox.models import Notification
from tests.builders import signed_in

from .conftest import World, submit


async def _events(session: AsyncSession, user_id: int) -> list[tuple[str, str]]:
    rows = await session.execute(
        select(Notification.event, Notification.data).where(Notification.user_id == user_id)
    )
    return [(event, data["code"]) for event, data in rows]


async def test_a_new_report_reaches_the_ward_and_group_subscribers_only(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    ward_a, headers_a = await signed_in(client, session, Role.citizen)
    lights, headers_l = await signed_in(client, session, Role.citizen)
    ward_b, headers_b = await signed_in(client, session, Role.citizen)
    health, headers_h = await signed_in(client, session, Role.citizen)
    for headers, body in (
        (headers_a, {"ward_code": "ward-a"}),
        (headers_l, {"service_group": "roads_lighting"}),
        (headers_b, {"ward_code": "ward-b"}),
        (headers_h, {"service_group": "health"}),
    ):
        r = await client.post("/api/v1/me/subscriptions", json=body, headers=headers)
        assert r.status_code == 201, r.text
    # The reporter follows ward A too, and is not told about their own report.
    await client.post(
        "/api/v1/me/subscriptions", json={"ward_code": "ward-a"}, headers=world.citizen_headers
    )

    code = (await submit(client, world.citizen_headers)).json()["code"]  # street light, ward A

    assert await _events(session, ward_a.id) == [("report.area_new", code)]
    assert await _events(session, lights.id) == [("report.area_new", code)]
    assert await _events(session, ward_b.id) == []
    assert await _events(session, health.id) == []
    assert ("report.area_new", code) not in await _events(session, world.citizen.id)
    inbox = (await client.get("/api/v1/me/notifications", headers=headers_a)).json()
    assert inbox["items"][0]["title"] == "Phản ánh mới: Đèn đường hỏng"


async def test_private_reports_tell_no_subscriber(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    everyone, headers = await signed_in(client, session, Role.citizen)
    await client.post("/api/v1/me/subscriptions", json={}, headers=headers)
    r = await client.post(
        "/api/v1/reports",
        json={"service_code": "clinic_feedback", "description": "Phòng khám đông, chờ lâu"},
    )
    assert r.status_code == 201, r.text
    assert await _events(session, everyone.id) == []
