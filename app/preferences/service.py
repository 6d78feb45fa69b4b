"""Notification preferences, report subscriptions and alert areas, and what follows from them:
topic memberships for alerts, and notification records for new reports in subscribed areas."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import privacy
from app.auth.models import User
from app.db import utcnow
from app.devices.models import Device
from app.errors import Conflict, InvalidInput, NotFound
from app.inbox.models import Notification
from app.kit.i18n import gettext as _
from app.org import repository as org_repo
from app.org.models import Ward
from app.preferences.models import AlertArea, NotificationPreference, ReportSubscription
from app.preferences.schemas import (
    PreferencesRead,
    PreferencesUpdate,
    QuietHours,
    SubscriptionIn,
    SubscriptionRead,
)
from app.push import outbox, topic_sync

MAX_SUBSCRIPTIONS = 30


async def _preference(session: AsyncSession, user_id: int) -> NotificationPreference | None:
    return await session.get(NotificationPreference, user_id)


async def _wards_by_code(session: AsyncSession, codes: list[str], field: str) -> list[Ward]:
    """The wards of these codes, sorted by code; 422 naming every unknown code."""
    found = {w.code: w for w in await org_repo.wards_by_codes(session, codes)}
    unknown = sorted(set(codes) - set(found))
    if unknown:
        raise InvalidInput(
            _("There is no such ward or commune."),
            errors=[
                {
                    "field": field,
                    "in": "body",
                    "reason": _("unknown ward: %(code)s") % {"code": code},
                }
                for code in unknown
            ],
        )
    return [found[c] for c in sorted(found)]


async def alert_ward_codes(
    session: AsyncSession, *, user_id: int | None = None, device_id: int | None = None
) -> list[str]:
    owner = (
        AlertArea.user_id == user_id if user_id is not None else AlertArea.device_id == device_id
    )
    rows = await session.execute(
        select(Ward.code)
        .join(AlertArea, AlertArea.ward_id == Ward.id)
        .where(owner)
        .order_by(Ward.code)
    )
    return list(rows.scalars())


async def subscriptions_of(session: AsyncSession, user_id: int) -> list[SubscriptionRead]:
    rows = await session.execute(
        select(ReportSubscription, Ward.code, Ward.name)
        .outerjoin(Ward, Ward.id == ReportSubscription.ward_id)
        .where(ReportSubscription.user_id == user_id)
        .order_by(ReportSubscription.id)
    )
    return [
        SubscriptionRead(id=s.id, ward_code=code, ward_name=name, service_group=s.service_group)
        for s, code, name in rows
    ]


async def read(session: AsyncSession, user: User) -> PreferencesRead:
    pref = await _preference(session, user.id)
    quiet = None
    if pref is not None and pref.quiet_start is not None and pref.quiet_end is not None:
        quiet = QuietHours(start=pref.quiet_start, end=pref.quiet_end)
    return PreferencesRead(
        locale=user.locale,
        report_updates=pref.report_updates if pref else True,
        area_reports=pref.area_reports if pref else True,
        quiet_hours=quiet,
        alert_wards=await alert_ward_codes(session, user_id=user.id),
        subscriptions=await subscriptions_of(session, user.id),
    )


async def update(session: AsyncSession, user: User, data: PreferencesUpdate) -> PreferencesRead:
    fields = data.model_fields_set
    pref = await _preference(session, user.id)
    if pref is None:
        pref = NotificationPreference(user_id=user.id)
        session.add(pref)
    if "report_updates" in fields and data.report_updates is not None:
        pref.report_updates = data.report_updates
    if "area_reports" in fields and data.area_reports is not None:
        pref.area_reports = data.area_reports
    if "quiet_hours" in fields:
        pref.quiet_start = data.quiet_hours.start if data.quiet_hours else None
        pref.quiet_end = data.quiet_hours.end if data.quiet_hours else None
    pref.updated_at = utcnow()
    resync = False
    if "locale" in fields and data.locale and data.locale != user.locale:
        user.locale = data.locale
        resync = True
    if "alert_wards" in fields and data.alert_wards is not None:
        wards = await _wards_by_code(session, data.alert_wards, "alert_wards")
        await session.execute(delete(AlertArea).where(AlertArea.user_id == user.id))
        session.add_all(AlertArea(user_id=user.id, ward_id=w.id) for w in wards)
        resync = True
    await session.flush()
    if resync:
        await topic_sync.sync_user(session, user.id)
    return await read(session, user)


async def subscribe(session: AsyncSession, user: User, data: SubscriptionIn) -> SubscriptionRead:
    ward = None
    if data.ward_code:
        [ward] = await _wards_by_code(session, [data.ward_code], "ward_code")
    group = data.service_group.value if data.service_group else None
    existing = await session.execute(
        select(ReportSubscription).where(
            ReportSubscription.user_id == user.id,
            ReportSubscription.ward_id.is_(None)
            if ward is None
            else ReportSubscription.ward_id == ward.id,
            ReportSubscription.service_group.is_(None)
            if group is None
            else ReportSubscription.service_group == group,
        )
    )
    if existing.scalar_one_or_none() is not None:
        raise Conflict(_("You already follow these reports."))
    count = await session.scalar(select(func.count()).where(ReportSubscription.user_id == user.id))
    if (count or 0) >= MAX_SUBSCRIPTIONS:
        raise InvalidInput(
            _("You can follow at most %(n)d areas and topics.") % {"n": MAX_SUBSCRIPTIONS},
            errors=[{"field": "ward_code", "in": "body", "reason": _("too many subscriptions")}],
        )
    sub = ReportSubscription(
        user_id=user.id, ward_id=ward.id if ward else None, service_group=group, created_at=utcnow()
    )
    session.add(sub)
    await session.flush()
    return SubscriptionRead(
        id=sub.id,
        ward_code=ward.code if ward else None,
        ward_name=ward.name if ward else None,
        service_group=group,
    )


async def unsubscribe(session: AsyncSession, user: User, subscription_id: int) -> None:
    result = await session.execute(
        delete(ReportSubscription).where(
            ReportSubscription.id == subscription_id, ReportSubscription.user_id == user.id
        )
    )
    if not getattr(result, "rowcount", 0):
        raise NotFound(_("There is no such subscription."))


async def set_device_alert_areas(
    session: AsyncSession, token: str, codes: list[str]
) -> tuple[list[str], list[str]]:
    """An anonymous install's alert wards. A signed-in device follows its account's choice."""
    device = (
        await session.execute(select(Device).where(Device.token == token))
    ).scalar_one_or_none()
    if device is None:
        raise NotFound(_("This device is not registered."))
    if device.user_id is not None:
        raise Conflict(
            _("This device belongs to an account: choose alert areas in its preferences.")
        )
    wards = await _wards_by_code(session, codes, "alert_wards")
    await session.execute(delete(AlertArea).where(AlertArea.device_id == device.id))
    session.add_all(AlertArea(device_id=device.id, ward_id=w.id) for w in wards)
    await session.flush()
    await topic_sync.sync_devices(session, [device.id])
    return [w.code for w in wards], await topic_sync.topics_of(session, device.id)


async def notify_area_subscribers(
    session: AsyncSession,
    *,
    report_id: int,
    code: str,
    ward_id: int | None,
    group: str,
    service_name_vi: str,
    service_name_en: str,
    exclude: set[int],
) -> int:
    """A new public report: a record for everyone whose subscription matches its ward (or the
    whole province) and its service group (or every group)."""
    rows = await session.execute(
        select(ReportSubscription.user_id)
        .where(
            or_(ReportSubscription.ward_id.is_(None), ReportSubscription.ward_id == ward_id),
            or_(
                ReportSubscription.service_group.is_(None),
                ReportSubscription.service_group == group,
            ),
        )
        .distinct()
    )
    users = sorted(set(rows.scalars()) - exclude)
    ward_name = ""
    if ward_id is not None:
        ward = await session.get(Ward, ward_id)
        ward_name = ward.name if ward else ""
    now = utcnow()
    await outbox.notify(
        session,
        [
            Notification(
                user_id=uid,
                event="report.area_new",
                subject_type="report",
                subject_id=report_id,
                data={
                    "code": code,
                    "service_vi": service_name_vi,
                    "service_en": service_name_en,
                    "ward": ward_name,
                },
                created_at=now,
            )
            for uid in users
        ],
        now=now,
    )
    return len(users)


@privacy.exporter("notification_preferences")
async def _export(session: AsyncSession, user: User) -> dict[str, Any]:
    return (await read(session, user)).model_dump(mode="json")


@privacy.eraser("notification_preferences")
async def _erase(session: AsyncSession, user: User) -> None:
    await session.execute(delete(AlertArea).where(AlertArea.user_id == user.id))
    await session.execute(delete(ReportSubscription).where(ReportSubscription.user_id == user.id))
    await session.execute(
        delete(NotificationPreference).where(NotificationPreference.user_id == user.id)
    )
