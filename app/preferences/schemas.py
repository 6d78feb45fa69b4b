from __future__ import annotations

from datetime import time
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from app.reports.models import ServiceGroup


class QuietHours(BaseModel):
    """Local time of the province; a start after the end wraps midnight (22:00 to 06:00)."""

    start: time
    end: time

    @model_validator(mode="after")
    def _not_empty(self) -> QuietHours:
        if self.start == self.end:
            raise ValueError("start and end must differ")
        return self


class PreferencesUpdate(BaseModel):
    """Only the fields sent change."""

    locale: Literal["vi", "en"] | None = None
    report_updates: bool | None = Field(
        None, description="Push about my reports and those I follow (the inbox gets them anyway)"
    )
    area_reports: bool | None = Field(
        None, description="Push about new reports in my subscribed wards and service groups"
    )
    quiet_hours: QuietHours | None = Field(
        None, description="Null turns quiet hours off. Emergency alerts ignore them."
    )
    alert_wards: list[str] | None = Field(
        None,
        max_length=50,
        description="Ward or commune codes whose emergency alerts I want besides the province's",
    )


class SubscriptionIn(BaseModel):
    ward_code: str | None = Field(None, max_length=40, description="Null: the whole province")
    service_group: ServiceGroup | None = Field(None, description="Null: every kind of report")


class SubscriptionRead(BaseModel):
    id: int
    ward_code: str | None
    ward_name: str | None
    service_group: str | None


class PreferencesRead(BaseModel):
    locale: str
    report_updates: bool
    area_reports: bool
    quiet_hours: QuietHours | None
    alert_wards: list[str]
    subscriptions: list[SubscriptionRead]


class DeviceAlertAreas(BaseModel):
    """An anonymous install chooses its alert wards; the token is the proof it is theirs."""

    token: str = Field(min_length=20, max_length=1024)
    alert_wards: list[str] = Field(max_length=50)


class DeviceAlertAreasRead(BaseModel):
    alert_wards: list[str]
    topics: list[str]
