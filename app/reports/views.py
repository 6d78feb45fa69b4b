"""Turning reports into what each audience may see: the public (contacts never, personal data
in text masked), the reporter, and staff. Shared by the JSON API, Open311 and the pages."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.db import utcnow
from app.kit.pii import mask_pii
from app.org.models import Department, Ward
from app.reports import repository as repo
from app.reports.models import OPEN_STATUSES, Report, ReportEvent, ReportPhoto, Service, Status
from app.reports.schemas import EventRead, PhotoRead, QueueItem, ReportFull, ReportPublic


def photo_read(photo: ReportPhoto) -> PhotoRead:
    return PhotoRead(
        url=f"/media/photos/{photo.name}",
        thumb_url=f"/media/photos/{photo.thumb_name}",
        kind=photo.kind,
        width=photo.width,
        height=photo.height,
    )


class Lookups:
    """Services, departments and wards for a batch of reports, loaded once (no N+1)."""

    def __init__(
        self,
        services: dict[int, Service],
        departments: dict[int, Department],
        wards: dict[int, Ward],
        duplicates: dict[int, str],
    ) -> None:
        self.services, self.departments, self.wards, self.duplicates = (
            services,
            departments,
            wards,
            duplicates,
        )

    @classmethod
    async def load(cls, session: AsyncSession, reports: Sequence[Report]) -> Lookups:
        services = {s.id: s for s in await repo.list_services(session, include_inactive=True)}
        departments = await repo.department_codes(session)
        wards = await repo.wards_by_id(session, {r.ward_id for r in reports if r.ward_id})
        duplicates: dict[int, str] = {}
        for report in reports:
            if report.duplicate_of_id:
                target = await session.get(Report, report.duplicate_of_id)
                if target is not None:
                    duplicates[report.id] = target.code
        return cls(services, departments, wards, duplicates)


def public_view(
    report: Report, lookups: Lookups, locale: str, photos: list[ReportPhoto]
) -> ReportPublic:
    service = lookups.services[report.service_id]
    department = lookups.departments[report.department_id]
    ward = lookups.wards.get(report.ward_id) if report.ward_id else None
    return ReportPublic(
        code=report.code,
        service_code=service.code,
        service_name=service.name(locale),
        status=Status(report.status),
        open=Status(report.status) in OPEN_STATUSES,
        description=mask_pii(report.description),
        lat=report.lat,
        lon=report.lon,
        address=mask_pii(report.address) if report.address else None,
        ward_code=ward.code if ward else None,
        ward_name=ward.name if ward else None,
        department_code=department.code,
        department_name=department.name(locale),
        created_at=report.created_at,
        updated_at=report.updated_at,
        deadline_at=report.deadline_at,
        overdue=is_overdue(report),
        resolved_at=report.resolved_at,
        support_count=report.support_count,
        rating=report.rating,
        duplicate_of=lookups.duplicates.get(report.id),
        photos=[photo_read(p) for p in photos if p.kind == "submission"],
    )


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
    lookups = await Lookups.load(session, [report])
    photos = (await repo.photos_of(session, [report.id]))[report.id]
    base = public_view(report, lookups, locale, photos)
    if for_staff:
        base.description = report.description
        base.address = report.address
    return ReportFull(
        **base.model_dump(),
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
    session: AsyncSession, reports: Sequence[Report], locale: str
) -> list[ReportPublic]:
    lookups = await Lookups.load(session, reports)
    photos = await repo.photos_of(session, [r.id for r in reports])
    return [public_view(r, lookups, locale, photos[r.id]) for r in reports]


async def queue_items(
    session: AsyncSession, reports: Sequence[Report], locale: str
) -> list[QueueItem]:
    lookups = await Lookups.load(session, reports)
    out = []
    for r in reports:
        ward = lookups.wards.get(r.ward_id) if r.ward_id else None
        service = lookups.services[r.service_id]
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
