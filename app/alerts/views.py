"""Alerts as each audience sees them; shared by the JSON API, the pages and the Atom feed."""

from __future__ import annotations

from datetime import datetime

from app.alerts import service, texts
from app.alerts.models import Alert, AlertStatus, Severity
from app.alerts.schemas import (
    AlertPublic,
    AlertStaff,
    AuditRead,
    LanguagePreviewRead,
    PreviewRead,
    WardRead,
)
from app.db import utcnow


def public(alert: Alert, locale: str, now: datetime | None = None) -> AlertPublic:
    return AlertPublic(
        id=alert.id,
        severity=Severity(alert.severity),
        severity_label=texts.severity_label(alert.severity),
        status=AlertStatus(alert.status),
        active=service.is_active(alert, now or utcnow()),
        title=alert.title(locale),
        body=alert.body(locale),
        title_vi=alert.title_vi,
        body_vi=alert.body_vi,
        title_en=alert.title_en,
        body_en=alert.body_en,
        whole_province=alert.whole_province,
        wards=[
            WardRead(code=w.code, name=w.name, kind=w.kind, district=w.district)
            for w in sorted(alert.wards, key=lambda w: (w.district, w.name))
        ],
        sent_at=alert.sent_at,
        expires_at=alert.expires_at,
        cancelled_at=alert.cancelled_at,
        url=f"/alerts/{alert.id}",
    )


def staff(alert: Alert, locale: str, now: datetime | None = None) -> AlertStaff:
    return AlertStaff(
        **public(alert, locale, now).model_dump(),
        created_at=alert.created_at,
        updated_at=alert.updated_at,
        created_by_id=alert.created_by_id,
        sent_by_id=alert.sent_by_id,
        cancelled_by_id=alert.cancelled_by_id,
    )


def preview(found: service.Preview, locale: str) -> PreviewRead:
    return PreviewRead(
        alert=staff(found.alert, locale),
        languages=[
            LanguagePreviewRead(
                locale=p.locale,
                title=p.title,
                body=p.body,
                bytes=p.bytes,
                limit=p.limit,
                fits=p.fits,
                topics=p.topics,
                devices=p.devices,
            )
            for p in found.languages
        ],
        devices=found.devices,
        priority=found.priority,
        held_until=found.held_until,
        problems=found.problems,
    )


def audit(entries: list[service.AuditView]) -> list[AuditRead]:
    return [
        AuditRead(
            action=e.action, at=e.at, actor_id=e.actor_id, actor_name=e.actor_name, data=e.data
        )
        for e in entries
    ]
