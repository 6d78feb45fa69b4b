from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator, model_validator

from app.auth.models import Role
from app.kit.phone import normalise_vn_mobile
from app.kit.text import nfc


def _phone(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    normalised = normalise_vn_mobile(value)
    if normalised is None:
        raise ValueError("not a Vietnamese mobile number (10 digits starting 03, 05, 07, 08, 09)")
    return normalised


def _name(value: str | None) -> str | None:
    if value is None:
        return None
    cleaned = nfc(value)
    return cleaned or None


class NewAccountFields(BaseModel):
    """What every new account needs: an e-mail address or a Vietnamese mobile number, a password."""

    email: EmailStr | None = Field(None, description="E-mail address; give it or a phone number")
    phone: str | None = Field(None, description="Vietnamese mobile number, e.g. 0912 345 678")
    password: str = Field(min_length=1, max_length=1024)
    full_name: str | None = Field(None, max_length=200)

    _phone = field_validator("phone")(_phone)
    _name = field_validator("full_name")(_name)

    @field_validator("email")
    @classmethod
    def _lower_email(cls, value: str | None) -> str | None:
        return value.lower() if value else None

    @model_validator(mode="after")
    def _needs_identifier(self) -> NewAccountFields:
        if not self.email and not self.phone:
            raise ValueError("give an e-mail address or a mobile number")
        return self


class RegisterIn(NewAccountFields):
    locale: Literal["vi", "en"] = "vi"
    accept_privacy_notice: bool = Field(
        description="Must be true: the person agrees to the privacy notice in force"
    )


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int = Field(description="Seconds until the access token expires")
    refresh_token: str


class RefreshIn(BaseModel):
    refresh_token: str = Field(min_length=10, max_length=200)


class ChangePasswordIn(BaseModel):
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


class DeleteAccountIn(BaseModel):
    password: str = Field(min_length=1, max_length=1024, description="Confirms it is really you")


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str | None
    phone: str | None
    full_name: str | None
    role: Role
    department_id: int | None
    locale: str
    is_active: bool
    created_at: datetime


class MeUpdate(BaseModel):
    full_name: str | None = Field(None, max_length=200)
    locale: Literal["vi", "en"] | None = None

    _name = field_validator("full_name")(_name)


class UserCreate(NewAccountFields):
    role: Role = Role.citizen
    department_code: str | None = Field(None, description="Required for staff")


class UserUpdate(BaseModel):
    role: Role | None = None
    department_code: str | None = None
    is_active: bool | None = None


class SessionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    user_agent: str | None
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
