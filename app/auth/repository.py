"""Every query of the accounts domain."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import AuthSession, Consent, RefreshToken, User


async def get_user(session: AsyncSession, user_id: int) -> User | None:
    return await session.get(User, user_id)


async def find_by_identifier(
    session: AsyncSession, email: str | None, phone: str | None
) -> User | None:
    conditions = []
    if email:
        conditions.append(User.email == email)
    if phone:
        conditions.append(User.phone == phone)
    if not conditions:
        return None
    result = await session.execute(select(User).where(or_(*conditions)).limit(1))
    return result.scalar_one_or_none()


async def user_with_live_session(
    session: AsyncSession, user_id: int, session_id: int, now: datetime, kind: str
) -> User | None:
    """The user, only while the sign-in is neither revoked nor expired and the account active."""
    result = await session.execute(
        select(User)
        .join(AuthSession, AuthSession.user_id == User.id)
        .where(
            User.id == user_id,
            User.is_active.is_(True),
            User.deleted_at.is_(None),
            AuthSession.id == session_id,
            AuthSession.kind == kind,
            AuthSession.revoked_at.is_(None),
            AuthSession.expires_at > now,
        )
    )
    return result.scalar_one_or_none()


async def web_session_by_secret(
    session: AsyncSession, secret_hash: str, now: datetime
) -> tuple[AuthSession, User] | None:
    result = await session.execute(
        select(AuthSession, User)
        .join(User, AuthSession.user_id == User.id)
        .where(
            AuthSession.secret_hash == secret_hash,
            AuthSession.kind == "web",
            AuthSession.revoked_at.is_(None),
            AuthSession.expires_at > now,
            User.is_active.is_(True),
            User.deleted_at.is_(None),
        )
    )
    row = result.first()
    return (row[0], row[1]) if row else None


async def refresh_token_by_hash(
    session: AsyncSession, token_hash: str
) -> tuple[RefreshToken, AuthSession] | None:
    result = await session.execute(
        select(RefreshToken, AuthSession)
        .join(AuthSession, RefreshToken.session_id == AuthSession.id)
        .where(RefreshToken.token_hash == token_hash)
    )
    row = result.first()
    return (row[0], row[1]) if row else None


async def mark_refresh_used(session: AsyncSession, token_id: int, now: datetime) -> bool:
    """Atomically claim a refresh token: False if someone used it first."""
    result = await session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == token_id, RefreshToken.used_at.is_(None))
        .values(used_at=now)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


async def revoke_sessions(
    session: AsyncSession, user_id: int, now: datetime, *, except_id: int | None = None
) -> None:
    stmt = update(AuthSession).where(
        AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None)
    )
    if except_id is not None:
        stmt = stmt.where(AuthSession.id != except_id)
    await session.execute(stmt.values(revoked_at=now))


async def revoke_session(session: AsyncSession, session_id: int, now: datetime) -> None:
    await session.execute(
        update(AuthSession)
        .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def list_sessions(session: AsyncSession, user_id: int) -> Sequence[AuthSession]:
    result = await session.execute(
        select(AuthSession).where(AuthSession.user_id == user_id).order_by(AuthSession.id)
    )
    return result.scalars().all()


async def list_consents(session: AsyncSession, user_id: int) -> Sequence[Consent]:
    result = await session.execute(
        select(Consent).where(Consent.user_id == user_id).order_by(Consent.id)
    )
    return result.scalars().all()


async def delete_sign_ins(session: AsyncSession, user_id: int) -> None:
    await session.execute(delete(AuthSession).where(AuthSession.user_id == user_id))


async def delete_consents(session: AsyncSession, user_id: int) -> None:
    await session.execute(delete(Consent).where(Consent.user_id == user_id))


async def list_users(
    session: AsyncSession,
    *,
    role: str | None,
    department_id: int | None,
    limit: int,
    offset: int,
) -> tuple[Sequence[User], int]:
    from sqlalchemy import func

    stmt = select(User).where(User.deleted_at.is_(None))
    if role:
        stmt = stmt.where(User.role == role)
    if department_id is not None:
        stmt = stmt.where(User.department_id == department_id)
    total = await session.scalar(select(func.count()).select_from(stmt.subquery()))
    result = await session.execute(stmt.order_by(User.id).limit(limit).offset(offset))
    return result.scalars().all(), int(total or 0)
