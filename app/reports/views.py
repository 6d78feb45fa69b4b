"""Turning reports into what each audience may see: the public (contacts never, personal data
in text masked), the reporter, and staff. Shared by the JSON API, Open311 and the pages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.db import utcnow
from app.kit.pii import mask_pii
from app.reports import repository as repo
from app.reports.models import OPEN_STATUSES, Report, ReportEvent, ReportPhoto, Status
from app.reports.schemas import EventRead, PhotoRead, QueueItem, ReportFull, ReportPublic


def photo_read(photo: ReportPhoto) -> PhotoRead:
    return PhotoRead(
        url=f"/media/photos/{photo.name}",
        thumb_url=f"/media/photos/{photo.thumb_name}",
        kind=photo.kind,
        width=photo.width,
        height=photo.height,
    )


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def photo_dict(photo: Any) -> dict[str, Any]:
    return {
        "url": f"/media/photos/{photo['name']}",
        "thumb_url": f"/media/photos/{photo['thumb_name']}",
        "kind": photo["kind"],
        "width": photo["width"],
        "height": photo["height"],
    }


def public_item(row: Any, photos: list[Any], locale: str, now: datetime) -> dict[str, Any]:
    """The public face of a report, JSON-ready: never who reported; personal data masked."""
    status = Status(row["status"])
    is_open = status in OPEN_STATUSES
    en = locale == "en"
    return {
        "code": row["code"],
        "service_code": row["service_code"],
        "service_name": row["service_name_en"] if en else row["service_name_vi"],
        "status": status.value,
        "open": is_open,
        "description": mask_pii(row["description"]),
        "lat": row["lat"],
        "lon": row["lon"],
        "address": mask_pii(row["address"]) if row["address"] else None,
        "ward_code": row["ward_code"],
        "ward_name": row["ward_name"],
        "department_code": row["department_code"],
        "department_name": row["department_name_en"] if en else row["department_name_vi"],
        "created_at": _iso(row["created_at"]),
        "updated_at": _iso(row["updated_at"]),
        "deadline_at": _iso(row["deadline_at"]),
        "overdue": is_open and row["deadline_at"] < now,
        "resolved_at": _iso(row["resolved_at"]),
        "support_count": row["support_count"],
        "rating": row["rating"],
        "duplicate_of": row["duplicate_of"],
        "photos": [photo_dict(p) for p in photos],
    }


async def public_items(
    session: AsyncSession,
    locale: str,
    *,
    limit: int = 50,
    offset: int = 0,
    with_total: bool = True,
    public_only: bool = True,
    **filters: Any,
) -> tuple[list[dict[str, Any]], int]:
    rows, total = await repo.public_rows(
        session,
        limit=limit,
        offset=offset,
        with_total=with_total,
        public_only=public_only,
        **filters,
    )
    photos = await repo.photo_rows(session, [r["id"] for r in rows])
    now = utcnow()
    return [public_item(r, photos[r["id"]], locale, now) for r in rows], total


def is_overdue(report: Report) -> bool:
    return Status(report.status) in OPEN_STATUSES and report.deadline_at < utcnow()


def event_read(
    event: ReportEvent, photos: list[ReportPhoto], names: dict[int, str], *, for_staff: bool
) -> EventRead:
    note = event.note if for_staff else (mask_pii(event.note) if event.note else None)
    return EventRead(
        kind=event.kind,
        from_status=event.from_status,
        to_status=event.to_status,
        note=note,
        is_public=event.is_public,
        actor_role=event.actor_role,
        actor_name=names.get(event.actor_id) if (for_staff and event.actor_id) else None,
        created_at=event.created_at,
        photos=[photo_read(p) for p in photos if p.event_id == event.id],
    )


async def timeline(session: AsyncSession, report: Report, *, for_staff: bool) -> list[EventRead]:
    events = await repo.events_of(session, report.id, public_only=not for_staff)
    photos = (await repo.photos_of(session, [report.id]))[report.id]
    names: dict[int, str] = {}
    if for_staff:
        for actor_id in {e.actor_id for e in events if e.actor_id}:
            user = await session.get(User, actor_id)
            if user is not None:
                names[actor_id] = user.full_name or user.identifier
    return [event_read(e, photos, names, for_staff=for_staff) for e in events]


async def full_view(
    session: AsyncSession, report: Report, locale: str, *, for_staff: bool
) -> ReportFull:
    items, _total = await public_items(
        session, locale, ids=[report.id], limit=1, with_total=False, public_only=False
    )
    base = items[0]
    if for_staff:
        base["description"] = report.description
        base["address"] = report.address
    return ReportFull(
        **base,
        is_public=report.is_public,
        hidden=report.hidden,
        hidden_reason=report.hidden_reason,
        reporter_name=report.reporter_name,
        reporter_email=report.reporter_email,
        reporter_phone=report.reporter_phone,
        assignee_id=report.assignee_id,
        attributes=report.attributes,
        rating_comment=report.rating_comment,
        timeline=await timeline(session, report, for_staff=for_staff),
    )


async def public_list(
    session: AsyncSession, reports: Sequence[Report], locale: str, *, public_only: bool = False
) -> list[ReportPublic]:
    """Public views of given reports, in the given order."""
    if not reports:
        return []
    items, _total = await public_items(
        session,
        locale,
        ids=[r.id for r in reports],
        limit=len(reports),
        with_total=False,
        public_only=public_only,
    )
    by_code = {item["code"]: item for item in items}
    return [ReportPublic(**by_code[r.code]) for r in reports if r.code in by_code]


async def public_one(session: AsyncSession, report: Report, locale: str) -> ReportPublic:
    items, _total = await public_items(
        session, locale, ids=[report.id], limit=1, with_total=False, public_only=False
    )
    return ReportPublic(**items[0])


async def queue_items(
    session: AsyncSession, reports: Sequence[Report], locale: str
) -> list[QueueItem]:
    services = {s.id: s for s in await repo.list_services(session, include_inactive=True)}
    wards = await repo.wards_by_id(session, {r.ward_id for r in reports if r.ward_id})
    out = []
    for r in reports:
        ward = wards.get(r.ward_id) if r.ward_id else None
        service = services[r.service_id]
        out.append(
            QueueItem(
                code=r.code,
                service_code=service.code,
                service_name=service.name(locale),
                status=Status(r.status),
                ward_name=ward.name if ward else None,
                address=r.address,
                description=r.description[:200],
                assignee_id=r.assignee_id,
                deadline_at=r.deadline_at,
                overdue=is_overdue(r),
                support_count=r.support_count,
                created_at=r.created_at,
            )
        )
    return out
