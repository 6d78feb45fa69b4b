"""Notification preferences: language, what to be told about, quiet hours, report subscriptions
and emergency-alert areas."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status

from app.auth.deps import CurrentUser
from app.db import SessionDep
from app.preferences import service
from app.preferences.schemas import (
    DeviceAlertAreas,
    DeviceAlertAreasRead,
    PreferencesRead,
    PreferencesUpdate,
    SubscriptionIn,
    SubscriptionRead,
)

router = APIRouter(prefix="/api/v1", tags=["preferences"])


@router.get("/me/preferences", response_model=PreferencesRead, summary="My notification settings")
async def read(user: CurrentUser, session: SessionDep) -> Any:
    return await service.read(session, user)


@router.patch(
    "/me/preferences", response_model=PreferencesRead, summary="Change my notification settings"
)
async def update(data: PreferencesUpdate, user: CurrentUser, session: SessionDep) -> Any:
    """Only the fields sent change. `alert_wards` replaces the list; every device of the account
    then follows those wards' alert topics in the account's language."""
    return await service.update(session, user, data)


@router.post(
    "/me/subscriptions",
    response_model=SubscriptionRead,
    status_code=status.HTTP_201_CREATED,
    summary="Follow new reports in a ward or about a service group",
)
async def subscribe(data: SubscriptionIn, user: CurrentUser, session: SessionDep) -> Any:
    return await service.subscribe(session, user, data)


@router.delete(
    "/me/subscriptions/{subscription_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Stop following",
)
async def unsubscribe(subscription_id: int, user: CurrentUser, session: SessionDep) -> None:
    await service.unsubscribe(session, user, subscription_id)


@router.put(
    "/devices/alert-areas",
    response_model=DeviceAlertAreasRead,
    summary="Choose an anonymous install's alert wards",
)
async def device_alert_areas(data: DeviceAlertAreas, session: SessionDep) -> Any:
    """For apps used without an account. The token proves the device is the caller's."""
    codes, topics = await service.set_device_alert_areas(session, data.token, data.alert_wards)
    return DeviceAlertAreasRead(alert_wards=codes, topics=topics)
