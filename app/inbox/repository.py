"""Every query of the inbox."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.inbox.models import Notification


async def list_for(
    session: AsyncSession, user_id: int, *, unread_only: bool, limit: int, offset: int
) -> tuple[Sequence[Notification], int, int]:
    """A page of a person's notifications, newest first; the total and the unread count."""
    stmt = select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    total = await session.scalar(select(func.count()).select_from(stmt.subquery()))
    unread = await session.scalar(
        select(func.count()).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    )
    rows = await session.execute(
        stmt.order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return rows.scalars().all(), int(total or 0), int(unread or 0)


async def mark_read(
    session: AsyncSession, user_id: int, ids: list[int] | None, now: datetime
) -> int:
    """Only the person's own notifications; None means all of them."""
    stmt = update(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)
    )
    if ids is not None:
        stmt = stmt.where(Notification.id.in_(ids))
    result = await session.execute(stmt.values(read_at=now))
    return int(getattr(result, "rowcount", 0) or 0)
