"""Every role against every protected endpoint. Each domain adds its endpoints to PROTECTED;
the last test fails when an API route that changes data is in neither list."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import ROLE_RANK, Role
from tests.builders import create_department, create_service, signed_in


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    minimum: Role
    json: dict[str, Any] | None = field(default=None, hash=False)


# The procedure the role matrix's procedure and life-event endpoints address (see _context).
MATRIX_PROCEDURE = "9.990001"

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
    Endpoint(
        "POST",
        "/api/v1/calendar/days",
        Role.staff,
        {"day": "2027-03-08", "kind": "day_off", "name_vi": "Nghỉ bù", "name_en": "Bridge day"},
    ),
    Endpoint("PATCH", "/api/v1/calendar/days/{day}", Role.staff, {"note": "Ghi chú"}),
    Endpoint("DELETE", "/api/v1/calendar/days/{day}", Role.staff),
    # Reports: {code} is an open report of the acting staff member's department.
    Endpoint("GET", "/api/v1/me/reports", Role.citizen),
    Endpoint("GET", "/api/v1/me/notifications", Role.citizen),
    Endpoint("GET", "/api/v1/me/devices", Role.citizen),
    Endpoint("GET", "/api/v1/me/preferences", Role.citizen),
    Endpoint("PATCH", "/api/v1/me/preferences", Role.citizen, {"report_updates": False}),
    Endpoint("POST", "/api/v1/me/subscriptions", Role.citizen, {"service_group": "health"}),
    Endpoint("DELETE", "/api/v1/me/subscriptions/{subscription_id}", Role.citizen),
    Endpoint("POST", "/api/v1/me/notifications/read", Role.citizen, {"ids": None}),
    Endpoint("POST", "/api/v1/reports/{code}/follow", Role.citizen),
    Endpoint("DELETE", "/api/v1/reports/{code}/follow", Role.citizen),
    Endpoint("GET", "/api/v1/staff/reports", Role.staff),
    Endpoint("GET", "/api/v1/staff/reports/{code}", Role.staff),
    Endpoint("POST", "/api/v1/staff/reports/{code}/status", Role.staff, {"status": "acknowledged"}),
    Endpoint("POST", "/api/v1/staff/reports/{code}/status/multipart", Role.staff),
    Endpoint("POST", "/api/v1/staff/reports/{code}/assign", Role.staff, {"assignee_id": None}),
    Endpoint(
        "POST",
        "/api/v1/staff/reports/{code}/notes",
        Role.staff,
        {"note": "Đã kiểm tra", "public": False},
    ),
    Endpoint("POST", "/api/v1/staff/reports/{code}/merge", Role.staff, {"into_code": "ZZZZ-ZZZZ"}),
    Endpoint(
        "POST", "/api/v1/staff/reports/{code}/hide", Role.staff, {"reason": "Lời lẽ xúc phạm"}
    ),
    Endpoint("GET", "/api/v1/staff/response-templates", Role.staff),
    Endpoint(
        "POST",
        "/api/v1/staff/response-templates",
        Role.manager,
        {"title": "Đã tiếp nhận", "body_vi": "Chúng tôi đã tiếp nhận."},
    ),
    Endpoint(
        "POST",
        "/api/v1/services",
        Role.admin,
        {
            "code": "new_service",
            "name_vi": "Dịch vụ mới",
            "name_en": "New service",
            "group": "other",
            "department_code": "{department_code}",
            "deadline_value": 3,
        },
    ),
    Endpoint(
        "PUT",
        "/api/v1/services/{service_code}",
        Role.admin,
        {
            "code": "{service_code}",
            "name_vi": "Dịch vụ",
            "name_en": "Service",
            "group": "other",
            "department_code": "{department_code}",
            "deadline_value": 3,
        },
    ),
    # Alerts: {alert_id} is an alert that does not exist; the role check comes first.
    Endpoint("GET", "/api/v1/staff/alerts", Role.manager),
    Endpoint(
        "POST",
        "/api/v1/alerts",
        Role.manager,
        {
            "severity": "advisory",
            "title_vi": "Đường tạm đóng",
            "body_vi": "Quốc lộ 32 tạm đóng do sạt lở.",
            "expires_at": "2099-01-01T00:00:00+07:00",
        },
    ),
    Endpoint("PATCH", "/api/v1/alerts/{alert_id}", Role.manager, {"title_vi": "Tiêu đề mới"}),
    Endpoint("GET", "/api/v1/alerts/{alert_id}/preview", Role.manager),
    Endpoint("POST", "/api/v1/alerts/{alert_id}/send", Role.manager),
    Endpoint("POST", "/api/v1/alerts/{alert_id}/cancel", Role.manager),
    Endpoint("GET", "/api/v1/alerts/{alert_id}/audit", Role.manager),
    # Places: {place_code} belongs to the acting staff member's department.
    Endpoint(
        "POST",
        "/api/v1/places",
        Role.staff,
        {"category": "health", "name": {"vi": "Trạm y tế mới"}, "lat": 21.7, "lon": 104.9},
    ),
    Endpoint("PATCH", "/api/v1/places/{place_code}", Role.staff, {"phone": "0216 3852 000"}),
    Endpoint("POST", "/api/v1/places/{place_code}/retire", Role.staff),
    Endpoint("POST", "/api/v1/places/{place_code}/restore", Role.staff),
    Endpoint("GET", "/api/v1/places/{place_code}/history", Role.staff),
    # Practical help: {contact_code} and {guide_slug} do not exist; the role check comes first.
    Endpoint("GET", "/api/v1/staff/help", Role.staff),
    Endpoint(
        "POST",
        "/api/v1/help/contacts",
        Role.staff,
        {"kind": "hotline", "phone": "0216 3862 222", "name": {"vi": "Đường dây nóng"}},
    ),
    Endpoint("PATCH", "/api/v1/help/contacts/{contact_code}", Role.staff, {"sort_order": 5}),
    Endpoint("POST", "/api/v1/help/contacts/{contact_code}/retire", Role.staff),
    Endpoint("POST", "/api/v1/help/contacts/{contact_code}/restore", Role.staff),
    Endpoint(
        "POST", "/api/v1/guides", Role.staff, {"slug": "matrix", "title": {"vi": "Hướng dẫn"}}
    ),
    Endpoint("PATCH", "/api/v1/guides/{guide_slug}", Role.staff, {"sort_order": 5}),
    Endpoint("POST", "/api/v1/guides/{guide_slug}/retire", Role.staff),
    Endpoint("POST", "/api/v1/guides/{guide_slug}/restore", Role.staff),
    # Events: {event_code} does not exist; the role check comes first.
    Endpoint(
        "POST",
        "/api/v1/events",
        Role.staff,
        {
            "category": "market",
            "title": {"vi": "Chợ phiên"},
            "starts_at": "2030-09-01T06:00:00",
            "ends_at": "2030-09-01T11:00:00",
        },
    ),
    Endpoint("PATCH", "/api/v1/events/{event_code}", Role.staff, {"price_vnd": 10000}),
    Endpoint("POST", "/api/v1/events/{event_code}/retire", Role.staff),
    Endpoint("POST", "/api/v1/events/{event_code}/restore", Role.staff),
    # Procedures: {procedure_code}'s agency belongs to the acting staff member's department.
    Endpoint(
        "PUT",
        "/api/v1/procedures/{procedure_code}",
        Role.staff,
        {
            "code": "{procedure_code}",
            "name": {"vi": "Thủ tục thử"},
            "field": {"code": "business-registration"},
            "agency": {"code": "matrix-agency"},
            "level": "commune",
            "online": "none",
            "channels": ["in_person"],
            "steps": [{"vi": "Nộp hồ sơ"}],
            "processing_days": 3,
        },
    ),
    Endpoint("POST", "/api/v1/procedures/{procedure_code}/retire", Role.staff),
    Endpoint("POST", "/api/v1/procedures/{procedure_code}/restore", Role.staff),
    Endpoint("GET", "/api/v1/procedures/{procedure_code}/history", Role.staff),
    # Form templates: the upload is refused as a bad request once the role is checked;
    # {form_id} does not exist.
    Endpoint("POST", "/api/v1/procedures/{procedure_code}/forms", Role.staff),
    Endpoint("DELETE", "/api/v1/procedure-forms/{form_id}", Role.staff),
    Endpoint(
        "PUT",
        "/api/v1/life-events/{life_event_slug}",
        Role.manager,
        {
            "slug": "{life_event_slug}",
            "name": {"vi": "Việc thử"},
            "steps": [{"procedure": MATRIX_PROCEDURE}],
        },
    ),
    # Dossiers: {dossier_code} is a dossier of the acting staff member's department (phone
    # ending 5678); the applicant's reads need a signed-in follower (others get 404).
    Endpoint(
        "POST",
        "/api/v1/staff/dossiers",
        Role.staff,
        {"procedure_code": "{dossier_procedure_code}", "applicant_name": "Nguyễn Văn An"},
    ),
    Endpoint("GET", "/api/v1/staff/dossiers", Role.staff),
    Endpoint("GET", "/api/v1/staff/dossiers/{dossier_code}", Role.staff),
    Endpoint(
        "POST",
        "/api/v1/staff/dossiers/{dossier_code}/status",
        Role.staff,
        {"status": "in_processing"},
    ),
    Endpoint(
        "POST",
        "/api/v1/staff/dossiers/{dossier_code}/notes",
        Role.staff,
        {"note": "Đã kiểm tra", "internal": True},
    ),
    Endpoint("POST", "/api/v1/staff/dossiers/{dossier_code}/pin", Role.staff),
    Endpoint("GET", "/api/v1/me/dossiers", Role.citizen),
    Endpoint("GET", "/api/v1/dossiers/{dossier_code}", Role.citizen),
    Endpoint(
        "POST",
        "/api/v1/dossiers/follow",
        Role.citizen,
        {"code": "{dossier_code}", "phone_last4": "5678"},
    ),
    Endpoint("DELETE", "/api/v1/dossiers/{dossier_code}/follow", Role.citizen),
    Endpoint("POST", "/api/v1/dossiers/{dossier_code}/rating", Role.citizen, {"score": 5}),
]

# Only the person who made the report (signed in, or with its secret) may do these.
OWNER_ONLY: list[Endpoint] = [
    Endpoint("PATCH", "/api/v1/reports/{code}", Role.citizen, {"description": "Đã sửa nội dung"}),
    Endpoint("POST", "/api/v1/reports/{code}/withdraw", Role.citizen),
    Endpoint("POST", "/api/v1/reports/{code}/confirm", Role.citizen),
    Endpoint("POST", "/api/v1/reports/{code}/rating", Role.citizen, {"rating": 4}),
    Endpoint("POST", "/api/v1/reports/{code}/dispute", Role.citizen),
]

# Writes anyone may make: they create or prove an identity.
PUBLIC_WRITES = {
    ("POST", "/api/v1/auth/register"),
    ("POST", "/api/v1/auth/token"),
    ("POST", "/api/v1/auth/refresh"),
    # Reports: anonymous where the service allows it; throttled; see tests/reports.
    ("POST", "/api/v1/reports"),
    ("POST", "/api/v1/reports/multipart"),
    ("POST", "/api/v1/reports/lookup"),
    ("POST", "/api/v1/reports/{code}/support"),
    # Devices: anonymous installs register too; forgetting a token needs the token itself.
    ("POST", "/api/v1/devices"),
    ("POST", "/api/v1/devices/forget"),
    ("PUT", "/api/v1/devices/alert-areas"),
    # Dossiers: the code and a second factor (phone digits or receipt PIN); throttled per
    # address and per code; see tests/dossiers/test_lookup.py.
    ("POST", "/api/v1/dossiers/lookup"),
    ("POST", "/api/v1/dossiers/rate"),
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
    values = await _context(client, session, department)
    path = endpoint.path.format(user_id=target.id, **values)
    response = await client.request(
        endpoint.method, path, headers=headers, json=_fill(endpoint.json, values)
    )
    if role is None:
        assert response.status_code == 401, response.text
    elif ROLE_RANK[role] < ROLE_RANK[endpoint.minimum]:
        assert response.status_code == 403, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
    else:
        assert response.status_code not in (401, 403), response.text
        assert response.status_code < 500


async def _context(
    client: httpx.AsyncClient, session: AsyncSession, department: Any
) -> dict[str, str]:
    """An open report and a service of the department the acting staff member belongs to."""
    service = await create_service(
        session, department, location_required=False, proof_required=False
    )
    await session.commit()
    r = await client.post(
        "/api/v1/reports",
        json={"service_code": service.code, "description": "Ổ gà lớn"},
        headers={"X-Device-ID": f"device-matrix-{service.id:06d}"},
    )
    assert r.status_code == 201, r.text
    return {
        "day": "2027-03-08",  # a calendar day the role matrix's write endpoints address
        "code": r.json()["code"],
        "service_code": service.code,
        "department_code": department.code,
        "secret": r.json()["secret"],
        "place_code": await _place_of(session, department),
        "alert_id": "2147483647",
        "subscription_id": "2147483647",
        "contact_code": "no-such-contact",
        "guide_slug": "no-such-guide",
        "event_code": "no-such-event",
        "procedure_code": await _procedure_of(session, department),
        "life_event_slug": "matrix-life-event",
        "form_id": "2147483647",
        **await _dossier_of(session, department),
    }


async def _dossier_of(session: AsyncSession, department: Any) -> dict[str, str]:
    """A dossier of the department, for a procedure whose agency belongs to it."""
    from tests.builders import create_dossier, create_procedure

    procedure = await create_procedure(
        session,
        f"9.7{department.id:05d}",
        agency={
            "code": f"matrix-{department.code}",
            "name": {"vi": "Cơ quan thử"},
            "department_code": department.code,
        },
    )
    done = await create_dossier(session, procedure, phone="0912345678")
    await session.commit()
    return {"dossier_code": done.dossier.code, "dossier_procedure_code": procedure.code}


async def _place_of(session: AsyncSession, department: Any) -> str:
    from app.places.models import Place

    code = f"matrix-{department.code}"
    session.add(
        Place(
            code=code,
            category="health",
            name={"vi": "Trạm y tế"},
            lat=21.7,
            lon=104.9,
            department_id=department.id,
        )
    )
    await session.commit()
    return code


async def _procedure_of(session: AsyncSession, department: Any) -> str:
    from tests.builders import create_procedure

    agency = {"code": "matrix-agency", "name": {"vi": "Cơ quan thử"}}
    await create_procedure(
        session, MATRIX_PROCEDURE, agency=agency | {"department_code": department.code}
    )
    await session.commit()
    return MATRIX_PROCEDURE


def _fill(body: dict[str, Any] | None, values: dict[str, str]) -> dict[str, Any] | None:
    if body is None:
        return None
    return {k: v.format(**values) if isinstance(v, str) else v for k, v in body.items()}


@pytest.mark.parametrize("endpoint", OWNER_ONLY, ids=lambda e: f"{e.method} {e.path}")
@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value if r else "anonymous")
async def test_owner_only(
    client: httpx.AsyncClient, session: AsyncSession, endpoint: Endpoint, role: Role | None
) -> None:
    """Nobody but the reporter, not even staff of the department, acts as the reporter."""
    department = await create_department(session)
    headers: dict[str, str] = {}
    if role is not None:
        _user, headers = await signed_in(
            client, session, role, department=department if role is not Role.citizen else None
        )
    values = await _context(client, session, department)
    path = endpoint.path.format(**values)
    kwargs: dict[str, Any] = {"json": endpoint.json}
    if path.endswith("/dispute"):
        kwargs = {"data": {"reason": "Chưa sửa"}}
    response = await client.request(endpoint.method, path, headers=headers, **kwargs)
    assert response.status_code == 403, response.text
    owner = await client.request(
        endpoint.method, path, headers={"X-Report-Secret": values["secret"]}, **kwargs
    )
    assert owner.status_code not in (401, 403, 404), owner.text


def test_every_api_write_is_listed(app: FastAPI) -> None:
    # The OpenAPI document lists every API route (FastAPI keeps included routers nested).
    listed = {(e.method, e.path) for e in PROTECTED + OWNER_ONLY} | PUBLIC_WRITES
    paths = app.openapi()["paths"]
    writes = {
        (method.upper(), path)
        for path, operations in paths.items()
        for method in operations
        if path.startswith("/api/") and method.upper() not in ("GET", "HEAD", "OPTIONS")
    }
    assert len(writes) > 5, "no routes found: the check itself is broken"
    unlisted = sorted(f"{m} {p}" for m, p in writes - listed)
    assert not unlisted, f"add these to PROTECTED or PUBLIC_WRITES: {unlisted}"
