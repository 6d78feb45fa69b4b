"""The procedure catalogue: search, facets, a procedure's checklist, life events; staff
changes (staff of the implementing agency's department, or managers)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.deps import ManagerUser, StaffUser
from app.db import SessionDep
from app.errors import InvalidInput, NotFound
from app.kit.cache import cached_public
from app.kit.i18n import gettext as _
from app.kit.i18n import locale_of
from app.procedures import repository, service, views
from app.procedures.models import Level
from app.procedures.schemas import REF_CODE, LifeEventIn, ProcedureIn

router = APIRouter(prefix="/api/v1", tags=["procedures"])

# Searches, a procedure and a life event live LIST_CACHE_SECONDS in the shared response cache,
# answered before routing by PublicCacheMiddleware (staff edits show within that); clients
# revalidate them by ETag. Facets, fields, agencies and life events: CATALOGUE_CACHE_SECONDS.
LIST_CACHE_SECONDS = 10
CATALOGUE_CACHE_SECONDS = 60
JSON = "application/json"
PUBLIC_CACHED_PATHS = {
    "/api/v1/procedures",
    "/api/v1/procedures/facets",
    "/api/v1/procedure-fields",
    "/api/v1/procedure-agencies",
    "/api/v1/life-events",
    # A procedure and a life event by code (the middleware only answers what was stored).
    "/api/v1/procedures/*",
    "/api/v1/life-events/*",
}

Words = Annotated[
    str | None,
    Query(
        alias="q",
        max_length=200,
        description="Words, with or without accents, in Vietnamese or English; typos are "
        "corrected when nothing matches; a procedure's code puts it first",
    ),
]
FieldCode = Annotated[
    str | None, Query(alias="field", pattern=REF_CODE, description="A field's code")
]
AgencyCode = Annotated[
    str | None, Query(alias="agency", pattern=REF_CODE, description="An agency's code")
]
LevelQ = Annotated[Level | None, Query(alias="level", description="Who settles it")]
OnlineQ = Annotated[
    Literal["partial", "full", "any"] | None,
    Query(
        alias="online",
        description="full: entirely online (toàn trình); partial: partly online; any: either",
    ),
]


@router.get(
    "/procedures",
    summary="Search the procedures, or list them by field",
    description="With `q`: live procedures matching every word (accent-insensitive; the last "
    "word also as the start of a word), names first, then fields, then the rest. When nothing "
    "matches, typos are corrected (`corrected` gives the query as corrected), then each word "
    "is taken as the start of a word, then any of the words is enough (`partial` is true). "
    "Without `q`: by field, then by name. `total` counts every match.",
)
async def list_procedures(
    request: Request,
    session: SessionDep,
    q: Words = None,
    field: FieldCode = None,
    agency: AgencyCode = None,
    level: LevelQ = None,
    online: OnlineQ = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
) -> Response:
    filters = repository.Filters(
        query=q.strip() if q and q.strip() else None,
        field=field,
        agency=agency,
        level=level.value if level else None,
        online=online,
    )
    locale = locale_of(request)

    async def build() -> dict[str, Any]:
        result = await repository.search(session, filters, limit=limit, offset=offset)
        return views.found(result, locale, limit=limit, offset=offset)

    return await cached_public(request, build, LIST_CACHE_SECONDS, "application/json")


@router.get(
    "/procedures/facets",
    summary="How many live procedures each field, agency, level and online mode has",
)
async def procedure_facets(request: Request, session: SessionDep) -> Response:
    locale = locale_of(request)

    async def build() -> dict[str, Any]:
        return views.facets(await repository.facets(session), locale)

    return await cached_public(request, build, CATALOGUE_CACHE_SECONDS, "application/json")


@router.get("/procedure-fields", summary="Fields of procedures (lĩnh vực), in order")
async def procedure_fields(request: Request, session: SessionDep) -> Response:
    locale = locale_of(request)

    async def build() -> dict[str, Any]:
        return {"items": views.counted(await repository.fields(session), locale)}

    return await cached_public(request, build, CATALOGUE_CACHE_SECONDS, "application/json")


@router.get(
    "/procedure-agencies",
    summary="Implementing agencies, with where to go and how many procedures each settles",
)
async def procedure_agencies(request: Request, session: SessionDep) -> Response:
    locale = locale_of(request)

    async def build() -> dict[str, Any]:
        rows = await repository.agencies(session)
        return {"items": [views.agency(row, locale) for row in rows]}

    return await cached_public(request, build, CATALOGUE_CACHE_SECONDS, "application/json")


async def _detail(
    session: AsyncSession, code: str, locale: str, *, retired_ok: bool = False
) -> dict[str, Any]:
    data = await repository.detail(session, code, retired_ok=retired_ok)
    if data is None:
        raise NotFound(_("There is no procedure with this code."))
    return views.detail(data, locale)


@router.get(
    "/procedures/{procedure_code}",
    summary="A procedure's checklist",
    description="What to bring (originals and copies, form templates), the steps, the ways to "
    "submit, the time in working days, the fees and their total in đồng, conditions, result, "
    "legal basis, the agency and where to go, and the life events it belongs to. Answers 304 "
    "to If-None-Match when nothing changed.",
)
async def get_procedure(request: Request, procedure_code: str, session: SessionDep) -> Response:
    locale = locale_of(request)

    async def build() -> dict[str, Any]:
        return await _detail(session, procedure_code, locale)

    return await cached_public(request, build, LIST_CACHE_SECONDS, JSON)


# Life events ------------------------------------------------------------------------------


@router.get(
    "/life-events",
    summary="Life events: the procedures a moment of life needs (open a shop, have a baby …)",
)
async def list_life_events(request: Request, session: SessionDep) -> Response:
    locale = locale_of(request)

    async def build() -> dict[str, Any]:
        return {
            "items": [
                views.life_event_summary(event, steps, service.totals(steps), locale)
                for event, steps in await service.life_events_with_steps(session)
            ]
        }

    return await cached_public(request, build, CATALOGUE_CACHE_SECONDS, "application/json")


async def _life_event(session: AsyncSession, slug: str, locale: str) -> dict[str, Any]:
    event = await service.life_event(session, slug)
    steps = await service.life_event_steps(session, event)
    where = await repository.agencies_by_id(session, [p.agency_id for _s, p in steps])
    return views.life_event(event, steps, service.totals(steps), where, locale)


@router.get(
    "/life-events/{life_event_slug}",
    summary="A life event: its procedures in order, with time, fees and totals",
)
async def get_life_event(request: Request, life_event_slug: str, session: SessionDep) -> Response:
    locale = locale_of(request)

    async def build() -> dict[str, Any]:
        return await _life_event(session, life_event_slug, locale)

    return await cached_public(request, build, LIST_CACHE_SECONDS, JSON)


# Staff ------------------------------------------------------------------------------------


@router.put(
    "/procedures/{procedure_code}",
    summary="Add or change a procedure (staff of the agency's department, managers)",
    description="The whole record, as the importer reads it. 201 when it was created. The "
    "code in the body must be the code in the path. Searches show the change within "
    f"{LIST_CACHE_SECONDS} seconds.",
    responses={201: {"description": "Created"}},
)
async def put_procedure(
    request: Request,
    procedure_code: str,
    data: ProcedureIn,
    user: StaffUser,
    session: SessionDep,
    response: Response,
) -> dict[str, Any]:
    if data.code != procedure_code:
        message = _("The code in the body must be the code in the address.")
        raise InvalidInput(message, errors=[{"field": "code", "in": "body", "reason": message}])
    saved = await service.save_procedure(session, user, data)
    if saved.created:
        response.status_code = 201
    return await _detail(session, procedure_code, locale_of(request), retired_ok=True)


@router.post(
    "/procedures/{procedure_code}/retire",
    summary="Retire a procedure (it leaves searches and lists; its history stays)",
)
async def retire_procedure(
    request: Request, procedure_code: str, user: StaffUser, session: SessionDep
) -> dict[str, Any]:
    procedure = await service.get(session, procedure_code, retired_ok=True)
    await service.set_retired(session, user, procedure, True)
    return await _detail(session, procedure_code, locale_of(request), retired_ok=True)


@router.post("/procedures/{procedure_code}/restore", summary="Bring a retired procedure back")
async def restore_procedure(
    request: Request, procedure_code: str, user: StaffUser, session: SessionDep
) -> dict[str, Any]:
    procedure = await service.get(session, procedure_code, retired_ok=True)
    await service.set_retired(session, user, procedure, False)
    return await _detail(session, procedure_code, locale_of(request), retired_ok=True)


@router.get(
    "/procedures/{procedure_code}/history", summary="Who changed a procedure, and when (staff)"
)
async def procedure_history(
    procedure_code: str, user: StaffUser, session: SessionDep
) -> dict[str, Any]:
    procedure = await service.get(session, procedure_code, retired_ok=True)
    entries = await audit.trail(session, service.SUBJECT, procedure.id)
    return {
        "items": [
            {"action": e.action, "actor_id": e.actor_id, "at": views.iso(e.at), "data": e.data}
            for e in entries
        ]
    }


@router.put(
    "/life-events/{life_event_slug}",
    summary="Add or replace a life event and its steps (managers)",
    responses={201: {"description": "Created"}},
)
async def put_life_event(
    request: Request,
    life_event_slug: str,
    data: LifeEventIn,
    user: ManagerUser,
    session: SessionDep,
    response: Response,
) -> dict[str, Any]:
    if data.slug != life_event_slug:
        message = _("The slug in the body must be the slug in the address.")
        raise InvalidInput(message, errors=[{"field": "slug", "in": "body", "reason": message}])
    existed = await repository.life_event_exists(session, life_event_slug)
    await service.save_life_event(session, user, data)
    if not existed:
        response.status_code = 201
    return await _life_event(session, life_event_slug, locale_of(request))
