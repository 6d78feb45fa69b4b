from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import Role, User
from app.places.models import Place
from app.places.service import search_keys
from tests.builders import create_department, signed_in


@dataclass
class HelpWorld:
    staff: User
    staff_headers: dict[str, str]
    manager_headers: dict[str, str]
    citizen_headers: dict[str, str]


@pytest.fixture
async def world(client: httpx.AsyncClient, session: AsyncSession) -> HelpWorld:
    department = await create_department(session)
    staff, staff_headers = await signed_in(
        client, session, Role.staff, department=department, full_name="Hà Thị Mai"
    )
    _manager, manager_headers = await signed_in(client, session, Role.manager)
    _citizen, citizen_headers = await signed_in(client, session, Role.citizen)
    await session.commit()
    return HelpWorld(staff, staff_headers, manager_headers, citizen_headers)


async def create_place(
    session: AsyncSession, code: str, name: dict[str, str], **fields: Any
) -> Place:
    values: dict[str, Any] = {
        "category": "government",
        "lat": 21.7229,
        "lon": 104.9113,
        "address": "Đường Hòa Bình, phường Nguyễn Thái Học, thành phố Yên Bái",
        **fields,
    }
    search_name, search_body = search_keys(name, {}, [], values["address"])
    place = Place(code=code, name=name, search_name=search_name, search_body=search_body, **values)
    session.add(place)
    await session.flush()
    return place


def contact_body(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "hotline",
        "phone": "0216 3862 222",
        "name": {"vi": "Đường dây nóng du lịch", "en": "Tourism hotline"},
        "description": {"vi": "Hỗ trợ du khách.", "en": "Help for visitors."},
        "hours": "24/7",
    }
    body.update(fields)
    return body


def guide_body(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "slug": "getting-to-mu-cang-chai",
        "title": {"vi": "Đường đến Mù Cang Chải", "en": "Getting to Mù Cang Chải"},
        "summary": {"vi": "Đường bộ và xe khách.", "en": "Roads and buses."},
        "body": {
            "vi": "Đi theo Quốc lộ 32.\n\nLưu ý:\n- Đi ban ngày.\n- Xuống dốc bằng số thấp.",
            "en": "Take National Road 32.\n\nMind:\n- Drive in daylight.\n- Use a low gear.",
        },
    }
    body.update(fields)
    return body


async def create_contact(
    client: httpx.AsyncClient, headers: dict[str, str], **fields: Any
) -> dict[str, Any]:
    r = await client.post("/api/v1/help/contacts", json=contact_body(**fields), headers=headers)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def create_guide(
    client: httpx.AsyncClient, headers: dict[str, str], **fields: Any
) -> dict[str, Any]:
    r = await client.post("/api/v1/guides", json=guide_body(**fields), headers=headers)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]
