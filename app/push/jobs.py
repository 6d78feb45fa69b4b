"""The push worker: the dispatcher loop plus daily upkeep (stale devices, old delivery records).
Under `make run` it runs inside the web process; in production `citizen-hub worker` runs it as
its own process (as many as you like: they share the outbox through PostgreSQL)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.config import Settings
from app.db import utcnow
from app.devices.service import sweep as sweep_devices
from app.push.dispatcher import Dispatcher
from app.push.models import Delivery, TopicChange
from app.push.senders import build_sender
from app.push.wake import listen, register

logger = logging.getLogger("citizenhub.push")
UPKEEP_EVERY_SECONDS = 6 * 3600
#: Sent, failed and dead records are kept this long for support questions, then deleted.
KEEP_RECORDS = timedelta(days=30)


async def upkeep_once(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    async with sessionmaker() as session:
        flagged, pruned = await sweep_devices(session)
        cutoff = utcnow() - KEEP_RECORDS
        old = 0
        for model in (Delivery, TopicChange):
            result = await session.execute(
                delete(model).where(
                    model.status.in_(("sent", "failed", "dead")), model.updated_at < cutoff
                )
            )
            old += int(getattr(result, "rowcount", 0) or 0)
        await session.commit()
    summary = {"stale_flagged": flagged, "devices_pruned": pruned, "records_deleted": old}
    logger.info("push upkeep: %s", summary)
    return summary


def build_dispatcher(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, **options: Any
) -> Dispatcher:
    """A dispatcher with the sender the settings ask for (its own: close `.sender` when done)."""
    return Dispatcher(
        sessionmaker,
        build_sender(settings),
        time_zone=settings.time_zone,
        public_base_url=settings.public_base_url,
        **options,
    )


async def run_push_worker(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    stop: asyncio.Event | None = None,
    *,
    write_lock: asyncio.Lock | None = None,
    worker_id: str | None = None,
) -> None:
    stop = stop or asyncio.Event()
    dispatcher = build_dispatcher(
        sessionmaker, settings, write_lock=write_lock, worker_id=worker_id
    )
    sender = dispatcher.sender

    async def upkeep() -> None:
        while not stop.is_set():
            try:
                await upkeep_once(sessionmaker)
            except Exception:
                logger.exception("push upkeep failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), UPKEEP_EVERY_SECONDS)

    wake = asyncio.Event()
    register(wake)  # commits in this process
    listener = None
    with contextlib.suppress(Exception):  # without it, polling still finds the work
        bind = sessionmaker.kw.get("bind")
        if isinstance(bind, AsyncEngine):
            listener = await listen(bind, wake)  # commits in other processes (PostgreSQL)
    upkeep_task = asyncio.create_task(upkeep())
    try:
        await dispatcher.run_forever(stop, wake=wake)
    finally:
        upkeep_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await upkeep_task
        if listener is not None:
            await listener.close()
        await sender.aclose()
