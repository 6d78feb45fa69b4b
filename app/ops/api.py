from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.ops.migrations import head_revision

router = APIRouter(tags=["operations"])

# A probe hammered by a load balancer must not become the database's main load: each worker
# checks at most once per this many seconds and answers from that check in between.
READY_CACHE_SECONDS = 1.0


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


async def _check(request: Request) -> tuple[int, dict[str, Any]]:
    engine = request.app.state.engine
    head = head_revision()
    try:
        async with engine.connect() as connection:
            current = (
                await connection.execute(text("SELECT version_num FROM alembic_version"))
            ).scalar()
    except Exception as exc:
        return 503, {"status": "unavailable", "database": "error", "error": type(exc).__name__}
    ready = current == head
    body = {
        "status": "ok" if ready else "migrations-pending",
        "database": "ok",
        "revision": current,
        "head": head,
    }
    return (200 if ready else 503), body


@router.get("/readyz", summary="The database answers and the schema is at the newest migration")
async def readyz(request: Request) -> JSONResponse:
    cached = getattr(request.app.state, "ready_cache", None)
    now = time.monotonic()
    if cached is None or now - cached[0] > READY_CACHE_SECONDS:
        status, body = await _check(request)
        cached = (now, status, body)
        request.app.state.ready_cache = cached
    return JSONResponse(cached[2], status_code=cached[1], headers={"Cache-Control": "no-store"})
