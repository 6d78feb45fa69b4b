"""Preferences, alert areas and topic membership, end to end: the API writes the wish, the
dispatcher applies it to FCM (the fake, through the real SDK), alerts reach topic members."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts.models import Alert
from app.auth.models import Role
from app.db import utcnow
from app.preferences.models import NotificationPreference
from app.push import outbox
from app.push.dispatcher import Dispatcher
from app.push.models import Delivery
from notifications.fake_fcm import FakeFcm
from tests.builders import create_ward, signed_in

from .conftest import Clock, notify_each, recipients

SQUARE = [[104.86, 21.69], [104.88, 21.69], [104.88, 21.71], [104.86, 21.71], [104.86, 21.69]]
TOKEN = "fcm-token-anonymous-install-0001"


async def test_an_anonymous_install_follows_the_province_and_its_chosen_wards(
    client: httpx.AsyncClient,
    session: AsyncSession,
    dispatcher: Dispatcher,
    fake_fcm: FakeFcm,
    clock: Clock,
) -> None:
    clock.now = utcnow() + timedelta(hours=1)  # the API stamps rows with the real time
    await create_ward(session, "mu-cang-chai", SQUARE, "Thị trấn Mù Cang Chải")
    await session.commit()
    r = await client.post(
        "/api/v1/devices",
        json={"token": TOKEN, "platform": "android", "install_id": "install-abc-123"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["topics"] == ["alerts-all-vi"]
    await dispatcher.drain()
    assert fake_fcm.members("alerts-all-vi") == {TOKEN}

    r = await client.put(
        "/api/v1/devices/alert-areas", json={"token": TOKEN, "alert_wards": ["mu-cang-chai"]}
    )
    assert r.status_code == 200, r.text
    assert r.json()["topics"] == ["alerts-all-vi", "alerts-w-mu-cang-chai-vi"]
    await dispatcher.drain()
    assert TOKEN in fake_fcm.members("alerts-w-mu-cang-chai-vi")

    r = await client.put(
        "/api/v1/devices/alert-areas", json={"token": TOKEN, "alert_wards": ["atlantis"]}
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "alert_wards"

    # Forgetting the device takes it out of every topic: alerts stop reaching it.
    assert (await client.post("/api/v1/devices/forget", json={"token": TOKEN})).status_code == 204
    await dispatcher.drain()
    assert TOKEN not in fake_fcm.members("alerts-all-vi")
    assert TOKEN not in fake_fcm.members("alerts-w-mu-cang-chai-vi")


async def test_preferences_move_the_accounts_devices_between_topics(
    client: httpx.AsyncClient,
    session: AsyncSession,
    dispatcher: Dispatcher,
    fake_fcm: FakeFcm,
    clock: Clock,
) -> None:
    clock.now = utcnow() + timedelta(hours=1)  # the API stamps rows with the real time
    await create_ward(session, "tu-le", SQUARE, "Xã Tú Lệ")
    _user, headers = await signed_in(client, session, Role.citizen)
    r = await client.post(
        "/api/v1/devices", json={"token": TOKEN, "platform": "web"}, headers=headers
    )
    assert r.json()["topics"] == ["alerts-all-vi"]

    r = await client.patch(
        "/api/v1/me/preferences",
        json={
            "locale": "en",
            "alert_wards": ["tu-le"],
            "quiet_hours": {"start": "22:00", "end": "06:00"},
            "area_reports": False,
        },
        headers=headers,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["locale"] == "en" and body["alert_wards"] == ["tu-le"]
    assert body["quiet_hours"] == {"start": "22:00:00", "end": "06:00:00"}
    assert (body["report_updates"], body["area_reports"]) == (True, False)
    devices = (await client.get("/api/v1/me/devices", headers=headers)).json()
    assert devices[0]["topics"] == ["alerts-all-en", "alerts-w-tu-le-en"]

    await dispatcher.drain()
    assert TOKEN not in fake_fcm.members("alerts-all-vi")
    assert TOKEN in fake_fcm.members("alerts-all-en")
    assert TOKEN in fake_fcm.members("alerts-w-tu-le-en")

    # Bad input is refused and changes nothing.
    r = await client.patch(
        "/api/v1/me/preferences",
        json={"quiet_hours": {"start": "22:00", "end": "22:00"}, "alert_wards": []},
        headers=headers,
    )
    assert r.status_code == 422
    assert (await client.get("/api/v1/me/preferences", headers=headers)).json() == body


async def test_report_subscriptions_are_personal(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await create_ward(session, "nghia-lo", SQUARE, "Phường Nghĩa Lộ")
    _, mine = await signed_in(client, session, Role.citizen)
    _, theirs = await signed_in(client, session, Role.citizen)
    body = {"ward_code": "nghia-lo", "service_group": "water_drainage"}
    r = await client.post("/api/v1/me/subscriptions", json=body, headers=mine)
    assert r.status_code == 201, r.text
    sub = r.json()
    assert sub["ward_name"] == "Phường Nghĩa Lộ"
    assert (
        await client.post("/api/v1/me/subscriptions", json=body, headers=mine)
    ).status_code == 409
    bad = await client.post("/api/v1/me/subscriptions", json={"service_group": "x"}, headers=mine)
    assert bad.status_code == 422
    gone = await client.delete(f"/api/v1/me/subscriptions/{sub['id']}", headers=theirs)
    assert gone.status_code == 404
    assert (
        await client.delete(f"/api/v1/me/subscriptions/{sub['id']}", headers=mine)
    ).status_code == 204
    assert (await client.get("/api/v1/me/preferences", headers=mine)).json()["subscriptions"] == []


async def test_an_emergency_alert_ignores_quiet_hours_while_a_report_update_waits(
    session: AsyncSession, dispatcher: Dispatcher, fake_fcm: FakeFcm, clock: Clock
) -> None:
    night = datetime(2026, 11, 26, 16, 30, tzinfo=UTC)  # 23:30 in Yên Bái
    clock.now = night
    users = await recipients(session, ["tok-asleep"])
    session.add(NotificationPreference(user_id=users[0], quiet_start=time(22), quiet_end=time(6)))
    fake_fcm.topics["alerts-all-vi"] = {"tok-asleep"}
    alert = Alert(
        severity="emergency",
        status="sent",
        title_vi="Lũ quét",
        body_vi="Lũ quét trên suối Nậm Kim. Di chuyển ngay lên chỗ cao.",
        title_en="Flash flood",
        body_en="Flash flood on the Nậm Kim stream. Move to high ground now.",
        whole_province=True,
        expires_at=night + timedelta(hours=12),
        sent_at=night,
    )
    session.add(alert)
    await session.flush()
    await outbox.enqueue_topic(
        session,
        alert_id=alert.id,
        topic="alerts-all-vi",
        locale="vi",
        priority="high",
        not_before=night,
    )
    await notify_each(session, users, now=night)
    await session.commit()

    stats = await dispatcher.run_once()
    assert (stats.sent, stats.held) == (1, 1)
    [accepted] = fake_fcm.accepted
    assert accepted.topic == "alerts-all-vi"
    assert accepted.message["android"]["priority"] == "high"
    assert accepted.message["data"]["alert_id"] == str(alert.id)
    assert "Lũ quét" in accepted.message["notification"]["title"]
    assert fake_fcm.members(accepted.topic) == {"tok-asleep"}  # the sleeper is reached
    held = (
        await session.execute(select(Delivery).where(Delivery.notification_id.is_not(None)))
    ).scalar_one()
    assert held.status == "queued" and held.next_attempt_at > night


async def test_a_cancelled_or_expired_alert_is_not_sent(
    session: AsyncSession, dispatcher: Dispatcher, fake_fcm: FakeFcm, clock: Clock
) -> None:
    for status, expires in (("cancelled", clock.now + timedelta(hours=1)), ("sent", clock.now)):
        alert = Alert(
            severity="warning",
            status=status,
            title_vi="Sạt lở",
            body_vi="Sạt lở đất",
            title_en="Landslide",
            body_en="Landslide",
            whole_province=True,
            expires_at=expires,
            sent_at=clock.now,
        )
        session.add(alert)
        await session.flush()
        await outbox.enqueue_topic(
            session,
            alert_id=alert.id,
            topic="alerts-all-en",
            locale="en",
            priority="high",
            not_before=clock.now,
        )
    await session.commit()
    stats = await dispatcher.run_once()
    assert (stats.claimed, stats.failed) == (2, 2)
    codes = set((await session.execute(select(Delivery.error_code))).scalars())
    assert codes == {"CANCELLED", "EXPIRED"}
    assert fake_fcm.requests == []
