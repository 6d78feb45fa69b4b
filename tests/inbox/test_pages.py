"""The inbox page driven like a browser without JavaScript: the person's own notifications,
newest first, twenty a page, an "only unread" filter, and forms that mark them read."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.inbox.models import Notification
from tests.builders import PASSWORD, create_user
from tests.pages import csrf_token, page_login

PAGE = "/account/inbox"
START = datetime(2026, 3, 1, 1, 0, tzinfo=UTC)  # 08:00 in Yên Bái


async def add_notifications(
    session: AsyncSession, user: User, count: int, *, first_code: int = 0
) -> list[Notification]:
    """`count` acknowledgements an hour apart; the last one is the newest."""
    rows = [
        Notification(
            user_id=user.id,
            event="report.acknowledged",
            subject_type="report",
            subject_id=1000 + i,
            data={"code": f"TEST-{first_code + i:04d}"},
            created_at=START + timedelta(hours=i),
        )
        for i in range(count)
    ]
    session.add_all(rows)
    await session.commit()
    return rows


@pytest.fixture
async def me(client: httpx.AsyncClient, session: AsyncSession) -> User:
    user = await create_user(session)
    await session.commit()
    client.headers["Accept-Language"] = "en"
    assert (await page_login(client, user.identifier, PASSWORD)).status_code == 303
    return user


def codes_shown(html: str) -> list[str]:
    return re.findall(r'<a href="/reports/(TEST-\d{4})">', html)


async def post(client: httpx.AsyncClient, action: str, **data: str) -> httpx.Response:
    return await client.post(action, data={**data, "csrf_token": await csrf_token(client, PAGE)})


async def read_at(session: AsyncSession, row: Notification) -> datetime | None:
    stmt = (
        select(Notification.read_at)
        .where(Notification.id == row.id)
        .execution_options(populate_existing=True)
    )
    return await session.scalar(stmt)


async def test_anonymous_is_sent_to_sign_in(client: httpx.AsyncClient) -> None:
    r = await client.get(PAGE)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/account/inbox"


async def test_empty_inbox_says_so(client: httpx.AsyncClient, me: User) -> None:
    html = (await client.get(PAGE)).text
    assert "<h1>Notifications</h1>" in html
    assert "You have no notifications yet." in html
    assert "Mark all as read" not in html
    unread = (await client.get(f"{PAGE}?unread=1")).text
    assert "You have no unread notifications." in unread


async def test_only_my_notifications_newest_first_with_time_text_and_link(
    client: httpx.AsyncClient, session: AsyncSession, me: User
) -> None:
    await add_notifications(session, me, 2)
    stranger = await create_user(session)
    await add_notifications(session, stranger, 1, first_code=500)
    html = (await client.get(PAGE)).text
    assert codes_shown(html) == ["TEST-0001", "TEST-0000"]
    assert "TEST-0500" not in html
    assert "<h1>Notifications (2 unread)</h1>" in html
    assert "<title>Notifications (2 unread) ·" in html
    assert html.count('<strong class="unread-flag">Unread</strong>') == 2
    assert "Report TEST-0001 received" in html
    assert "The authorities have received your report TEST-0001." in html
    assert '<a href="/reports/TEST-0001">Open report TEST-0001</a>' in html
    # 02:00 UTC is 09:00 in Yên Bái.
    assert '<time datetime="2026-03-01T02:00:00+00:00">' in html
    assert re.search(r"9:00:00\s*AM", html)
    # In Vietnamese the texts follow the page.
    vi = (await client.get(f"{PAGE}?lang=vi")).text
    assert "Phản ánh TEST-0001 đã được tiếp nhận" in vi


async def test_twenty_a_page_with_previous_and_next(
    client: httpx.AsyncClient, session: AsyncSession, me: User
) -> None:
    await add_notifications(session, me, 45)
    first = (await client.get(PAGE)).text
    shown = codes_shown(first)
    assert len(shown) == 20 and shown[0] == "TEST-0044" and shown[-1] == "TEST-0025"
    assert "Page 1 of 3" in first
    assert 'href="/account/inbox?page=2" rel="next"' in first and 'rel="prev"' not in first
    second = (await client.get(f"{PAGE}?page=2")).text
    assert codes_shown(second)[0] == "TEST-0024"
    assert 'href="/account/inbox?page=1" rel="prev"' in second
    assert 'href="/account/inbox?page=3" rel="next"' in second
    last = (await client.get(f"{PAGE}?page=3")).text
    assert codes_shown(last) == [f"TEST-{i:04d}" for i in range(4, -1, -1)]
    assert 'rel="next"' not in last
    beyond = (await client.get(f"{PAGE}?page=9")).text
    assert codes_shown(beyond) == [] and "There is nothing on this page." in beyond


async def test_mark_one_read_and_the_unread_filter(
    client: httpx.AsyncClient, session: AsyncSession, me: User
) -> None:
    old, new = await add_notifications(session, me, 2)
    r = await post(client, f"{PAGE}/{old.id}/read", unread="1", page="1")
    assert r.status_code == 303 and r.headers["location"] == f"{PAGE}?unread=1&done=read"
    assert await read_at(session, old) is not None
    assert await read_at(session, new) is None
    html = (await client.get(r.headers["location"])).text
    assert 'role="status">The notification is marked as read.' in html
    assert codes_shown(html) == ["TEST-0001"]
    assert "<h1>Notifications (1 unread)</h1>" in html
    assert 'href="/account/inbox?unread=1" aria-current="page">Only unread (1)' in html
    everything = (await client.get(PAGE)).text
    assert codes_shown(everything) == ["TEST-0001", "TEST-0000"]
    assert everything.count("unread-flag") == 1
    assert f'action="/account/inbox/{old.id}/read"' not in everything  # nothing left to mark
    again = await post(client, f"{PAGE}/{old.id}/read")
    assert again.headers["location"] == f"{PAGE}?done=unchanged"


async def test_mark_all_read(client: httpx.AsyncClient, session: AsyncSession, me: User) -> None:
    rows = await add_notifications(session, me, 3)
    stranger = await create_user(session)
    [theirs] = await add_notifications(session, stranger, 1, first_code=500)
    r = await post(client, f"{PAGE}/read-all")
    assert r.status_code == 303 and r.headers["location"] == f"{PAGE}?done=all_read"
    for row in rows:
        assert await read_at(session, row) is not None
    assert await read_at(session, theirs) is None
    html = (await client.get(r.headers["location"])).text
    assert "<h1>Notifications</h1>" in html and "unread-flag" not in html
    assert "All your notifications are marked as read." in html
    assert "Mark all as read" not in html


async def test_nobody_marks_anothers_notification(
    client: httpx.AsyncClient, session: AsyncSession, me: User
) -> None:
    stranger = await create_user(session)
    [theirs] = await add_notifications(session, stranger, 1)
    r = await post(client, f"{PAGE}/{theirs.id}/read")
    assert r.status_code == 303 and r.headers["location"] == f"{PAGE}?done=unchanged"
    assert await read_at(session, theirs) is None


async def test_marking_needs_the_csrf_token(
    client: httpx.AsyncClient, session: AsyncSession, me: User
) -> None:
    [row] = await add_notifications(session, me, 1)
    assert (await client.post(f"{PAGE}/{row.id}/read")).status_code == 403
    assert (await client.post(f"{PAGE}/read-all")).status_code == 403
    assert await read_at(session, row) is None
