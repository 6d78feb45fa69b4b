from __future__ import annotations

from datetime import datetime

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import Role
from tests.builders import signed_in

BRIDGE_DAY = {
    "day": "2027-03-08",
    "kind": "day_off",
    "name_vi": "Nghỉ bù",
    "name_en": "Bridge day",
    "note": "Quyết định của UBND tỉnh",
}


def problem_fields(response: httpx.Response) -> set[str]:
    assert response.headers["content-type"].startswith("application/problem+json")
    return {e["field"] for e in response.json().get("errors", [])}


async def deadline(client: httpx.AsyncClient, start: str, days: int) -> dict:
    response = await client.get(
        "/api/v1/calendar/deadline", params={"start": start, "working_days": days}
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_deadline_is_public_and_explains_itself(client: httpx.AsyncClient) -> None:
    body = await deadline(client, "2027-02-04T09:30:00+07:00", 5)  # the Thursday before Tết
    assert datetime.fromisoformat(body["due_at"]) == datetime.fromisoformat("2027-02-17T10:00Z")
    assert body["due_at_local"].startswith("2027-02-17T17:00:00+07:00")
    assert datetime.fromisoformat(body["start"]) == datetime.fromisoformat("2027-02-04T02:30Z")
    skipped = {d["day"]: d for d in body["skipped"]}
    assert skipped["2027-02-06"]["name_vi"] == "Tết Nguyên Đán"
    assert skipped["2027-02-06"]["source"] == "library"
    assert skipped["2027-02-13"]["reason"] == "weekend"
    # Without an offset the time is local; Sunday 7 March, 2 days: Mon 8, Tue 9.
    body = await deadline(client, "2027-03-07T10:00:00", 2)
    assert body["due_at_local"].startswith("2027-03-09T17:00:00+07:00")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "2027-03-04T10:00:00+07:00", "working_days": -1}, "working_days"),
        ({"start": "2027-03-04T10:00:00+07:00", "working_days": 366}, "working_days"),
        ({"start": "not a date", "working_days": 3}, "start"),
        ({"working_days": 3}, "start"),
        ({"start": "1980-03-04T10:00:00+07:00", "working_days": 3}, "start"),
    ],
)
async def test_deadline_validation_names_the_field(
    client: httpx.AsyncClient, params: dict, field: str
) -> None:
    response = await client.get("/api/v1/calendar/deadline", params=params)
    assert response.status_code == 422, response.text
    assert field in problem_fields(response)


async def test_year_lists_holidays_and_staff_days(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    response = await client.get("/api/v1/calendar/2027")
    assert response.status_code == 200, response.text
    days = {d["day"]: d for d in response.json()["days"]}
    assert days["2027-02-04"]["name_en"] == "29 of Lunar New Year"
    assert days["2027-02-06"]["weekend"] is True
    assert days["2027-04-16"]["reason"] == "public_holiday"
    assert "2027-03-08" not in days
    assert all(d["source"] == "library" for d in days.values())

    _staff, headers = await signed_in(client, session, Role.staff)
    assert (await client.post("/api/v1/calendar/days", json=BRIDGE_DAY, headers=headers)).is_success
    days = {d["day"]: d for d in (await client.get("/api/v1/calendar/2027")).json()["days"]}
    assert days["2027-03-08"] == {
        "day": "2027-03-08",
        "working": False,
        "weekend": False,
        "reason": "staff_day_off",
        "source": "staff",
        "name_vi": "Nghỉ bù",
        "name_en": "Bridge day",
        "note": "Quyết định của UBND tỉnh",
    }
    assert (await client.get("/api/v1/calendar/1990")).status_code == 422
    assert "year" in problem_fields(await client.get("/api/v1/calendar/abc"))


async def test_staff_edit_the_calendar_and_deadlines_follow(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    staff, headers = await signed_in(client, session, Role.staff)
    start = "2027-03-04T10:00:00+07:00"  # Thursday; 3 days: Fri 5, Mon 8, Tue 9
    assert (await deadline(client, start, 3))["due_at_local"].startswith("2027-03-09T17:00")

    created = await client.post("/api/v1/calendar/days", json=BRIDGE_DAY, headers=headers)
    assert created.status_code == 201, created.text
    assert created.json()["created_by_id"] == staff.id
    assert created.json()["kind"] == "day_off"
    assert (await deadline(client, start, 3))["due_at_local"].startswith("2027-03-10T17:00")

    again = await client.post("/api/v1/calendar/days", json=BRIDGE_DAY, headers=headers)
    assert again.status_code == 409 and problem_fields(again) == {"day"}

    changed = await client.patch(
        "/api/v1/calendar/days/2027-03-08",
        json={"name_en": "Extra day off", "note": None},
        headers=headers,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["name_en"] == "Extra day off" and changed.json()["note"] is None
    assert changed.json()["name_vi"] == "Nghỉ bù"

    # A Monday cannot become a make-up working day: it already is one.
    wrong = await client.patch(
        "/api/v1/calendar/days/2027-03-08", json={"kind": "working_day"}, headers=headers
    )
    assert wrong.status_code == 422 and problem_fields(wrong) == {"day"}

    removed = await client.delete("/api/v1/calendar/days/2027-03-08", headers=headers)
    assert removed.status_code == 204
    assert (await deadline(client, start, 3))["due_at_local"].startswith("2027-03-09T17:00")
    gone = await client.delete("/api/v1/calendar/days/2027-03-08", headers=headers)
    assert gone.status_code == 404
    missing = await client.patch(
        "/api/v1/calendar/days/2027-03-08", json={"note": "x"}, headers=headers
    )
    assert missing.status_code == 404


async def test_a_make_up_saturday_through_the_api(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    _staff, headers = await signed_in(client, session, Role.staff)
    saturday = {"day": "2027-03-06", "kind": "working_day", "name_vi": "Làm bù", "name_en": "Work"}
    created = await client.post("/api/v1/calendar/days", json=saturday, headers=headers)
    assert created.status_code == 201, created.text
    body = await deadline(client, "2027-03-04T10:00:00+07:00", 3)  # Fri 5, Sat 6, Mon 8
    assert body["due_at_local"].startswith("2027-03-08T17:00")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({**BRIDGE_DAY, "day": "2027-03-06"}, "day"),  # a Saturday is already off
        ({**BRIDGE_DAY, "day": "2027-04-16"}, "day"),  # already Hùng Kings' day
        ({**BRIDGE_DAY, "kind": "working_day"}, "day"),  # a Monday is already worked
        ({**BRIDGE_DAY, "day": "2027-02-30"}, "day"),
        ({**BRIDGE_DAY, "day": "1999-03-08"}, "day"),
        ({**BRIDGE_DAY, "kind": "holiday"}, "kind"),
        ({**BRIDGE_DAY, "name_vi": "   "}, "name_vi"),
        ({k: v for k, v in BRIDGE_DAY.items() if k != "name_en"}, "name_en"),
    ],
)
async def test_invalid_entries_are_refused_naming_the_field(
    client: httpx.AsyncClient, session: AsyncSession, payload: dict, field: str
) -> None:
    _staff, headers = await signed_in(client, session, Role.staff)
    response = await client.post("/api/v1/calendar/days", json=payload, headers=headers)
    assert response.status_code == 422, response.text
    assert field in problem_fields(response)
    assert response.json()["status"] == 422


@pytest.mark.parametrize(
    ("method", "path", "payload"),
    [
        ("POST", "/api/v1/calendar/days", BRIDGE_DAY),
        ("PATCH", "/api/v1/calendar/days/2027-03-08", {"note": "x"}),
        ("DELETE", "/api/v1/calendar/days/2027-03-08", None),
    ],
)
async def test_writes_need_staff(
    client: httpx.AsyncClient, session: AsyncSession, method: str, path: str, payload: dict | None
) -> None:
    anonymous = await client.request(method, path, json=payload)
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"].startswith("application/problem+json")
    _citizen, headers = await signed_in(client, session, Role.citizen)
    citizen = await client.request(method, path, json=payload, headers=headers)
    assert citizen.status_code == 403
    assert citizen.headers["content-type"].startswith("application/problem+json")
