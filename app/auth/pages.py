"""Accessible account pages over the same service as the JSON API, with a cookie session."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from app.auth import service
from app.auth.deps import (
    SESSION_COOKIE,
    ClientIP,
    HasherDep,
    LimiterDep,
    PageUser,
    PageUserOptional,
    SettingsDep,
    auth_session_id,
)
from app.auth.schemas import RegisterIn
from app.db import SessionDep
from app.errors import AppError, InvalidInput
from app.kit.csrf import verify_csrf
from app.kit.i18n import gettext as _
from app.kit.templating import cookie_secure, render
from app.web.pages import safe_next

router = APIRouter(include_in_schema=False)
csrf = [Depends(verify_csrf)]


def _form_errors(exc: AppError) -> list[str]:
    if exc.errors:
        return [e["reason"] for e in exc.errors]
    return [exc.detail or _(exc.title)]


def _pydantic_errors(exc: ValidationError) -> list[str]:
    messages = []
    for error in exc.errors():
        field = ".".join(str(p) for p in error.get("loc", ())) or _("form")
        messages.append(f"{field}: {error.get('msg')}")
    return messages


def _start_session(request: Request, response: Response, secret: str, hours: int) -> Response:
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=hours * 3600,
        httponly=True,
        secure=cookie_secure(request),
        samesite="lax",
        path="/",
    )
    return response


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, user: PageUserOptional, next: str | None = None) -> Response:
    if user is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(
        request, "auth/login.html", {"next": safe_next(next), "errors": [], "identifier": ""}
    )


@router.post("/login", dependencies=csrf)
async def login(
    request: Request,
    session: SessionDep,
    hasher: HasherDep,
    limiter: LimiterDep,
    settings: SettingsDep,
    ip: ClientIP,
    identifier: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    try:
        user = await service.authenticate(
            session, hasher, limiter, settings, identifier, password, ip
        )
    except AppError as exc:
        return render(
            request,
            "auth/login.html",
            {"next": safe_next(next), "errors": _form_errors(exc), "identifier": identifier},
            status_code=exc.status,
            headers=exc.headers,
        )
    secret = await service.open_web_session(
        session, settings, user, request.headers.get("user-agent")
    )
    response = RedirectResponse(safe_next(next), status_code=303)
    return _start_session(request, response, secret, settings.web_session_hours)


@router.post("/logout", dependencies=csrf)
async def logout(request: Request, session: SessionDep, user: PageUserOptional) -> Response:
    session_id = auth_session_id(request)
    if session_id is not None:
        await service.sign_out(session, session_id)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/register", response_class=HTMLResponse)
async def register_form(request: Request, user: PageUserOptional) -> Response:
    return render(request, "auth/register.html", {"errors": [], "form": {}})


@router.post("/register", dependencies=csrf)
async def register(
    request: Request,
    session: SessionDep,
    hasher: HasherDep,
    settings: SettingsDep,
    identifier: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    full_name: Annotated[str, Form(max_length=200)] = "",
    accept_privacy_notice: Annotated[str, Form()] = "",
) -> Response:
    form = {"identifier": identifier, "full_name": full_name}
    email, phone = service.split_identifier(identifier)
    locale = getattr(request.state, "locale", "vi")
    try:
        if not identifier.strip() or (phone is None and "@" not in identifier):
            raise InvalidInput(
                _("Enter an e-mail address or a Vietnamese mobile number."),
                errors=[
                    {
                        "field": "identifier",
                        "in": "form",
                        "reason": _("Enter an e-mail address or a Vietnamese mobile number."),
                    }
                ],
            )
        data = RegisterIn(
            email=email,
            phone=phone,
            password=password,
            full_name=full_name or None,
            locale=locale,
            accept_privacy_notice=accept_privacy_notice == "yes",
        )
        user = await service.register(session, hasher, settings, data)
    except ValidationError as exc:
        return render(
            request,
            "auth/register.html",
            {"errors": _pydantic_errors(exc), "form": form},
            status_code=422,
        )
    except AppError as exc:
        return render(
            request,
            "auth/register.html",
            {"errors": _form_errors(exc), "form": form},
            status_code=exc.status,
        )
    secret = await service.open_web_session(
        session, settings, user, request.headers.get("user-agent")
    )
    response = RedirectResponse("/account?welcome=1", status_code=303)
    return _start_session(request, response, secret, settings.web_session_hours)


@router.get("/account", response_class=HTMLResponse)
async def account(request: Request, user: PageUser, welcome: int = 0, changed: int = 0) -> Response:
    return render(
        request,
        "auth/account.html",
        {"user": user, "welcome": bool(welcome), "changed": bool(changed), "errors": []},
    )


@router.post("/account/password", dependencies=csrf)
async def change_password(
    request: Request,
    session: SessionDep,
    hasher: HasherDep,
    user: PageUser,
    current_password: Annotated[str, Form(max_length=1024)] = "",
    new_password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    try:
        await service.change_password(
            session, hasher, user, current_password, new_password, auth_session_id(request)
        )
    except AppError as exc:
        return render(
            request,
            "auth/account.html",
            {"user": user, "welcome": False, "changed": False, "errors": _form_errors(exc)},
            status_code=exc.status,
        )
    return RedirectResponse("/account?changed=1", status_code=303)


@router.get("/account/export")
async def export(user: PageUser, session: SessionDep) -> Response:
    data = await service.export_my_data(session, user)
    return Response(
        json.dumps(data, ensure_ascii=False, indent=2),
        media_type="application/json",
        headers={
            "Content-Disposition": 'attachment; filename="citizen-hub-my-data.json"',
            "Cache-Control": "no-store",
        },
    )


@router.post("/account/delete", dependencies=csrf)
async def delete_account(
    request: Request,
    session: SessionDep,
    hasher: HasherDep,
    user: PageUser,
    password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    try:
        await service.delete_account(session, hasher, user, password)
    except AppError as exc:
        return render(
            request,
            "auth/account.html",
            {"user": user, "welcome": False, "changed": False, "errors": _form_errors(exc)},
            status_code=exc.status,
        )
    request.state.user = None
    response = render(request, "auth/deleted.html")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/privacy", response_class=HTMLResponse)
async def privacy_notice(
    request: Request, user: PageUserOptional, settings: SettingsDep
) -> Response:
    return render(request, "auth/privacy.html", {"version": settings.privacy_notice_version})
