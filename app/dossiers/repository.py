"""Every query of dossiers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy import Select, and_, case, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from app.auth.models import User
from app.dossiers.models import RUNNING, Dossier, DossierEvent, DossierFollower
from app.kit.text import fold
from app.org.models import Department
from app.procedures.models import Agency, Procedure

_RUNNING = [s.value for s in RUNNING]
_S = TypeVar("_S", bound=Select)


async def by_code(session: AsyncSession, code: str, *, for_update: bool = False) -> Dossier | None:
    stmt = select(Dossier).where(Dossier.code == code)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def last_code_with(session: AsyncSession, prefix: str) -> str | None:
    """The greatest code that starts with `prefix` (codes of a day share a prefix and a width)."""
    return await session.scalar(
        select(Dossier.code)
        .where(Dossier.code.like(f"{prefix}%"))
        .order_by(Dossier.code.desc())
        .limit(1)
    )


async def events_of(
    session: AsyncSession, dossier_id: int, *, with_internal_notes: bool
) -> list[DossierEvent]:
    """Oldest first. Without internal notes: a status change keeps its row (its note is the
    caller's to hide), a note for staff only is left out."""
    stmt = select(DossierEvent).where(DossierEvent.dossier_id == dossier_id)
    if not with_internal_notes:
        stmt = stmt.where(
            or_(DossierEvent.internal.is_(False), DossierEvent.to_status.is_not(None))
        )
    stmt = stmt.order_by(DossierEvent.at, DossierEvent.id)
    return list((await session.execute(stmt)).scalars())


async def procedures_of(
    session: AsyncSession, procedure_ids: Iterable[int]
) -> dict[int, tuple[Procedure, Agency]]:
    ids = sorted(set(procedure_ids))
    if not ids:
        return {}
    rows = await session.execute(
        select(Procedure, Agency)
        .join(Agency, Agency.id == Procedure.agency_id)
        .where(Procedure.id.in_(ids))
    )
    return {procedure.id: (procedure, agency) for procedure, agency in rows.all()}


async def procedure_with_agency(
    session: AsyncSession, code: str
) -> tuple[Procedure, Agency] | None:
    row = (
        await session.execute(
            select(Procedure, Agency)
            .join(Agency, Agency.id == Procedure.agency_id)
            .where(Procedure.code == code)
        )
    ).first()
    return (row[0], row[1]) if row else None


async def department(session: AsyncSession, department_id: int | None) -> Department | None:
    return await session.get(Department, department_id) if department_id is not None else None


async def users(session: AsyncSession, user_ids: Iterable[int | None]) -> dict[int, User]:
    ids = sorted({i for i in user_ids if i is not None})
    if not ids:
        return {}
    rows = await session.execute(select(User).where(User.id.in_(ids)))
    return {u.id: u for u in rows.scalars()}


async def active_user_by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(
        select(User).where(func.lower(User.email) == email.lower(), User.is_active.is_(True))
    )


# Followers ---------------------------------------------------------------------------------


async def follower_ids(session: AsyncSession, dossier_id: int) -> list[int]:
    rows = await session.execute(
        select(DossierFollower.user_id).where(DossierFollower.dossier_id == dossier_id)
    )
    return [r[0] for r in rows]


async def is_following(session: AsyncSession, dossier_id: int, user_id: int) -> bool:
    found = await session.scalar(
        select(DossierFollower.id).where(
            DossierFollower.dossier_id == dossier_id, DossierFollower.user_id == user_id
        )
    )
    return found is not None


async def unfollow(session: AsyncSession, dossier_id: int, user_id: int) -> None:
    await session.execute(
        delete(DossierFollower).where(
            DossierFollower.dossier_id == dossier_id, DossierFollower.user_id == user_id
        )
    )


async def followed_by(
    session: AsyncSession, user_id: int, *, limit: int, offset: int
) -> tuple[list[Dossier], int]:
    """The dossiers a person follows, the latest received first."""
    followed = select(DossierFollower.dossier_id).where(DossierFollower.user_id == user_id)
    total = await session.scalar(select(func.count()).select_from(followed.subquery())) or 0
    rows = await session.execute(
        select(Dossier)
        .where(Dossier.id.in_(followed))
        .order_by(Dossier.received_at.desc(), Dossier.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(rows.scalars()), total


# The staff's list --------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Which dossiers a list covers (every filter but the status)."""

    department_id: int | None = None  # None: every department (managers)
    procedure_id: int | None = None
    query: str | None = None


def overdue_clause(now: datetime) -> ColumnElement[bool]:
    """Running (not paused, not stopped) and past due."""
    return and_(Dossier.status.in_(_RUNNING), Dossier.due_at < now)


def _scoped(stmt: _S, scope: Scope) -> _S:
    if scope.department_id is not None:
        stmt = stmt.where(Dossier.department_id == scope.department_id)
    if scope.procedure_id is not None:
        stmt = stmt.where(Dossier.procedure_id == scope.procedure_id)
    if scope.query:
        words = scope.query.strip()
        like = f"%{_escape(words)}%"
        stmt = stmt.where(
            or_(
                Dossier.code.ilike(like, escape="\\"),
                Dossier.applicant_key.like(f"%{_escape(fold(words))}%", escape="\\"),
                Dossier.tax_code.like(f"{_escape(words)}%", escape="\\"),
            )
        )
    return stmt


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def staff_list(
    session: AsyncSession,
    scope: Scope,
    *,
    statuses: Sequence[str] | None,
    overdue_only: bool,
    now: datetime,
    limit: int,
    offset: int,
) -> tuple[list[Dossier], int]:
    """Overdue first, then by due date (paused and stopped ones, without one, last), then the
    latest received."""
    stmt = _scoped(select(Dossier), scope)
    if statuses:
        stmt = stmt.where(Dossier.status.in_(list(statuses)))
    if overdue_only:
        stmt = stmt.where(overdue_clause(now))
    total = await session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    is_overdue = case((overdue_clause(now), 0), else_=1)
    is_running = case((Dossier.status.in_(_RUNNING), 0), else_=1)
    rows = await session.execute(
        stmt.order_by(
            is_overdue,
            is_running,
            Dossier.due_at.is_(None),
            Dossier.due_at,
            Dossier.received_at.desc(),
            Dossier.id.desc(),
        )
        .limit(limit)
        .offset(offset)
    )
    return list(rows.scalars()), total


async def status_counts(
    session: AsyncSession, scope: Scope, *, now: datetime
) -> tuple[dict[str, int], int]:
    """How many dossiers of the scope are in each status, and how many are overdue."""
    rows = await session.execute(
        _scoped(
            select(
                Dossier.status,
                func.count(),
                func.sum(case((overdue_clause(now), 1), else_=0)),
            ),
            scope,
        ).group_by(Dossier.status)
    )
    counts: dict[str, int] = {}
    overdue = 0
    for status, count, late in rows.all():
        counts[status] = int(count)
        overdue += int(late or 0)
    return counts, overdue
