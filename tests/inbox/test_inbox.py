from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.inbox.texts import render
from tests.reports.conftest import World, submit


async def _staff_status(
    client: httpx.AsyncClient, world: World, code: str, status: str, note: str | None = None
) -> None:
    r = await client.post(
        f"/api/v1/staff/reports/{code}/status",
        headers=world.staff_headers,
        json={"status": status, "note": note, "public": True},
    )
    assert r.status_code == 200, r.text


async def test_inbox_in_the_recipients_language_with_read_and_unread(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    code = (await submit(client, world.citizen_headers)).json()["code"]
    await _staff_status(client, world, code, "acknowledged")
    await _staff_status(client, world, code, "resolved", "Đã thay bóng đèn mới")
    inbox = (await client.get("/api/v1/me/notifications", headers=world.citizen_headers)).json()
    assert inbox["total"] == 2 and inbox["unread"] == 2
    newest, oldest = inbox["items"]
    assert newest["event"] == "report.resolved" and newest["link"] == f"/reports/{code}"
    assert newest["title"] == f"Phản ánh {code} đã được xử lý"
    assert "Đã thay bóng đèn mới" in newest["body"]
    assert oldest["title"] == f"Phản ánh {code} đã được tiếp nhận"
    # The person reads English: the same records, in English.
    await client.patch("/api/v1/me", headers=world.citizen_headers, json={"locale": "en"})
    english = (await client.get("/api/v1/me/notifications", headers=world.citizen_headers)).json()
    assert english["items"][0]["title"] == f"Report {code} resolved"
    marked = await client.post(
        "/api/v1/me/notifications/read", headers=world.citizen_headers, json={"ids": [oldest["id"]]}
    )
    assert marked.json() == {"marked": 1}
    unread = (
        await client.get("/api/v1/me/notifications?unread=true", headers=world.citizen_headers)
    ).json()
    assert [i["id"] for i in unread["items"]] == [newest["id"]] and unread["unread"] == 1
    everything = await client.post(
        "/api/v1/me/notifications/read", headers=world.citizen_headers, json={}
    )
    assert everything.json() == {"marked": 1}


async def test_nobody_reads_or_marks_anothers_notifications(
    client: httpx.AsyncClient, world: World
) -> None:
    code = (await submit(client, world.citizen_headers)).json()["code"]
    await _staff_status(client, world, code, "acknowledged")
    mine = (await client.get("/api/v1/me/notifications", headers=world.citizen_headers)).json()
    other = (await client.get("/api/v1/me/notifications", headers=world.other_headers)).json()
    assert mine["total"] == 1 and other["total"] == 0
    r = await client.post(
        "/api/v1/me/notifications/read",
        headers=world.other_headers,
        json={"ids": [mine["items"][0]["id"]]},
    )
    assert r.json() == {"marked": 0}
    still = (await client.get("/api/v1/me/notifications", headers=world.citizen_headers)).json()
    assert still["unread"] == 1


@pytest.mark.parametrize(
    "event",
    [
        "report.acknowledged",
        "report.status_changed",
        "report.public_note",
        "report.resolved",
        "report.merged",
    ],
)
@pytest.mark.parametrize("locale", ["vi", "en"])
def test_every_event_has_a_text_in_both_languages(event: str, locale: str) -> None:
    text = render(
        event,
        locale,
        {"code": "AB12-CD34", "status": "in_progress", "note": "Ghi chú", "into": "ZZ99-YY88"},
    )
    assert "AB12-CD34" in text.title and text.body
    if event == "report.status_changed":
        assert ("Đang xử lý" if locale == "vi" else "In progress") in text.title
