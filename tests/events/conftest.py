from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import Role, User
from app.events import service
from app.events.repository import EventRow
from app.events.schemas import EventIn
from app.kit.text import fold
from app.org.models import Department
from app.places.models import Place
from tests.builders import create_department, signed_in

# September 2030: the 1st is a Sunday, the 20th a Friday. Far from "now", so lists over it
# never depend on the day the tests run.
NGHIA_LO = (21.6010, 104.5130)
MU_CANG_CHAI = (21.8490, 104.0880)  # about 50 km west of Nghĩa Lộ
NGHIA_LO_SOUTH = (21.5560, 104.5130)  # 5 km south


@dataclass
class EventWorld:
    department: Department
    other_department: Department
    staff: User
    staff_headers: dict[str, str]
    other_staff_headers: dict[str, str]
    manager: User
    manager_headers: dict[str, str]
    citizen_headers: dict[str, str]


@pytest.fixture
async def world(client: httpx.AsyncClient, session: AsyncSession) -> EventWorld:
    department = await create_department(session)
    other = await create_department(session)
    staff, staff_headers = await signed_in(
        client, session, Role.staff, department=department, full_name="Hà Văn Thào"
    )
    _other, other_headers = await signed_in(client, session, Role.staff, department=other)
    manager, manager_headers = await signed_in(client, session, Role.manager)
    _citizen, citizen_headers = await signed_in(client, session, Role.citizen)
    await session.commit()
    return EventWorld(
        department,
        other,
        staff,
        staff_headers,
        other_headers,
        manager,
        manager_headers,
        citizen_headers,
    )


async def create_place(
    session: AsyncSession, code: str, point: tuple[float, float], name: str, **kw: Any
) -> Place:
    place = Place(
        code=code,
        category=kw.pop("category", "culture"),
        name={"vi": name, **kw.pop("names", {})},
        lat=point[0],
        lon=point[1],
        source="test",
        search_name=fold(name),
        search_body="",
        **kw,
    )
    session.add(place)
    await session.flush()
    return place


def event_body(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "category": "festival",
        "title": {"vi": "Lễ hội Xòe Mường Lò", "en": "Mường Lò Xòe festival"},
        "description": {"vi": "Đại xòe trên cánh đồng.", "en": "A great circle dance."},
        "starts_at": "2030-09-20T19:00:00",
        "ends_at": "2030-09-20T21:00:00",
        "time_zone": "Asia/Ho_Chi_Minh",
        "price_vnd": 0,
    }
    body.update(fields)
    return body


async def add_event(session: AsyncSession, **fields: Any) -> EventRow:
    """Through the service, as the demo and an importer would (no actor)."""
    row = await service.create_event(session, None, EventIn.model_validate(event_body(**fields)))
    await session.commit()
    return row


async def post_event(
    client: httpx.AsyncClient, headers: dict[str, str], **fields: Any
) -> dict[str, Any]:
    r = await client.post("/api/v1/events", json=event_body(**fields), headers=headers)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]
