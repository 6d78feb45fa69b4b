"""Every query of the Open311 domain: partner keys, and the public reports it lists."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.open311.models import Open311Key
from app.reports.models import Report, ReportEvent

# Keys


async def key_by_hash(session: AsyncSession, key_hash: str) -> Open311Key | None:
    return (
        await session.execute(select(Open311Key).where(Open311Key.key_hash == key_hash))
    ).scalar_one_or_none()


async def active_key_named(session: AsyncSession, name: str) -> Open311Key | None:
    return (
        await session.execute(
            select(Open311Key).where(Open311Key.name == name, Open311Key.revoked_at.is_(None))
        )
    ).scalar_one_or_none()


async def list_keys(session: AsyncSession) -> Sequence[Open311Key]:
    return (
        (await session.execute(select(Open311Key).order_by(Open311Key.name, Open311Key.id)))
        .scalars()
        .all()
    )


# Reports


async def public_reports_by_code(session: AsyncSession, codes: Sequence[str]) -> list[Report]:
    """Public, not hidden reports with these codes, in the order asked for."""
    if not codes:
        return []
    rows = await session.execute(
        select(Report).where(
            Report.code.in_(codes), Report.is_public.is_(True), Report.hidden.is_(False)
        )
    )
    found = {r.code: r for r in rows.scalars()}
    return [found[c] for c in codes if c in found]


async def report_code(session: AsyncSession, code: str) -> str | None:
    return await session.scalar(select(Report.code).where(Report.code == code))


async def public_notes(
    session: AsyncSession, report_ids: Sequence[int]
) -> dict[int, list[ReportEvent]]:
    """The public timeline lines that carry a note, oldest first, for a batch of reports."""
    out: dict[int, list[ReportEvent]] = {rid: [] for rid in report_ids}
    if not report_ids:
        return out
    rows = await session.execute(
        select(ReportEvent)
        .where(
            ReportEvent.report_id.in_(report_ids),
            ReportEvent.is_public.is_(True),
            ReportEvent.note.is_not(None),
            ReportEvent.note != "",
        )
        .order_by(ReportEvent.report_id, ReportEvent.id)
    )
    for event in rows.scalars():
        out[event.report_id].append(event)
    return out
