"""The inbox page: a signed-in person's notifications, newest first, with plain forms to mark
them read. The same repository and texts as the JSON inbox (app.inbox.api); the texts are in
the page's language, so the page reads as one."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.auth.deps import PageUser
from app.db import SessionDep, utcnow
from app.inbox import repository as repo
from app.inbox.texts import link_of
from app.inbox.texts import render as render_text
from app.kit.csrf import verify_csrf
from app.kit.i18n import N_, locale_of
from app.kit.i18n import gettext as _
from app.kit.templating import render
from app.reports.pages import pager

router = APIRouter(include_in_schema=False)
csrf = [Depends(verify_csrf)]

PATH = "/account/inbox"
PAGE_SIZE = 20
MAX_PAGE = 10_000

DONE_MESSAGES: dict[str, str] = {
    "read": N_("The notification is marked as read."),
    "all_read": N_("All your notifications are marked as read."),
    "unchanged": N_("Nothing to mark: it was already read."),
}


def _back(unread: bool, page: int, done: str) -> RedirectResponse:
    """To the list the form was on (only fixed, checked values go into the address)."""
    params: dict[str, Any] = {}
    if unread:
        params["unread"] = "1"
    if 1 < page <= MAX_PAGE:
        params["page"] = page
    params["done"] = done
    return RedirectResponse(f"{PATH}?{urlencode(params)}", status_code=303)


def _page_number(raw: str) -> int:
    return int(raw) if raw.isdigit() and len(raw) <= 5 else 1


@router.get(PATH, response_class=HTMLResponse)
async def inbox_page(
    request: Request,
    session: SessionDep,
    user: PageUser,
    unread: Annotated[str, Query(max_length=5)] = "",
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    only_unread = unread == "1"
    rows, total, unread_count = await repo.list_for(
        session,
        user.id,
        unread_only=only_unread,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    locale = locale_of(request)
    items = []
    for row in rows:
        text = render_text(row.event, locale, row.data)
        items.append(
            {
                "id": row.id,
                "title": text.title,
                "body": text.body,
                "link": link_of(row.subject_type, row.data),
                "code": row.data.get("code"),
                "created_at": row.created_at,
                "unread": row.read_at is None,
            }
        )
    return render(
        request,
        "inbox/inbox.html",
        {
            "items": items,
            "total": total,
            "unread_count": unread_count,
            "only_unread": only_unread,
            "page": page,
            "pager": pager(request, page, PAGE_SIZE, total),
            "notice": _(DONE_MESSAGES[done]) if done in DONE_MESSAGES else None,
        },
    )


@router.post(f"{PATH}/{{notification_id}}/read", dependencies=csrf)
async def mark_one_read(
    notification_id: int,
    session: SessionDep,
    user: PageUser,
    unread: Annotated[str, Form(max_length=5)] = "",
    page: Annotated[str, Form(max_length=8)] = "1",
) -> Response:
    """Only the person's own: another's id marks nothing."""
    marked = await repo.mark_read(session, user.id, [notification_id], utcnow())
    return _back(unread == "1", _page_number(page), "read" if marked else "unchanged")


@router.post(f"{PATH}/read-all", dependencies=csrf)
async def mark_all_read(session: SessionDep, user: PageUser) -> Response:
    await repo.mark_read(session, user.id, None, utcnow())
    # With "only unread" the list is now empty: show everything instead.
    return _back(False, 1, "all_read")
