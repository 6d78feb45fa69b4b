from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, IdMixin, TimestampMixin, utcnow


class Role(StrEnum):
    citizen = "citizen"
    staff = "staff"
    manager = "manager"
    admin = "admin"


ROLE_RANK = {Role.citizen: 0, Role.staff: 1, Role.manager: 2, Role.admin: 3}


class User(IdMixin, TimestampMixin, Base):
    __tablename__ = "user_account"
    __table_args__ = (
        CheckConstraint("role IN ('citizen', 'staff', 'manager', 'admin')", name="role"),
        CheckConstraint("role <> 'staff' OR department_id IS NOT NULL", name="staff_department"),
        CheckConstraint(
            "deleted_at IS NOT NULL OR email IS NOT NULL OR phone IS NOT NULL", name="identifier"
        ),
    )

    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    phone: Mapped[str | None] = mapped_column(String(16), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    full_name: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16), default=Role.citizen.value)
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("department.id", ondelete="RESTRICT"), index=True
    )
    locale: Mapped[str] = mapped_column(String(8), default="vi")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_login_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    def has_role(self, minimum: Role) -> bool:
        return ROLE_RANK[self.role_enum] >= ROLE_RANK[minimum]

    @property
    def identifier(self) -> str:
        return self.email or self.phone or f"user-{self.id}"


class Consent(IdMixin, Base):
    """What a person agreed to, which version, and when (Decree 13/2023 asks us to prove it)."""

    __tablename__ = "consent"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    document: Mapped[str] = mapped_column(String(40))
    version: Mapped[str] = mapped_column(String(40))
    accepted_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuthSession(IdMixin, Base):
    """One sign-in: an API login (refresh-token family) or a browser session (cookie)."""

    __tablename__ = "auth_session"
    __table_args__ = (CheckConstraint("kind IN ('api', 'web')", name="kind"),)

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(8))
    # sha256 of the browser cookie's secret; API sessions keep their secrets in refresh_token.
    secret_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    user_agent: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class RefreshToken(IdMixin, Base):
    """A rotating refresh token, stored hashed. Reusing a used one revokes the whole session."""

    __tablename__ = "refresh_token"

    session_id: Mapped[int] = mapped_column(
        ForeignKey("auth_session.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
