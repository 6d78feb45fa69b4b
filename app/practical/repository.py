"""Every query of practical help."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.places.models import Place
from app.practical.models import GuidePage, HelpContact


async def contacts(
    session: AsyncSession, *, include_retired: bool = False
) -> Sequence[HelpContact]:
    stmt = select(HelpContact).order_by(HelpContact.sort_order, HelpContact.code)
    if not include_retired:
        stmt = stmt.where(HelpContact.retired_at.is_(None))
    return (await session.execute(stmt)).scalars().all()


async def contact_by_code(
    session: AsyncSession, code: str, *, for_update: bool = False
) -> HelpContact | None:
    stmt = select(HelpContact).where(HelpContact.code == code)
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalar_one_or_none()


async def code_taken(session: AsyncSession, code: str) -> bool:
    return await session.scalar(select(HelpContact.id).where(HelpContact.code == code)) is not None


async def guides(session: AsyncSession, *, include_retired: bool = False) -> Sequence[GuidePage]:
    stmt = select(GuidePage).order_by(GuidePage.sort_order, GuidePage.slug)
    if not include_retired:
        stmt = stmt.where(GuidePage.retired_at.is_(None))
    return (await session.execute(stmt)).scalars().all()


async def guide_by_slug(
    session: AsyncSession, slug: str, *, for_update: bool = False
) -> GuidePage | None:
    stmt = select(GuidePage).where(GuidePage.slug == slug)
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalar_one_or_none()


async def place_by_code(session: AsyncSession, code: str) -> Place | None:
    return await session.scalar(select(Place).where(Place.code == code))


async def places_by_ids(session: AsyncSession, ids: Iterable[int | None]) -> dict[int, Place]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    rows = await session.execute(select(Place).where(Place.id.in_(wanted)))
    return {place.id: place for place in rows.scalars()}


async def user_names(session: AsyncSession, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    rows = await session.execute(
        select(User.id, User.full_name, User.email, User.phone).where(User.id.in_(wanted))
    )
    return {uid: name or email or phone or str(uid) for uid, name, email, phone in rows.all()}
