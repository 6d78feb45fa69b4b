"""Every query of the alerts domain."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.alerts.models import Alert, AlertStatus, alert_ward
from app.auth.models import User
from app.push.models import DeviceTopic

PUBLISHED = (AlertStatus.sent.value, AlertStatus.cancelled.value)


async def get(session: AsyncSession, alert_id: int, *, for_update: bool = False) -> Alert | None:
    """One alert with its wards, as stored now. `for_update` locks the row (PostgreSQL), so a
    change decided on its status cannot race a concurrent send or cancel."""
    stmt = (
        select(Alert)
        .where(Alert.id == alert_id)
        .options(selectinload(Alert.wards))
        .execution_options(populate_existing=True)
    )
    if for_update:
        stmt = stmt.with_for_update(of=Alert)
    return (await session.execute(stmt)).scalar_one_or_none()


def _active(now: datetime) -> ColumnElement[bool]:
    return and_(Alert.status == AlertStatus.sent.value, Alert.expires_at > now)


def _for_ward(ward_id: int) -> ColumnElement[bool]:
    in_ward = select(alert_ward.c.alert_id).where(
        alert_ward.c.alert_id == Alert.id, alert_ward.c.ward_id == ward_id
    )
    return or_(Alert.whole_province.is_(True), in_ward.exists())


async def _page(
    session: AsyncSession, stmt: Select[Any], limit: int, offset: int
) -> tuple[Sequence[Alert], int]:
    total = await session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = await session.execute(
        stmt.options(selectinload(Alert.wards)).limit(limit).offset(offset)
    )
    return rows.scalars().all(), int(total or 0)


async def published(
    session: AsyncSession,
    *,
    now: datetime,
    active: bool | None = None,
    ward_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[Sequence[Alert], int]:
    """Sent and cancelled alerts, newest first. `active` True: in force now (sent, not expired);
    False: no longer in force. `ward_id`: that ward's alerts and the province-wide ones."""
    stmt = select(Alert).where(Alert.status.in_(PUBLISHED))
    if active is True:
        stmt = stmt.where(_active(now))
    elif active is False:
        stmt = stmt.where(~_active(now))
    if ward_id is not None:
        stmt = stmt.where(_for_ward(ward_id))
    stmt = stmt.order_by(Alert.sent_at.desc(), Alert.id.desc())
    return await _page(session, stmt, limit, offset)


async def all_alerts(
    session: AsyncSession, *, status: str | None = None, limit: int = 50, offset: int = 0
) -> tuple[Sequence[Alert], int]:
    """Every alert, drafts included: drafts first (newest edited first), then the rest by when
    they were sent."""
    stmt = select(Alert)
    if status:
        stmt = stmt.where(Alert.status == status)
    is_draft = (Alert.status == AlertStatus.draft.value).desc()
    stmt = stmt.order_by(
        is_draft, Alert.sent_at.desc().nulls_last(), Alert.updated_at.desc(), Alert.id.desc()
    )
    return await _page(session, stmt, limit, offset)


async def devices_following(session: AsyncSession, topics: Sequence[str]) -> int:
    """Distinct devices that follow at least one of these topics."""
    if not topics:
        return 0
    count = await session.scalar(
        select(func.count(func.distinct(DeviceTopic.device_id))).where(
            DeviceTopic.topic.in_(list(topics))
        )
    )
    return int(count or 0)


async def user_names(session: AsyncSession, ids: Sequence[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    rows = await session.execute(
        select(User.id, User.full_name, User.email, User.phone).where(User.id.in_(wanted))
    )
    return {uid: name or email or phone or str(uid) for uid, name, email, phone in rows.all()}
