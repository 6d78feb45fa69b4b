from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status

from app.auth.deps import CurrentUser, OptionalUser
from app.db import SessionDep
from app.devices import service
from app.devices.schemas import DeviceForget, DeviceIn, DeviceRead
from app.errors import NotFound
from app.kit.i18n import gettext as _
from app.push import topic_sync

router = APIRouter(prefix="/api/v1", tags=["devices"])


@router.post("/devices", response_model=DeviceRead, summary="Register or refresh a push token")
async def register(data: DeviceIn, user: OptionalUser, session: SessionDep) -> Any:
    """Call at every app start: it refreshes the token's last-seen time. Signed in, the device
    belongs to the account; otherwise to the anonymous install id. The device follows the
    province-wide emergency alerts in its language, and those of its chosen wards."""
    device = await service.register(session, user, data)
    return _read(device, await topic_sync.topics_of(session, device.id))


def _read(device: Any, topics: list[str]) -> DeviceRead:
    return DeviceRead(
        platform=device.platform,
        locale=device.locale,
        created_at=device.created_at,
        last_seen_at=device.last_seen_at,
        stale=device.stale_at is not None,
        topics=topics,
    )


@router.post(
    "/devices/forget",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Stop push notifications to a token",
)
async def forget(data: DeviceForget, session: SessionDep) -> None:
    if not await service.forget(session, data.token):
        raise NotFound(_("This device is not registered."))


@router.get("/me/devices", response_model=list[DeviceRead], summary="My devices")
async def mine(user: CurrentUser, session: SessionDep) -> Any:
    devices = await service.devices_of(session, user.id)
    topics = await topic_sync.topics_by_device(session, [d.id for d in devices])
    return [_read(d, topics.get(d.id, [])) for d in devices]
