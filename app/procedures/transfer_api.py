"""The whole catalogue as a file: GET /api/v1/procedures/export (public, streamed).

Included in the app before the search router, so "export" is never read as a procedure code."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse

from app.db import SessionDep, utcnow
from app.procedures import transfer

router = APIRouter(prefix="/api/v1", tags=["procedures"])

EXPORT_CACHE_SECONDS = 300


def _etag(fmt: str, version: transfer.Version) -> str:
    raw = f"procedures-export|{fmt}|{version.token()}".encode()
    return '"' + hashlib.blake2b(raw, digest_size=12).hexdigest() + '"'


@router.get(
    "/procedures/export",
    summary="The whole catalogue as a file (JSON or CSV), in the import format",
    description="Every live procedure, in every language (CSV: Vietnamese and English), with "
    "its field and agency; the JSON has the life events too. `citizen-hub import-procedures` "
    "reads it back. Streamed: memory stays flat whatever the size of the catalogue. Answers 304 "
    "to If-None-Match when the catalogue has not changed.",
    response_class=Response,
    responses={
        200: {
            "content": {"application/json": {}, "text/csv": {}},
            "description": "The catalogue, as an attachment",
        },
        304: {"description": "Not modified"},
    },
)
async def export(
    request: Request,
    session: SessionDep,
    fmt: Annotated[
        transfer.Format, Query(alias="format", description="json (default) or csv")
    ] = "json",
) -> Response:
    version = await transfer.catalogue_version(session)
    etag = _etag(fmt, version)
    filename = f"procedures-{utcnow().date().isoformat()}.{fmt}"
    headers = {
        "ETag": etag,
        "Cache-Control": f"public, max-age={EXPORT_CACHE_SECONDS}",
        "Content-Disposition": f'attachment; filename="{filename}"',
    }
    match = request.headers.get("if-none-match")
    if match is not None and (etag in match or match.strip() == "*"):
        return Response(status_code=304, headers=headers)
    sessionmaker = request.app.state.sessionmaker

    async def body() -> AsyncIterator[bytes]:
        # Its own session: the request's is closed once the handler returns.
        async with sessionmaker() as own:
            async for chunk in transfer.export(own, fmt, bom=True):
                yield chunk.encode()

    return StreamingResponse(body(), media_type=transfer.MEDIA_TYPES[fmt], headers=headers)
