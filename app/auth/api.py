"""Accounts over JSON: register, OAuth2 password sign-in, refresh rotation, sign-out, password,
the person's data rights, and account administration."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.responses import JSONResponse
from fastapi.security import OAuth2PasswordRequestForm

from app.auth import repository as repo
from app.auth import service
from app.auth.deps import (
    AdminUser,
    ClientIP,
    CurrentUser,
    HasherDep,
    LimiterDep,
    ManagerUser,
    SettingsDep,
    StaffUser,
    auth_session_id,
)
from app.auth.models import Role
from app.auth.schemas import (
    ChangePasswordIn,
    DeleteAccountIn,
    MeUpdate,
    RefreshIn,
    RegisterIn,
    SessionRead,
    TokenOut,
    UserCreate,
    UserRead,
    UserUpdate,
)
from app.db import SessionDep
from app.errors import InvalidToken
from app.kit.i18n import gettext as _
from app.kit.pagination import Page, PageDep

router = APIRouter(prefix="/api/v1", tags=["accounts"])


def _tokens(pair: service.TokenPair) -> TokenOut:
    return TokenOut(
        access_token=pair.access_token, expires_in=pair.expires_in, refresh_token=pair.refresh_token
    )


@router.post(
    "/auth/register",
    response_model=UserRead,
    status_code=status.HTTP_201_CREATED,
    summary="Create a citizen account",
)
async def register(
    data: RegisterIn, session: SessionDep, hasher: HasherDep, settings: SettingsDep
) -> Any:
    """Register with an e-mail address or a Vietnamese mobile number and a password. The person
    must agree to the privacy notice; its version and the time are recorded."""
    return await service.register(session, hasher, settings, data)


@router.post("/auth/token", response_model=TokenOut, summary="Sign in (OAuth2 password flow)")
async def token(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    hasher: HasherDep,
    limiter: LimiterDep,
    settings: SettingsDep,
    ip: ClientIP,
) -> Any:
    """`username` is the e-mail address or mobile number. Returns a 15-minute access token and a
    refresh token. Failed attempts are throttled per account and per client address (429)."""
    user = await service.authenticate(
        session, hasher, limiter, settings, form.username, form.password, ip
    )
    pair = await service.issue_api_tokens(
        session, settings, user, request.headers.get("user-agent")
    )
    return _tokens(pair)


@router.post(
    "/auth/refresh", response_model=TokenOut, summary="Swap a refresh token for a new pair"
)
async def refresh(data: RefreshIn, session: SessionDep, settings: SettingsDep) -> Any:
    """Each refresh token works once. Presenting a used one again ends that sign-in entirely."""
    pair, reused = await service.rotate_refresh_token(session, settings, data.refresh_token)
    if reused:
        await session.commit()  # keep the revocation even though the request fails
        raise InvalidToken(_("This refresh token was already used; the sign-in has been ended."))
    return _tokens(pair)


@router.post(
    "/auth/logout", status_code=status.HTTP_204_NO_CONTENT, summary="Sign out this session"
)
async def logout(request: Request, user: CurrentUser, session: SessionDep) -> None:
    session_id = auth_session_id(request)
    if session_id is not None:
        await service.sign_out(session, session_id)


@router.post(
    "/auth/logout-all", status_code=status.HTTP_204_NO_CONTENT, summary="Sign out everywhere"
)
async def logout_all(user: CurrentUser, session: SessionDep) -> None:
    await service.sign_out_everywhere(session, user)


@router.post("/auth/password", status_code=status.HTTP_204_NO_CONTENT, summary="Change password")
async def change_password(
    request: Request,
    data: ChangePasswordIn,
    user: CurrentUser,
    session: SessionDep,
    hasher: HasherDep,
) -> None:
    """Ends every other sign-in of the account."""
    await service.change_password(
        session, hasher, user, data.current_password, data.new_password, auth_session_id(request)
    )


@router.get("/me", response_model=UserRead, summary="My account")
async def me(user: CurrentUser) -> Any:
    return user


@router.patch("/me", response_model=UserRead, summary="Update my name or language")
async def update_me(data: MeUpdate, user: CurrentUser, session: SessionDep) -> Any:
    return await service.update_me(
        session, user, data.full_name, data.locale, data.model_fields_set
    )


@router.get("/me/sessions", response_model=list[SessionRead], summary="Where I am signed in")
async def my_sessions(user: CurrentUser, session: SessionDep) -> Any:
    return [s for s in await repo.list_sessions(session, user.id) if s.revoked_at is None]


@router.get("/me/export", summary="Download everything we hold about me (JSON)")
async def export_me(user: CurrentUser, session: SessionDep) -> JSONResponse:
    data = await service.export_my_data(session, user)
    return JSONResponse(
        data,
        headers={
            "Content-Disposition": 'attachment; filename="citizen-hub-my-data.json"',
            "Cache-Control": "no-store",
        },
    )


@router.delete("/me", status_code=status.HTTP_204_NO_CONTENT, summary="Delete my account")
async def delete_me(
    data: DeleteAccountIn, user: CurrentUser, session: SessionDep, hasher: HasherDep
) -> None:
    """Deletes the account and everything that identifies the person. Reports they made stay
    public, anonymised."""
    await service.delete_account(session, hasher, user, data.password)


# Administration ----------------------------------------------------------------------------

admin = APIRouter(prefix="/api/v1", tags=["administration"])


@admin.get("/users", response_model=Page[UserRead], summary="List accounts (managers and admins)")
async def list_users(
    actor: ManagerUser,
    session: SessionDep,
    paging: PageDep,
    role: Annotated[Role | None, Query(description="Only this role")] = None,
    department_id: Annotated[int | None, Query()] = None,
) -> Any:
    items, total = await repo.list_users(
        session,
        role=role.value if role else None,
        department_id=department_id,
        limit=paging.page_size,
        offset=paging.offset,
    )
    return Page[UserRead](
        items=[UserRead.model_validate(u) for u in items],
        total=total,
        page=paging.page,
        page_size=paging.page_size,
    )


@admin.post(
    "/users",
    response_model=UserRead,
    status_code=status.HTTP_201_CREATED,
    summary="Create an account with any role (admins)",
)
async def create_user(
    data: UserCreate, actor: AdminUser, session: SessionDep, hasher: HasherDep
) -> Any:
    return await service.create_user(session, hasher, data)


@admin.patch(
    "/users/{user_id}",
    response_model=UserRead,
    summary="Change an account's role, department or status (admins)",
)
async def update_user(user_id: int, data: UserUpdate, actor: AdminUser, session: SessionDep) -> Any:
    return await service.update_user(session, actor, user_id, data)


@admin.get(
    "/staff/colleagues",
    response_model=list[UserRead],
    summary="Staff of my department (to hand work to)",
)
async def colleagues(actor: StaffUser, session: SessionDep) -> Any:
    if actor.department_id is None:
        return []
    items, _total = await repo.list_users(
        session, role=None, department_id=actor.department_id, limit=500, offset=0
    )
    return [u for u in items if u.is_active]
