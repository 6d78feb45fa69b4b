"""The inbox: a signed-in person's notifications, read and unread, so nothing depends on a push
arriving."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from app.auth.deps import CurrentUser
from app.db import SessionDep, utcnow
from app.inbox import repository as repo
from app.inbox.texts import link_of, render

router = APIRouter(prefix="/api/v1/me", tags=["inbox"])


class NotificationRead(BaseModel):
    id: int
    event: str
    title: str
    body: str
    link: str | None
    data: dict[str, Any]
    created_at: datetime
    read_at: datetime | None


class Inbox(BaseModel):
    items: list[NotificationRead]
    total: int
    unread: int
    page: int
    page_size: int


class MarkRead(BaseModel):
    ids: list[int] | None = Field(None, max_length=500, description="None marks every one read")


class Marked(BaseModel):
    marked: int


@router.get("/notifications", response_model=Inbox, summary="My notifications")
async def inbox(
    user: CurrentUser,
    session: SessionDep,
    unread: Annotated[bool, Query(description="Only the unread ones")] = False,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Any:
    """Texts in the person's chosen language (their account's locale)."""
    rows, total, unread_count = await repo.list_for(
        session, user.id, unread_only=unread, limit=page_size, offset=(page - 1) * page_size
    )
    items = []
    for row in rows:
        text = render(row.event, user.locale, row.data)
        items.append(
            NotificationRead(
                id=row.id,
                event=row.event,
                title=text.title,
                body=text.body,
                link=link_of(row.subject_type, row.data),
                data=row.data,
                created_at=row.created_at,
                read_at=row.read_at,
            )
        )
    return Inbox(items=items, total=total, unread=unread_count, page=page, page_size=page_size)


@router.post("/notifications/read", response_model=Marked, summary="Mark notifications read")
async def mark_read(data: MarkRead, user: CurrentUser, session: SessionDep) -> Any:
    return Marked(marked=await repo.mark_read(session, user.id, data.ids, utcnow()))
