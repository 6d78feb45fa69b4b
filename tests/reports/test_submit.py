from __future__ import annotations

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.reports.models import Report, ReportFollower
from tests.reports.conftest import World, submit


async def test_anonymous_submission_gets_code_and_secret_and_is_routed_by_polygon(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    r = await submit(client)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "submitted" and body["secret"] and len(body["code"]) == 9
    report = (await session.execute(select(Report).where(Report.code == body["code"]))).scalar_one()
    assert report.ward_id == world.ward_a.id and report.department_id == world.urban.id
    # Ward B routes street lights to transport.
    r = await submit(client, lat=21.70, lon=104.89)
    routed = (
        await session.execute(select(Report).where(Report.code == r.json()["code"]))
    ).scalar_one()
    assert routed.ward_id == world.ward_b.id and routed.department_id == world.transport.id


async def test_status_department_and_reporter_in_the_payload_are_ignored(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    r = await submit(
        client,
        world.citizen_headers,
        status="resolved",
        department_id=world.transport.id,
        reporter_id=world.staff.id,
        department_code="transport-t",
        is_public=False,
    )
    assert r.status_code == 201
    report = (
        await session.execute(select(Report).where(Report.code == r.json()["code"]))
    ).scalar_one()
    assert report.status == "submitted"
    assert report.department_id == world.urban.id
    assert report.reporter_id == world.citizen.id
    assert report.is_public is True
    following = await session.scalar(
        select(func.count()).where(ReportFollower.report_id == report.id)
    )
    assert following == 1  # the reporter follows their own report


async def test_location_by_address_or_ward_without_a_map(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    by_address = await submit(client, lat=None, lon=None, address="Cổng chợ Yên Bái")
    assert by_address.status_code == 201
    by_ward = await submit(client, lat=None, lon=None, ward_code="ward-b")
    report = (
        await session.execute(select(Report).where(Report.code == by_ward.json()["code"]))
    ).scalar_one()
    assert report.ward_id == world.ward_b.id and report.department_id == world.transport.id
    nowhere = await submit(client, lat=None, lon=None)
    assert nowhere.status_code == 422
    assert nowhere.json()["errors"][0]["field"] == "location"
    half = await submit(client, lat=21.7, lon=None)
    assert half.status_code == 422


async def test_questions_are_validated_by_datatype(client: httpx.AsyncClient, world: World) -> None:
    missing = await submit(client, attributes={})
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "attributes.pole_state"
    wrong = await submit(
        client, attributes={"pole_state": "purple", "height_m": "tall", "colour": "x"}
    )
    fields = {e["field"] for e in wrong.json()["errors"]}
    assert fields == {"attributes.pole_state", "attributes.height_m", "attributes.colour"}
    ok = await submit(client, attributes={"pole_state": "fallen", "height_m": "7.5"})
    assert ok.status_code == 201


async def test_idempotency_key_replays_the_first_answer(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    headers = {"Idempotency-Key": "offline-outbox-0001", "X-Device-ID": "device-abcdef12"}
    first = await submit(client, headers)
    again = await submit(client, headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    count = await session.scalar(select(func.count()).select_from(Report))
    assert count == 1
    other_payload = await submit(client, headers, description="Một nội dung khác hẳn")
    assert other_payload.status_code == 422
    # The same key from another device is another request.
    separate = await submit(
        client, {"Idempotency-Key": "offline-outbox-0001", "X-Device-ID": "device-zzzzzz99"}
    )
    assert separate.json()["code"] != first.json()["code"]


async def test_submissions_are_throttled_with_a_clear_429(
    client: httpx.AsyncClient, app, world: World
) -> None:
    app.state.settings.report_submissions_per_minute = 2
    codes = [
        (await submit(client, {"X-Device-ID": "device-throttle1"})).status_code for _ in range(3)
    ]
    assert codes == [201, 201, 429]
    last = await submit(client, {"X-Device-ID": "device-throttle1"})
    assert int(last.headers["Retry-After"]) >= 1 and last.json()["detail"]


async def test_private_service_reports_are_never_listed(
    client: httpx.AsyncClient, world: World
) -> None:
    r = await client.post(
        "/api/v1/reports",
        json={"service_code": "clinic_feedback", "description": "Bác sĩ trực đêm không có mặt"},
    )
    assert r.status_code == 201
    code = r.json()["code"]
    listed = (await client.get("/api/v1/reports")).json()
    assert code not in [i["code"] for i in listed["items"]]
    assert (await client.get(f"/api/v1/reports/{code}")).status_code == 404
    mine = await client.get(
        f"/api/v1/reports/{code}", headers={"X-Report-Secret": r.json()["secret"]}
    )
    assert mine.status_code == 200


async def test_anonymous_not_allowed_where_the_service_says_so(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    world.light.allow_anonymous = False
    await session.commit()
    assert (await submit(client)).status_code == 403
    assert (await submit(client, world.citizen_headers)).status_code == 201
