"""Rules with the clock set: quiet hours for announcements, expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts import service
from app.alerts.models import Severity
from app.alerts.schemas import AlertIn
from app.auth.models import Role
from app.config import Settings
from app.db import utcnow
from app.errors import InvalidInput
from tests.alerts.conftest import deliveries_of
from tests.builders import create_user

# 22:00 in Yên Bái (UTC+7) is 15:00 UTC; quiet hours end at 06:00 local, 23:00 UTC.
TEN_PM = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
SIX_AM = datetime(2026, 11, 27, 23, 0, tzinfo=UTC)


def draft(severity: Severity, expires_at: datetime, **kw: object) -> AlertIn:
    values: dict[str, object] = {
        "severity": severity,
        "title_vi": "Thông báo lịch cắt điện",
        "body_vi": "Cắt điện từ 7 giờ đến 11 giờ để sửa đường dây.",
        "expires_at": expires_at,
    }
    values.update(kw)
    return AlertIn.model_validate(values)


async def test_an_announcement_at_ten_pm_waits_until_six_an_emergency_does_not(
    session: AsyncSession, settings: Settings
) -> None:
    manager = await create_user(session, role=Role.manager)
    expires = TEN_PM + timedelta(days=1)
    announcement = await service.create(
        session, settings, manager, draft(Severity.announcement, expires), now=TEN_PM
    )
    emergency = await service.create(
        session, settings, manager, draft(Severity.emergency, expires), now=TEN_PM
    )
    before = utcnow()
    await service.send(session, settings, manager, announcement, now=TEN_PM)
    await service.send(session, settings, manager, emergency, now=TEN_PM)

    held = await deliveries_of(session, announcement.id)
    assert len(held) == 2
    assert {d.next_attempt_at for d in held} == {SIX_AM}
    assert {d.priority for d in held} == {"normal"}
    now_rows = await deliveries_of(session, emergency.id)
    assert len(now_rows) == 2 and {d.priority for d in now_rows} == {"high"}
    assert all(before - timedelta(seconds=5) <= d.next_attempt_at <= utcnow() for d in now_rows)
    assert announcement.sent_at == TEN_PM

    trail = await service.audit_trail(session, announcement)
    assert trail[-1].data["held_until"] == SIX_AM.isoformat()


@pytest.mark.parametrize("severity", [Severity.warning, Severity.advisory])
async def test_warnings_and_advisories_never_wait(
    session: AsyncSession, settings: Settings, severity: Severity
) -> None:
    manager = await create_user(session, role=Role.manager)
    alert = await service.create(
        session, settings, manager, draft(severity, TEN_PM + timedelta(hours=3)), now=TEN_PM
    )
    found = await service.preview(session, settings, alert, now=TEN_PM)
    assert found.held_until is None and found.problems == []
    await service.send(session, settings, manager, alert, now=TEN_PM)
    assert all(d.next_attempt_at <= utcnow() for d in await deliveries_of(session, alert.id))


async def test_an_announcement_in_the_day_goes_at_once(
    session: AsyncSession, settings: Settings
) -> None:
    manager = await create_user(session, role=Role.manager)
    noon = datetime(2026, 11, 27, 5, 0, tzinfo=UTC)  # 12:00 in Yên Bái
    alert = await service.create(
        session,
        settings,
        manager,
        draft(Severity.announcement, noon + timedelta(hours=6)),
        now=noon,
    )
    await service.send(session, settings, manager, alert, now=noon)
    assert all(d.next_attempt_at <= utcnow() for d in await deliveries_of(session, alert.id))


async def test_an_announcement_that_would_expire_while_held_is_refused(
    session: AsyncSession, settings: Settings
) -> None:
    manager = await create_user(session, role=Role.manager)
    alert = await service.create(
        session,
        settings,
        manager,
        draft(Severity.announcement, TEN_PM + timedelta(hours=2)),
        now=TEN_PM,
    )
    found = await service.preview(session, settings, alert, now=TEN_PM)
    assert found.held_until == SIX_AM and found.problems and not found.can_send
    with pytest.raises(InvalidInput) as refused:
        await service.send(session, settings, manager, alert, now=TEN_PM)
    assert refused.value.errors and refused.value.errors[0]["field"] == "expires_at"
    assert alert.status == "draft" and await deliveries_of(session, alert.id) == []


async def test_an_expired_draft_is_not_sent(session: AsyncSession, settings: Settings) -> None:
    manager = await create_user(session, role=Role.manager)
    alert = await service.create(
        session, settings, manager, draft(Severity.warning, TEN_PM + timedelta(hours=1)), now=TEN_PM
    )
    later = TEN_PM + timedelta(hours=2)
    found = await service.preview(session, settings, alert, now=later)
    assert not found.can_send
    with pytest.raises(service.AlertExpired):
        await service.send(session, settings, manager, alert, now=later)
    assert alert.status == "draft" and await deliveries_of(session, alert.id) == []
