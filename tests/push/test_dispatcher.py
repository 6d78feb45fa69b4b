"""The outbox and its dispatcher, with the real firebase-admin SDK talking to the fake FCM."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.devices.models import Device
from app.inbox.models import Notification
from app.preferences.models import NotificationPreference
from app.push.dispatcher import Dispatcher, channel_halts, resume_channel
from app.push.models import Delivery
from notifications.fake_fcm import FakeFcm
from notifications.senders import FirebaseSender

from .conftest import START, Clock, make_dispatcher, notify_each, recipients, statuses


async def deliveries(session: AsyncSession) -> dict[str, Delivery]:
    """Each delivery by its device's token (or the error's token when the device is gone)."""
    session.expire_all()
    rows = await session.execute(
        select(Delivery, Device.token).outerjoin(Device, Device.id == Delivery.device_id)
    )
    return {token or f"gone-{d.id}": d for d, token in rows}


class CountingSender:
    """Wraps a sender and records the size of every send_many call."""

    def __init__(self, inner: FirebaseSender) -> None:
        self.inner = inner
        self.batches: list[int] = []

    async def send_many(self, items: Any) -> Any:
        self.batches.append(len(items))
        return await self.inner.send_many(items)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


async def test_1201_devices_go_out_in_batches_of_at_most_500(
    session: AsyncSession,
    sessionmaker: Any,
    sender: FirebaseSender,
    fake_fcm: FakeFcm,
    clock: Clock,
) -> None:
    tokens = [f"tok-{n:04d}" for n in range(1201)]
    users = await recipients(session, tokens)
    notes = await notify_each(session, users)
    await session.commit()

    counting = CountingSender(sender)
    dispatcher = make_dispatcher(sessionmaker, counting, clock)
    rounds = [await dispatcher.run_once() for _ in range(4)]

    assert [r.claimed for r in rounds] == [500, 500, 201, 0]
    assert counting.batches == [500, 500, 201]
    assert sorted(fake_fcm.accepted_tokens()) == tokens
    assert await statuses(session) == {"sent": 1201}
    # Each push carries its record id, its text in the recipient's language and a link.
    first = next(a.message for a in fake_fcm.accepted if a.token == "tok-0000")
    assert first["data"]["nid"] == str(notes[0].id)
    assert first["notification"]["title"] == "Phản ánh PA-1000: Đã xử lý xong"
    assert first["data"]["link"] == "https://hub.example.vn/reports/PA-1000"
    sent = (await deliveries(session))["tok-0000"]
    assert sent.message_id and sent.sent_at == START and sent.attempts == 1


async def test_each_fcm_error_is_handled_as_fcm_means_it(
    session: AsyncSession, dispatcher: Dispatcher, fake_fcm: FakeFcm, clock: Clock
) -> None:
    android = ["ok-a", "dead-a", "alien-a", "bad-a", "quota-a", "down-a", "boom-a"]
    await notify_each(session, await recipients(session, android, label="a"))
    await notify_each(session, await recipients(session, ["apns-i", "ok-i"], platform="ios"))
    await session.commit()

    stats = await dispatcher.run_once()
    assert (stats.claimed, stats.sent, stats.dead, stats.failed, stats.retried) == (9, 2, 2, 1, 4)
    rows = await deliveries(session)
    assert rows["ok-a"].status == rows["ok-i"].status == "sent"
    # UNREGISTERED and SENDER_ID_MISMATCH: the token is dead and its device is removed at once.
    dead = [d for token, d in rows.items() if token.startswith("gone-")]
    assert sorted(d.error_code for d in dead) == ["SENDER_ID_MISMATCH", "UNREGISTERED"]
    assert all(d.status == "dead" for d in dead)
    left = set((await session.execute(select(Device.token))).scalars())
    assert "dead-a" not in left and "alien-a" not in left and "ok-a" in left
    # INVALID_ARGUMENT is never retried.
    assert (rows["bad-a"].status, rows["bad-a"].error_code) == ("failed", "INVALID_ARGUMENT")
    # QUOTA_EXCEEDED waits at least the Retry-After (30 s from the fake); 5xx back off.
    assert rows["quota-a"].status == "queued"
    assert rows["quota-a"].next_attempt_at >= START + timedelta(seconds=30)
    for token in ("down-a", "boom-a"):
        assert rows[token].status == "queued"
        assert START <= rows[token].next_attempt_at <= START + timedelta(seconds=1)
    # THIRD_PARTY_AUTH_ERROR: the iOS channel is halted, the operators are told, nothing lost.
    assert rows["apns-i"].status == "queued" and rows["apns-i"].attempts == 0
    halts = await channel_halts(session, START)
    assert [(h.platform, h.error_code) for h in halts] == [("ios", "THIRD_PARTY_AUTH_ERROR")]

    # While halted, a new iOS push waits; Android goes on.
    more = await recipients(session, ["ok-i2"], platform="ios", label="i2")
    more += await recipients(session, ["ok-a2"], label="a2")
    await notify_each(session, more)
    await session.commit()
    clock.advance(minutes=1)
    await dispatcher.run_once()
    rows = await deliveries(session)
    assert rows["ok-a2"].status == "sent" and rows["ok-i2"].status == "queued"

    # The operator fixes the APNs key and resumes the channel: the held pushes go.
    assert await resume_channel(session, "ios")
    await session.commit()
    fake_fcm.rules.pop("apns-")
    clock.advance(minutes=16)
    await dispatcher.drain()
    rows = await deliveries(session)
    assert rows["ok-i2"].status == rows["apns-i"].status == "sent"


async def test_a_storm_of_503s_then_recovery_loses_nothing(
    session: AsyncSession, dispatcher: Dispatcher, fake_fcm: FakeFcm, clock: Clock
) -> None:
    tokens = [f"storm-{n}" for n in range(40)]
    await notify_each(session, await recipients(session, tokens))
    await session.commit()
    fake_fcm.fail_next(150, "UNAVAILABLE")
    fake_fcm.fail_next(20, "QUOTA_EXCEEDED")

    for _ in range(40):
        await dispatcher.run_once()
        if (await statuses(session)).get("sent") == 40:
            break
        clock.advance(minutes=5)

    assert await statuses(session) == {"sent": 40}
    assert sorted(fake_fcm.accepted_tokens()) == sorted(tokens)  # each exactly once
    assert len(fake_fcm.requests) == 40 + 170


async def test_giving_up_after_the_retry_limit_is_a_recorded_failure(
    session: AsyncSession, sessionmaker: Any, sender: FirebaseSender, clock: Clock
) -> None:
    from notifications.policy import RetryPolicy

    await notify_each(session, await recipients(session, ["down-forever"]))
    await session.commit()
    dispatcher = make_dispatcher(sessionmaker, sender, clock, policy=RetryPolicy(max_attempts=3))
    for _ in range(5):
        await dispatcher.run_once()
        clock.advance(hours=1)
    row = (await deliveries(session))["down-forever"]
    assert (row.status, row.error_code, row.attempts) == ("failed", "UNAVAILABLE", 3)


class CrashAfterSending(Dispatcher):
    """Dies after FCM accepted the batch and before the outcome is written down."""

    crashes = 1

    async def _record(self, *args: Any) -> None:
        if self.crashes:
            self.crashes -= 1
            raise RuntimeError("worker killed")
        await super()._record(*args)


async def test_a_crash_between_send_and_mark_resends_without_a_second_inbox_entry(
    session: AsyncSession,
    sessionmaker: Any,
    sender: FirebaseSender,
    fake_fcm: FakeFcm,
    clock: Clock,
) -> None:
    users = await recipients(session, ["tok-crash"])
    [note] = await notify_each(session, users)
    nid = str(note.id)
    await session.commit()
    crashing = CrashAfterSending(sessionmaker, sender, clock=clock)

    with pytest.raises(RuntimeError):
        await crashing.run_once()
    assert (await deliveries(session))["tok-crash"].status == "sending"
    assert await crashing.sweep() == 0  # the lease has not run out: maybe it is still working

    clock.advance(minutes=3)
    assert await crashing.sweep() == 1
    await crashing.run_once()

    row = (await deliveries(session))["tok-crash"]
    assert (row.status, row.attempts) == ("sent", 2)
    accepted = [a.message["data"]["nid"] for a in fake_fcm.accepted]
    assert accepted == [nid, nid]  # at least once; the client drops the twin
    inbox = await session.scalar(
        select(func.count()).select_from(Notification).where(Notification.user_id == users[0])
    )
    assert inbox == 1


async def test_no_outbox_row_survives_a_rolled_back_transaction(
    session: AsyncSession, dispatcher: Dispatcher, fake_fcm: FakeFcm
) -> None:
    users = await recipients(session, ["tok-rollback"])
    await session.commit()
    with pytest.raises(ZeroDivisionError):
        async with session.begin_nested():
            notes = await notify_each(session, users)
            assert notes[0].id is not None
            assert await session.scalar(select(func.count()).select_from(Delivery)) == 1
            1 / 0  # noqa: B018 - the cause's transaction fails after the outbox write
    assert await session.scalar(select(func.count()).select_from(Delivery)) == 0
    assert await session.scalar(select(func.count()).select_from(Notification)) == 0
    assert (await dispatcher.drain()).claimed == 0
    assert fake_fcm.requests == []


async def test_quiet_hours_hold_a_report_update_until_morning(
    session: AsyncSession, dispatcher: Dispatcher, fake_fcm: FakeFcm, clock: Clock
) -> None:
    users = await recipients(session, ["tok-sleeper"])
    session.add(
        NotificationPreference(user_id=users[0], quiet_start=time(22, 0), quiet_end=time(6, 0))
    )
    clock.now = datetime(2026, 11, 26, 16, 30, tzinfo=UTC)  # 23:30 in Yên Bái
    await notify_each(session, users, now=clock.now)
    await session.commit()

    stats = await dispatcher.run_once()
    assert (stats.claimed, stats.held, stats.sent) == (1, 1, 0)
    row = (await deliveries(session))["tok-sleeper"]
    morning = datetime(2026, 11, 26, 23, 0, tzinfo=UTC)  # 06:00 on the 27th, local
    assert (row.status, row.next_attempt_at, row.attempts) == ("queued", morning, 0)
    assert fake_fcm.requests == []

    clock.now = morning
    await dispatcher.run_once()
    assert (await deliveries(session))["tok-sleeper"].status == "sent"


async def test_turning_report_updates_off_keeps_the_inbox_but_sends_no_push(
    session: AsyncSession, dispatcher: Dispatcher
) -> None:
    users = await recipients(session, ["tok-off"])
    session.add(NotificationPreference(user_id=users[0], report_updates=False))
    await notify_each(session, users)
    await session.commit()
    assert await session.scalar(select(func.count()).select_from(Notification)) == 1
    assert await session.scalar(select(func.count()).select_from(Delivery)) == 0


async def test_a_device_removed_before_sending_is_a_failure_not_a_crash(
    session: AsyncSession, dispatcher: Dispatcher, fake_fcm: FakeFcm
) -> None:
    from app.devices.service import forget

    await notify_each(session, await recipients(session, ["tok-gone"]))
    assert await forget(session, "tok-gone")
    await session.commit()
    stats = await dispatcher.run_once()
    assert (stats.claimed, stats.failed) == (1, 1)
    [row] = (await deliveries(session)).values()
    assert (row.status, row.error_code) == ("failed", "DEVICE_GONE")
    assert fake_fcm.requests == []


def _never(_: Any) -> datetime:  # pragma: no cover - keeps the clock type honest
    return START


async def test_a_commit_wakes_the_idle_dispatcher_at_once(
    session: AsyncSession, sessionmaker: Any, sender: FirebaseSender, fake_fcm: FakeFcm
) -> None:
    import asyncio

    from app.push import wake as push_wake

    dispatcher = Dispatcher(sessionmaker, sender)
    stop, wake = asyncio.Event(), asyncio.Event()
    push_wake.register(wake)
    # Idle for a minute between polls: only the commit's wake-up can make it send in time.
    task = asyncio.create_task(dispatcher.run_forever(stop, wake=wake, idle_seconds=60))
    await asyncio.sleep(0.3)
    from app.db import utcnow

    users = await recipients(session, ["tok-wake"])
    await notify_each(session, users, now=utcnow())
    await session.commit()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5
    while not fake_fcm.accepted and loop.time() < deadline:  # noqa: ASYNC110 - polls a fake
        await asyncio.sleep(0.02)
    stop.set()
    await asyncio.wait_for(task, 5)
    assert fake_fcm.accepted_tokens() == ["tok-wake"]


async def test_recipients_are_looked_up_in_chunks(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL refuses more than 32,767 bound parameters: big fan-outs look up in chunks."""
    from app.push import outbox

    monkeypatch.setattr(outbox, "IN_CHUNK", 2)
    users = await recipients(session, [f"tok-chunk-{n}" for n in range(5)], locale="en")
    session.add(NotificationPreference(user_id=users[3], report_updates=False))
    notes = await notify_each(session, users)
    assert len({n.id for n in notes}) == 5
    rows = (await session.execute(select(Delivery.notification_id, Delivery.locale))).all()
    assert sorted(rows) == sorted((n.id, "en") for i, n in enumerate(notes) if i != 3)
