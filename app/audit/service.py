"""The audit trail: one call, in the same transaction as the change it records."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEntry
from app.db import utcnow


async def record(
    session: AsyncSession,
    actor_id: int | None,
    action: str,
    subject_type: str,
    subject_id: int,
    **data: Any,
) -> AuditEntry:
    entry = AuditEntry(
        actor_id=actor_id,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        data=data,
        at=utcnow(),
    )
    session.add(entry)
    await session.flush()
    return entry


async def trail(session: AsyncSession, subject_type: str, subject_id: int) -> Sequence[AuditEntry]:
    """Oldest first."""
    rows = await session.execute(
        select(AuditEntry)
        .where(AuditEntry.subject_type == subject_type, AuditEntry.subject_id == subject_id)
        .order_by(AuditEntry.at, AuditEntry.id)
    )
    return rows.scalars().all()


async def set_retired(
    session: AsyncSession, actor_id: int | None, record: Any, subject_type: str, retired: bool
) -> bool:
    """Retire a record that is never deleted (lists, maps and offline copies drop it, deltas
    report it), or bring it back: stamps retired_at and updated_at and records
    '<subject_type>.retire' or '.restore'. False when it already was so."""
    if (record.retired_at is not None) == retired:
        return False
    now = utcnow()
    record.retired_at = now if retired else None
    record.updated_at = now
    await session.flush()
    action = "retire" if retired else "restore"
    await _record(session, actor_id, f"{subject_type}.{action}", subject_type, record.id)
    return True


_record = record
