from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from app.alerts.models import AlertStatus, Severity
from app.kit.text import nfc

# Control characters other than newline and tab: invisible, and not allowed in XML (the feed).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
TITLE_MAX = 200
BODY_MAX = 2000  # characters; the real limit is FCM's 2,048 bytes, checked by the service


class AlertIn(BaseModel):
    """A new alert. English is optional: English-language devices get the Vietnamese text when
    it is empty. The area is the whole province, or the wards and communes in `ward_codes`."""

    model_config = ConfigDict(extra="forbid")

    severity: Severity
    title_vi: str = Field(min_length=3, max_length=TITLE_MAX)
    body_vi: str = Field(min_length=3, max_length=BODY_MAX)
    title_en: str = Field("", max_length=TITLE_MAX)
    body_en: str = Field("", max_length=BODY_MAX)
    whole_province: bool = True
    ward_codes: list[str] = Field(default_factory=list, max_length=500)
    expires_at: AwareDatetime = Field(description="When it stops being in force (at most 14 days)")

    @field_validator("title_vi", "body_vi", "title_en", "body_en", mode="before")
    @classmethod
    def _normalise(cls, value: Any) -> Any:
        # Before the length checks, so "   " is empty and not three characters.
        if not isinstance(value, str):
            return value
        return nfc(_CONTROL.sub("", value.replace("\r\n", "\n")))


class AlertUpdate(BaseModel):
    """Changes to a draft; fields left out stay as they are."""

    model_config = ConfigDict(extra="forbid")

    severity: Severity | None = None
    title_vi: str | None = Field(None, min_length=3, max_length=TITLE_MAX)
    body_vi: str | None = Field(None, min_length=3, max_length=BODY_MAX)
    title_en: str | None = Field(None, max_length=TITLE_MAX)
    body_en: str | None = Field(None, max_length=BODY_MAX)
    whole_province: bool | None = None
    ward_codes: list[str] | None = Field(None, max_length=500)
    expires_at: AwareDatetime | None = None

    @field_validator("title_vi", "body_vi", "title_en", "body_en", mode="before")
    @classmethod
    def _normalise(cls, value: Any) -> Any:
        # Before the length checks, so "   " is empty and not three characters.
        if not isinstance(value, str):
            return value
        return nfc(_CONTROL.sub("", value.replace("\r\n", "\n")))


class WardRead(BaseModel):
    code: str
    name: str
    kind: str
    district: str


class AlertPublic(BaseModel):
    id: int
    severity: Severity
    severity_label: str
    status: AlertStatus
    active: bool = Field(description="Sent, not cancelled and not expired")
    title: str = Field(description="In the language asked for")
    body: str
    title_vi: str
    body_vi: str
    title_en: str
    body_en: str
    whole_province: bool
    wards: list[WardRead]
    sent_at: datetime | None
    expires_at: datetime
    cancelled_at: datetime | None
    url: str


class AlertStaff(AlertPublic):
    created_at: datetime
    updated_at: datetime
    created_by_id: int | None
    sent_by_id: int | None
    cancelled_by_id: int | None


class LanguagePreviewRead(BaseModel):
    locale: str
    title: str = Field(description="Exactly as pushed, severity prefix included")
    body: str
    bytes: int = Field(description="UTF-8 bytes of the payload FCM counts")
    limit: int
    fits: bool
    topics: list[str]
    devices: int = Field(description="Devices following these topics now")


class PreviewRead(BaseModel):
    alert: AlertStaff
    languages: list[LanguagePreviewRead]
    devices: int = Field(description="Distinct devices following any of the topics")
    priority: str
    held_until: datetime | None = Field(
        description="An announcement sent now would wait for the end of quiet hours"
    )
    problems: list[str] = Field(description="Why it cannot be sent as it is; empty when it can")


class AuditRead(BaseModel):
    action: str
    at: datetime
    actor_id: int | None
    actor_name: str | None
    data: dict[str, Any]
