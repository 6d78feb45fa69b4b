"""Serves stored photos and thumbnails. A name never changes content, so browsers and proxies may
keep it for a year without asking again."""

from __future__ import annotations

import os
import stat

from anyio import to_thread
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from app.auth.deps import SettingsDep
from app.errors import PROBLEM_JSON, problem_body, render_app_error
from app.kit.i18n import gettext as _
from app.photos.storage import PhotoNotFound, photo_path

router = APIRouter(tags=["media"])

CACHE_FOREVER = "public, max-age=31536000, immutable"
_HEADERS = {"Cache-Control": CACHE_FOREVER, "X-Content-Type-Options": "nosniff"}

_PROBLEM = {"description": "Unknown or malformed name", "content": {PROBLEM_JSON: {}}}


@router.get(
    "/media/photos/{name:path}",
    summary="A stored photo or thumbnail (JPEG)",
    response_class=FileResponse,
    responses={200: {"content": {"image/jpeg": {}}}, 404: _PROBLEM},
)
async def photo(name: str, request: Request, settings: SettingsDep) -> Response:
    """The JPEG stored under `name` (a name returned when the photo was stored, or its
    thumbnail's). Names are unguessable; anything that is not one answers 404."""
    try:
        path = photo_path(settings, name)
        found = await to_thread.run_sync(os.stat, path)
    except (PhotoNotFound, FileNotFoundError, NotADirectoryError):
        return _not_found(request)
    if not stat.S_ISREG(found.st_mode):
        return _not_found(request)
    response = FileResponse(path, media_type="image/jpeg", headers=_HEADERS, stat_result=found)
    if _matches(request.headers.get("if-none-match"), response.headers["etag"]):
        headers = {**_HEADERS, "ETag": response.headers["etag"]}
        return Response(status_code=304, headers=headers)
    return response


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    candidates = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in candidates or etag in candidates


def _not_found(request: Request) -> Response:
    """problem+json, as for the API (an <img> asks for image/* or */*); a person who followed a
    link in a browser gets the readable error page instead."""
    error = PhotoNotFound()
    accept = request.headers.get("accept", "")
    if "text/html" in accept and "json" not in accept:
        return render_app_error(request.scope, error)
    body = problem_body(request.scope, error.status, error.code, _(error.title))
    return JSONResponse(body, status_code=error.status, media_type=PROBLEM_JSON)
