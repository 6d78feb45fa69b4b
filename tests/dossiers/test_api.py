"""The dossiers' JSON API: registering at the desk, who may work a dossier, the staff's list,
following, the applicant's rating."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import trail
from app.auth.models import Role, User
from app.dossiers import service
from tests.builders import create_department, create_procedure, signed_in

STAFF = "/api/v1/staff/dossiers"


@dataclass
class World:
    department: Any
    procedure: Any
    staff: User
    staff_headers: dict[str, str]
    other_headers: dict[str, str]  # staff of another department
    manager_headers: dict[str, str]
    citizen: User
    citizen_headers: dict[str, str]


@pytest.fixture
async def world(client: httpx.AsyncClient, session: AsyncSession) -> World:
    department = await create_department(session, code="one-stop-t")
    procedure = await create_procedure(
        session,
        "8.100001",
        processing_days=5,
        agency={
            "code": "agency-one-stop-t",
            "name": {"vi": "Sở Thử nghiệm", "en": "Test Department"},
            "address": "Số 1 Đường Thử",
            "department_code": department.code,
        },
    )
    staff, staff_headers = await signed_in(client, session, Role.staff, department=department)
    _other, other_headers = await signed_in(client, session, Role.staff)
    _manager, manager_headers = await signed_in(client, session, Role.manager)
    citizen, citizen_headers = await signed_in(client, session, Role.citizen)
    return World(
        department,
        procedure,
        staff,
        staff_headers,
        other_headers,
        manager_headers,
        citizen,
        citizen_headers,
    )


async def register(client: httpx.AsyncClient, world: World, **fields: Any) -> dict[str, Any]:
    response = await client.post(
        STAFF,
        headers=world.staff_headers,
        json={
            "procedure_code": world.procedure.code,
            "applicant_name": "Nguyễn Văn An",
            "phone": "0912 345 678",
            **fields,
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


async def move(
    client: httpx.AsyncClient, headers: dict[str, str], code: str, status: str, **body: Any
) -> httpx.Response:
    return await client.post(
        f"{STAFF}/{code}/status", headers=headers, json={"status": status, **body}
    )


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return response.json()


# Registering --------------------------------------------------------------------------------


async def test_staff_register_a_dossier_and_get_its_code_and_pin(
    client: httpx.AsyncClient, world: World
) -> None:
    body = await register(
        client,
        world,
        applicant_kind="business",
        applicant_name="Công ty TNHH Mường Lò",
        tax_code="5200123456001",
        channel="post",
    )
    assert re.fullmatch(r"YB-\d{6}-\d{4}", body["code"])
    assert re.fullmatch(r"\d{6}", body["pin"])
    dossier = body["dossier"]
    assert dossier["code"] == body["code"] and dossier["status"] == "received"
    assert dossier["department"]["code"] == world.department.code
    assert dossier["tax_code"] == "5200123456-001" and dossier["phone"] == "+84912345678"
    assert dossier["channel"] == "post" and dossier["procedure"]["processing_days"] == 5
    assert dossier["due_at"] == body["due_at"] and dossier["overdue"] is False
    assert dossier["received_by"] == world.staff.full_name
    assert [e["to_status"] for e in dossier["history"]] == ["received"]
    assert "pin" not in dossier and "pin_hash" not in dossier
    # The next registration of the day takes the next number.
    again = await register(client, world)
    assert int(again["code"][-4:]) == int(body["code"][-4:]) + 1
    assert again["pin"] != body["pin"] or again["code"] != body["code"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"procedure_code": "0.000000"}, "procedure_code"),
        ({"received_at": "2099-01-01T08:00:00+07:00"}, "received_at"),
        ({"tax_code": "12345"}, "tax_code"),
        ({"phone": "not a phone"}, "phone"),
        ({"applicant_user_email": "nobody@example.vn"}, "applicant_user_email"),
        ({"channel": "fax"}, "channel"),
    ],
)
async def test_registration_refuses_bad_input_by_field(
    client: httpx.AsyncClient, world: World, fields: dict[str, Any], field: str
) -> None:
    response = await client.post(
        STAFF,
        headers=world.staff_headers,
        json={"procedure_code": world.procedure.code, "applicant_name": "Lò Văn Sáng", **fields},
    )
    body = problem(response, 422)
    assert field in {e["field"] for e in body["errors"]}


async def test_a_procedure_lodged_only_in_person_refuses_post(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    await create_procedure(session, "8.100002", channels=["in_person"], online="none")
    await session.commit()
    response = await client.post(
        STAFF,
        headers=world.staff_headers,
        json={"procedure_code": "8.100002", "applicant_name": "Lò Văn Sáng", "channel": "post"},
    )
    assert problem(response, 422)["errors"][0]["field"] == "channel"


# Working a dossier --------------------------------------------------------------------------


async def test_who_may_change_the_status(client: httpx.AsyncClient, world: World) -> None:
    code = (await register(client, world))["code"]
    problem(await move(client, world.citizen_headers, code, "in_processing"), 403)
    problem(await move(client, world.other_headers, code, "in_processing"), 403)
    problem(await client.get(f"{STAFF}/{code}", headers=world.other_headers), 403)
    ok = await move(client, world.staff_headers, code, "in_processing", note="Đang thẩm định")
    assert ok.status_code == 200, ok.text
    assert ok.json()["status"] == "in_processing"
    assert "completed" in ok.json()["next_statuses"]
    by_manager = await move(
        client, world.manager_headers, code, "needs_supplement", missing=["Bản sao sổ đỏ"]
    )
    assert by_manager.status_code == 200, by_manager.text
    problem(await move(client, world.staff_headers, "YB-000000-0000", "in_processing"), 404)


async def test_the_workflow_answers_409_and_422(client: httpx.AsyncClient, world: World) -> None:
    code = (await register(client, world))["code"]
    refused = problem(await move(client, world.staff_headers, code, "completed"), 409)
    assert refused["type"] == "/problems/invalid-transition"
    assert "in_processing" in refused["allowed"]
    no_items = problem(await move(client, world.staff_headers, code, "needs_supplement"), 422)
    assert no_items["errors"][0]["field"] == "missing"
    no_reason = problem(await move(client, world.staff_headers, code, "rejected"), 422)
    assert no_reason["errors"][0]["field"] == "note"
    paused = await move(
        client, world.staff_headers, code, "needs_supplement", missing=["Tờ khai", "Ảnh 4x6"]
    )
    view = paused.json()
    assert view["paused"] is True and view["due_at"] is None
    assert view["missing"] == ["Tờ khai", "Ảnh 4x6"]
    assert view["remaining_working_days"] is not None
    resumed = (await move(client, world.staff_headers, code, "supplement_received")).json()
    assert resumed["paused"] is False and resumed["due_at"] is not None
    assert resumed["missing"] == []


async def test_internal_notes_stay_with_staff(client: httpx.AsyncClient, world: World) -> None:
    done = await register(client, world)
    code, pin = done["code"], done["pin"]
    await move(
        client,
        world.staff_headers,
        code,
        "in_processing",
        note="Hồ sơ có dấu hiệu giả mạo (mã XJ-17)",
        internal=True,
    )
    note = await client.post(
        f"{STAFF}/{code}/notes",
        headers=world.staff_headers,
        json={"note": "Chờ ý kiến phòng Tài chính (mã QK-42)", "internal": True},
    )
    assert note.status_code == 200, note.text
    public = await client.post(
        f"{STAFF}/{code}/notes", headers=world.staff_headers, json={"note": "Hẹn thứ Hai"}
    )
    staff_view = public.json()
    assert [(e["note"], e["internal"]) for e in staff_view["history"][1:]] == [
        ("Hồ sơ có dấu hiệu giả mạo (mã XJ-17)", True),
        ("Chờ ý kiến phòng Tài chính (mã QK-42)", True),
        ("Hẹn thứ Hai", False),
    ]
    seen = await client.post("/api/v1/dossiers/lookup", json={"code": code, "pin": pin})
    history = seen.json()["history"]
    # The status change stays, its internal note does not; the internal note is left out.
    assert [(e["to_status"], e["note"]) for e in history] == [
        ("received", None),
        ("in_processing", None),
        (None, "Hẹn thứ Hai"),
    ]
    # (markers, not words: the page's own translated labels may hold any Vietnamese word)
    assert "XJ-17" not in seen.text and "QK-42" not in seen.text
    problem(
        await client.post(
            f"{STAFF}/{code}/notes", headers=world.other_headers, json={"note": "Không phải tôi"}
        ),
        403,
    )


async def test_staff_list_filters_counts_and_departments(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    first = (await register(client, world, applicant_name="Trần Thị Bích"))["code"]
    second = (await register(client, world, tax_code="5200999888"))["code"]
    third = (await register(client, world))["code"]
    await move(client, world.staff_headers, third, "in_processing")
    other_department = await create_department(session)
    await create_procedure(
        session,
        "8.100003",
        agency={
            "code": "agency-elsewhere",
            "name": {"vi": "Cơ quan khác"},
            "department_code": other_department.code,
        },
    )
    await session.commit()
    elsewhere = await client.post(
        STAFF,
        headers=world.staff_headers,
        json={"procedure_code": "8.100003", "applicant_name": "Phạm Văn Đông"},
    )
    assert elsewhere.status_code == 201  # the desk registers for any department

    listed = (await client.get(STAFF, headers=world.staff_headers)).json()
    assert {i["code"] for i in listed["items"]} == {first, second, third}
    assert listed["counts"] == {"received": 2, "in_processing": 1}
    assert listed["overdue_count"] == 0 and listed["total"] == 3
    one_page = (
        await client.get(STAFF, headers=world.staff_headers, params={"page_size": 1})
    ).json()
    assert len(one_page["items"]) == 1 and one_page["total"] == 3
    by_status = (
        await client.get(STAFF, headers=world.staff_headers, params={"status": "in_processing"})
    ).json()
    assert [i["code"] for i in by_status["items"]] == [third]
    by_name = (await client.get(STAFF, headers=world.staff_headers, params={"q": "Bích"})).json()
    assert [i["code"] for i in by_name["items"]] == [first]
    for typed in ("tran thi bich", "TRẦN THỊ", "thi bich"):  # without accents, any case
        found = (await client.get(STAFF, headers=world.staff_headers, params={"q": typed})).json()
        assert [i["code"] for i in found["items"]] == [first], typed
    by_tax = (await client.get(STAFF, headers=world.staff_headers, params={"q": "5200999"})).json()
    assert [i["code"] for i in by_tax["items"]] == [second]
    by_procedure = (
        await client.get(STAFF, headers=world.manager_headers, params={"procedure": "8.100003"})
    ).json()
    assert [i["code"] for i in by_procedure["items"]] == [elsewhere.json()["code"]]
    by_department = (
        await client.get(
            STAFF, headers=world.manager_headers, params={"department": other_department.code}
        )
    ).json()
    assert [i["code"] for i in by_department["items"]] == [elsewhere.json()["code"]]
    overdue = (
        await client.get(STAFF, headers=world.staff_headers, params={"overdue": True})
    ).json()
    assert overdue["items"] == []
    problem(await client.get(STAFF, headers=world.citizen_headers), 403)


# A lost receipt -----------------------------------------------------------------------------


async def lookup(client: httpx.AsyncClient, code: str, pin: str) -> httpx.Response:
    return await client.post("/api/v1/dossiers/lookup", json={"code": code, "pin": pin})


async def test_a_new_pin_replaces_the_lost_one(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    done = await register(client, world)
    code, old_pin = done["code"], done["pin"]
    english = {"Accept-Language": "en"}
    answer = await client.post(f"{STAFF}/{code}/pin", headers={**world.staff_headers, **english})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["code"] == code and re.fullmatch(r"\d{6}", body["pin"])
    new_pin = body["pin"]
    # The old PIN stops working at once; the new one shows the dossier.
    problem(await lookup(client, code, old_pin), 404)
    seen = await lookup(client, code, new_pin)
    assert seen.status_code == 200, seen.text
    # An internal note for staff, with who did it; the applicant sees nothing of it.
    assert [(e["to_status"], e["note"]) for e in seen.json()["history"]] == [("received", None)]
    assert "re-issued" not in seen.text
    case = (await client.get(f"{STAFF}/{code}", headers=world.staff_headers)).json()
    last = case["history"][-1]
    assert (last["note"], last["internal"], last["actor_name"]) == (
        "PIN re-issued",
        True,
        world.staff.full_name,
    )
    # Audited, without the PIN; nobody is notified.
    dossier_id = (await service.get(session, code)).id
    entries = list(await trail(session, "dossier", dossier_id))
    assert [(e.action, e.actor_id) for e in entries] == [("dossier.reissue_pin", world.staff.id)]
    assert new_pin not in str(entries[0].data) and old_pin not in str(entries[0].data)
    # A manager may do it for any department; each new PIN replaces the one before.
    again = await client.post(f"{STAFF}/{code}/pin", headers=world.manager_headers)
    assert again.status_code == 200, again.text
    if again.json()["pin"] != new_pin:
        problem(await lookup(client, code, new_pin), 404)
    assert (await lookup(client, code, again.json()["pin"])).status_code == 200


async def test_who_may_reissue_a_pin_and_when(client: httpx.AsyncClient, world: World) -> None:
    done = await register(client, world)
    code, pin = done["code"], done["pin"]
    path = f"{STAFF}/{code}/pin"
    problem(await client.post(path, headers=world.citizen_headers), 403)
    problem(await client.post(path, headers=world.other_headers), 403)
    assert (await client.post(path)).status_code == 401
    problem(await client.post(f"{STAFF}/YB-000000-0000/pin", headers=world.staff_headers), 404)
    assert (await lookup(client, code, pin)).status_code == 200  # still the first PIN
    await move(client, world.staff_headers, code, "withdrawn")
    closed = problem(
        await client.post(path, headers={**world.staff_headers, "Accept-Language": "en"}), 409
    )
    assert "closed" in closed["detail"]
    assert (await lookup(client, code, pin)).status_code == 200  # unchanged
    case = (await client.get(f"{STAFF}/{code}", headers=world.staff_headers)).json()
    assert all(e["note"] != "PIN re-issued" for e in case["history"])


# Following ----------------------------------------------------------------------------------


async def test_follow_with_the_second_factor_then_read_without_it(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    code = (await register(client, world))["code"]
    path = f"/api/v1/dossiers/{code}"
    assert (await client.get(path, headers=world.citizen_headers)).status_code == 404
    anonymous = await client.post(
        "/api/v1/dossiers/follow", json={"code": code, "phone_last4": "5678"}
    )
    assert anonymous.status_code == 401
    wrong = await client.post(
        "/api/v1/dossiers/follow",
        headers=world.citizen_headers,
        json={"code": code, "phone_last4": "0000"},
    )
    problem(wrong, 404)
    followed = await client.post(
        "/api/v1/dossiers/follow",
        headers=world.citizen_headers,
        json={"code": code, "phone_last4": "5678"},
    )
    assert followed.status_code == 200, followed.text
    assert followed.json()["following"] is True
    read = await client.get(path, headers=world.citizen_headers)
    assert read.status_code == 200 and read.json()["code"] == code
    mine = (await client.get("/api/v1/me/dossiers", headers=world.citizen_headers)).json()
    assert [i["code"] for i in mine["items"]] == [code] and mine["total"] == 1

    await move(client, world.staff_headers, code, "in_processing", note="Đang thẩm định")
    inbox = (await client.get("/api/v1/me/notifications", headers=world.citizen_headers)).json()
    assert inbox["items"][0]["link"] == f"/dossiers/{code}"
    assert code in inbox["items"][0]["title"]

    _stranger, stranger_headers = await signed_in(client, session, Role.citizen)
    assert (await client.get(path, headers=stranger_headers)).status_code == 404
    gone = await client.delete(f"{path}/follow", headers=world.citizen_headers)
    assert gone.status_code == 204
    assert (await client.get(path, headers=world.citizen_headers)).status_code == 404
    again = await client.delete(f"{path}/follow", headers=world.citizen_headers)
    assert again.status_code == 204


async def test_a_dossier_registered_to_an_account_is_followed_by_it(
    client: httpx.AsyncClient, world: World
) -> None:
    assert world.citizen.email is not None
    code = (await register(client, world, applicant_user_email=world.citizen.email))["code"]
    mine = (await client.get("/api/v1/me/dossiers", headers=world.citizen_headers)).json()
    assert [i["code"] for i in mine["items"]] == [code]
    inbox = (await client.get("/api/v1/me/notifications", headers=world.citizen_headers)).json()
    assert [i["link"] for i in inbox["items"]] == [f"/dossiers/{code}"]


# Rating -------------------------------------------------------------------------------------


async def test_rating_once_after_completion(client: httpx.AsyncClient, world: World) -> None:
    done = await register(client, world)
    code = done["code"]
    rate = {"code": code, "phone_last4": "5678", "score": 5, "comment": "Nhanh gọn"}
    english = {"Accept-Language": "en"}
    early = problem(await client.post("/api/v1/dossiers/rate", json=rate, headers=english), 409)
    assert "once the result" in early["detail"]
    await move(client, world.staff_headers, code, "in_processing")
    await move(client, world.staff_headers, code, "completed")
    rated = await client.post("/api/v1/dossiers/rate", json=rate)
    assert rated.status_code == 200, rated.text
    assert rated.json()["rating"]["score"] == 5 and rated.json()["can_rate"] is False
    problem(await client.post("/api/v1/dossiers/rate", json=rate), 409)
    bad = await client.post("/api/v1/dossiers/rate", json={**rate, "score": 6})
    problem(bad, 422)

    other = (await register(client, world))["code"]
    await client.post(
        "/api/v1/dossiers/follow",
        headers=world.citizen_headers,
        json={"code": other, "phone_last4": "5678"},
    )
    path = f"/api/v1/dossiers/{other}/rating"
    problem(await client.post(path, headers=world.citizen_headers, json={"score": 4}), 409)
    await move(client, world.staff_headers, other, "in_processing")
    await move(client, world.staff_headers, other, "completed")
    await move(client, world.staff_headers, other, "result_returned")
    ok = await client.post(path, headers=world.citizen_headers, json={"score": 4})
    assert ok.status_code == 200 and ok.json()["rating"]["score"] == 4
    problem(await client.post(path, headers=world.citizen_headers, json={"score": 4}), 409)
