from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.inbox.models import Notification
from app.reports.models import Report
from tests.reports.conftest import World, submit


async def _status(
    client: httpx.AsyncClient,
    world: World,
    code: str,
    status: str,
    note: str | None = None,
    public: bool = True,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return await client.post(
        f"/api/v1/staff/reports/{code}/status",
        headers=headers or world.staff_headers,
        json={"status": status, "note": note, "public": public},
    )


async def test_the_whole_life_of_a_case(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    code = (await submit(client, world.citizen_headers)).json()["code"]
    assert (await _status(client, world, code, "acknowledged")).status_code == 200
    assert (
        await _status(client, world, code, "in_progress", "Đội điện sẽ tới trong ngày")
    ).status_code == 200
    no_note = await _status(client, world, code, "resolved")
    assert no_note.status_code == 422 and no_note.json()["errors"][0]["field"] == "note"
    internal = await _status(client, world, code, "resolved", "Đã thay bóng", public=False)
    assert internal.status_code == 422
    done = await _status(client, world, code, "resolved", "Đã thay bóng đèn mới")
    assert done.status_code == 200 and done.json()["status"] == "resolved"
    # The reporter is told at every public step, in this same transaction.
    events = (
        (
            await session.execute(
                select(Notification.event)
                .where(Notification.user_id == world.citizen.id)
                .order_by(Notification.id)
            )
        )
        .scalars()
        .all()
    )
    assert events == ["report.acknowledged", "report.status_changed", "report.resolved"]
    timeline = (await client.get(f"/api/v1/reports/{code}/timeline")).json()
    assert [e["kind"] for e in timeline] == [
        "submitted",
        "acknowledged",
        "status_changed",
        "resolved",
    ]
    assert all(e["actor_name"] is None for e in timeline)
    # Not fixed: the reporter disputes; the case reopens and staff hear about it through the queue.
    dispute = await client.post(
        f"/api/v1/reports/{code}/dispute",
        headers=world.citizen_headers,
        data={"reason": "Đèn lại tắt sau một ngày"},
    )
    assert dispute.status_code == 200 and dispute.json()["status"] == "reopened"
    again = await _status(client, world, code, "resolved", "Đã thay cả chấn lưu")
    assert again.status_code == 200
    confirm = await client.post(f"/api/v1/reports/{code}/confirm", headers=world.citizen_headers)
    assert confirm.json()["status"] == "closed"
    rating = await client.post(
        f"/api/v1/reports/{code}/rating",
        headers=world.citizen_headers,
        json={"rating": 5, "comment": "Nhanh"},
    )
    assert rating.status_code == 200 and rating.json()["rating"] == 5
    twice = await client.post(
        f"/api/v1/reports/{code}/rating", headers=world.citizen_headers, json={"rating": 1}
    )
    assert twice.status_code == 409


async def test_transitions_the_workflow_does_not_allow_are_refused(
    client: httpx.AsyncClient, world: World
) -> None:
    code = (await submit(client)).json()["code"]
    r = await _status(client, world, code, "closed")
    assert r.status_code == 409 and r.json()["type"] == "/problems/invalid-transition"
    assert (await _status(client, world, code, "reopened")).status_code == 409
    assert (await _status(client, world, code, "rejected")).status_code == 422  # needs a reason
    assert (
        await _status(client, world, code, "rejected", "Không thuộc phạm vi")
    ).status_code == 200
    assert (await _status(client, world, code, "resolved", "x")).status_code == 409


async def test_staff_of_another_department_cannot_work_the_case(
    client: httpx.AsyncClient, world: World
) -> None:
    code = (await submit(client)).json()["code"]
    other = world.other_headers
    assert (await _status(client, world, code, "acknowledged", headers=other)).status_code == 403
    assert (await client.get(f"/api/v1/staff/reports/{code}", headers=other)).status_code == 403
    assert (
        await client.post(f"/api/v1/staff/reports/{code}/notes", headers=other, json={"note": "x"})
    ).status_code == 403
    queue = (await client.get("/api/v1/staff/reports", headers=other)).json()
    assert code not in [i["code"] for i in queue["items"]]


async def test_resident_cannot_edit_anothers_report_or_act_as_staff(
    client: httpx.AsyncClient, world: World
) -> None:
    code = (await submit(client, world.staff_headers)).json()["code"]
    citizen = world.citizen_headers
    assert (
        await client.patch(
            f"/api/v1/reports/{code}", headers=citizen, json={"description": "hacked!"}
        )
    ).status_code == 403
    assert (
        await client.post(f"/api/v1/reports/{code}/withdraw", headers=citizen)
    ).status_code == 403
    assert (
        await client.post(
            f"/api/v1/staff/reports/{code}/status", headers=citizen, json={"status": "acknowledged"}
        )
    ).status_code == 403
    public = (await client.get(f"/api/v1/reports/{code}", headers=citizen)).json()
    assert (
        "reporter_email" not in public
        and "reporter_phone" not in public
        and "reporter_name" not in public
    )


async def test_edit_and_withdraw_only_while_submitted(
    client: httpx.AsyncClient, world: World
) -> None:
    first = await submit(client)
    code, secret = first.json()["code"], first.json()["secret"]
    mine = {"X-Report-Secret": secret}
    edited = await client.patch(
        f"/api/v1/reports/{code}", headers=mine, json={"description": "Đèn tắt từ tối qua"}
    )
    assert edited.status_code == 200 and edited.json()["description"] == "Đèn tắt từ tối qua"
    await _status(client, world, code, "acknowledged")
    assert (
        await client.patch(f"/api/v1/reports/{code}", headers=mine, json={"description": "abcdef"})
    ).status_code == 409
    assert (await client.post(f"/api/v1/reports/{code}/withdraw", headers=mine)).status_code == 409
    second = (await submit(client, world.citizen_headers)).json()["code"]
    w = await client.post(f"/api/v1/reports/{second}/withdraw", headers=world.citizen_headers)
    assert w.json()["status"] == "withdrawn"


async def test_assign_notes_templates_merge_and_hide(
    client: httpx.AsyncClient, session: AsyncSession, world: World, app
) -> None:
    from app.auth.models import Role
    from tests.builders import create_user

    colleague = await create_user(session, role=Role.staff, department=world.urban)
    await session.commit()
    code = (
        await submit(
            client, world.citizen_headers, description="Gọi tôi 0912 345 678 hoặc an@example.vn"
        )
    ).json()["code"]
    outsider = await client.post(
        f"/api/v1/staff/reports/{code}/assign",
        headers=world.staff_headers,
        json={"assignee_id": world.other_staff.id},
    )
    assert outsider.status_code == 422
    ok = await client.post(
        f"/api/v1/staff/reports/{code}/assign",
        headers=world.staff_headers,
        json={"assignee_id": colleague.id},
    )
    assert ok.json()["assignee_id"] == colleague.id
    await client.post(
        f"/api/v1/staff/reports/{code}/notes",
        headers=world.staff_headers,
        json={"note": "Kiểm tra tủ điện khu vực", "public": False},
    )
    public_timeline = (await client.get(f"/api/v1/reports/{code}/timeline")).json()
    assert "internal_note" not in [e["kind"] for e in public_timeline]
    staff_view = (
        await client.get(f"/api/v1/staff/reports/{code}", headers=world.staff_headers)
    ).json()
    assert "internal_note" in [e["kind"] for e in staff_view["timeline"]]
    assert staff_view["reporter_email"] == world.citizen.email
    # Templates: a manager adds one, staff answer with it.
    from tests.builders import signed_in

    _m, manager = await signed_in(client, session, Role.manager)
    t = await client.post(
        "/api/v1/staff/response-templates",
        headers=manager,
        json={
            "title": "Đã tiếp nhận",
            "body_vi": "Chúng tôi đã tiếp nhận phản ánh.",
            "body_en": "Received.",
        },
    )
    assert t.status_code == 201
    answered = await client.post(
        f"/api/v1/staff/reports/{code}/notes",
        headers=world.staff_headers,
        json={"template_id": t.json()["id"], "public": True, "note": None},
    )
    assert answered.status_code == 200
    assert "Chúng tôi đã tiếp nhận phản ánh." in [e["note"] for e in answered.json()["timeline"]]
    # Public text masks personal data.
    public = (await client.get(f"/api/v1/reports/{code}")).json()
    assert (
        "0912 345 678" not in public["description"] and "an@example.vn" not in public["description"]
    )
    # Merge a duplicate into it: supporters carry over.
    dup = (await submit(client, {"X-Device-ID": "device-dup-0001"})).json()["code"]
    await client.post(f"/api/v1/reports/{dup}/support", headers={"X-Device-ID": "device-fan-0001"})
    merged = await client.post(
        f"/api/v1/staff/reports/{dup}/merge", headers=world.staff_headers, json={"into_code": code}
    )
    assert merged.json()["status"] == "duplicate" and merged.json()["duplicate_of"] == code
    target = (await client.get(f"/api/v1/reports/{code}")).json()
    assert target["support_count"] == 1
    # Hide abusive content: gone from public view, kept for audit.
    hidden = await client.post(
        f"/api/v1/staff/reports/{code}/hide",
        headers=world.staff_headers,
        json={"reason": "Lời lẽ xúc phạm"},
    )
    assert hidden.json()["hidden"] is True
    assert (await client.get(f"/api/v1/reports/{code}")).status_code == 404
    row = (await session.execute(select(Report).where(Report.code == code))).scalar_one()
    assert "0912 345 678" in row.description


async def test_queue_sorted_by_deadline_and_filters(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    codes = [
        (await submit(client, {"X-Device-ID": f"device-queue-{i:04d}"})).json()["code"]
        for i in range(3)
    ]
    rows = {r.code: r for r in (await session.execute(select(Report))).scalars()}
    rows[codes[2]].deadline_at = rows[codes[2]].deadline_at - timedelta(days=30)  # overdue
    await session.commit()
    queue = (await client.get("/api/v1/staff/reports", headers=world.staff_headers)).json()
    assert queue["items"][0]["code"] == codes[2] and queue["items"][0]["overdue"] is True
    deadlines = [i["deadline_at"] for i in queue["items"]]
    assert deadlines == sorted(deadlines)
    overdue = (
        await client.get("/api/v1/staff/reports?overdue=true", headers=world.staff_headers)
    ).json()
    assert [i["code"] for i in overdue["items"]] == [codes[2]]
    by_ward = (
        await client.get("/api/v1/staff/reports?ward=ward-b", headers=world.staff_headers)
    ).json()
    assert by_ward["total"] == 0


async def test_quiet_resolved_cases_close_by_themselves(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    from app.reports.service import close_quiet_resolved

    code = (await submit(client)).json()["code"]
    await _status(client, world, code, "resolved", "Đã sửa")
    row = (await session.execute(select(Report).where(Report.code == code))).scalar_one()
    row.resolved_at = row.resolved_at - timedelta(days=20)
    await session.flush()
    assert await close_quiet_resolved(session, 14) == 1
    assert row.status == "closed"
