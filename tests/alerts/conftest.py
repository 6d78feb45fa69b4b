from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import Role, User
from app.push.models import Delivery
from tests.builders import create_department, create_ward, signed_in

RING_A = [[104.86, 21.69], [104.88, 21.69], [104.88, 21.71], [104.86, 21.71], [104.86, 21.69]]
RING_B = [[104.08, 21.84], [104.10, 21.84], [104.10, 21.86], [104.08, 21.86], [104.08, 21.84]]
RING_C = [[104.20, 21.80], [104.22, 21.80], [104.22, 21.82], [104.20, 21.82], [104.20, 21.80]]


@dataclass
class AlertWorld:
    ward_a: Any  # "hong-ha-t"
    ward_b: Any  # "la-pan-tan-t"
    ward_c: Any  # "che-cu-nha-t"
    manager: User
    manager_headers: dict[str, str]
    admin_headers: dict[str, str]
    staff_headers: dict[str, str]
    citizen_headers: dict[str, str]


@pytest.fixture
async def world(client: httpx.AsyncClient, session: AsyncSession) -> AlertWorld:
    department = await create_department(session)
    ward_a = await create_ward(session, "hong-ha-t", RING_A, "Phường Hồng Hà")
    ward_b = await create_ward(session, "la-pan-tan-t", RING_B, "Xã La Pán Tẩn")
    ward_c = await create_ward(session, "che-cu-nha-t", RING_C, "Xã Chế Cu Nha")
    manager, manager_headers = await signed_in(
        client, session, Role.manager, department=department, full_name="Lê Thu Hà"
    )
    _admin, admin_headers = await signed_in(client, session, Role.admin)
    _staff, staff_headers = await signed_in(client, session, Role.staff, department=department)
    _citizen, citizen_headers = await signed_in(client, session, Role.citizen)
    await session.commit()
    return AlertWorld(
        ward_a,
        ward_b,
        ward_c,
        manager,
        manager_headers,
        admin_headers,
        staff_headers,
        citizen_headers,
    )


def in_hours(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()


def alert_body(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "severity": "warning",
        "title_vi": "Lũ quét trên suối Nậm Kim",
        "body_vi": "Mưa lớn kéo dài, nước suối dâng nhanh. Người dân không qua ngầm, tràn.",
        "title_en": "Flash flood on the Nậm Kim stream",
        "body_en": "Heavy rain continues and the stream is rising fast. Do not cross fords.",
        "whole_province": True,
        "ward_codes": [],
        "expires_at": in_hours(24),
    }
    body.update(fields)
    return body


async def create_alert(
    client: httpx.AsyncClient, headers: dict[str, str], **fields: Any
) -> dict[str, Any]:
    r = await client.post("/api/v1/alerts", json=alert_body(**fields), headers=headers)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def send_alert(
    client: httpx.AsyncClient, headers: dict[str, str], **fields: Any
) -> dict[str, Any]:
    created = await create_alert(client, headers, **fields)
    r = await client.post(f"/api/v1/alerts/{created['id']}/send", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def deliveries_of(session: AsyncSession, alert_id: int) -> list[Delivery]:
    rows = await session.execute(
        select(Delivery)
        .where(Delivery.alert_id == alert_id)
        .order_by(Delivery.topic)
        .execution_options(populate_existing=True)
    )
    return list(rows.scalars())
