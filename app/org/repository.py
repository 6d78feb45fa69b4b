"""Every query of departments and wards."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.org.models import Department, Ward


async def list_departments(session: AsyncSession) -> Sequence[Department]:
    return (await session.execute(select(Department).order_by(Department.code))).scalars().all()


async def department_by_code(session: AsyncSession, code: str) -> Department | None:
    result = await session.execute(select(Department).where(Department.code == code))
    return result.scalar_one_or_none()


async def get_department(session: AsyncSession, department_id: int) -> Department | None:
    return await session.get(Department, department_id)


async def list_wards(session: AsyncSession, folded_query: str | None = None) -> Sequence[Ward]:
    stmt = select(Ward).order_by(Ward.district, Ward.name)
    if folded_query:
        stmt = stmt.where(Ward.name_folded.contains(folded_query))
    return (await session.execute(stmt)).scalars().all()


async def ward_by_code(session: AsyncSession, code: str) -> Ward | None:
    return (await session.execute(select(Ward).where(Ward.code == code))).scalar_one_or_none()


async def wards_by_codes(session: AsyncSession, codes: Sequence[str]) -> list[Ward]:
    if not codes:
        return []
    rows = await session.execute(select(Ward).where(Ward.code.in_(set(codes))))
    return list(rows.scalars().all())


async def wards_whose_box_holds(session: AsyncSession, lat: float, lon: float) -> Sequence[Ward]:
    result = await session.execute(
        select(Ward).where(
            Ward.min_lat <= lat, Ward.max_lat >= lat, Ward.min_lon <= lon, Ward.max_lon >= lon
        )
    )
    return result.scalars().all()
