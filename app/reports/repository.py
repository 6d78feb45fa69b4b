"""Every query of the reports domain."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.kit.geo import bbox, distance_m
from app.org.models import Department, Ward
from app.reports.models import (
    OPEN_STATUSES,
    IdempotentRequest,
    Report,
    ReportEvent,
    ReportFollower,
    ReportPhoto,
    ReportSupport,
    ResponseTemplate,
    Service,
    ServiceAttribute,
    ServiceRoute,
)

# Catalogue


async def list_services(
    session: AsyncSession, *, include_inactive: bool = False
) -> Sequence[Service]:
    stmt = select(Service).order_by(Service.group, Service.code)
    if not include_inactive:
        stmt = stmt.where(Service.active.is_(True))
    return (await session.execute(stmt)).scalars().all()


async def service_by_code(session: AsyncSession, code: str) -> Service | None:
    return (await session.execute(select(Service).where(Service.code == code))).scalar_one_or_none()


async def attributes_of(
    session: AsyncSession, service_ids: Sequence[int]
) -> dict[int, list[ServiceAttribute]]:
    out: dict[int, list[ServiceAttribute]] = {sid: [] for sid in service_ids}
    if not service_ids:
        return out
    rows = await session.execute(
        select(ServiceAttribute)
        .where(ServiceAttribute.service_id.in_(service_ids))
        .order_by(ServiceAttribute.order, ServiceAttribute.id)
    )
    for attribute in rows.scalars():
        out[attribute.service_id].append(attribute)
    return out


async def replace_attributes(
    session: AsyncSession, service_id: int, attributes: list[ServiceAttribute]
) -> None:
    await session.execute(delete(ServiceAttribute).where(ServiceAttribute.service_id == service_id))
    session.add_all(attributes)


async def replace_routes(
    session: AsyncSession, service_id: int, routes: list[ServiceRoute]
) -> None:
    await session.execute(delete(ServiceRoute).where(ServiceRoute.service_id == service_id))
    session.add_all(routes)


async def route_for(session: AsyncSession, service_id: int, ward_id: int) -> int | None:
    return await session.scalar(
        select(ServiceRoute.department_id).where(
            ServiceRoute.service_id == service_id, ServiceRoute.ward_id == ward_id
        )
    )


async def department_codes(session: AsyncSession) -> dict[int, Department]:
    return {d.id: d for d in (await session.execute(select(Department))).scalars()}


async def wards_by_id(session: AsyncSession, ids: set[int]) -> dict[int, Ward]:
    if not ids:
        return {}
    return {
        w.id: w for w in (await session.execute(select(Ward).where(Ward.id.in_(ids)))).scalars()
    }


# Reports


async def code_exists(session: AsyncSession, code: str) -> bool:
    return (await session.scalar(select(Report.id).where(Report.code == code))) is not None


async def report_by_code(
    session: AsyncSession, code: str, *, for_update: bool = False
) -> Report | None:
    stmt = select(Report).where(Report.code == code.upper())
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def photos_of(
    session: AsyncSession, report_ids: Sequence[int]
) -> dict[int, list[ReportPhoto]]:
    out: dict[int, list[ReportPhoto]] = {rid: [] for rid in report_ids}
    if not report_ids:
        return out
    rows = await session.execute(
        select(ReportPhoto).where(ReportPhoto.report_id.in_(report_ids)).order_by(ReportPhoto.id)
    )
    for photo in rows.scalars():
        out[photo.report_id].append(photo)
    return out


async def events_of(
    session: AsyncSession, report_id: int, *, public_only: bool
) -> Sequence[ReportEvent]:
    stmt = select(ReportEvent).where(ReportEvent.report_id == report_id).order_by(ReportEvent.id)
    if public_only:
        stmt = stmt.where(ReportEvent.is_public.is_(True))
    return (await session.execute(stmt)).scalars().all()


async def open_reports_near(
    session: AsyncSession, service_id: int, lat: float, lon: float, radius_m: float, limit: int = 20
) -> list[tuple[Report, float]]:
    """Open, public reports of one service within radius_m, nearest first (the box narrows in
    SQL on the lat/lon index; the exact distance decides)."""
    min_lat, max_lat, min_lon, max_lon = bbox(lat, lon, radius_m)
    rows = await session.execute(
        select(Report).where(
            Report.service_id == service_id,
            Report.status.in_([s.value for s in OPEN_STATUSES]),
            Report.is_public.is_(True),
            Report.hidden.is_(False),
            Report.lat.between(min_lat, max_lat),
            Report.lon.between(min_lon, max_lon),
        )
    )
    found = []
    for report in rows.scalars():
        assert report.lat is not None and report.lon is not None
        d = distance_m(lat, lon, report.lat, report.lon)
        if d <= radius_m:
            found.append((report, d))
    found.sort(key=lambda item: item[1])
    return found[:limit]


def _public_filters(
    stmt: Any,
    *,
    ids: list[int] | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    ward_id: int | None = None,
    service_ids: list[int] | None = None,
    statuses: list[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    public_only: bool = True,
) -> Any:
    if public_only:
        stmt = stmt.where(Report.is_public.is_(True), Report.hidden.is_(False))
    if ids is not None:
        stmt = stmt.where(Report.id.in_(ids))
    if bbox:
        min_lon, min_lat, max_lon, max_lat = bbox
        stmt = stmt.where(
            Report.lat.between(min_lat, max_lat), Report.lon.between(min_lon, max_lon)
        )
    if ward_id is not None:
        stmt = stmt.where(Report.ward_id == ward_id)
    if service_ids is not None:
        stmt = stmt.where(Report.service_id.in_(service_ids))
    if statuses:
        stmt = stmt.where(Report.status.in_(statuses))
    if since:
        stmt = stmt.where(Report.created_at >= since)
    if until:
        stmt = stmt.where(Report.created_at < until)
    return stmt


async def public_rows(
    session: AsyncSession,
    *,
    limit: int = 50,
    offset: int = 0,
    with_total: bool = True,
    **filters: Any,
) -> tuple[list[Any], int]:
    """The hot public read: one Core query with the names joined in, no ORM objects."""
    duplicate = aliased(Report)
    columns = select(
        Report.id,
        Report.code,
        Report.status,
        Report.description,
        Report.lat,
        Report.lon,
        Report.address,
        Report.created_at,
        Report.updated_at,
        Report.deadline_at,
        Report.resolved_at,
        Report.support_count,
        Report.rating,
        Service.code.label("service_code"),
        Service.name_vi.label("service_name_vi"),
        Service.name_en.label("service_name_en"),
        Department.code.label("department_code"),
        Department.name_vi.label("department_name_vi"),
        Department.name_en.label("department_name_en"),
        Ward.code.label("ward_code"),
        Ward.name.label("ward_name"),
        duplicate.code.label("duplicate_of"),
    ).select_from(Report)
    stmt = (
        _public_filters(columns, **filters)
        .join(Service, Service.id == Report.service_id)
        .join(Department, Department.id == Report.department_id)
        .outerjoin(Ward, Ward.id == Report.ward_id)
        .outerjoin(duplicate, duplicate.id == Report.duplicate_of_id)
        .order_by(Report.created_at.desc(), Report.id.desc())
        .limit(limit)
        .offset(offset)
    )
    rows = list((await session.execute(stmt)).mappings())
    total = len(rows)
    if with_total:
        count = _public_filters(select(func.count()).select_from(Report), **filters)
        total = int(await session.scalar(count) or 0)
    return rows, total


async def photo_rows(
    session: AsyncSession, report_ids: list[int], kind: str | None = "submission"
) -> dict[int, list[Any]]:
    out: dict[int, list[Any]] = {rid: [] for rid in report_ids}
    if not report_ids:
        return out
    stmt = select(
        ReportPhoto.report_id,
        ReportPhoto.event_id,
        ReportPhoto.name,
        ReportPhoto.thumb_name,
        ReportPhoto.kind,
        ReportPhoto.width,
        ReportPhoto.height,
    ).where(ReportPhoto.report_id.in_(report_ids))
    if kind:
        stmt = stmt.where(ReportPhoto.kind == kind)
    for row in (await session.execute(stmt.order_by(ReportPhoto.id))).mappings():
        out[row["report_id"]].append(row)
    return out


async def public_reports(
    session: AsyncSession,
    *,
    bbox: tuple[float, float, float, float] | None,
    ward_id: int | None,
    service_ids: list[int] | None,
    statuses: list[str] | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    offset: int,
) -> tuple[Sequence[Report], int]:
    """Public reports as ORM objects (Open311 reads them); the JSON API uses public_rows."""
    stmt = _public_filters(
        select(Report),
        bbox=bbox,
        ward_id=ward_id,
        service_ids=service_ids,
        statuses=statuses,
        since=since,
        until=until,
    )
    total = await session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = await session.execute(
        stmt.order_by(Report.created_at.desc(), Report.id.desc()).limit(limit).offset(offset)
    )
    return rows.scalars().all(), int(total or 0)


async def reports_of_user(
    session: AsyncSession, user_id: int, limit: int, offset: int
) -> tuple[Sequence[Report], int]:
    stmt = select(Report).where(Report.reporter_id == user_id)
    total = await session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = await session.execute(
        stmt.order_by(Report.created_at.desc()).limit(limit).offset(offset)
    )
    return rows.scalars().all(), int(total or 0)


async def queue(
    session: AsyncSession,
    *,
    department_id: int | None,
    statuses: list[str] | None,
    ward_id: int | None,
    service_id: int | None,
    overdue_at: datetime | None,
    assignee_id: int | None,
    limit: int,
    offset: int,
) -> tuple[Sequence[Report], int]:
    stmt = select(Report)
    if department_id is not None:
        stmt = stmt.where(Report.department_id == department_id)
    if statuses:
        stmt = stmt.where(Report.status.in_(statuses))
    if ward_id is not None:
        stmt = stmt.where(Report.ward_id == ward_id)
    if service_id is not None:
        stmt = stmt.where(Report.service_id == service_id)
    if assignee_id is not None:
        stmt = stmt.where(Report.assignee_id == assignee_id)
    if overdue_at is not None:
        stmt = stmt.where(
            Report.deadline_at < overdue_at, Report.status.in_([s.value for s in OPEN_STATUSES])
        )
    total = await session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = await session.execute(
        stmt.order_by(Report.deadline_at, Report.id).limit(limit).offset(offset)
    )
    return rows.scalars().all(), int(total or 0)


async def follower_ids(session: AsyncSession, report_id: int) -> list[int]:
    rows = await session.execute(
        select(ReportFollower.user_id).where(ReportFollower.report_id == report_id)
    )
    return [r[0] for r in rows]


async def is_following(session: AsyncSession, report_id: int, user_id: int) -> bool:
    return (
        await session.scalar(
            select(ReportFollower.id).where(
                ReportFollower.report_id == report_id, ReportFollower.user_id == user_id
            )
        )
    ) is not None


async def unfollow(session: AsyncSession, report_id: int, user_id: int) -> None:
    await session.execute(
        delete(ReportFollower).where(
            ReportFollower.report_id == report_id, ReportFollower.user_id == user_id
        )
    )


async def has_supported(session: AsyncSession, report_id: int, key: str) -> bool:
    return (
        await session.scalar(
            select(ReportSupport.id).where(
                ReportSupport.report_id == report_id, ReportSupport.supporter_key == key
            )
        )
    ) is not None


async def move_supporters_and_followers(
    session: AsyncSession, source_id: int, target_id: int
) -> None:
    """On a merge, the duplicate's supporters and followers carry over (no double counting)."""
    target_keys = set(
        (
            await session.execute(
                select(ReportSupport.supporter_key).where(ReportSupport.report_id == target_id)
            )
        ).scalars()
    )
    target_users = set(await follower_ids(session, target_id))
    for support in (
        await session.execute(select(ReportSupport).where(ReportSupport.report_id == source_id))
    ).scalars():
        if support.supporter_key not in target_keys:
            session.add(
                ReportSupport(
                    report_id=target_id,
                    user_id=support.user_id,
                    supporter_key=support.supporter_key,
                )
            )
    for user_id in await follower_ids(session, source_id):
        if user_id not in target_users:
            session.add(ReportFollower(report_id=target_id, user_id=user_id))
    await session.flush()
    count = await session.scalar(select(func.count()).where(ReportSupport.report_id == target_id))
    await session.execute(update(Report).where(Report.id == target_id).values(support_count=count))


async def templates_for(
    session: AsyncSession, department_id: int | None
) -> Sequence[ResponseTemplate]:
    stmt = select(ResponseTemplate).order_by(ResponseTemplate.title)
    if department_id is not None:
        stmt = stmt.where(
            or_(
                ResponseTemplate.department_id.is_(None),
                ResponseTemplate.department_id == department_id,
            )
        )
    return (await session.execute(stmt)).scalars().all()


async def get_template(session: AsyncSession, template_id: int) -> ResponseTemplate | None:
    return await session.get(ResponseTemplate, template_id)


async def stale_resolved(session: AsyncSession, before: datetime) -> Sequence[Report]:
    """Locked and skipped by a concurrent closer on PostgreSQL (several workers may run it)."""
    rows = await session.execute(
        select(Report)
        .where(Report.status == "resolved", Report.resolved_at < before)
        .with_for_update(skip_locked=True)
    )
    return rows.scalars().all()


async def idempotent_lookup(
    session: AsyncSession, scope: str, key: str
) -> IdempotentRequest | None:
    return (
        await session.execute(
            select(IdempotentRequest).where(
                IdempotentRequest.scope == scope, IdempotentRequest.key == key
            )
        )
    ).scalar_one_or_none()
