from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.ops.migrations import head_revision

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="The database answers and the schema is at the newest migration")
async def readyz(request: Request) -> JSONResponse:
    engine = request.app.state.engine
    head = head_revision()
    try:
        async with engine.connect() as connection:
            current = (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalar()
    except Exception as exc:  # noqa: BLE001 - any database failure means not ready
        return JSONResponse(
            {"status": "unavailable", "database": "error", "error": type(exc).__name__},
            status_code=503,
            headers={"Cache-Control": "no-store"},
        )
    ready = current == head
    return JSONResponse(
        {"status": "ok" if ready else "migrations-pending", "database": "ok",
         "revision": current, "head": head},
        status_code=200 if ready else 503,
        headers={"Cache-Control": "no-store"},
    )
