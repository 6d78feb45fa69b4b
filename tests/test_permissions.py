"""Every role against every protected endpoint. Each domain adds its endpoints to PROTECTED;
the last test fails when an API route that changes data is in neither list."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import ROLE_RANK, Role
from tests.builders import create_department, signed_in


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    minimum: Role
    json: dict[str, Any] | None = field(default=None, hash=False)


PROTECTED: list[Endpoint] = [
    Endpoint("GET", "/api/v1/me", Role.citizen),
    Endpoint("PATCH", "/api/v1/me", Role.citizen, {"locale": "en"}),
    Endpoint("GET", "/api/v1/me/sessions", Role.citizen),
    Endpoint("GET", "/api/v1/me/export", Role.citizen),
    Endpoint("DELETE", "/api/v1/me", Role.citizen, {"password": "wrong-on-purpose"}),
    Endpoint("POST", "/api/v1/auth/logout", Role.citizen),
    Endpoint("POST", "/api/v1/auth/logout-all", Role.citizen),
    Endpoint(
        "POST",
        "/api/v1/auth/password",
        Role.citizen,
        {"current_password": "wrong-on-purpose", "new_password": "a long new passphrase"},
    ),
    Endpoint("GET", "/api/v1/staff/colleagues", Role.staff),
    Endpoint("GET", "/api/v1/users", Role.manager),
    Endpoint(
        "POST",
        "/api/v1/users",
        Role.admin,
        {
            "email": "made-by-admin@example.vn",
            "password": "a long new passphrase",
            "role": "manager",
        },
    ),
    Endpoint("PATCH", "/api/v1/users/{user_id}", Role.admin, {"role": "manager"}),
    Endpoint(
        "POST",
        "/api/v1/departments",
        Role.admin,
        {"code": "tourism", "name_vi": "Sở Du lịch", "name_en": "Department of Tourism"},
    ),
]

# Writes anyone may make: they create or prove an identity.
PUBLIC_WRITES = {
    ("POST", "/api/v1/auth/register"),
    ("POST", "/api/v1/auth/token"),
    ("POST", "/api/v1/auth/refresh"),
}

ROLES: list[Role | None] = [None, Role.citizen, Role.staff, Role.manager, Role.admin]


@pytest.mark.parametrize("endpoint", PROTECTED, ids=lambda e: f"{e.method} {e.path}")
@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value if r else "anonymous")
async def test_role_matrix(
    client: httpx.AsyncClient, session: AsyncSession, endpoint: Endpoint, role: Role | None
) -> None:
    department = await create_department(session)
    headers: dict[str, str] = {}
    if role is not None:
        _user, headers = await signed_in(
            client, session, role, department=department if role is not Role.citizen else None
        )
    target, _ = await signed_in(client, session, Role.citizen)
    path = endpoint.path.format(user_id=target.id)
    response = await client.request(endpoint.method, path, headers=headers, json=endpoint.json)
    if role is None:
        assert response.status_code == 401, response.text
    elif ROLE_RANK[role] < ROLE_RANK[endpoint.minimum]:
        assert response.status_code == 403, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
    else:
        assert response.status_code not in (401, 403), response.text
        assert response.status_code < 500


def test_every_api_write_is_listed(app: FastAPI) -> None:
    listed = {(e.method, e.path) for e in PROTECTED} | PUBLIC_WRITES
    unlisted = []
    for route in app.routes:
        if not isinstance(route, APIRoute) or not route.path.startswith("/api/"):
            continue
        for method in route.methods - {"GET", "HEAD", "OPTIONS"}:
            if (method, route.path) not in listed:
                unlisted.append(f"{method} {route.path}")
    assert not unlisted, f"add these to PROTECTED or PUBLIC_WRITES: {unlisted}"
