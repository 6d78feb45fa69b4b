"""Background work of the reports domain: closing resolved cases nobody disputed."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import Settings
from app.reports.service import close_quiet_resolved

logger = logging.getLogger("citizenhub.reports.jobs")
CLOSE_EVERY_SECONDS = 3600


async def close_resolved_once(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> int:
    async with sessionmaker() as session:
        closed = await close_quiet_resolved(session, settings.report_auto_close_days)
        await session.commit()
    if closed:
        logger.info("closed quiet resolved reports", extra={"closed": closed})
    return closed


async def close_resolved_forever(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    stop: asyncio.Event | None = None,
) -> None:
    """Runs inside the web process under `make run`; production runs `citizen-hub reports
    close-resolved` from a timer instead (or as well: concurrent runs skip each other's rows)."""
    stop = stop or asyncio.Event()
    while not stop.is_set():
        try:
            await close_resolved_once(sessionmaker, settings)
        except Exception:  # keep the loop alive; the next hour tries again
            logger.exception("closing quiet resolved reports failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), CLOSE_EVERY_SECONDS)
