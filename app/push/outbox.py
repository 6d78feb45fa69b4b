"""Writing to the outbox, in the caller's transaction: if it rolls back, nothing is sent.

Notifications (the inbox rows) get one delivery per device of their recipient, in the
recipient's language, unless the recipient turned that kind of push off (quiet hours are the
dispatcher's business: they apply when the push would go out). Alerts get one delivery per topic
and language.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.db import utcnow
from app.devices.models import Device
from app.inbox.models import Notification
from app.preferences.models import NotificationPreference
from app.push import wake
from app.push.models import Delivery

#: Events about new reports in a subscribed area, as opposed to one's own or followed reports.
AREA_EVENT_PREFIX = "report.area_"


def quiet_until(
    now: datetime, start: time | None, end: time | None, tz: ZoneInfo
) -> datetime | None:
    """When the quiet hours that contain `now` end (aware UTC), or None when `now` is outside
    them. start > end wraps midnight (22:00-06:00); start == end means no quiet hours."""
    if start is None or end is None or start == end:
        return None
    local = now.astimezone(tz)
    t = local.time().replace(tzinfo=None)
    inside = (start <= t < end) if start < end else (t >= start or t < end)
    if not inside:
        return None
    end_day = local.date()
    if start > end and t >= start:
        end_day += timedelta(days=1)
    return datetime.combine(end_day, end, tzinfo=tz).astimezone(now.tzinfo)


async def notify(
    session: AsyncSession,
    notifications: Sequence[Notification],
    *,
    now: datetime | None = None,
) -> list[Notification]:
    """Store inbox notifications and queue their pushes; returns the stored rows (with ids)."""
    if not notifications:
        return []
    now = now or utcnow()
    session.add_all(notifications)
    await session.flush()
    user_ids = sorted({n.user_id for n in notifications})
    rows = await session.execute(select(User.id, User.locale).where(User.id.in_(user_ids)))
    locales = {user_id: locale for user_id, locale in rows}
    prefs = {
        p.user_id: p
        for p in (
            await session.execute(
                select(NotificationPreference).where(NotificationPreference.user_id.in_(user_ids))
            )
        ).scalars()
    }
    devices: dict[int, list[tuple[int, str]]] = {}
    device_rows = await session.execute(
        select(Device.user_id, Device.id, Device.platform)
        .where(Device.user_id.in_(user_ids), Device.stale_at.is_(None))
        .order_by(Device.id)
    )
    for owner_id, device_id, platform in device_rows:
        if owner_id is None:
            continue
        devices.setdefault(owner_id, []).append((device_id, platform))
    deliveries: list[Delivery] = []
    for note in notifications:
        pref = prefs.get(note.user_id)
        if pref is not None:
            wanted = (
                pref.area_reports
                if note.event.startswith(AREA_EVENT_PREFIX)
                else pref.report_updates
            )
            if not wanted:
                continue
        for device_id, platform in devices.get(note.user_id, []):
            deliveries.append(
                Delivery(
                    notification_id=note.id,
                    device_id=device_id,
                    platform=platform,
                    locale=locales.get(note.user_id) or "vi",
                    priority="normal",
                    next_attempt_at=now,
                    created_at=now,
                    updated_at=now,
                )
            )
    session.add_all(deliveries)
    await session.flush()
    if deliveries:
        await wake.mark(session)
    return list(notifications)


async def enqueue_topic(
    session: AsyncSession,
    *,
    alert_id: int,
    topic: str,
    locale: str,
    priority: str,
    not_before: datetime | None = None,
) -> Delivery:
    """One alert push to one topic; emergencies pass `priority="high"` and no `not_before`."""
    now = utcnow()
    delivery = Delivery(
        alert_id=alert_id,
        topic=topic,
        locale=locale,
        priority=priority,
        next_attempt_at=not_before or now,
        created_at=now,
        updated_at=now,
    )
    session.add(delivery)
    await session.flush()
    await wake.mark(session)
    return delivery
