"""Staff adding, changing and retiring events: who may, what is checked, what is recorded."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.events.models import Event
from tests.events.conftest import NGHIA_LO, EventWorld, create_place, event_body, post_event


async def stored(session: AsyncSession, code: str) -> Event:
    from sqlalchemy import select

    row = await session.execute(
        select(Event).where(Event.code == code).execution_options(populate_existing=True)
    )
    return row.scalar_one()


async def test_staff_add_an_event_of_their_department(
    client: httpx.AsyncClient, session: AsyncSession, world: EventWorld
) -> None:
    await create_place(session, "t-field", NGHIA_LO, "Cánh đồng Mường Lò")
    await session.commit()
    r = await client.post(
        "/api/v1/events",
        json=event_body(
            title={"vi": "  Đêm hội Xòe Thái  "},
            place_code="t-field",
            rrule="rrule:freq=weekly;byday=fr",
            accessibility_notes={"vi": "Có ghế ngồi, mặt bằng phẳng."},
            url="https://yenbai.gov.vn/le-hoi",
        ),
        headers=world.staff_headers,
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["code"].startswith("dem-hoi-xoe-thai-")
    assert r.headers["location"] == f"/api/v1/events/{body['code']}"
    assert body["title"] == "Đêm hội Xòe Thái"  # trimmed
    assert body["department_code"] == world.department.code
    assert body["rrule"] == "FREQ=WEEKLY;BYDAY=FR"
    assert body["last_ends_at"] is None  # no end to the rule
    assert body["starts_at"] == "2030-09-20T19:00:00+07:00"
    assert body["venue"]["place_code"] == "t-field" and body["venue"]["url"] == "/places/t-field"
    public = await client.get(f"/api/v1/events/{body['code']}")
    assert public.status_code == 200 and public.json()["code"] == body["code"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"ends_at": "2030-09-20T18:00:00"}, "ends_at"),
        ({"ends_at": "2030-09-20T19:00:00"}, "ends_at"),
        ({"ends_at": None}, "ends_at"),
        ({"starts_at": "2030-09-20"}, "starts_at"),
        ({"all_day": True, "starts_at": "2030-09-20", "ends_at": "2030-09-19"}, "ends_at"),
        ({"time_zone": "Asia/Hanoi_City"}, "time_zone"),
        ({"time_zone": "../../etc/passwd"}, "time_zone"),
        ({"rrule": "BYDAY=SU"}, "rrule"),
        ({"rrule": "FREQ=HOURLY"}, "rrule"),
        ({"rrule": "FREQ=WEEKLY;BYDAY=XX"}, "rrule"),
        ({"rrule": "FREQ=WEEKLY;COUNT=2;UNTIL=20301231"}, "rrule"),
        ({"rrule": "FREQ=WEEKLY;BYDAY=SU"}, "starts_at"),  # the 20th is a Friday
        ({"rrule": "FREQ=DAILY;UNTIL=20300901"}, "rrule"),  # over before it starts
        ({"place_code": "no-such-place"}, "place_code"),
        ({"department_code": "no-such-department"}, "department_code"),
        ({"title": {}}, "title"),
        ({"title": {"vi": "   "}}, "title"),
        ({"title": {"Vietnamese": "Lễ hội"}}, "title"),
        ({"category": "concert"}, "category"),
        ({"price_vnd": -1}, "price_vnd"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"code": "with.dot"}, "code"),
    ],
)
async def test_what_is_refused_names_its_field(
    client: httpx.AsyncClient, world: EventWorld, fields: dict[str, Any], field: str
) -> None:
    r = await client.post(
        "/api/v1/events", json=event_body(**fields), headers=world.manager_headers
    )
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["type"] == "/problems/invalid-input"
    assert [e["field"] for e in problem["errors"]] == [field]


async def test_several_problems_are_reported_together(
    client: httpx.AsyncClient, world: EventWorld
) -> None:
    r = await client.post(
        "/api/v1/events",
        json=event_body(ends_at="2030-09-19T10:00", place_code="nowhere", department_code="x"),
        headers=world.manager_headers,
    )
    assert r.status_code == 422
    assert sorted(e["field"] for e in r.json()["errors"]) == [
        "department_code",
        "ends_at",
        "place_code",
    ]


async def test_a_code_is_unique(client: httpx.AsyncClient, world: EventWorld) -> None:
    await post_event(client, world.manager_headers, code="xoe-2030")
    again = await client.post(
        "/api/v1/events", json=event_body(code="xoe-2030"), headers=world.manager_headers
    )
    assert again.status_code == 409


async def test_who_may_change_what(
    client: httpx.AsyncClient, session: AsyncSession, world: EventWorld
) -> None:
    ours = await post_event(client, world.staff_headers, code="ours")
    nobodys = await post_event(client, world.manager_headers, code="nobodys")
    assert ours["department_code"] == world.department.code
    assert nobodys["department_code"] is None  # a manager's event belongs to no department

    anonymous = await client.post("/api/v1/events", json=event_body())
    assert anonymous.status_code == 401
    citizen = await client.post(
        "/api/v1/events", json=event_body(code="by-citizen"), headers=world.citizen_headers
    )
    assert citizen.status_code == 403
    assert citizen.headers["content-type"].startswith("application/problem+json")
    for path, body in (("/api/v1/events/ours", {"price_vnd": 5}), ("/api/v1/events/ours", None)):
        r = await client.patch(path, json=body or {}, headers=world.citizen_headers)
        assert r.status_code == 403

    # Staff of another department: not ours, and not in our name either.
    other = world.other_staff_headers
    r = await client.patch("/api/v1/events/ours", json={"price_vnd": 5000}, headers=other)
    assert r.status_code == 403, r.text
    assert (await client.post("/api/v1/events/ours/retire", headers=other)).status_code == 403
    r = await client.post(
        "/api/v1/events",
        json=event_body(code="for-them", department_code=world.department.code),
        headers=other,
    )
    assert r.status_code == 403
    # An event of no department is anyone's on the staff; moving ours away is not.
    r = await client.patch("/api/v1/events/nobodys", json={"price_vnd": 5000}, headers=other)
    assert r.status_code == 200 and r.json()["price"]["vnd"] == 5000
    r = await client.patch(
        "/api/v1/events/ours",
        json={"department_code": world.other_department.code},
        headers=world.staff_headers,
    )
    assert r.status_code == 403
    assert (await stored(session, "ours")).price_vnd == 0

    r = await client.patch(
        "/api/v1/events/ours", json={"price_vnd": 20000}, headers=world.staff_headers
    )
    assert r.status_code == 200 and r.json()["price"]["vnd"] == 20000
    r = await client.patch(
        "/api/v1/events/ours", json={"price_vnd": 30000}, headers=world.manager_headers
    )
    assert r.status_code == 200
    assert (
        await client.patch("/api/v1/events/nope", json={}, headers=world.manager_headers)
    ).status_code == 404


async def test_changes_are_checked_on_the_whole_event(
    client: httpx.AsyncClient, session: AsyncSession, world: EventWorld
) -> None:
    h = world.manager_headers
    await post_event(client, h, code="night")
    # Moving the start alone keeps the two hours.
    r = await client.patch(
        "/api/v1/events/night", json={"starts_at": "2030-09-27T18:00"}, headers=h
    )
    assert r.status_code == 200, r.text
    assert (r.json()["starts_at"], r.json()["ends_at"]) == (
        "2030-09-27T18:00:00+07:00",
        "2030-09-27T20:00:00+07:00",
    )
    r = await client.patch("/api/v1/events/night", json={"ends_at": "2030-09-27T17:00"}, headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "ends_at"
    r = await client.patch(
        "/api/v1/events/night", json={"rrule": "FREQ=WEEKLY;BYDAY=MO"}, headers=h
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "starts_at"
    for cleared in ("title", "starts_at", "time_zone", "category"):
        r = await client.patch("/api/v1/events/night", json={cleared: None}, headers=h)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == cleared, r.text
    # A rule with an end keeps last_ends_at in step; clearing it makes it a single date again.
    r = await client.patch(
        "/api/v1/events/night",
        json={"rrule": "FREQ=WEEKLY;UNTIL=20301011"},
        headers={**h, "Accept-Language": "en"},
    )
    assert r.status_code == 200, r.text
    event = await stored(session, "night")
    assert event.rrule == "FREQ=WEEKLY;UNTIL=20301011T165959Z"  # the end of that local day
    assert event.last_ends_at == datetime(2030, 10, 11, 13, 0, tzinfo=UTC)  # Fri 11th, 20:00
    assert r.json()["recurrence"] == "Every week on Friday, until October 11, 2030"
    r = await client.patch("/api/v1/events/night", json={"rrule": None}, headers=h)
    event = await stored(session, "night")
    assert event.rrule is None and event.last_ends_at == event.ends_at
    # An all-day event from a timed one: the days of its dates, local.
    r = await client.patch(
        "/api/v1/events/night",
        json={"all_day": True, "starts_at": "2030-09-27", "ends_at": "2030-09-28"},
        headers=h,
    )
    assert r.status_code == 200, r.text
    assert (r.json()["starts_at"], r.json()["ends_at"]) == (
        "2030-09-27T00:00:00+07:00",
        "2030-09-29T00:00:00+07:00",
    )


async def test_every_change_is_audited_with_who_and_which_fields(
    client: httpx.AsyncClient, session: AsyncSession, world: EventWorld
) -> None:
    h = world.staff_headers
    created = await post_event(client, h, code="audited")
    await client.patch(
        "/api/v1/events/audited",
        json={"price_vnd": 50_000, "title": {"vi": "Lễ hội mới", "en": "New festival"}},
        headers=h,
    )
    await client.patch("/api/v1/events/audited", json={"price_vnd": 50_000}, headers=h)  # no change
    await client.post("/api/v1/events/audited/retire", headers=h)
    await client.post("/api/v1/events/audited/retire", headers=h)  # already retired
    event = await stored(session, created["code"])
    trail = await audit.trail(session, "event", event.id)
    assert [(e.action, e.actor_id) for e in trail] == [
        ("event.create", world.staff.id),
        ("event.update", world.staff.id),
        ("event.retire", world.staff.id),
    ]
    assert trail[1].data["fields"] == ["price_vnd", "title"]


async def test_a_retired_event_is_gone_from_lists_pages_and_calendars(
    client: httpx.AsyncClient, world: EventWorld
) -> None:
    await post_event(client, world.manager_headers, code="kept")
    await post_event(client, world.manager_headers, code="retired")
    r = await client.post("/api/v1/events/retired/retire", headers=world.staff_headers)
    assert r.status_code == 200 and r.json()["retired_at"]
    listing = await client.get("/api/v1/events", params={"from": "2030-09-01", "to": "2030-09-30"})
    assert [i["code"] for i in listing.json()["items"]] == ["kept"]
    for path in ("/api/v1/events/retired", "/api/v1/events/retired.ics", "/events/retired"):
        r = await client.get(path)
        assert r.status_code == 404, path
    assert "retired@citizenhub" not in (await client.get("/api/v1/events.ics")).text
    assert "kept@citizenhub" in (await client.get("/api/v1/events.ics")).text


async def test_a_retired_event_can_be_brought_back(
    client: httpx.AsyncClient, world: EventWorld
) -> None:
    await post_event(client, world.manager_headers, code="called-off")
    await client.post("/api/v1/events/called-off/retire", headers=world.staff_headers)
    assert (await client.get("/api/v1/events/called-off")).status_code == 404
    r = await client.post("/api/v1/events/called-off/restore", headers=world.staff_headers)
    assert r.status_code == 200 and r.json()["retired_at"] is None
    assert (await client.get("/api/v1/events/called-off")).status_code == 200
    assert "called-off@citizenhub" in (await client.get("/api/v1/events.ics")).text
