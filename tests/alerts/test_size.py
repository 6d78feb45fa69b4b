"""FCM takes 2,048 bytes per topic message, counted in UTF-8: Vietnamese letters with marks take
2 or 3 bytes, so a text well under 2,048 characters can be over the limit."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts import texts
from app.alerts.models import Alert
from tests.alerts.conftest import AlertWorld, alert_body, create_alert, deliveries_of

# A real-sounding warning: about 1.35 bytes a character, spaces and plain letters included.
SENTENCE = (
    "Cảnh báo sạt lở đất ở các xã vùng cao huyện Mù Cang Chải: người dân ở ven suối, "
    "chân đồi dốc phải khẩn trương di chuyển đến nơi an toàn theo hướng dẫn của chính quyền. "
)


def long_vietnamese(chars: int) -> str:
    return (SENTENCE * (chars // len(SENTENCE) + 1))[:chars].strip()


def transient(alert_id: int, body_vi: str, title_vi: str = "Cảnh báo sạt lở đất") -> Alert:
    return Alert(
        id=alert_id,
        severity="warning",
        title_vi=title_vi,
        body_vi=body_vi,
        title_en="Landslide warning",
        body_en="Leave steep slopes and stream banks now.",
        whole_province=True,
        expires_at=datetime.now(UTC) + timedelta(hours=12),
    )


def test_vietnamese_text_is_counted_in_bytes_not_characters() -> None:
    body = long_vietnamese(1600)
    alert = transient(7, body)
    assert len(body) < 2048 < len(body.encode())
    assert texts.payload_size(alert, "vi") > texts.size_limit()
    assert texts.payload_size(alert, "en") < texts.size_limit()
    message = texts.push_message(alert, "vi")
    assert message.payload_size() == texts.payload_size(alert, "vi")


def test_the_public_address_counts_when_the_dispatcher_makes_links_absolute() -> None:
    alert = transient(7, "Nước lên nhanh.")
    relative = texts.payload_size(alert, "vi")
    absolute = texts.payload_size(alert, "vi", "https://congdan.yenbai.gov.vn/")
    assert absolute - relative == len("https://congdan.yenbai.gov.vn")


async def test_long_vietnamese_text_under_2048_characters_is_refused(
    client: httpx.AsyncClient, world: AlertWorld
) -> None:
    body = long_vietnamese(1600)
    assert len(body) < 1700
    r = await client.post(
        "/api/v1/alerts", json=alert_body(body_vi=body), headers=world.manager_headers
    )
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["errors"][0]["field"] == "body_vi"
    reason = problem["errors"][0]["reason"]
    assert "bytes" in reason.lower() or "byte" in reason.lower()
    # The byte count is named: what this text makes with a short id (the real id adds digits).
    size = texts.payload_size(transient(1, body, "Lũ quét trên suối Nậm Kim"), "vi")
    stated = int(re.findall(r"([\d.,]+) bytes?", reason)[0].replace(",", "").replace(".", ""))
    assert size <= stated <= size + 12 and stated > 2048
    assert "Vietnamese" in reason or "tiếng Việt" in reason
    assert (await client.get("/api/v1/staff/alerts", headers=world.manager_headers)).json()[
        "total"
    ] == 0  # nothing was kept


async def test_english_over_the_limit_names_the_english_field(
    client: httpx.AsyncClient, world: AlertWorld
) -> None:
    r = await client.post(
        "/api/v1/alerts",
        json=alert_body(body_en="Leave now. " * 180),  # 1,980 characters
        headers={**world.manager_headers, "Accept-Language": "en"},
    )
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["body_en"]
    assert "English push would be" in r.json()["detail"]


async def test_just_under_the_limit_is_accepted_and_sent(
    client: httpx.AsyncClient, session: AsyncSession, world: AlertWorld
) -> None:
    h = world.manager_headers
    draft = await create_alert(client, h)
    title = "Lũ quét trên suối Nậm Kim"
    body = long_vietnamese(1800)
    while texts.payload_size(transient(draft["id"], body, title), "vi") > 2048:
        body = body[:-1].rstrip()
    size = texts.payload_size(transient(draft["id"], body, title), "vi")
    assert 2044 <= size <= 2048 and len(body) < 1600

    r = await client.patch(f"/api/v1/alerts/{draft['id']}", json={"body_vi": body}, headers=h)
    assert r.status_code == 200, r.text
    preview = (await client.get(f"/api/v1/alerts/{draft['id']}/preview", headers=h)).json()
    assert preview["languages"][0]["bytes"] == size and preview["languages"][0]["fits"]
    r = await client.post(f"/api/v1/alerts/{draft['id']}/send", headers=h)
    assert r.status_code == 200, r.text
    assert len(await deliveries_of(session, draft["id"])) == 2

    # Two more letters with marks and the next one is over.
    over = await create_alert(client, h)
    r = await client.patch(
        f"/api/v1/alerts/{over['id']}", json={"body_vi": body + " ổ ầ ệ"}, headers=h
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body_vi"
