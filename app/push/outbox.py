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

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.db import utcnow
from app.devices.models import Device
from app.inbox.models import Notification
from app.preferences.models import NotificationPreference
from app.push import wake
from app.push.models import Delivery

#: Ids per IN (...) list: far below PostgreSQL's 32,767 bound parameters per statement.
IN_CHUNK = 5000
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
    """Store inbox notifications and queue their pushes; returns the same objects with their
    ids set. Bulk Core inserts, so an event with a hundred thousand recipients (a province-wide
    subscription) stays a matter of seconds; the lookups go in chunks under PostgreSQL's
    limit of 32,767 bound parameters per statement."""
    if not notifications:
        return []
    now = now or utcnow()
    await session.flush()  # what this transaction changed before counts (preferences, devices)
    ids = (
        await session.execute(
            insert(Notification).returning(Notification.id, sort_by_parameter_order=True),
            [
                {
                    "user_id": n.user_id,
                    "event": n.event,
                    "subject_type": n.subject_type,
                    "subject_id": n.subject_id,
                    "data": n.data or {},
                    "created_at": n.created_at or now,
                    "read_at": n.read_at,
                }
                for n in notifications
            ],
        )
    ).scalars()
    for note, note_id in zip(notifications, ids, strict=True):
        note.id = note_id
    user_ids = sorted({n.user_id for n in notifications})
    locales: dict[int, str] = {}
    prefs: dict[int, tuple[bool, bool]] = {}
    devices: dict[int, list[tuple[int, str]]] = {}
    for start in range(0, len(user_ids), IN_CHUNK):
        chunk = user_ids[start : start + IN_CHUNK]
        for user_id, locale in await session.execute(
            select(User.id, User.locale).where(User.id.in_(chunk))
        ):
            locales[user_id] = locale
        for user_id, report_updates, area_reports in await session.execute(
            select(
                NotificationPreference.user_id,
                NotificationPreference.report_updates,
                NotificationPreference.area_reports,
            ).where(NotificationPreference.user_id.in_(chunk))
        ):
            prefs[user_id] = (report_updates, area_reports)
        for owner_id, device_id, platform in await session.execute(
            select(Device.user_id, Device.id, Device.platform)
            .where(Device.user_id.in_(chunk), Device.stale_at.is_(None))
            .order_by(Device.id)
        ):
            if owner_id is not None:
                devices.setdefault(owner_id, []).append((device_id, platform))
    deliveries: list[dict[str, object]] = []
    for note in notifications:
        pref = prefs.get(note.user_id)
        if pref is not None:
            report_updates, area_reports = pref
            if not (area_reports if note.event.startswith(AREA_EVENT_PREFIX) else report_updates):
                continue
        for device_id, platform in devices.get(note.user_id, []):
            deliveries.append(
                {
                    "notification_id": note.id,
                    "device_id": device_id,
                    "platform": platform,
                    "locale": locales.get(note.user_id) or "vi",
                    "priority": "normal",
                    "status": "queued",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                    "updated_at": now,
                }
            )
    if deliveries:
        await session.execute(insert(Delivery), deliveries)
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
