"""Several dispatchers share one outbox: on PostgreSQL they claim with FOR UPDATE SKIP LOCKED,
on SQLite the single writer and the lease do it. No record is ever sent twice.

These tests commit for real (each dispatcher has its own connections), so they clean up after
themselves."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.auth.models import User
from app.db import create_sessionmaker
from app.push.models import Delivery
from notifications.fake_fcm import FakeFcm
from notifications.senders import FirebaseSender

from .conftest import Clock, make_dispatcher, notify_each, recipients

LABEL = "concurrent"


class SlowSender:
    """FCM with some latency, so the dispatchers' rounds overlap."""

    def __init__(self, inner: FirebaseSender) -> None:
        self.inner = inner

    async def send_many(self, items: Any) -> Any:
        await asyncio.sleep(0.02)
        return await self.inner.send_many(items)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.fixture
async def committed(engine: AsyncEngine) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    maker = create_sessionmaker(engine)
    yield maker
    async with maker() as session:
        await session.execute(delete(User).where(User.email.like(f"{LABEL}-%")))
        await session.commit()


async def test_two_dispatchers_never_send_the_same_record_twice(
    committed: async_sessionmaker[AsyncSession],
    sender: FirebaseSender,
    fake_fcm: FakeFcm,
    clock: Clock,
) -> None:
    tokens = [f"par-{n:03d}" for n in range(400)]
    async with committed() as session:
        await notify_each(session, await recipients(session, tokens, label=LABEL))
        await session.commit()

    slow = SlowSender(sender)
    one = make_dispatcher(committed, slow, clock, batch_size=25, worker_id="one")
    two = make_dispatcher(committed, slow, clock, batch_size=25, worker_id="two")

    async def work(dispatcher: Any) -> int:
        claimed = 0
        while (stats := await dispatcher.run_once()).claimed:
            claimed += stats.claimed
        return claimed

    by_one, by_two = await asyncio.gather(work(one), work(two))

    assert by_one + by_two == 400
    assert by_one > 0 and by_two > 0  # they shared the work
    assert sorted(fake_fcm.accepted_tokens()) == tokens  # every record exactly once
    async with committed() as session:
        sent = await session.scalar(
            select(func.count()).select_from(Delivery).where(Delivery.status == "sent")
        )
        assert sent == 400


async def test_a_worker_in_another_process_hears_the_commit_through_postgresql(
    engine: AsyncEngine, committed: async_sessionmaker[AsyncSession]
) -> None:
    """LISTEN/NOTIFY on PostgreSQL; SQLite has no such channel and the worker polls."""
    from app.push import wake as push_wake

    wake = asyncio.Event()
    listener = await push_wake.listen(engine, wake)
    if engine.dialect.name != "postgresql":
        assert listener is None
        return
    try:
        async with committed() as session:
            await notify_each(session, await recipients(session, ["tok-notify"], label=LABEL))
            assert not wake.is_set()  # nothing is announced before the commit
            await session.rollback()
        await asyncio.sleep(0.2)
        assert not wake.is_set()  # nor after a rollback

        async with committed() as session:
            await notify_each(session, await recipients(session, ["tok-notify"], label=LABEL))
            await session.commit()
        await asyncio.wait_for(wake.wait(), 5)
    finally:
        await listener.close()
