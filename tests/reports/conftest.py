from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import Role, User
from app.org.models import Department
from tests.builders import create_department, create_service, create_ward, signed_in

# A square ward around (21.70, 104.87) and another east of it.
WARD_A = [[104.86, 21.69], [104.88, 21.69], [104.88, 21.71], [104.86, 21.71], [104.86, 21.69]]
WARD_B = [[104.88, 21.69], [104.90, 21.69], [104.90, 21.71], [104.88, 21.71], [104.88, 21.69]]


@dataclass
class World:
    urban: Department
    transport: Department
    ward_a: Any
    ward_b: Any
    light: Any  # street lights: urban, public, proof not required (photo tests live elsewhere)
    private: Any  # clinic feedback: private
    staff: User
    staff_headers: dict[str, str]
    other_staff: User
    other_headers: dict[str, str]
    citizen: User
    citizen_headers: dict[str, str]


@pytest.fixture
async def world(client: httpx.AsyncClient, session: AsyncSession) -> World:
    from app.reports.models import ServiceAttribute, ServiceRoute

    urban = await create_department(session, code="urban-t")
    transport = await create_department(session, code="transport-t")
    ward_a = await create_ward(session, "ward-a", WARD_A, "Phường Hồng Hà")
    ward_b = await create_ward(session, "ward-b", WARD_B, "Phường Yên Ninh")
    light = await create_service(
        session,
        urban,
        code="street_light",
        proof_required=False,
        name_vi="Đèn đường hỏng",
        name_en="Broken street light",
    )
    session.add(
        ServiceAttribute(
            service_id=light.id,
            code="pole_state",
            datatype="singlevaluelist",
            label_vi="Tình trạng",
            label_en="State",
            required=True,
            order=1,
            values=[
                {"key": "off", "name_vi": "Tắt", "name_en": "Off"},
                {"key": "fallen", "name_vi": "Đổ", "name_en": "Fallen"},
            ],
        )
    )
    session.add(
        ServiceAttribute(
            service_id=light.id,
            code="height_m",
            datatype="number",
            label_vi="Cao",
            label_en="Height",
            order=2,
        )
    )
    session.add(ServiceRoute(service_id=light.id, ward_id=ward_b.id, department_id=transport.id))
    private = await create_service(
        session,
        urban,
        code="clinic_feedback",
        kind="feedback",
        is_public=False,
        location_required=False,
        proof_required=False,
    )
    staff, staff_headers = await signed_in(client, session, Role.staff, department=urban)
    other_staff, other_headers = await signed_in(client, session, Role.staff, department=transport)
    citizen, citizen_headers = await signed_in(client, session, Role.citizen)
    await session.commit()
    return World(
        urban,
        transport,
        ward_a,
        ward_b,
        light,
        private,
        staff,
        staff_headers,
        other_staff,
        other_headers,
        citizen,
        citizen_headers,
    )


async def submit(
    client: httpx.AsyncClient, headers: dict[str, str] | None = None, **fields: Any
) -> httpx.Response:
    body = {
        "service_code": "street_light",
        "description": "Đèn đường trước số 12 bị tắt",
        "lat": 21.70,
        "lon": 104.87,
        "attributes": {"pole_state": "off"},
    }
    body.update(fields)
    return await client.post("/api/v1/reports", json=body, headers=headers or {})
