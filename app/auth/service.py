"""Accounts: registration, sign-in, tokens, sessions, password changes, the person's data rights.
Services flush, never commit: the request owns the transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import privacy
from app.auth import repository as repo
from app.auth.models import AuthSession, Consent, RefreshToken, Role, User
from app.auth.passwords import Hasher, policy_problems
from app.auth.schemas import NewAccountFields, RegisterIn, UserCreate, UserUpdate
from app.auth.tokens import (
    AccessClaims,
    hash_secret,
    make_access_token,
    new_secret,
    read_access_token,
)
from app.config import Settings
from app.db import utcnow
from app.errors import (
    Conflict,
    Forbidden,
    InvalidCredentials,
    InvalidInput,
    InvalidToken,
    NotFound,
    TooManyRequests,
)
from app.kit.i18n import gettext as _
from app.kit.phone import looks_like_phone, normalise_vn_mobile
from app.kit.ratelimit import Limiter, per_window
from app.org import repository as org_repo

PRIVACY_NOTICE = "privacy_notice"


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    session_id: int


def _password_error(problems: list[str], field: str = "password") -> InvalidInput:
    return InvalidInput(
        " ".join(problems), errors=[{"field": field, "in": "body", "reason": p} for p in problems]
    )


def split_identifier(identifier: str) -> tuple[str | None, str | None]:
    """'An@Example.vn' -> (email, None); '0912 345 678' -> (None, '+84912345678')."""
    cleaned = identifier.strip()
    if looks_like_phone(cleaned):
        return None, normalise_vn_mobile(cleaned)
    return (cleaned.lower() or None), None


async def _ensure_unique(session: AsyncSession, email: str | None, phone: str | None) -> None:
    if await repo.find_by_identifier(session, email, phone):
        raise Conflict(
            _("An account with this e-mail address or phone number already exists."),
            errors=[{"field": "email" if email else "phone", "in": "body", "reason": "taken"}],
        )


async def register(
    session: AsyncSession, hasher: Hasher, settings: Settings, data: RegisterIn
) -> User:
    if not data.accept_privacy_notice:
        raise InvalidInput(
            _("You need to agree to the privacy notice to create an account."),
            errors=[{"field": "accept_privacy_notice", "in": "body", "reason": "must be true"}],
        )
    user = await _new_account(session, hasher, data, Role.citizen, None)
    user.locale = data.locale
    session.add(
        Consent(
            user_id=user.id,
            document=PRIVACY_NOTICE,
            version=settings.privacy_notice_version,
            accepted_at=utcnow(),
        )
    )
    await session.flush()
    return user


async def _new_account(
    session: AsyncSession,
    hasher: Hasher,
    data: NewAccountFields,
    role: Role,
    department_id: int | None,
) -> User:
    problems = policy_problems(data.password, [data.email, data.phone])
    if problems:
        raise _password_error(problems)
    await _ensure_unique(session, data.email, data.phone)
    user = User(
        email=data.email,
        phone=data.phone,
        full_name=data.full_name,
        password_hash=await hasher.hash(data.password),
        role=role.value,
        department_id=department_id,
    )
    session.add(user)
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent registration won the race
        raise Conflict(
            _("An account with this e-mail address or phone number already exists.")
        ) from exc
    return user


async def authenticate(
    session: AsyncSession,
    hasher: Hasher,
    limiter: Limiter,
    settings: Settings,
    identifier: str,
    password: str,
    client_ip: str,
) -> User:
    """The same answer (and the same cost) for an unknown account and a wrong password."""
    account_limit = per_window(settings.login_attempts_per_account, settings.login_window_seconds)
    ip_limit = per_window(settings.login_attempts_per_ip, settings.login_window_seconds)
    account_key = identifier.strip().lower()
    for limit, key in (
        (account_limit, ("login", "account", account_key)),
        (ip_limit, ("login", "ip", client_ip)),
    ):
        decision = await limiter.test(limit, *key)
        if not decision.allowed:
            raise TooManyRequests(
                decision.retry_after,
                _(
                    "Too many failed sign-in attempts. Try again in %(seconds)s seconds.",
                    seconds=decision.retry_after,
                ),
            )
    email, phone = split_identifier(identifier)
    user = await repo.find_by_identifier(session, email, phone)
    usable = user is not None and user.is_active and user.deleted_at is None
    ok = await hasher.verify(user.password_hash if usable and user else None, password)
    if not ok or user is None:
        await limiter.hit(account_limit, "login", "account", account_key)
        await limiter.hit(ip_limit, "login", "ip", client_ip)
        raise InvalidCredentials()
    await limiter.clear(account_limit, "login", "account", account_key)
    if hasher.needs_rehash(user.password_hash):
        user.password_hash = await hasher.hash(password)
    user.last_login_at = utcnow()
    return user


async def _open_session(
    session: AsyncSession, user: User, kind: str, lifetime: timedelta, user_agent: str | None
) -> AuthSession:
    now = utcnow()
    auth_session = AuthSession(
        user_id=user.id,
        kind=kind,
        user_agent=(user_agent or "")[:255] or None,
        created_at=now,
        last_used_at=now,
        expires_at=now + lifetime,
    )
    session.add(auth_session)
    await session.flush()
    return auth_session


async def _issue_pair(
    session: AsyncSession, settings: Settings, user: User, auth_session: AuthSession
) -> TokenPair:
    refresh = new_secret()
    now = utcnow()
    session.add(
        RefreshToken(
            session_id=auth_session.id,
            token_hash=hash_secret(refresh),
            created_at=now,
            expires_at=auth_session.expires_at,
        )
    )
    await session.flush()
    lifetime = timedelta(minutes=settings.access_token_minutes)
    access = make_access_token(
        settings.secret_key, AccessClaims(user.id, auth_session.id, user.role), lifetime
    )
    return TokenPair(access, refresh, int(lifetime.total_seconds()), auth_session.id)


async def issue_api_tokens(
    session: AsyncSession, settings: Settings, user: User, user_agent: str | None
) -> TokenPair:
    auth_session = await _open_session(
        session, user, "api", timedelta(days=settings.refresh_token_days), user_agent
    )
    return await _issue_pair(session, settings, user, auth_session)


async def rotate_refresh_token(
    session: AsyncSession, settings: Settings, refresh_token: str
) -> tuple[TokenPair, bool]:
    """A new pair for a valid refresh token. Returns (pair, False), or (None-like, True) when a
    used token came back: then the whole sign-in is revoked (someone holds a stolen copy)."""
    now = utcnow()
    found = await repo.refresh_token_by_hash(session, hash_secret(refresh_token))
    if found is None:
        raise InvalidToken()
    token, auth_session = found
    if (
        auth_session.revoked_at is not None
        or auth_session.expires_at <= now
        or token.expires_at <= now
    ):
        raise InvalidToken()
    if token.used_at is not None or not await repo.mark_refresh_used(session, token.id, now):
        await repo.revoke_session(session, auth_session.id, now)
        return TokenPair("", "", 0, auth_session.id), True
    user = await repo.user_with_live_session(
        session, auth_session.user_id, auth_session.id, now, "api"
    )
    if user is None:
        raise InvalidToken()
    auth_session.last_used_at = now
    return await _issue_pair(session, settings, user, auth_session), False


async def user_for_access_token(
    session: AsyncSession, settings: Settings, token: str
) -> tuple[User, int]:
    claims = read_access_token(settings.secret_key, token)
    if claims is None:
        raise InvalidToken()
    user = await repo.user_with_live_session(
        session, claims.user_id, claims.session_id, utcnow(), "api"
    )
    if user is None:
        raise InvalidToken()
    return user, claims.session_id


async def open_web_session(
    session: AsyncSession, settings: Settings, user: User, user_agent: str | None
) -> str:
    secret = new_secret()
    auth_session = await _open_session(
        session, user, "web", timedelta(hours=settings.web_session_hours), user_agent
    )
    auth_session.secret_hash = hash_secret(secret)
    await session.flush()
    return secret


async def user_for_web_session(session: AsyncSession, secret: str) -> tuple[User, int] | None:
    found = await repo.web_session_by_secret(session, hash_secret(secret), utcnow())
    if found is None:
        return None
    auth_session, user = found
    return user, auth_session.id


async def sign_out(session: AsyncSession, session_id: int) -> None:
    await repo.revoke_session(session, session_id, utcnow())


async def sign_out_everywhere(session: AsyncSession, user: User) -> None:
    await repo.revoke_sessions(session, user.id, utcnow())


async def change_password(
    session: AsyncSession,
    hasher: Hasher,
    user: User,
    current_password: str,
    new_password: str,
    keep_session_id: int | None,
) -> None:
    """Every other sign-in ends: a changed password must lock out whoever knew the old one."""
    if not await hasher.verify(user.password_hash, current_password):
        raise InvalidInput(
            _("The current password is not right."),
            errors=[{"field": "current_password", "in": "body", "reason": "wrong password"}],
        )
    problems = policy_problems(new_password, [user.email, user.phone])
    if problems:
        raise _password_error(problems, "new_password")
    user.password_hash = await hasher.hash(new_password)
    await repo.revoke_sessions(session, user.id, utcnow(), except_id=keep_session_id)
    await session.flush()


async def update_me(
    session: AsyncSession, user: User, full_name: str | None, locale: str | None, fields: set[str]
) -> User:
    if "full_name" in fields:
        user.full_name = full_name
    if "locale" in fields and locale and locale != user.locale:
        user.locale = locale
        await session.flush()
        from app.push.topic_sync import sync_user

        await sync_user(session, user.id)  # alert topics follow the language
    await session.flush()
    return user


# The person's data rights ------------------------------------------------------------------


async def export_my_data(session: AsyncSession, user: User) -> dict[str, Any]:
    return {
        "format": "citizen-hub-personal-data/1",
        "exported_at": utcnow().isoformat(),
        "sections": await privacy.export_all(session, user),
    }


async def delete_account(
    session: AsyncSession, hasher: Hasher, user: User, password: str
) -> list[str]:
    """Erase the person; what they reported stays, with nothing that points to them."""
    if not await hasher.verify(user.password_hash, password):
        raise InvalidInput(
            _("The password is not right."),
            errors=[{"field": "password", "in": "body", "reason": "wrong password"}],
        )
    return await privacy.erase_all(session, user)


@privacy.exporter("account")
async def _export_account(session: AsyncSession, user: User) -> dict[str, Any]:
    consents = await repo.list_consents(session, user.id)
    sessions = await repo.list_sessions(session, user.id)
    return {
        "id": user.id,
        "email": user.email,
        "phone": user.phone,
        "full_name": user.full_name,
        "role": user.role,
        "department_id": user.department_id,
        "locale": user.locale,
        "created_at": user.created_at.isoformat(),
        "last_login_at": user.last_login_at.isoformat() if user.last_login_at else None,
        "consents": [
            {"document": c.document, "version": c.version, "accepted_at": c.accepted_at.isoformat()}
            for c in consents
        ],
        "sign_ins": [
            {
                "kind": s.kind,
                "user_agent": s.user_agent,
                "created_at": s.created_at.isoformat(),
                "last_used_at": s.last_used_at.isoformat(),
                "revoked_at": s.revoked_at.isoformat() if s.revoked_at else None,
            }
            for s in sessions
        ],
    }


@privacy.eraser("account")
async def _erase_account(session: AsyncSession, user: User) -> None:
    await repo.delete_sign_ins(session, user.id)
    await repo.delete_consents(session, user.id)
    user.email = None
    user.phone = None
    user.full_name = None
    user.password_hash = "!deleted"  # noqa: S105 - matches no password: argon2 refuses it as a hash
    user.is_active = False
    user.deleted_at = utcnow()
    await session.flush()


# Administration ----------------------------------------------------------------------------


async def _department_id(session: AsyncSession, role: Role, code: str | None) -> int | None:
    if code is None:
        if role is Role.staff:
            raise InvalidInput(
                _("Staff must belong to a department."),
                errors=[{"field": "department_code", "in": "body", "reason": "required for staff"}],
            )
        return None
    department = await org_repo.department_by_code(session, code)
    if department is None:
        raise InvalidInput(
            _("There is no department with this code."),
            errors=[{"field": "department_code", "in": "body", "reason": "unknown department"}],
        )
    return department.id


async def create_user(session: AsyncSession, hasher: Hasher, data: UserCreate) -> User:
    department_id = await _department_id(session, data.role, data.department_code)
    return await _new_account(session, hasher, data, data.role, department_id)


async def update_user(session: AsyncSession, actor: User, user_id: int, data: UserUpdate) -> User:
    user = await repo.get_user(session, user_id)
    if user is None or user.deleted_at is not None:
        raise NotFound(_("There is no such account."))
    if user.id == actor.id and (data.role not in (None, Role.admin) or data.is_active is False):
        raise Forbidden(_("You cannot remove your own administrator rights."))
    fields = data.model_fields_set
    role = data.role or user.role_enum
    if "department_code" in fields or role is Role.staff:
        code = data.department_code if "department_code" in fields else None
        if code is None and role is Role.staff and user.department_id is not None:
            department_id: int | None = user.department_id
        else:
            department_id = await _department_id(session, role, code)
        user.department_id = department_id
    user.role = role.value
    if data.is_active is not None:
        user.is_active = data.is_active
        if not data.is_active:
            await repo.revoke_sessions(session, user.id, utcnow())
    await session.flush()
    return user
