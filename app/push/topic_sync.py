"""Keep each device's FCM topic memberships equal to what its owner chose: the language's
province-wide alerts plus the chosen wards'. Differences become queued topic changes, applied
by the dispatcher after commit (and retried like pushes)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.db import utcnow
from app.devices.models import Device
from app.org.models import Ward
from app.preferences.models import AlertArea
from app.push import wake
from app.push.models import DeviceTopic, TopicChange
from app.push.topics import device_topics


async def sync_devices(session: AsyncSession, device_ids: Iterable[int]) -> int:
    """Bring these devices' topics up to date; returns the number of changes queued."""
    ids = sorted(set(device_ids))
    if not ids:
        return 0
    devices = (
        await session.execute(
            select(Device.id, Device.token, Device.locale, Device.user_id, User.locale)
            .outerjoin(User, User.id == Device.user_id)
            .where(Device.id.in_(ids))
        )
    ).all()
    user_ids = {d.user_id for d in devices if d.user_id is not None}
    areas = (
        await session.execute(
            select(AlertArea.user_id, AlertArea.device_id, Ward.code)
            .join(Ward, Ward.id == AlertArea.ward_id)
            .where(or_(AlertArea.user_id.in_(user_ids), AlertArea.device_id.in_(ids)))
        )
    ).all()
    current: dict[int, set[str]] = {}
    for device_id, topic in (
        await session.execute(
            select(DeviceTopic.device_id, DeviceTopic.topic).where(DeviceTopic.device_id.in_(ids))
        )
    ).all():
        current.setdefault(device_id, set()).add(topic)
    now = utcnow()
    changes: list[TopicChange] = []
    for device_id, token, device_locale, user_id, user_locale in devices:
        if user_id is not None:
            codes = [a.code for a in areas if a.user_id == user_id]
            locale = user_locale or device_locale
        else:
            codes = [a.code for a in areas if a.device_id == device_id]
            locale = device_locale
        wanted = device_topics(locale, codes)
        have = current.get(device_id, set())
        for topic in sorted(wanted - have):
            session.add(DeviceTopic(device_id=device_id, topic=topic))
            changes.append(_change(token, topic, "add", now))
        gone = sorted(have - wanted)
        if gone:
            await session.execute(
                delete(DeviceTopic).where(
                    DeviceTopic.device_id == device_id, DeviceTopic.topic.in_(gone)
                )
            )
            changes.extend(_change(token, topic, "remove", now) for topic in gone)
    await _supersede(session, changes)
    session.add_all(changes)
    if changes:
        await wake.mark(session)
    await session.flush()
    if changes:
        await wake.mark(session)
    return len(changes)


async def _supersede(session: AsyncSession, changes: list[TopicChange]) -> None:
    """A queued change that a newer one overrides must not be applied after it (a retried
    subscribe landing after the unsubscribe that followed it)."""
    by_token: dict[str, list[str]] = {}
    for change in changes:
        by_token.setdefault(change.token, []).append(change.topic)
    for token, topics in by_token.items():
        await session.execute(
            update(TopicChange)
            .where(
                TopicChange.token == token,
                TopicChange.topic.in_(topics),
                TopicChange.status == "queued",
            )
            .values(status="sent", error_code="SUPERSEDED")
            .execution_options(synchronize_session=False)
        )


async def sync_user(session: AsyncSession, user_id: int) -> int:
    ids = (await session.execute(select(Device.id).where(Device.user_id == user_id))).scalars()
    return await sync_devices(session, list(ids))


async def leave_all(session: AsyncSession, device: Device) -> None:
    """A device that is forgotten (not dead) leaves its topics, so alerts stop reaching it."""
    topics = (
        await session.execute(select(DeviceTopic.topic).where(DeviceTopic.device_id == device.id))
    ).scalars()
    now = utcnow()
    changes = [_change(device.token, topic, "remove", now) for topic in topics]
    await _supersede(session, changes)
    session.add_all(changes)
    if changes:
        await wake.mark(session)


async def topics_of(session: AsyncSession, device_id: int) -> list[str]:
    return (await topics_by_device(session, [device_id])).get(device_id, [])


async def topics_by_device(session: AsyncSession, device_ids: list[int]) -> dict[int, list[str]]:
    """Each device's topics, sorted; one query for all of them."""
    rows = await session.execute(
        select(DeviceTopic.device_id, DeviceTopic.topic)
        .where(DeviceTopic.device_id.in_(device_ids))
        .order_by(DeviceTopic.topic)
    )
    found: dict[int, list[str]] = {}
    for device_id, topic in rows:
        found.setdefault(device_id, []).append(topic)
    return found


def _change(token: str, topic: str, op: str, now: object) -> TopicChange:
    return TopicChange(
        token=token, topic=topic, op=op, next_attempt_at=now, created_at=now, updated_at=now
    )
