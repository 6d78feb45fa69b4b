"""Waking the dispatcher when the outbox gets work, instead of waiting for its next poll.

A transaction that writes to the outbox marks its session. When it commits:

* in this process, every dispatcher waiting here is woken (a SQLAlchemy ``after_commit`` hook);
* on PostgreSQL, ``pg_notify('citizenhub_outbox')`` was issued inside the transaction, so the
  database itself tells every listening worker process, and only if the transaction commits.

Polling stays as the safety net: a lost notification costs at most one idle interval.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Session

logger = logging.getLogger("citizenhub.push")
CHANNEL = "citizenhub_outbox"
_FLAG = "push_wake"
_waiters: weakref.WeakSet[asyncio.Event] = weakref.WeakSet()


def register(wake: asyncio.Event) -> None:
    """Wake `wake` whenever a transaction in this process commits outbox work."""
    _waiters.add(wake)


async def mark(session: AsyncSession) -> None:
    """Call in the transaction that wrote outbox rows."""
    if session.info.get(_FLAG):
        return
    session.info[_FLAG] = True
    bind = session.bind
    if bind is not None and bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop(_FLAG, False):
        for wake in list(_waiters):
            wake.set()


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_FLAG, None)


async def listen(engine: AsyncEngine, wake: asyncio.Event) -> Any:
    """On PostgreSQL, hold a connection that LISTENs on the outbox channel and sets `wake`.
    Returns the connection to close at shutdown, or None (other databases: polling only)."""
    if engine.dialect.name != "postgresql":
        return None
    connection = await engine.connect()
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None

    def notified(*_args: Any) -> None:
        wake.set()

    await driver.add_listener(CHANNEL, notified)
    logger.info("push dispatcher listening on PostgreSQL channel %s", CHANNEL)
    return connection
