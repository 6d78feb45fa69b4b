"""Who is asking: bearer tokens for the API, the session cookie for pages, and role checks."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from app.auth import service
from app.auth.models import Role, User
from app.auth.passwords import Hasher
from app.config import Settings
from app.db import SessionDep
from app.errors import Forbidden, NotAuthenticated
from app.kit.i18n import gettext as _
from app.kit.ratelimit import Limiter

SESSION_COOKIE = "ch_session"

oauth2_scheme = OAuth2PasswordBearer(
    tokenUrl="/api/v1/auth/token",
    auto_error=False,
    description="Sign in with an e-mail address or a Vietnamese mobile number and a password.",
)


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


def get_hasher(request: Request) -> Hasher:
    return request.app.state.hasher


def get_limiter(request: Request) -> Limiter:
    return request.app.state.limiter


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
HasherDep = Annotated[Hasher, Depends(get_hasher)]
LimiterDep = Annotated[Limiter, Depends(get_limiter)]
ClientIP = Annotated[str, Depends(client_ip)]


async def current_user(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> User:
    if not token:
        raise NotAuthenticated()
    user, session_id = await service.user_for_access_token(session, settings, token)
    request.state.user = user
    request.state.auth_session_id = session_id
    return user


async def current_user_optional(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> User | None:
    """Anonymous is allowed; a token that is sent must be valid."""
    if not token:
        return None
    return await current_user(request, session, settings, token)


def require_role(minimum: Role) -> object:
    async def check(user: Annotated[User, Depends(current_user)]) -> User:
        if not user.has_role(minimum):
            raise Forbidden(_("This needs the %(role)s role.", role=minimum.value))
        return user

    return Depends(check)


CurrentUser = Annotated[User, Depends(current_user)]
OptionalUser = Annotated[User | None, Depends(current_user_optional)]
StaffUser = Annotated[User, require_role(Role.staff)]
ManagerUser = Annotated[User, require_role(Role.manager)]
AdminUser = Annotated[User, require_role(Role.admin)]


def auth_session_id(request: Request) -> int | None:
    return getattr(request.state, "auth_session_id", None)


# Pages -------------------------------------------------------------------------------------


async def page_user_optional(request: Request, session: SessionDep) -> User | None:
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        return None
    found = await service.user_for_web_session(session, secret)
    if found is None:
        return None
    user, session_id = found
    request.state.user = user
    request.state.user_role = user.role
    request.state.auth_session_id = session_id
    return user


async def page_user(user: Annotated[User | None, Depends(page_user_optional)]) -> User:
    if user is None:
        raise NotAuthenticated()
    return user


def require_page_role(minimum: Role) -> object:
    async def check(user: Annotated[User, Depends(page_user)]) -> User:
        if not user.has_role(minimum):
            raise Forbidden(_("This needs the %(role)s role.", role=minimum.value))
        return user

    return Depends(check)


PageUserOptional = Annotated[User | None, Depends(page_user_optional)]
PageUser = Annotated[User, Depends(page_user)]
PageStaff = Annotated[User, require_page_role(Role.staff)]
PageManager = Annotated[User, require_page_role(Role.manager)]
PageAdmin = Annotated[User, require_page_role(Role.admin)]
