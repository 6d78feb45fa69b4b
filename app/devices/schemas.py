from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class DeviceIn(BaseModel):
    token: str = Field(
        min_length=20,
        max_length=1024,
        pattern=r"^[A-Za-z0-9_:\-.]+$",
        description="The FCM registration token",
    )
    platform: Literal["web", "android", "ios"]
    locale: Literal["vi", "en"] = "vi"
    install_id: str | None = Field(
        None,
        max_length=64,
        pattern=r"^[A-Za-z0-9._:-]{8,64}$",
        description="Anonymous installs: the app's own random id",
    )


class DeviceForget(BaseModel):
    token: str = Field(min_length=20, max_length=1024)


class DeviceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    platform: str
    locale: str
    created_at: datetime
    last_seen_at: datetime
    stale: bool = False
    topics: list[str] = Field(
        default_factory=list, description="The alert topics this device follows"
    )
