"""Push devices: register or refresh a token, forget it, flag and prune stale ones.
FCM tokens change and die: a token not seen for 30 days is flagged stale, pruned after 270,
and removed at once when FCM says it is dead (the dispatcher calls `forget_dead`)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import privacy
from app.auth.models import User
from app.db import utcnow
from app.devices.models import Device
from app.devices.schemas import DeviceIn

STALE_AFTER = timedelta(days=30)
PRUNE_AFTER = timedelta(days=270)


async def register(session: AsyncSession, user: User | None, data: DeviceIn) -> Device:
    """Idempotent: the same token again refreshes it (and moves it to whoever registers it now:
    a phone changes hands, or its owner signs in)."""
    now = utcnow()
    device = (
        await session.execute(select(Device).where(Device.token == data.token))
    ).scalar_one_or_none()
    if device is None:
        device = Device(token=data.token, created_at=now)
        session.add(device)
    device.platform = data.platform
    device.locale = data.locale
    device.user_id = user.id if user else None
    device.install_id = None if user else data.install_id
    device.last_seen_at = now
    device.stale_at = None
    await session.flush()
    from app.push.topic_sync import sync_devices

    await sync_devices(session, [device.id])
    return device


async def forget(session: AsyncSession, token: str) -> bool:
    """Whoever holds a token may unregister it: the token is the proof. It leaves its alert
    topics too, so nothing reaches it any more."""
    from app.push.topic_sync import leave_all

    device = (
        await session.execute(select(Device).where(Device.token == token))
    ).scalar_one_or_none()
    if device is None:
        return False
    await leave_all(session, device)
    await session.delete(device)
    await session.flush()
    return True


async def forget_dead(session: AsyncSession, tokens: list[str]) -> int:
    if not tokens:
        return 0
    result = await session.execute(delete(Device).where(Device.token.in_(tokens)))
    return int(getattr(result, "rowcount", 0) or 0)


async def sweep(session: AsyncSession) -> tuple[int, int]:
    """Flag tokens not seen for 30 days as stale; delete those not seen for 270. (flagged, pruned)"""
    now = utcnow()
    flagged = await session.execute(
        update(Device)
        .where(Device.last_seen_at < now - STALE_AFTER, Device.stale_at.is_(None))
        .values(stale_at=now)
    )
    pruned = await session.execute(delete(Device).where(Device.last_seen_at < now - PRUNE_AFTER))
    return int(getattr(flagged, "rowcount", 0) or 0), int(getattr(pruned, "rowcount", 0) or 0)


async def devices_of(session: AsyncSession, user_id: int) -> list[Device]:
    rows = await session.execute(
        select(Device).where(Device.user_id == user_id).order_by(Device.id)
    )
    return list(rows.scalars())


@privacy.exporter("devices")
async def _export(session: AsyncSession, user: User) -> list[dict[str, Any]]:
    return [
        {
            "platform": d.platform,
            "locale": d.locale,
            "created_at": d.created_at.isoformat(),
            "last_seen_at": d.last_seen_at.isoformat(),
        }
        for d in await devices_of(session, user.id)
    ]


@privacy.eraser("devices")
async def _erase(session: AsyncSession, user: User) -> None:
    await session.execute(delete(Device).where(Device.user_id == user.id))
