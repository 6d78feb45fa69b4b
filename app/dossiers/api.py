"""Dossiers over JSON: the applicant's lookup (code and a second factor), following and rating;
the staff's register, list, case, status changes and notes. Thin: the rules are in service."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from app.auth.deps import ClientIP, CurrentUser, HasherDep, LimiterDep, SettingsDep, StaffUser
from app.db import SessionDep
from app.dossiers import service, views
from app.dossiers.models import Status
from app.dossiers.schemas import (
    ApplicantView,
    DossierIn,
    DossierItem,
    FactorIn,
    NoteIn,
    PinOut,
    RateIn,
    RatingIn,
    RegisteredOut,
    StaffPage,
    StaffView,
    StatusIn,
)
from app.kit.i18n import locale_of
from app.kit.pagination import Page, PageDep

router = APIRouter(prefix="/api/v1", tags=["dossiers"])
staff_router = APIRouter(prefix="/api/v1/staff", tags=["dossiers: staff"])


# The applicant -----------------------------------------------------------------------------


@router.post(
    "/dossiers/lookup",
    response_model=ApplicantView,
    summary="Track a dossier by its code and a second factor",
)
async def lookup(
    data: FactorIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    hasher: HasherDep,
    limiter: LimiterDep,
    ip: ClientIP,
) -> Any:
    """The code on the receipt plus the last four digits of the applicant's phone
    (`phone_last4`) or the receipt's six-digit `pin`. An unknown code and a wrong factor get
    the same 404. Throttled per address and, for failed attempts, per code: 429 with
    Retry-After."""
    dossier = await service.lookup(session, settings, hasher, limiter, ip, data)
    return await views.applicant_view(
        session, dossier, locale_of(request), time_zone=settings.time_zone
    )


@router.post(
    "/dossiers/follow",
    response_model=ApplicantView,
    summary="Follow a dossier (code and second factor)",
)
async def follow(
    data: FactorIn,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    hasher: HasherDep,
    limiter: LimiterDep,
    ip: ClientIP,
) -> Any:
    """The signed-in person is notified of every change the applicant may see."""
    dossier = await service.lookup(session, settings, hasher, limiter, ip, data)
    await service.follow(session, user, dossier)
    return await views.applicant_view(
        session, dossier, locale_of(request), time_zone=settings.time_zone, viewer=user
    )


@router.post(
    "/dossiers/rate",
    response_model=ApplicantView,
    summary="Rate the service (code and second factor), once the result is ready",
)
async def rate_by_factor(
    data: RateIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    hasher: HasherDep,
    limiter: LimiterDep,
    ip: ClientIP,
) -> Any:
    """Once per dossier (409 the second time, and before the result is ready)."""
    dossier = await service.lookup(session, settings, hasher, limiter, ip, data)
    await service.rate(session, dossier, data.score, data.comment)
    return await views.applicant_view(
        session, dossier, locale_of(request), time_zone=settings.time_zone
    )


@router.get("/me/dossiers", response_model=Page[DossierItem], summary="Dossiers I follow")
async def my_dossiers(
    request: Request, user: CurrentUser, session: SessionDep, settings: SettingsDep, paging: PageDep
) -> Any:
    dossiers, total = await service.followed(
        session, user, limit=paging.page_size, offset=paging.offset
    )
    items = await views.items(session, dossiers, locale_of(request), time_zone=settings.time_zone)
    return {"items": items, "total": total, "page": paging.page, "page_size": paging.page_size}


@router.get("/dossiers/{dossier_code}", response_model=ApplicantView, summary="A dossier I follow")
async def followed_dossier(
    dossier_code: str,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
) -> Any:
    """No second factor: the caller follows it. 404 otherwise, as for an unknown code."""
    dossier = await service.get_followed(session, user, dossier_code)
    return await views.applicant_view(
        session, dossier, locale_of(request), time_zone=settings.time_zone, viewer=user
    )


@router.delete(
    "/dossiers/{dossier_code}/follow", status_code=204, summary="Stop following a dossier"
)
async def unfollow(dossier_code: str, user: CurrentUser, session: SessionDep) -> None:
    """Idempotent: 204 whether or not the caller followed it."""
    dossier = await service.get_followed_or_none(session, user, dossier_code)
    if dossier is not None:
        await service.unfollow(session, user, dossier)


@router.post(
    "/dossiers/{dossier_code}/rating",
    response_model=ApplicantView,
    summary="Rate the service of a dossier I follow",
)
async def rate_followed(
    dossier_code: str,
    data: RatingIn,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
) -> Any:
    dossier = await service.get_followed(session, user, dossier_code)
    await service.rate(session, dossier, data.score, data.comment)
    return await views.applicant_view(
        session, dossier, locale_of(request), time_zone=settings.time_zone, viewer=user
    )


# Staff -------------------------------------------------------------------------------------


@staff_router.post(
    "/dossiers",
    response_model=RegisteredOut,
    status_code=201,
    summary="Register a dossier received at the desk, by post or online",
)
async def register(
    data: DossierIn,
    request: Request,
    user: StaffUser,
    session: SessionDep,
    settings: SettingsDep,
    hasher: HasherDep,
) -> Any:
    """Answers the code and a six-digit PIN to print on the receipt (shown this once). The due
    date counts the procedure's working days after the day of receipt."""
    done = await service.register(session, hasher, user, data, time_zone=settings.time_zone)
    view = await views.staff_view(
        session, done.dossier, locale_of(request), time_zone=settings.time_zone
    )
    return {
        "code": done.dossier.code,
        "pin": done.pin,
        "due_at": done.dossier.due_at,
        "dossier": view,
    }


@staff_router.get("/dossiers", response_model=StaffPage, summary="The dossiers to work")
async def staff_list(
    request: Request,
    user: StaffUser,
    session: SessionDep,
    settings: SettingsDep,
    paging: PageDep,
    status: Annotated[list[Status] | None, Query(description="One or more statuses")] = None,
    overdue: Annotated[bool, Query(description="Only running dossiers past due")] = False,
    procedure: Annotated[str | None, Query(max_length=30, description="Procedure code")] = None,
    q: Annotated[
        str | None,
        Query(max_length=100, description="Part of the code or applicant's name; tax code"),
    ] = None,
    department: Annotated[
        str | None, Query(max_length=40, description="Managers: one department's (code)")
    ] = None,
) -> Any:
    """Staff see their department's, managers every department's. Overdue first, then by due
    date; counts by status (with the other filters) for tabs."""
    found = await service.list_for_staff(
        session,
        user,
        service.StaffFilters(
            statuses=tuple(status or ()),
            overdue=overdue,
            procedure=procedure,
            q=q,
            department=department,
        ),
        limit=paging.page_size,
        offset=paging.offset,
    )
    items = await views.items(
        session, found.dossiers, locale_of(request), time_zone=settings.time_zone
    )
    return {
        "items": items,
        "total": found.total,
        "page": paging.page,
        "page_size": paging.page_size,
        "counts": found.counts,
        "overdue_count": found.overdue_count,
    }


@staff_router.get("/dossiers/{dossier_code}", response_model=StaffView, summary="The whole case")
async def staff_case(
    dossier_code: str, request: Request, user: StaffUser, session: SessionDep, settings: SettingsDep
) -> Any:
    dossier = await service.get_workable(session, user, dossier_code)
    return await views.staff_view(
        session, dossier, locale_of(request), time_zone=settings.time_zone, viewer=user
    )


@staff_router.post(
    "/dossiers/{dossier_code}/status", response_model=StaffView, summary="Change the status"
)
async def change_status(
    dossier_code: str,
    data: StatusIn,
    request: Request,
    user: StaffUser,
    session: SessionDep,
    settings: SettingsDep,
) -> Any:
    """409 for a change the workflow does not allow. needs_supplement lists what is missing and
    pauses the clock; supplement_received resumes it; rejected needs a public reason."""
    dossier = await service.get_workable(session, user, dossier_code, for_update=True)
    await service.change_status(
        session,
        user,
        dossier,
        data.status,
        note=data.note,
        missing=data.missing,
        internal=data.internal,
        time_zone=settings.time_zone,
    )
    return await views.staff_view(
        session, dossier, locale_of(request), time_zone=settings.time_zone, viewer=user
    )


@staff_router.post(
    "/dossiers/{dossier_code}/notes",
    response_model=StaffView,
    summary="Add a note for the applicant or for staff",
)
async def add_note(
    dossier_code: str,
    data: NoteIn,
    request: Request,
    user: StaffUser,
    session: SessionDep,
    settings: SettingsDep,
) -> Any:
    dossier = await service.get_workable(session, user, dossier_code, for_update=True)
    await service.add_note(
        session, user, dossier, data.note, internal=data.internal, time_zone=settings.time_zone
    )
    return await views.staff_view(
        session, dossier, locale_of(request), time_zone=settings.time_zone, viewer=user
    )


@staff_router.post(
    "/dossiers/{dossier_code}/pin",
    response_model=PinOut,
    summary="Re-issue the receipt PIN (the applicant lost the receipt)",
)
async def reissue_pin(
    dossier_code: str, user: StaffUser, session: SessionDep, hasher: HasherDep
) -> Any:
    """A new six-digit PIN, shown this once; the old one stops working at once. 409 once the
    dossier is closed (rejected, result returned, withdrawn). Recorded as an internal note
    (nobody is notified) and in the audit trail."""
    dossier = await service.get_workable(session, user, dossier_code, for_update=True)
    pin = await service.reissue_pin(session, hasher, user, dossier)
    return {"code": dossier.code, "pin": pin}
