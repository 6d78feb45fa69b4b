"""Reports over JSON: the catalogue, submitting (JSON and multipart with photos), public browsing,
the resident's side, and the staff workbench."""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, File, Form, Header, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError

from app.auth.deps import (
    AdminUser,
    ClientIP,
    CurrentUser,
    ManagerUser,
    OptionalUser,
    SettingsDep,
    StaffUser,
)
from app.auth.models import Role
from app.config import Settings
from app.db import SessionDep, utcnow
from app.errors import InvalidInput, NotFound, TooManyRequests
from app.kit.cache import cached_public
from app.kit.i18n import gettext as _
from app.kit.i18n import locale_of
from app.kit.pagination import Page, PageDep
from app.kit.ratelimit import per_minute
from app.org import repository as org_repo
from app.reports import repository as repo
from app.reports import service, views
from app.reports.models import Service, Status
from app.reports.schemas import (
    AssignIn,
    AttributeRead,
    LookupIn,
    MergeIn,
    NoteIn,
    QueueItem,
    RatingIn,
    ReasonIn,
    ReportEdit,
    ReportFull,
    ReportIn,
    ReportPublic,
    ServiceIn,
    ServiceRead,
    StatusChangeIn,
    SubmittedOut,
    TemplateIn,
    TemplateRead,
)

router = APIRouter(prefix="/api/v1", tags=["reports"])
staff_router = APIRouter(prefix="/api/v1/staff", tags=["reports: staff"])
MAX_PHOTOS = 5
PUBLIC_CACHE_SECONDS = 5


def actor_of(
    request: Request,
    user: OptionalUser,
    ip: ClientIP,
    x_device_id: Annotated[
        str | None, Header(max_length=64, description="Anonymous app install id")
    ] = None,
    x_report_secret: Annotated[
        str | None, Header(max_length=64, description="An anonymous reporter's secret")
    ] = None,
) -> service.Actor:
    return service.Actor(user=user, device_id=x_device_id, ip=ip, secret=x_report_secret)


ActorDep = Annotated[service.Actor, Depends(actor_of)]


def staff_actor(user: StaffUser, ip: ClientIP) -> service.Actor:
    return service.Actor(user=user, ip=ip)


StaffActor = Annotated[service.Actor, Depends(staff_actor)]


# Catalogue ---------------------------------------------------------------------------------


async def _service_reads(session: Any, services: list[Service], locale: str) -> list[ServiceRead]:
    attributes = await repo.attributes_of(session, [s.id for s in services])
    departments = await repo.department_codes(session)
    return [
        ServiceRead(
            code=s.code,
            name=s.name(locale),
            description=s.description(locale),
            name_vi=s.name_vi,
            name_en=s.name_en,
            group=s.group,
            kind=s.kind,
            department_code=departments[s.department_id].code,
            deadline_value=s.deadline_value,
            deadline_unit=s.deadline_unit,
            keywords=s.keywords,
            is_public=s.is_public,
            location_required=s.location_required,
            allow_anonymous=s.allow_anonymous,
            proof_required=s.proof_required,
            active=s.active,
            attributes=[AttributeRead.model_validate(a) for a in attributes[s.id]],
        )
        for s in services
    ]


@router.get("/services", response_model=list[ServiceRead], summary="The catalogue of services")
async def list_services(request: Request, session: SessionDep) -> Any:
    """What a resident can report, give feedback on or request, with each service's questions."""
    services = list(await repo.list_services(session))
    return await _service_reads(session, services, locale_of(request))


@router.get(
    "/services/{service_code}", response_model=ServiceRead, summary="One service and its questions"
)
async def get_service(service_code: str, request: Request, session: SessionDep) -> Any:
    found = await repo.service_by_code(session, service_code)
    if found is None or not found.active:
        raise NotFound(_("There is no such service."))
    return (await _service_reads(session, [found], locale_of(request)))[0]


@router.post(
    "/services", response_model=ServiceRead, status_code=201, summary="Add a service (admins)"
)
async def create_service(
    data: ServiceIn, request: Request, actor: AdminUser, session: SessionDep
) -> Any:
    created = await service.save_service(session, data)
    return (await _service_reads(session, [created], locale_of(request)))[0]


@router.put(
    "/services/{service_code}", response_model=ServiceRead, summary="Change a service (admins)"
)
async def update_service(
    service_code: str, data: ServiceIn, request: Request, actor: AdminUser, session: SessionDep
) -> Any:
    existing = await repo.service_by_code(session, service_code)
    if existing is None:
        raise NotFound(_("There is no such service."))
    if data.code != service_code:
        raise InvalidInput(
            _("The code in the body must match the address."),
            errors=[{"field": "code", "in": "body", "reason": _("mismatch")}],
        )
    saved = await service.save_service(session, data, existing=existing)
    return (await _service_reads(session, [saved], locale_of(request)))[0]


# Submitting --------------------------------------------------------------------------------


async def _throttle_submission(request: Request, settings: Settings, actor: service.Actor) -> None:
    limiter = request.app.state.limiter
    limit = per_minute(settings.report_submissions_per_minute)
    keys = [("report", "ip", actor.ip)]
    if actor.user is not None:
        keys.append(("report", "user", str(actor.user.id)))
    if actor.device_id:
        keys.append(("report", "device", actor.device_id))
    for key in keys:
        decision = await limiter.hit(limit, *key)
        if not decision.allowed:
            raise TooManyRequests(
                decision.retry_after,
                _(
                    "You are sending reports very fast. Please wait %(seconds)s seconds.",
                    seconds=decision.retry_after,
                ),
            )


def _idempotency_scope(actor: service.Actor, route: str) -> str:
    who = (
        f"user:{actor.user.id}"
        if actor.user
        else (f"device:{actor.device_id}" if actor.device_id else f"ip:{actor.ip}")
    )
    return f"{route}|{who}"


def _submitted_body(request: Request, result: service.Submitted) -> dict[str, Any]:
    out = SubmittedOut(
        code=result.report.code,
        secret=result.secret,
        status=Status(result.report.status),
        deadline_at=result.report.deadline_at,
        url=str(request.url_for("get_report", code=result.report.code)),
    )
    return out.model_dump(mode="json")


async def _submit(
    request: Request,
    session: Any,
    settings: Settings,
    actor: service.Actor,
    data: ReportIn,
    key: str | None,
    uploads: list[UploadFile],
    fingerprint_extra: list[str],
) -> JSONResponse:
    scope = _idempotency_scope(actor, "reports")
    fingerprint = service.request_fingerprint([data.model_dump(mode="json"), fingerprint_extra])
    if key:
        stored = await service.idempotent_replay(session, scope, key, fingerprint)
        if stored is not None:
            return JSONResponse(
                stored.body, status_code=stored.status_code, headers={"Idempotent-Replayed": "true"}
            )
    await _throttle_submission(request, settings, actor)
    photos = await _ingest(settings, uploads)
    try:
        result = await service.submit(session, settings, actor, data, photos)
        body = _submitted_body(request, result)
        if key and not await service.remember_answer(session, scope, key, fingerprint, 201, body):
            raise _Replay
    except _Replay:
        await _discard(settings, photos)
        await session.rollback()
        stored = await service.idempotent_replay(session, scope, key or "", fingerprint)
        assert stored is not None
        return JSONResponse(
            stored.body, status_code=stored.status_code, headers={"Idempotent-Replayed": "true"}
        )
    except BaseException:
        await _discard(settings, photos)
        raise
    request.state.stored_photos = photos
    return JSONResponse(body, status_code=201, headers={"Location": body["url"]})


class _Replay(Exception):
    """A concurrent request with the same Idempotency-Key committed first."""


async def _ingest(settings: Settings, uploads: list[UploadFile]) -> list[Any]:
    if not uploads:
        return []
    from app.photos import ingest_photo

    if len(uploads) > MAX_PHOTOS:
        raise InvalidInput(
            _("Attach at most %(n)s photos.", n=MAX_PHOTOS),
            errors=[{"field": "photos", "in": "body", "reason": _("too many photos")}],
        )
    stored: list[Any] = []
    try:
        for upload in uploads:
            stored.append(await ingest_photo(settings, upload, field="photos"))
    except BaseException:
        await _discard(settings, stored)
        raise
    return stored


async def _discard(settings: Settings, photos: list[Any]) -> None:
    """Remove photos stored for a request that failed; shielded, so a cancelled request (the
    phone lost signal) still cleans up."""
    if not photos:
        return
    from app.photos import delete_photo

    with anyio.CancelScope(shield=True):
        for photo in photos:
            with contextlib.suppress(OSError):
                await delete_photo(settings, photo.name)


IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=120,
        description="Resending with the same key returns the first answer and creates nothing new",
    ),
]


@router.post(
    "/reports", status_code=201, response_model=SubmittedOut, summary="Send a report (JSON)"
)
async def submit_report(
    request: Request,
    data: ReportIn,
    session: SessionDep,
    settings: SettingsDep,
    actor: ActorDep,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """Anonymous where the service allows it (the answer carries a tracking code and a secret) or
    signed in. Location as lat/lon, an address or landmark, or a ward code. Status, department and
    reporter are never taken from the payload."""
    return await _submit(request, session, settings, actor, data, idempotency_key, [], [])


@router.post(
    "/reports/multipart",
    status_code=201,
    response_model=SubmittedOut,
    summary="Send a report with up to 5 photos (multipart form)",
)
async def submit_report_multipart(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: ActorDep,
    payload: Annotated[str, Form(description="The report as JSON (same fields as POST /reports)")],
    photos: Annotated[list[UploadFile] | None, File(description="JPEG, PNG or WebP")] = None,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    try:
        data = ReportIn.model_validate_json(payload)
    except ValidationError as exc:
        raise InvalidInput(
            _("Some fields are not valid."),
            errors=[
                {
                    "field": ".".join(str(p) for p in e["loc"]) or "payload",
                    "in": "body",
                    "reason": e["msg"],
                }
                for e in exc.errors()
            ],
        ) from exc
    uploads = [p for p in (photos or []) if p.filename or p.size]
    names = [f"{p.filename}:{p.size}" for p in uploads]
    return await _submit(request, session, settings, actor, data, idempotency_key, uploads, names)


# Public browsing ---------------------------------------------------------------------------


def _bbox(bbox: str | None) -> tuple[float, float, float, float] | None:
    if not bbox:
        return None
    try:
        values = tuple(float(v) for v in bbox.split(","))
    except ValueError:
        values = ()
    if len(values) != 4 or values[0] > values[2] or values[1] > values[3]:
        raise InvalidInput(
            _("bbox is min_lon,min_lat,max_lon,max_lat."),
            errors=[
                {"field": "bbox", "in": "query", "reason": _("four numbers, west,south,east,north")}
            ],
        )
    return values[0], values[1], values[2], values[3]


async def _filtered(
    request: Request,
    session: Any,
    paging: Any,
    bbox: str | None,
    ward: str | None,
    service_code: str | None,
    status_filter: list[Status] | None,
    since: datetime | None,
    until: datetime | None,
) -> tuple[list[dict[str, Any]], int]:
    filters: dict[str, Any] = {"bbox": _bbox(bbox)}
    if ward:
        found = await org_repo.ward_by_code(session, ward)
        if found is None:
            return [], 0
        filters["ward_id"] = found.id
    if service_code:
        services = [await repo.service_by_code(session, c.strip()) for c in service_code.split(",")]
        filters["service_ids"] = [s.id for s in services if s is not None]
    if status_filter:
        filters["statuses"] = [s.value for s in status_filter]
    filters.update(since=since, until=until)
    return await views.public_items(
        session, locale_of(request), limit=paging.page_size, offset=paging.offset, **filters
    )


async def _cached_public(request: Request, build: Any, media_type: str) -> Response:
    return await cached_public(request, build, PUBLIC_CACHE_SECONDS, media_type)


PUBLIC_CACHED_PATHS = {"/api/v1/reports", "/api/v1/reports.geojson"}


FilterBBox = Annotated[str | None, Query(description="min_lon,min_lat,max_lon,max_lat")]
FilterWard = Annotated[str | None, Query(description="Ward or commune code")]
FilterService = Annotated[
    str | None, Query(alias="service", description="Service codes, comma-separated")
]
FilterStatus = Annotated[list[Status] | None, Query(alias="status")]
FilterSince = Annotated[datetime | None, Query(description="Created at or after (ISO 8601)")]
FilterUntil = Annotated[datetime | None, Query(description="Created before (ISO 8601)")]


@router.get("/reports", response_model=Page[ReportPublic], summary="Public reports")
async def list_reports(
    request: Request,
    paging: PageDep,
    bbox: FilterBBox = None,
    ward: FilterWard = None,
    service_code: FilterService = None,
    status_filter: FilterStatus = None,
    since: FilterSince = None,
    until: FilterUntil = None,
) -> Any:
    """Never shows who reported; personal data typed into the text is masked. Answers carry an
    ETag and may be up to a few seconds old."""

    async def build() -> dict[str, Any]:
        async with request.app.state.sessionmaker() as session:
            items, total = await _filtered(
                request, session, paging, bbox, ward, service_code, status_filter, since, until
            )
        return {"items": items, "total": total, "page": paging.page, "page_size": paging.page_size}

    return await _cached_public(request, build, "application/json")


@router.get("/reports.geojson", summary="Public reports as GeoJSON")
async def reports_geojson(
    request: Request,
    paging: PageDep,
    bbox: FilterBBox = None,
    ward: FilterWard = None,
    service_code: FilterService = None,
    status_filter: FilterStatus = None,
    since: FilterSince = None,
    until: FilterUntil = None,
) -> Response:
    async def build() -> dict[str, Any]:
        async with request.app.state.sessionmaker() as session:
            items, total = await _filtered(
                request, session, paging, bbox, ward, service_code, status_filter, since, until
            )
        features = [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [i.pop("lon"), i.pop("lat")]},
                "properties": i,
            }
            for i in items
            if i["lat"] is not None
        ]
        return {
            "type": "FeatureCollection",
            "features": features,
            "total": total,
            "page": paging.page,
            "page_size": paging.page_size,
        }

    return await _cached_public(request, build, "application/geo+json")


@router.get(
    "/reports/nearby",
    response_model=list[ReportPublic],
    summary="Open reports of a service near a point (before submitting)",
)
async def nearby(
    request: Request,
    session: SessionDep,
    service_code: Annotated[str, Query(alias="service")],
    lat: Annotated[float, Query(ge=-90, le=90)],
    lon: Annotated[float, Query(ge=-180, le=180)],
    radius: Annotated[float, Query(gt=0, le=1000, description="metres")] = 50,
) -> Any:
    """So a resident can support ('me too') or follow an existing report instead of a new one."""
    found = await repo.service_by_code(session, service_code)
    if found is None:
        raise NotFound(_("There is no such service."))
    rows = await repo.open_reports_near(session, found.id, lat, lon, radius)
    items, _total = await views.public_items(
        session,
        locale_of(request),
        ids=[r.id for r, _d in rows],
        limit=len(rows) or 1,
        with_total=False,
    )
    order = {r.code: i for i, (r, _d) in enumerate(rows)}
    return sorted(items, key=lambda item: order[item["code"]])  # nearest first


@router.get(
    "/reports/{code}",
    response_model=ReportPublic | ReportFull,
    summary="One report",
    name="get_report",
)
async def get_report(code: str, request: Request, session: SessionDep, actor: ActorDep) -> Any:
    """The public view; the reporter (signed in, or with X-Report-Secret) and the staff who work it
    see the whole case, their own contacts included."""
    report = await service.get_readable(session, code, actor)
    if service.is_owner(report, actor) or service.can_work(report, actor.user):
        return await views.full_view(
            session, report, locale_of(request), for_staff=service.can_work(report, actor.user)
        )
    return await views.public_one(session, report, locale_of(request))


@router.get("/reports/{code}/timeline", summary="The public timeline of a report")
async def get_timeline(code: str, session: SessionDep, actor: ActorDep) -> Any:
    report = await service.get_readable(session, code, actor)
    return await views.timeline(session, report, for_staff=False)


@router.post(
    "/reports/lookup", response_model=ReportFull, summary="Find my report by code and secret"
)
async def lookup(
    data: LookupIn, request: Request, session: SessionDep, ip: ClientIP, settings: SettingsDep
) -> Any:
    limiter = request.app.state.limiter
    decision = await limiter.hit(
        per_minute(settings.report_lookups_per_minute), "report-lookup", ip
    )
    if not decision.allowed:
        raise TooManyRequests(decision.retry_after)
    actor = service.Actor(secret=data.secret, ip=ip)
    report = await repo.report_by_code(session, data.code)
    if report is None or not service.is_owner(report, actor):
        raise NotFound(_("No report matches this code and secret."))
    return await views.full_view(session, report, locale_of(request), for_staff=False)


# The resident's side -----------------------------------------------------------------------


@router.get("/me/reports", response_model=Page[ReportPublic], summary="My reports")
async def my_reports(
    request: Request, user: CurrentUser, session: SessionDep, paging: PageDep
) -> Any:
    rows, total = await repo.reports_of_user(session, user.id, paging.page_size, paging.offset)
    items, _n = await views.public_items(
        session,
        locale_of(request),
        ids=[r.id for r in rows],
        limit=paging.page_size,
        with_total=False,
        public_only=False,
    )
    return Page[ReportPublic](
        items=items, total=total, page=paging.page, page_size=paging.page_size
    )


@router.post("/reports/{code}/support", response_model=ReportPublic, summary="Me too")
async def support(code: str, request: Request, session: SessionDep, actor: ActorDep) -> Any:
    """Counted once per person (signed in) or per device (X-Device-ID)."""
    report = await service.get_readable(session, code, actor)
    await service.support(session, actor, report)
    return await views.public_one(session, report, locale_of(request))


@router.post("/reports/{code}/follow", status_code=204, summary="Follow a report")
async def follow(code: str, user: CurrentUser, session: SessionDep, actor: ActorDep) -> None:
    await service.follow(session, user, await service.get_readable(session, code, actor))


@router.delete("/reports/{code}/follow", status_code=204, summary="Stop following a report")
async def unfollow(code: str, user: CurrentUser, session: SessionDep, actor: ActorDep) -> None:
    await service.unfollow(session, user, await service.get_readable(session, code, actor))


@router.patch(
    "/reports/{code}", response_model=ReportFull, summary="Change my report while it is submitted"
)
async def edit(
    code: str, data: ReportEdit, request: Request, session: SessionDep, actor: ActorDep
) -> Any:
    report = await service.get_owned(session, code, actor)
    await service.edit(session, actor, report, data)
    return await views.full_view(session, report, locale_of(request), for_staff=False)


@router.post("/reports/{code}/withdraw", response_model=ReportFull, summary="Withdraw my report")
async def withdraw(code: str, request: Request, session: SessionDep, actor: ActorDep) -> Any:
    report = await service.get_owned(session, code, actor)
    await service.withdraw(session, actor, report)
    return await views.full_view(session, report, locale_of(request), for_staff=False)


@router.post(
    "/reports/{code}/confirm", response_model=ReportFull, summary="Confirm the fix (closes it)"
)
async def confirm(code: str, request: Request, session: SessionDep, actor: ActorDep) -> Any:
    report = await service.get_owned(session, code, actor)
    await service.confirm(session, actor, report)
    return await views.full_view(session, report, locale_of(request), for_staff=False)


@router.post("/reports/{code}/rating", response_model=ReportFull, summary="Rate the outcome (1-5)")
async def rate(
    code: str, data: RatingIn, request: Request, session: SessionDep, actor: ActorDep
) -> Any:
    report = await service.get_owned(session, code, actor)
    await service.rate(session, actor, report, data.rating, data.comment)
    return await views.full_view(session, report, locale_of(request), for_staff=False)


@router.post(
    "/reports/{code}/dispute",
    response_model=ReportFull,
    summary="Not fixed: reopen with a reason and an optional photo",
)
async def dispute(
    code: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: ActorDep,
    reason: Annotated[str, Form(min_length=3, max_length=2000)],
    photo: Annotated[UploadFile | None, File()] = None,
) -> Any:
    report = await service.get_owned(session, code, actor)
    photos = await _ingest(settings, [photo] if photo is not None and photo.filename else [])
    try:
        await service.dispute(session, actor, report, reason, photos)
    except BaseException:
        await _discard(settings, photos)
        raise
    return await views.full_view(session, report, locale_of(request), for_staff=False)


# Staff -------------------------------------------------------------------------------------


@staff_router.get("/reports", response_model=Page[QueueItem], summary="My department's queue")
async def queue(
    request: Request,
    user: StaffUser,
    session: SessionDep,
    paging: PageDep,
    status_filter: FilterStatus = None,
    ward: FilterWard = None,
    service_code: Annotated[str | None, Query(alias="service")] = None,
    overdue: Annotated[bool, Query(description="Only open cases past their deadline")] = False,
    mine: Annotated[bool, Query(description="Only cases assigned to me")] = False,
    department: Annotated[
        str | None, Query(description="Managers: another department's queue")
    ] = None,
) -> Any:
    """Sorted by deadline, soonest first."""
    department_id = user.department_id
    if department and user.has_role(Role.manager):
        found_department = await org_repo.department_by_code(session, department)
        department_id = found_department.id if found_department else -1
    elif department_id is None and user.has_role(Role.manager):
        department_id = None
    ward_id = None
    if ward:
        found_ward = await org_repo.ward_by_code(session, ward)
        ward_id = found_ward.id if found_ward else -1
    service_id = None
    if service_code:
        found_service = await repo.service_by_code(session, service_code)
        service_id = found_service.id if found_service else -1
    rows, total = await repo.queue(
        session,
        department_id=department_id,
        statuses=[s.value for s in status_filter] if status_filter else None,
        ward_id=ward_id,
        service_id=service_id,
        overdue_at=utcnow() if overdue else None,
        assignee_id=user.id if mine else None,
        limit=paging.page_size,
        offset=paging.offset,
    )
    items = await views.queue_items(session, rows, locale_of(request))
    return Page[QueueItem](items=items, total=total, page=paging.page, page_size=paging.page_size)


@staff_router.get("/reports/{code}", response_model=ReportFull, summary="The whole case")
async def staff_case(code: str, request: Request, session: SessionDep, actor: StaffActor) -> Any:
    report = await service.get_workable(session, code, actor)
    return await views.full_view(session, report, locale_of(request), for_staff=True)


@staff_router.post("/reports/{code}/status", response_model=ReportFull, summary="Change the status")
async def change_status(
    code: str, data: StatusChangeIn, request: Request, session: SessionDep, actor: StaffActor
) -> Any:
    """Resolving needs a public note and (per service) a proof photo: use the multipart variant."""
    report = await service.get_workable(session, code, actor)
    await service.change_status(
        session,
        actor,
        report,
        data.status,
        data.note,
        data.public,
        data.template_id,
        locale_of(request),
    )
    return await views.full_view(session, report, locale_of(request), for_staff=True)


@staff_router.post(
    "/reports/{code}/status/multipart",
    response_model=ReportFull,
    summary="Change the status with proof-of-fix photos",
)
async def change_status_with_photos(
    code: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: StaffActor,
    status_value: Annotated[Status, Form(alias="status")],
    note: Annotated[str | None, Form(max_length=5000)] = None,
    public: Annotated[bool, Form()] = True,
    template_id: Annotated[int | None, Form()] = None,
    photos: Annotated[list[UploadFile] | None, File()] = None,
) -> Any:
    report = await service.get_workable(session, code, actor)
    stored = await _ingest(settings, [p for p in (photos or []) if p.filename])
    try:
        await service.change_status(
            session,
            actor,
            report,
            status_value,
            note,
            public,
            template_id,
            locale_of(request),
            proof_photos=stored,
        )
    except BaseException:
        await _discard(settings, stored)
        raise
    return await views.full_view(session, report, locale_of(request), for_staff=True)


@staff_router.post(
    "/reports/{code}/assign", response_model=ReportFull, summary="Hand to a colleague"
)
async def assign(
    code: str, data: AssignIn, request: Request, session: SessionDep, actor: StaffActor
) -> Any:
    report = await service.get_workable(session, code, actor)
    await service.assign(session, actor, report, data.assignee_id)
    return await views.full_view(session, report, locale_of(request), for_staff=True)


@staff_router.post(
    "/reports/{code}/notes", response_model=ReportFull, summary="Add a public or internal note"
)
async def add_note(
    code: str, data: NoteIn, request: Request, session: SessionDep, actor: StaffActor
) -> Any:
    report = await service.get_workable(session, code, actor)
    await service.add_note(
        session, actor, report, data.note, data.public, data.template_id, locale_of(request)
    )
    return await views.full_view(session, report, locale_of(request), for_staff=True)


@staff_router.post(
    "/reports/{code}/merge", response_model=ReportFull, summary="Merge into another case"
)
async def merge(
    code: str, data: MergeIn, request: Request, session: SessionDep, actor: StaffActor
) -> Any:
    report = await service.get_workable(session, code, actor)
    await service.merge(session, actor, report, data.into_code, data.note)
    return await views.full_view(session, report, locale_of(request), for_staff=True)


@staff_router.post(
    "/reports/{code}/hide", response_model=ReportFull, summary="Hide abusive content"
)
async def hide(
    code: str, data: ReasonIn, request: Request, session: SessionDep, actor: StaffActor
) -> Any:
    """It leaves every public view; the original stays for audit."""
    report = await service.get_workable(session, code, actor)
    await service.hide(session, actor, report, data.reason)
    return await views.full_view(session, report, locale_of(request), for_staff=True)


@staff_router.get(
    "/response-templates", response_model=list[TemplateRead], summary="Response templates"
)
async def templates(user: StaffUser, session: SessionDep) -> Any:
    department_id = None if user.has_role(Role.manager) else user.department_id
    return await repo.templates_for(session, department_id)


@staff_router.post(
    "/response-templates",
    response_model=TemplateRead,
    status_code=201,
    summary="Add a response template (managers)",
)
async def create_template(data: TemplateIn, user: ManagerUser, session: SessionDep) -> Any:
    return await service.create_template(session, data)
