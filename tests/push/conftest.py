"""A fake FCM, the real firebase-admin SDK wired to it, a settable clock, and bulk builders."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.models import User
from app.devices.models import Device
from app.inbox.models import Notification
from app.push import outbox
from app.push.dispatcher import Dispatcher
from notifications.policy import RetryPolicy
from notifications.senders import FirebaseSender
from tests.builders import password_hash
from tests.notifications import conftest as library_fixtures

# The fake FCM and the real SDK wired to it, as the library's own tests use them.
fake_fcm = library_fixtures.fake_fcm
sender = library_fixtures.sender

# 2026-11-26 10:00 in Yên Bái (UTC+7).
START = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make_dispatcher(
    sessionmaker: async_sessionmaker[AsyncSession], sender: Any, clock: Clock, **kw: Any
) -> Dispatcher:
    kw.setdefault("policy", RetryPolicy(base=1.0, cap=600.0, max_attempts=12))
    return Dispatcher(
        sessionmaker,
        sender,
        clock=clock,
        rng=random.Random(4),
        public_base_url="https://hub.example.vn",
        **kw,
    )


@pytest.fixture
def dispatcher(
    sessionmaker: async_sessionmaker[AsyncSession], sender: FirebaseSender, clock: Clock
) -> Dispatcher:
    return make_dispatcher(sessionmaker, sender, clock)


async def recipients(
    session: AsyncSession,
    tokens: list[str],
    *,
    platform: str = "android",
    locale: str = "vi",
    label: str = "r",
) -> list[int]:
    """One citizen per token, each with one device; returns the user ids in token order."""
    digest = await password_hash("not used by these tests")
    users = (
        await session.execute(
            insert(User).returning(User.id, sort_by_parameter_order=True),
            [
                {
                    "email": f"{label}-{n}-{token[:20]}@example.vn".lower(),
                    "role": "citizen",
                    "password_hash": digest,
                    "locale": locale,
                    "created_at": START,
                    "updated_at": START,
                }
                for n, token in enumerate(tokens)
            ],
        )
    ).scalars()
    user_ids = list(users)
    await session.execute(
        insert(Device),
        [
            {
                "token": token,
                "platform": platform,
                "locale": locale,
                "user_id": user_id,
                "created_at": START,
                "last_seen_at": START,
            }
            for token, user_id in zip(tokens, user_ids, strict=True)
        ],
    )
    return user_ids


async def notify_each(
    session: AsyncSession, user_ids: list[int], *, now: datetime = START, status: str = "resolved"
) -> list[Notification]:
    return await outbox.notify(
        session,
        [
            Notification(
                user_id=uid,
                event="report.status_changed",
                subject_type="report",
                subject_id=1000 + n,
                data={"code": f"PA-{1000 + n}", "status": status},
                created_at=now,
            )
            for n, uid in enumerate(user_ids)
        ],
        now=now,
    )


async def statuses(session: AsyncSession) -> dict[str, int]:
    from sqlalchemy import func

    from app.push.models import Delivery

    rows = await session.execute(select(Delivery.status, func.count()).group_by(Delivery.status))
    return {status: n for status, n in rows}
