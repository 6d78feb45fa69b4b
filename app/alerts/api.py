"""Alerts over JSON: the public feed for people without push, and the managers' composer."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from app.alerts import repository as repo
from app.alerts import service, views
from app.alerts.models import AlertStatus
from app.alerts.schemas import (
    AlertIn,
    AlertPublic,
    AlertStaff,
    AlertUpdate,
    AuditRead,
    PreviewRead,
)
from app.auth.deps import ManagerUser, OptionalUser, SettingsDep
from app.db import SessionDep, utcnow
from app.errors import InvalidInput
from app.kit.cache import cached_headers, conditional_response
from app.kit.i18n import gettext as _
from app.kit.i18n import locale_of
from app.kit.pagination import Page, PageDep
from app.org import repository as org_repo
from app.org.models import Ward

router = APIRouter(prefix="/api/v1", tags=["alerts"])
staff_router = APIRouter(prefix="/api/v1/staff", tags=["alerts"])

#: Short: a phone without push polls this, and a new warning must show up soon.
PUBLIC_CACHE_SECONDS = 60


def cached_json(request: Request, model: BaseModel, *, public: bool = True) -> Response:
    """JSON with an ETag; 304 when the client has it already. Public answers may be cached for
    a minute; a manager's view of a draft is never stored."""
    body = model.model_dump_json().encode()
    headers = cached_headers(body, PUBLIC_CACHE_SECONDS, "application/json")
    if not public:
        headers["Cache-Control"] = "private, no-store"
    return conditional_response(request, body, headers)


async def ward_of(session: Any, ward: str | None) -> Ward | None:
    """The ward a ?ward= filter names; None without one; 422 for an unknown code."""
    if not ward:
        return None
    found = await org_repo.ward_by_code(session, ward)
    if found is None:
        raise InvalidInput(
            _("There is no ward or commune with the code: %(codes)s.", codes=ward),
            errors=[{"field": "ward", "in": "query", "reason": _("unknown ward or commune")}],
        )
    return found


# Public ------------------------------------------------------------------------------------


@router.get("/alerts", response_model=Page[AlertPublic], summary="Alerts and announcements")
async def list_alerts(
    request: Request,
    session: SessionDep,
    paging: PageDep,
    active: Annotated[
        bool | None, Query(description="true: only those in force now; false: the others")
    ] = None,
    ward: Annotated[
        str | None,
        Query(max_length=40, description="Ward or commune code: its alerts and province-wide ones"),
    ] = None,
) -> Response:
    """Sent and cancelled alerts, newest first, in both languages (`title` and `body` in the
    language asked for). For people and apps without push notifications."""
    now = utcnow()
    chosen = await ward_of(session, ward)
    rows, total = await repo.published(
        session,
        now=now,
        active=active,
        ward_id=chosen.id if chosen else None,
        limit=paging.page_size,
        offset=paging.offset,
    )
    locale = locale_of(request)
    page = Page[AlertPublic](
        items=[views.public(a, locale, now) for a in rows],
        total=total,
        page=paging.page,
        page_size=paging.page_size,
    )
    return cached_json(request, page)


@router.get(
    "/alerts/{alert_id}",
    response_model=AlertPublic | AlertStaff,
    summary="One alert",
    name="get_alert",
)
async def get_alert(
    alert_id: int, request: Request, session: SessionDep, user: OptionalUser
) -> Response:
    """Public once sent; a draft is visible to managers only."""
    alert = await service.get_readable(session, alert_id, user)
    locale = locale_of(request)
    if service.is_manager(user):
        return cached_json(request, views.staff(alert, locale), public=False)
    return cached_json(request, views.public(alert, locale))


# Managers ----------------------------------------------------------------------------------


@staff_router.get(
    "/alerts", response_model=Page[AlertStaff], summary="Every alert, drafts included"
)
async def staff_list(
    request: Request,
    user: ManagerUser,
    session: SessionDep,
    paging: PageDep,
    status: Annotated[AlertStatus | None, Query()] = None,
) -> Any:
    rows, total = await repo.all_alerts(
        session,
        status=status.value if status else None,
        limit=paging.page_size,
        offset=paging.offset,
    )
    locale = locale_of(request)
    now = utcnow()
    return Page[AlertStaff](
        items=[views.staff(a, locale, now) for a in rows],
        total=total,
        page=paging.page,
        page_size=paging.page_size,
    )


@router.post(
    "/alerts", response_model=AlertStaff, status_code=201, summary="Compose an alert (a draft)"
)
async def create_alert(
    data: AlertIn,
    request: Request,
    user: ManagerUser,
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
) -> Any:
    """Checked for size in both languages (FCM allows 2,048 bytes per topic message)."""
    alert = await service.create(session, settings, user, data)
    response.headers["Location"] = f"/api/v1/alerts/{alert.id}"
    return views.staff(alert, locale_of(request))


@router.patch("/alerts/{alert_id}", response_model=AlertStaff, summary="Change a draft")
async def update_alert(
    alert_id: int,
    data: AlertUpdate,
    request: Request,
    user: ManagerUser,
    session: SessionDep,
    settings: SettingsDep,
) -> Any:
    alert = await service.get_alert(session, alert_id, for_update=True)
    await service.update(session, settings, user, alert, data)
    return views.staff(alert, locale_of(request))


@router.get(
    "/alerts/{alert_id}/preview",
    response_model=PreviewRead,
    summary="The pushes exactly as sent, their size, topics and reach",
)
async def preview_alert(
    alert_id: int, request: Request, user: ManagerUser, session: SessionDep, settings: SettingsDep
) -> Any:
    alert = await service.get_alert(session, alert_id)
    return views.preview(await service.preview(session, settings, alert), locale_of(request))


@router.post("/alerts/{alert_id}/send", response_model=AlertStaff, summary="Send a draft")
async def send_alert(
    alert_id: int, request: Request, user: ManagerUser, session: SessionDep, settings: SettingsDep
) -> Any:
    """Queues one push per topic and language of its area. 409 when it was already sent or has
    expired; 422 when a language is over the size limit."""
    alert = await service.get_alert(session, alert_id, for_update=True)
    await service.send(session, settings, user, alert)
    return views.staff(alert, locale_of(request))


@router.post("/alerts/{alert_id}/cancel", response_model=AlertStaff, summary="Cancel a sent alert")
async def cancel_alert(
    alert_id: int, request: Request, user: ManagerUser, session: SessionDep
) -> Any:
    """It stays in the public feed, marked as cancelled; pushes not yet out are dropped."""
    alert = await service.get_alert(session, alert_id, for_update=True)
    await service.cancel(session, user, alert)
    return views.staff(alert, locale_of(request))


@router.get(
    "/alerts/{alert_id}/audit",
    response_model=list[AuditRead],
    summary="Who did what and when, and to which topics it went",
)
async def alert_audit(alert_id: int, user: ManagerUser, session: SessionDep) -> Any:
    alert = await service.get_alert(session, alert_id)
    return views.audit(await service.audit_trail(session, alert))
