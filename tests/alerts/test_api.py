"""The alerts API: who may compose and send, what a send queues, the public feed."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.push.models import DeviceTopic
from tests.alerts.conftest import (
    AlertWorld,
    alert_body,
    create_alert,
    deliveries_of,
    in_hours,
    send_alert,
)
from tests.builders import create_user

# Who may do what ---------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["anonymous", "citizen", "staff"])
async def test_only_managers_compose_send_and_cancel(
    client: httpx.AsyncClient, world: AlertWorld, who: str
) -> None:
    headers = {
        "anonymous": {},
        "citizen": world.citizen_headers,
        "staff": world.staff_headers,
    }[who]
    expected = 401 if who == "anonymous" else 403
    draft = await create_alert(client, world.manager_headers)
    sent = await send_alert(client, world.manager_headers)
    attempts = [
        ("POST", "/api/v1/alerts", alert_body()),
        ("PATCH", f"/api/v1/alerts/{draft['id']}", {"title_vi": "Đổi tiêu đề"}),
        ("GET", f"/api/v1/alerts/{draft['id']}/preview", None),
        ("POST", f"/api/v1/alerts/{draft['id']}/send", None),
        ("POST", f"/api/v1/alerts/{sent['id']}/cancel", None),
        ("GET", f"/api/v1/alerts/{sent['id']}/audit", None),
        ("GET", "/api/v1/staff/alerts", None),
    ]
    for method, path, body in attempts:
        r = await client.request(method, path, json=body, headers=headers)
        assert r.status_code == expected, (method, path, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    # Nothing changed: the draft is still a draft, the sent one still in force.
    check = await client.get(f"/api/v1/alerts/{draft['id']}", headers=world.manager_headers)
    assert check.json()["status"] == "draft"
    public = await client.get(f"/api/v1/alerts/{sent['id']}")
    assert public.json()["status"] == "sent" and public.json()["active"] is True


async def test_admins_may_do_what_managers_do(client: httpx.AsyncClient, world: AlertWorld) -> None:
    sent = await send_alert(client, world.admin_headers, severity="advisory")
    r = await client.post(f"/api/v1/alerts/{sent['id']}/cancel", headers=world.admin_headers)
    assert r.status_code == 200 and r.json()["status"] == "cancelled"


async def test_drafts_are_invisible_to_everyone_but_managers(
    client: httpx.AsyncClient, world: AlertWorld
) -> None:
    draft = await create_alert(client, world.manager_headers)
    for headers in ({}, world.citizen_headers, world.staff_headers):
        r = await client.get(f"/api/v1/alerts/{draft['id']}", headers=headers)
        assert r.status_code == 404, r.text
    r = await client.get(f"/api/v1/alerts/{draft['id']}", headers=world.manager_headers)
    assert r.status_code == 200 and r.json()["created_by_id"] == world.manager.id
    assert "no-store" in r.headers["cache-control"]
    assert (await client.get("/api/v1/alerts/999999")).status_code == 404


# Composing ---------------------------------------------------------------------------------


async def test_compose_edit_and_validation(client: httpx.AsyncClient, world: AlertWorld) -> None:
    h = world.manager_headers
    created = await create_alert(
        client, h, whole_province=False, ward_codes=["la-pan-tan-t", "hong-ha-t"]
    )
    assert created["status"] == "draft" and created["sent_at"] is None
    assert [w["code"] for w in created["wards"]] == ["hong-ha-t", "la-pan-tan-t"]
    assert created["wards"][1]["name"] == "Xã La Pán Tẩn"

    r = await client.patch(
        f"/api/v1/alerts/{created['id']}",
        json={"title_en": "", "ward_codes": ["che-cu-nha-t"]},
        headers=h,
    )
    assert r.status_code == 200, r.text
    assert r.json()["title_en"] == "" and [w["code"] for w in r.json()["wards"]] == ["che-cu-nha-t"]
    assert r.json()["title"] == created["title_vi"]  # English falls back to Vietnamese

    bad = [
        ({"whole_province": False, "ward_codes": []}, "ward_codes"),
        ({"whole_province": False, "ward_codes": ["no-such-ward"]}, "ward_codes"),
        ({"expires_at": in_hours(-1)}, "expires_at"),
        ({"expires_at": in_hours(24 * 15)}, "expires_at"),
    ]
    for fields, field in bad:
        r = await client.post("/api/v1/alerts", json=alert_body(**fields), headers=h)
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert [e["field"] for e in r.json()["errors"]] == [field]
    r = await client.post("/api/v1/alerts", json=alert_body(severity="panic"), headers=h)
    assert r.status_code == 422
    r = await client.post(
        "/api/v1/alerts", json=alert_body(expires_at="2030-01-01T10:00:00"), headers=h
    )
    assert r.status_code == 422  # a time without a zone is ambiguous
    assert (
        "no-such-ward"
        in (
            await client.post(
                "/api/v1/alerts",
                json=alert_body(whole_province=False, ward_codes=["no-such-ward"]),
                headers=h,
            )
        ).json()["detail"]
    )


async def test_only_drafts_can_be_edited(client: httpx.AsyncClient, world: AlertWorld) -> None:
    sent = await send_alert(client, world.manager_headers)
    r = await client.patch(
        f"/api/v1/alerts/{sent['id']}",
        json={"title_vi": "Sửa sau khi gửi"},
        headers=world.manager_headers,
    )
    assert r.status_code == 409 and r.json()["type"] == "/problems/alert-not-draft"


# Sending -----------------------------------------------------------------------------------


async def test_send_queues_one_delivery_per_topic_and_language(
    client: httpx.AsyncClient, session: AsyncSession, world: AlertWorld
) -> None:
    sent = await send_alert(client, world.manager_headers, severity="emergency")
    assert sent["status"] == "sent" and sent["sent_at"] and sent["active"]
    rows = await deliveries_of(session, sent["id"])
    assert [(d.topic, d.locale, d.priority) for d in rows] == [
        ("alerts-all-en", "en", "high"),
        ("alerts-all-vi", "vi", "high"),
    ]
    assert all(d.device_id is None and d.status == "queued" for d in rows)


async def test_ward_alert_goes_to_ward_topics_only(
    client: httpx.AsyncClient, session: AsyncSession, world: AlertWorld
) -> None:
    sent = await send_alert(
        client,
        world.manager_headers,
        severity="advisory",
        whole_province=False,
        ward_codes=["la-pan-tan-t", "che-cu-nha-t"],
    )
    rows = await deliveries_of(session, sent["id"])
    assert sorted((d.topic, d.locale) for d in rows) == [
        ("alerts-w-che-cu-nha-t-en", "en"),
        ("alerts-w-che-cu-nha-t-vi", "vi"),
        ("alerts-w-la-pan-tan-t-en", "en"),
        ("alerts-w-la-pan-tan-t-vi", "vi"),
    ]
    assert {d.priority for d in rows} == {"normal"}
    assert not any(d.topic and d.topic.startswith("alerts-all") for d in rows)


async def test_sending_twice_is_refused(
    client: httpx.AsyncClient, session: AsyncSession, world: AlertWorld
) -> None:
    sent = await send_alert(client, world.manager_headers)
    again = await client.post(f"/api/v1/alerts/{sent['id']}/send", headers=world.manager_headers)
    assert again.status_code == 409, again.text
    assert again.json()["type"] == "/problems/alert-not-draft"
    assert len(await deliveries_of(session, sent["id"])) == 2  # still one per topic


async def test_cancel_shows_in_the_feed_and_only_once(
    client: httpx.AsyncClient, world: AlertWorld
) -> None:
    h = world.manager_headers
    draft = await create_alert(client, h)
    r = await client.post(f"/api/v1/alerts/{draft['id']}/cancel", headers=h)
    assert r.status_code == 409 and r.json()["type"] == "/problems/alert-not-sent"
    sent = await send_alert(client, h)
    r = await client.post(f"/api/v1/alerts/{sent['id']}/cancel", headers=h)
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert r.json()["active"] is False and r.json()["cancelled_at"]
    assert (await client.post(f"/api/v1/alerts/{sent['id']}/cancel", headers=h)).status_code == 409
    assert (await client.post(f"/api/v1/alerts/{sent['id']}/send", headers=h)).status_code == 409
    feed = (await client.get("/api/v1/alerts")).json()["items"]
    assert [(i["id"], i["status"], i["active"]) for i in feed] == [(sent["id"], "cancelled", False)]


async def test_preview_shows_the_pushes_their_size_topics_and_reach(
    client: httpx.AsyncClient, session: AsyncSession, world: AlertWorld
) -> None:
    from app.devices.models import Device

    draft = await create_alert(
        client,
        world.manager_headers,
        severity="emergency",
        whole_province=False,
        ward_codes=["la-pan-tan-t"],
    )
    user = await create_user(session)
    devices = []
    for n in range(3):
        device = Device(user_id=user.id, token=f"token-{n}-" + "x" * 40, platform="android")
        session.add(device)
        devices.append(device)
    await session.flush()
    session.add_all(
        [
            DeviceTopic(device_id=devices[0].id, topic="alerts-w-la-pan-tan-t-vi"),
            DeviceTopic(device_id=devices[0].id, topic="alerts-all-vi"),
            DeviceTopic(device_id=devices[1].id, topic="alerts-w-la-pan-tan-t-en"),
            DeviceTopic(device_id=devices[2].id, topic="alerts-w-hong-ha-t-vi"),
        ]
    )
    await session.commit()
    r = await client.get(f"/api/v1/alerts/{draft['id']}/preview", headers=world.manager_headers)
    assert r.status_code == 200, r.text
    preview = r.json()
    vi, en = preview["languages"]
    assert vi["locale"] == "vi" and vi["title"] == "KHẨN CẤP: Lũ quét trên suối Nậm Kim"
    assert en["title"] == "EMERGENCY: Flash flood on the Nậm Kim stream"
    assert vi["body"] == draft["body_vi"]
    assert vi["topics"] == ["alerts-w-la-pan-tan-t-vi"] and vi["devices"] == 1
    assert en["topics"] == ["alerts-w-la-pan-tan-t-en"] and en["devices"] == 1
    assert preview["devices"] == 2 and preview["priority"] == "high"
    assert vi["limit"] == 2048 and 0 < vi["bytes"] < 2048 and vi["fits"] is True
    assert preview["problems"] == [] and preview["held_until"] is None


# The audit trail ---------------------------------------------------------------------------


async def test_audit_trail_says_who_when_and_to_whom(
    client: httpx.AsyncClient, world: AlertWorld
) -> None:
    h = world.manager_headers
    draft = await create_alert(client, h, whole_province=False, ward_codes=["hong-ha-t"])
    await client.patch(f"/api/v1/alerts/{draft['id']}", json={"severity": "emergency"}, headers=h)
    await client.post(f"/api/v1/alerts/{draft['id']}/send", headers=h)
    await client.post(f"/api/v1/alerts/{draft['id']}/cancel", headers=h)
    r = await client.get(f"/api/v1/alerts/{draft['id']}/audit", headers=h)
    assert r.status_code == 200, r.text
    trail = r.json()
    assert [e["action"] for e in trail] == [
        "alert.created",
        "alert.updated",
        "alert.sent",
        "alert.cancelled",
    ]
    assert {e["actor_id"] for e in trail} == {world.manager.id}
    assert {e["actor_name"] for e in trail} == {"Lê Thu Hà"}
    assert all(e["at"] for e in trail)
    assert trail[1]["data"]["fields"] == ["severity"]
    sent = trail[2]["data"]
    assert sent["severity"] == "emergency" and sent["whole_province"] is False
    assert sent["ward_codes"] == ["hong-ha-t"] and sent["priority"] == "high"
    assert sent["topics"] == ["alerts-w-hong-ha-t-vi", "alerts-w-hong-ha-t-en"]


# The public feed ---------------------------------------------------------------------------


async def test_public_feed_filters_and_pages(
    client: httpx.AsyncClient, session: AsyncSession, world: AlertWorld
) -> None:
    from app.alerts.models import Alert

    h = world.manager_headers
    await create_alert(client, h, title_vi="Bản nháp chưa gửi")
    province = await send_alert(client, h, severity="announcement", title_vi="Toàn tỉnh")
    ward_b = await send_alert(
        client, h, whole_province=False, ward_codes=["la-pan-tan-t"], title_vi="La Pán Tẩn"
    )
    ward_a = await send_alert(
        client, h, whole_province=False, ward_codes=["hong-ha-t"], title_vi="Hồng Hà"
    )
    old = await send_alert(client, h, title_vi="Đã hết hạn", expires_at=in_hours(1))
    # It expired since: move its expiry into the past as time would.
    from datetime import UTC, datetime, timedelta

    stored = await session.get(Alert, old["id"])
    assert stored is not None
    stored.expires_at = datetime.now(UTC) - timedelta(minutes=1)
    await session.commit()

    r = await client.get("/api/v1/alerts")
    assert r.status_code == 200
    body = r.json()
    titles = [i["title_vi"] for i in body["items"]]
    assert titles == ["Đã hết hạn", "Hồng Hà", "La Pán Tẩn", "Toàn tỉnh"]  # newest first
    assert "Bản nháp chưa gửi" not in titles and body["total"] == 4
    first = body["items"][0]
    assert first["active"] is False and first["status"] == "sent"
    assert {"title_vi", "body_vi", "title_en", "body_en", "wards", "expires_at"} <= set(first)

    active = (await client.get("/api/v1/alerts?active=true")).json()
    assert [i["id"] for i in active["items"]] == [ward_a["id"], ward_b["id"], province["id"]]
    inactive = (await client.get("/api/v1/alerts?active=false")).json()
    assert [i["id"] for i in inactive["items"]] == [old["id"]]

    for_b = (await client.get("/api/v1/alerts?ward=la-pan-tan-t&active=true")).json()
    assert [i["id"] for i in for_b["items"]] == [ward_b["id"], province["id"]]
    assert for_b["items"][0]["wards"] == [
        {
            "code": "la-pan-tan-t",
            "name": "Xã La Pán Tẩn",
            "kind": "ward",
            "district": "Thành phố Yên Bái",
        }
    ]
    unknown = await client.get("/api/v1/alerts?ward=nowhere")
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "ward"

    page1 = (await client.get("/api/v1/alerts?page_size=3")).json()
    page2 = (await client.get("/api/v1/alerts?page_size=3&page=2")).json()
    assert len(page1["items"]) == 3 and len(page2["items"]) == 1
    assert page1["total"] == page2["total"] == 4 and page2["page"] == 2

    en = (await client.get("/api/v1/alerts", headers={"Accept-Language": "en"})).json()
    assert en["items"][-1]["title"] == "Flash flood on the Nậm Kim stream"
    assert en["items"][-1]["severity_label"] == "Announcement"


async def test_public_reads_are_cacheable_with_an_etag(
    client: httpx.AsyncClient, world: AlertWorld
) -> None:
    sent = await send_alert(client, world.manager_headers)
    etags = {}
    for path in ("/api/v1/alerts", f"/api/v1/alerts/{sent['id']}"):
        first = await client.get(path)
        assert first.headers["cache-control"] == "public, max-age=60"
        etags[path] = first.headers["etag"]
        again = await client.get(path, headers={"If-None-Match": etags[path]})
        assert again.status_code == 304 and again.content == b""
    # A new alert changes the list, so its ETag.
    await send_alert(client, world.manager_headers)
    changed = await client.get("/api/v1/alerts", headers={"If-None-Match": etags["/api/v1/alerts"]})
    assert changed.status_code == 200 and changed.headers["etag"] != etags["/api/v1/alerts"]
