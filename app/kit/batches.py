"""Bulk imports (places, procedures): one write transaction per batch, each batch in a
SAVEPOINT, and a record the database or a rule refuses skipped with its reason instead of
losing the batch."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import begin_write
from app.errors import AppError

Item = TypeVar("Item")
Outcome = TypeVar("Outcome")


async def begin(session: AsyncSession, stack: contextlib.AsyncExitStack) -> None:
    """On SQLite, take the write lock up front (BEGIN IMMEDIATE): a transaction that reads
    first fails at once when another writer got in between. A transaction the caller already
    began is theirs to have begun that way."""
    if not session.in_transaction():
        await begin_write(session, stack, None)


def problem_text(exc: AppError) -> str:
    """A refused record's reason in one line: each field's, else the problem's detail."""
    if exc.errors:
        return "; ".join(f"{e.get('field', 'record')}: {e.get('reason', '')}" for e in exc.errors)
    return str(exc.detail or exc.title)


async def save_batch(
    session: AsyncSession,
    items: Sequence[Item],
    save: Callable[[Item], Awaitable[Outcome]],
    *,
    saved: Callable[[Outcome], None],
    refused: Callable[[Item, str], None],
) -> None:
    """Save `items` in one SAVEPOINT; should one be refused, roll the batch back and save each
    in its own SAVEPOINT, reporting the refused ones with the reason."""
    try:
        async with session.begin_nested():
            outcomes = [await save(item) for item in items]
    except (IntegrityError, DataError, AppError):
        pass
    else:
        for outcome in outcomes:
            saved(outcome)
        return
    for item in items:
        try:
            async with session.begin_nested():
                outcome = await save(item)
        except (IntegrityError, DataError) as exc:
            reason = str(exc.orig or exc).strip().splitlines()[0]
            refused(item, f"refused by the database: {reason}")
        except AppError as exc:
            refused(item, problem_text(exc))
        else:
            saved(outcome)
