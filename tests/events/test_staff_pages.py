"""The staff pages for events driven like a browser without JavaScript: adding a weekly event
through the form, errors that keep what was typed and store nothing, an edit that writes only
what changed (and says so in the history), a rule the form cannot show kept as it is, retiring
with a confirmation step, the list and its filters, and who may do what."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEntry
from app.auth.models import Role, User
from app.events import service
from app.events.models import Event
from app.events.schemas import EventPatch
from app.org.models import Department
from tests.builders import create_department, create_user
from tests.events.conftest import NGHIA_LO, add_event, create_place
from tests.pages import csrf_token, read_form
from tests.pages import submit as post_form
from tests.reports.test_pages import browser as signed_in_browser

Values = dict[str, str | list[str]]


@asynccontextmanager
async def browser(app: FastAPI, user: User | None = None) -> AsyncIterator[httpx.AsyncClient]:
    """A browser set to English, so that the assertions do not depend on the catalogue."""
    async with signed_in_browser(app, user) as client:
        client.headers["Accept-Language"] = "en"
        yield client


def form_values(html: str, action: str) -> Values:
    """The form's values; the weekday boxes, which share a name, as a list."""
    return read_form(html, action, lists={"days"})


def new_event(**values: str | list[str]) -> Values:
    # 1 September 2030 is a Sunday.
    data: Values = {
        "title_vi": "Chợ phiên Nghĩa Lộ",
        "title_en": "Nghĩa Lộ weekend market",
        "description_vi": "Người Thái, người Mông về chợ.\nCó bán thổ cẩm.",
        "description_en": "",
        "category": "market",
        "starts_at": "2030-09-01T06:00",
        "ends_at": "2030-09-01T11:00",
        "first_day": "",
        "last_day": "",
        "repeat": "weekly",
        "days": ["SA", "SU"],
        "until": "2030-12-29",
        "place_code": "",
        "venue_vi": "Chợ Mường Lò",
        "venue_en": "",
        "price_vnd": "0",
        "price_note_vi": "",
        "price_note_en": "",
        "notes_vi": "Lối đi hẹp, đông người vào sáng sớm.",
        "notes_en": "",
        "url": "",
    }
    data.update(values)
    return data


@dataclass
class World:
    dept: Department
    other_dept: Department
    staff: User
    other_staff: User
    manager: User
    citizen: User


@pytest.fixture
async def world(session: AsyncSession) -> World:
    dept = await create_department(session, "culture", name_vi="Sở Văn hóa", name_en="Culture")
    other = await create_department(session, "health", name_vi="Sở Y tế", name_en="Health")
    world = World(
        dept=dept,
        other_dept=other,
        staff=await create_user(session, role=Role.staff, department=dept, full_name="Lò Văn Sình"),
        other_staff=await create_user(session, role=Role.staff, department=other),
        manager=await create_user(session, role=Role.manager, full_name="Lê Thu Hà"),
        citizen=await create_user(session, role=Role.citizen),
    )
    await session.commit()
    return world


async def fresh(session: AsyncSession, code: str) -> Event:
    found = await session.execute(
        select(Event).where(Event.code == code).execution_options(populate_existing=True)
    )
    return found.scalar_one()


async def entries(session: AsyncSession, event: Event) -> list[AuditEntry]:
    rows = await session.execute(
        select(AuditEntry)
        .where(AuditEntry.subject_type == "event", AuditEntry.subject_id == event.id)
        .order_by(AuditEntry.id)
        .execution_options(populate_existing=True)
    )
    return list(rows.scalars())


async def count_events(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Event)) or 0)


async def ours(session: AsyncSession, world: World, **fields: Any) -> Event:
    """An event of the culture department, added as an importer would."""
    values: dict[str, Any] = {
        "code": "xoe-night",
        "title": {"vi": "Đêm Xòe", "en": "Xòe night", "fr": "Nuit du Xòe"},
        "department_code": world.dept.code,
        "price_vnd": 30000,
    }
    values.update(fields)
    return (await add_event(session, **values)).event


def summary_of(html: str) -> str:
    start = html.index('class="error-summary"')
    return html[start : html.index("</div>", start)]


async def test_add_a_weekly_event_through_the_form(
    app: FastAPI, session: AsyncSession, world: World
) -> None:
    await create_place(session, "cho-muong-lo", NGHIA_LO, "Chợ Mường Lò")
    await session.commit()
    async with browser(app, world.staff) as staff:
        blank = await staff.get("/staff/events/new")
        assert blank.status_code == 200
        assert 'name="department"' not in blank.text  # staff do not choose: theirs is used
        assert "<strong>Looked after by:</strong> Culture</p>" in blank.text
        shown = form_values(blank.text, "/staff/events/new")
        assert shown["repeat"] == "none" and shown["days"] == []
        assert 'type="datetime-local"' in blank.text and "Asia/Ho_Chi_Minh" in blank.text

        # The place's code pasted as the address of its page; the price with a thousands dot.
        typed = new_event(place_code="https://hub.example/places/cho-muong-lo", price_vnd="20.000")
        sent = await post_form(staff, "/staff/events/new", "/staff/events/new", typed)
        assert sent.status_code == 303, sent.text
        location = sent.headers["location"]
        assert location.startswith("/staff/events/") and location.endswith("/edit?done=created")
        code = location.split("/")[3]
        assert code.startswith("cho-phien-nghia-lo-")
        page = await staff.get(location)
        assert 'class="notice" role="status"' in page.text
        # The rule in words, as the public page says it, and the next dates.
        assert "Every week on Saturday, Sunday, until December 29, 2030" in page.text
        assert "Sunday, September 1, 2030, 6:00\u202fAM – 11:00\u202fAM" in page.text
        assert f'href="/events/{code}"' in page.text and 'href="/places/cho-muong-lo"' in page.text
        again = form_values(page.text, f"/staff/events/{code}/edit")
        assert again["repeat"] == "weekly" and again["days"] == ["SA", "SU"]
        assert again["until"] == "2030-12-29" and again["starts_at"] == "2030-09-01T06:00"
        assert again["place_code"] == "cho-muong-lo" and again["price_vnd"] == "20000"

    event = await fresh(session, code)
    assert event.title == {"vi": "Chợ phiên Nghĩa Lộ", "en": "Nghĩa Lộ weekend market"}
    assert event.description == {"vi": "Người Thái, người Mông về chợ.\nCó bán thổ cẩm."}
    assert event.category == "market" and event.all_day is False
    assert event.starts_at == datetime(2030, 8, 31, 23, 0, tzinfo=UTC)  # 06:00 in Yên Bái
    assert event.ends_at == datetime(2030, 9, 1, 4, 0, tzinfo=UTC)
    # "Until" a day: to the end of that day in the event's time zone.
    assert event.rrule == "FREQ=WEEKLY;UNTIL=20301229T165959Z;BYDAY=SA,SU"
    assert event.price_vnd == 20000 and event.department_id == world.dept.id
    assert event.place_id is not None and event.retired_at is None
    [created] = await entries(session, event)
    assert (created.action, created.actor_id) == ("event.create", world.staff.id)

    async with browser(app) as visitor:
        public = (await visitor.get(f"/api/v1/events/{code}", params={"lang": "en"})).json()
    assert public["recurrence"] == "Every week on Saturday, Sunday, until December 29, 2030"
    assert [o["starts_at"] for o in public["next_occurrences"][:3]] == [
        "2030-09-01T06:00:00+07:00",
        "2030-09-07T06:00:00+07:00",
        "2030-09-08T06:00:00+07:00",
    ]


async def test_an_all_day_festival_every_year(
    app: FastAPI, session: AsyncSession, world: World
) -> None:
    typed = new_event(
        title_vi="Lễ hội Ruộng bậc thang",
        category="festival",
        starts_at="",
        ends_at="",
        all_day="1",
        first_day="2030-09-21",
        last_day="2030-09-22",
        repeat="yearly",
        days=[],
        until="",
        price_vnd="",
    )
    async with browser(app, world.manager) as manager:
        sent = await post_form(manager, "/staff/events/new", "/staff/events/new", typed)
        assert sent.status_code == 303, sent.text
        code = sent.headers["location"].split("/")[3]
        page = await manager.get(sent.headers["location"])
        shown = form_values(page.text, f"/staff/events/{code}/edit")
    event = await fresh(session, code)
    assert event.all_day is True and event.rrule == "FREQ=YEARLY"
    assert event.starts_at == datetime(2030, 9, 20, 17, 0, tzinfo=UTC)  # local midnight
    assert event.ends_at == datetime(2030, 9, 22, 17, 0, tzinfo=UTC)  # after the last day
    assert event.price_vnd is None  # empty: not known, not free
    assert event.department_id is None  # a manager's event belongs to no department
    assert (shown["all_day"], shown["first_day"], shown["last_day"]) == (
        "1",
        "2030-09-21",
        "2030-09-22",
    )
    assert shown["repeat"] == "yearly" and shown["starts_at"] == ""


async def test_errors_keep_what_was_typed_and_store_nothing(
    app: FastAPI, session: AsyncSession, world: World
) -> None:
    before = await count_events(session)
    typed = new_event(
        title_vi="",
        title_en="",
        days=["MO"],  # the first date is a Sunday
        until="2030-08-01",  # before it
        price_vnd="free",
        url="yenbai.gov.vn",
    )
    async with browser(app, world.staff) as staff:
        r = await post_form(staff, "/staff/events/new", "/staff/events/new", typed)
        assert r.status_code == 422
        summary = summary_of(r.text)
        targets = ("#title_vi", "#starts_at", "#until", "#price_vnd", "#url")
        at = [summary.index(f'href="{target}"') for target in targets]
        assert at == sorted(at)  # in the order of the form
        assert "Sunday, September 1, 2030, is not on a day chosen" in r.text
        assert 'id="price_vnd-error"' in r.text and 'aria-invalid="true"' in r.text
        kept = form_values(r.text, "/staff/events/new")
        for name in ("description_vi", "starts_at", "ends_at", "venue_vi", "price_vnd", "url"):
            assert kept[name] == typed[name], name
        assert kept["days"] == ["MO"] and kept["repeat"] == "weekly"
        assert kept["until"] == "2030-08-01" and kept["notes_vi"] == typed["notes_vi"]

        # What only the service can tell (the place, the end before the start): also kept.
        later = new_event(ends_at="2030-09-01T05:00", place_code="no-such-place")
        r = await post_form(staff, "/staff/events/new", "/staff/events/new", later)
        assert r.status_code == 422
        summary = summary_of(r.text)
        assert 'href="#ends_at"' in summary and 'href="#place_code"' in summary
        assert "There is no place with this code." in summary
        assert form_values(r.text, "/staff/events/new")["place_code"] == "no-such-place"

        # Nothing to say when: the page says which fields.
        r = await post_form(
            staff, "/staff/events/new", "/staff/events/new", new_event(starts_at="", ends_at="")
        )
        assert r.status_code == 422
        assert 'href="#starts_at"' in r.text and 'href="#ends_at"' in r.text
    assert await count_events(session) == before
    assert await session.scalar(select(func.count()).select_from(AuditEntry)) == 0


async def test_an_edit_writes_only_what_changed(
    app: FastAPI, session: AsyncSession, world: World
) -> None:
    event = await ours(session, world)
    edit = f"/staff/events/{event.code}/edit"
    async with browser(app, world.staff) as staff:
        shown = form_values((await staff.get(edit)).text, edit)
        assert shown["title_vi"] == "Đêm Xòe" and shown["starts_at"] == "2030-09-20T19:00"
        assert shown["repeat"] == "none" and shown["price_vnd"] == "30000"

        # The form sent back as shown (textareas with CR LF line ends, as browsers send them).
        crlf = {k: v.replace("\n", "\r\n") if isinstance(v, str) else v for k, v in shown.items()}
        same = await staff.post(edit, data=crlf)
        assert same.status_code == 303 and same.headers["location"].endswith("done=unchanged")
        assert [e.action for e in await entries(session, event)] == ["event.create"]

        changed = {**shown, "price_vnd": "50000", "title_en": "", "ends_at": "2030-09-20T22:00"}
        saved = await staff.post(edit, data=changed)
        assert saved.status_code == 303 and saved.headers["location"].endswith("done=saved")
        page = await staff.get(saved.headers["location"])

    after = await fresh(session, event.code)
    assert after.price_vnd == 50000
    assert after.ends_at == datetime(2030, 9, 20, 15, 0, tzinfo=UTC)
    # Other languages the form does not show are kept; the cleared English title is gone.
    assert after.title == {"vi": "Đêm Xòe", "fr": "Nuit du Xòe"}
    assert after.description == event.description and after.starts_at == event.starts_at
    update = (await entries(session, event))[-1]
    assert update.action == "event.update" and update.actor_id == world.staff.id
    assert update.data["fields"] == ["ends_at", "last_ends_at", "price_vnd", "title"]
    history = page.text[page.text.index('id="history-title"') :]
    assert "Lò Văn Sình" in history and "Changed" in history and "Added" in history
    assert "Price" in history and "Title" in history and "End" in history


async def test_a_change_saved_meanwhile_is_kept_and_a_clash_is_shown(
    app: FastAPI, session: AsyncSession, world: World
) -> None:
    event = await ours(session, world)
    edit = f"/staff/events/{event.code}/edit"
    async with browser(app, world.staff) as staff:
        opened = form_values((await staff.get(edit)).text, edit)
        # A colleague changes the price while the form is open.
        row = await service.get_for_change(session, event.code)
        await service.update_event(session, world.manager, row, EventPatch(price_vnd=40000))
        await session.commit()
        mine = await staff.post(edit, data={**opened, "url": "https://yenbai.gov.vn/xoe"})
        assert mine.status_code == 303
        after = await fresh(session, event.code)
        assert after.url == "https://yenbai.gov.vn/xoe"
        assert after.price_vnd == 40000  # not undone by the older form

        opened = form_values((await staff.get(edit)).text, edit)
        row = await service.get_for_change(session, event.code)
        await service.update_event(session, world.manager, row, EventPatch(price_vnd=45000))
        await session.commit()
        clash = await staff.post(edit, data={**opened, "price_vnd": "60000"})
        assert clash.status_code == 409
        assert 'href="#price_vnd"' in clash.text and "someone else changed it" in clash.text
        assert (await fresh(session, event.code)).price_vnd == 45000
        kept = form_values(clash.text, edit)
        assert kept["price_vnd"] == "60000"  # what they typed is still there
        assert (await staff.post(edit, data=kept)).status_code == 303
    assert (await fresh(session, event.code)).price_vnd == 60000


async def test_a_rule_the_form_cannot_show_is_kept(
    app: FastAPI, session: AsyncSession, world: World
) -> None:
    event = await ours(session, world, rrule="FREQ=DAILY;COUNT=3")
    edit = f"/staff/events/{event.code}/edit"
    async with browser(app, world.staff) as staff:
        page = await staff.get(edit)
        shown = form_values(page.text, edit)
        assert shown["repeat"] == "keep"
        assert "Keep the rule it has: Every day, until" in page.text
        changed = await staff.post(edit, data={**shown, "venue_vi": "Sân vận động Nghĩa Lộ"})
        assert changed.status_code == 303
        assert (await fresh(session, event.code)).rrule == "FREQ=DAILY;COUNT=3"

        shown = form_values((await staff.get(edit)).text, edit)
        weekly = await staff.post(edit, data={**shown, "repeat": "weekly", "days": ["FR"]})
        assert weekly.status_code == 303
        assert (await fresh(session, event.code)).rrule == "FREQ=WEEKLY;BYDAY=FR"
        page = await staff.get(edit)
        shown = form_values(page.text, edit)
        assert shown["repeat"] == "weekly" and shown["days"] == ["FR"]
        assert 'id="repeat-keep"' not in page.text  # nothing left to keep
        once = await staff.post(edit, data={**shown, "repeat": "none", "days": []})
        assert once.status_code == 303
    after = await fresh(session, event.code)
    assert after.rrule is None and after.last_ends_at == after.ends_at
    assert [e.data.get("fields") for e in await entries(session, event)][1:] == [
        ["venue"],
        ["last_ends_at", "rrule"],
        ["last_ends_at", "rrule"],
    ]


async def test_retire_with_a_confirmation(
    app: FastAPI, session: AsyncSession, world: World
) -> None:
    event = await ours(session, world)
    base = f"/staff/events/{event.code}"
    async with browser(app, world.staff) as staff:
        confirm = await staff.get(f"{base}/retire")
        assert confirm.status_code == 200
        assert f'action="{base}/retire"' in confirm.text and 'method="post"' in confirm.text
        assert (await fresh(session, event.code)).retired_at is None  # asking changes nothing
        done = await post_form(staff, f"{base}/retire", f"{base}/retire", {})
        assert done.status_code == 303 and done.headers["location"].endswith("done=retired")
        assert (await fresh(session, event.code)).retired_at is not None
        assert (await staff.get(f"/events/{event.code}")).status_code == 404
        assert f"{base}/edit" not in (await staff.get("/staff/events")).text
        assert f"{base}/edit" in (await staff.get("/staff/events?show=retired")).text
        again = await staff.get(f"{base}/retire")  # already retired: nothing to confirm
        assert again.status_code == 303 and again.headers["location"] == f"{base}/edit"
        page = await staff.get(f"{base}/edit")
        assert (
            "<strong>Retired: no longer shown</strong>" in page.text
            and f'href="{base}/retire"' not in page.text
        )
        assert f'action="{base}/restore"' in page.text
        back = await post_form(staff, f"{base}/edit", f"{base}/restore", {})
        assert back.status_code == 303 and back.headers["location"].endswith("done=restored")
        assert (await fresh(session, event.code)).retired_at is None
        assert (await staff.get(f"/events/{event.code}")).status_code == 200
    actions = [e.action for e in await entries(session, event)]
    assert actions == ["event.create", "event.retire", "event.restore"]


async def test_the_list_finds_events_by_words_and_time(
    app: FastAPI, session: AsyncSession, world: World
) -> None:
    await ours(session, world)
    await add_event(
        session,
        code="old-market",
        title={"vi": "Chợ phiên Tú Lệ 2020"},
        starts_at="2020-03-01T06:00:00",
        ends_at="2020-03-01T11:00:00",
        rrule="FREQ=WEEKLY;BYDAY=SU;COUNT=4",
    )
    await add_event(
        session,
        code="tea-festival",
        title={"vi": "Lễ hội trà Suối Giàng"},
        starts_at="2030-11-10T08:00:00",
        ends_at="2030-11-10T17:00:00",
    )
    async with browser(app, world.staff) as staff:
        coming = await staff.get("/staff/events")
        assert coming.status_code == 200 and 'href="/staff/events/new"' in coming.text
        html = coming.text
        assert html.index("/staff/events/xoe-night/edit") < html.index(
            "/staff/events/tea-festival/edit"
        )  # the soonest first
        assert "/staff/events/old-market/edit" not in html
        past = (await staff.get("/staff/events", params={"show": "past"})).text
        assert "/staff/events/old-market/edit" in past and "xoe-night" not in past
        assert "Sunday, March 22, 2020" in past  # its last date
        words = (await staff.get("/staff/events", params={"q": "le hoi tra"})).text
        assert "/staff/events/tea-festival/edit" in words and "xoe-night" not in words
        assert 'value="le hoi tra"' in words
        odd = await staff.get("/staff/events", params={"show": "everything"})
        assert odd.status_code == 200 and "/staff/events/xoe-night/edit" in odd.text


async def test_who_may_do_what(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    event = await ours(session, world)
    nobody = (await add_event(session, code="nobodys")).event
    edit = f"/staff/events/{event.code}/edit"
    anonymous = await client.get("/staff/events")
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")

    async with browser(app, world.citizen) as citizen:
        for path in ("/staff/events", "/staff/events/new", edit):
            assert (await citizen.get(path)).status_code == 403, path
        token = await csrf_token(citizen, "/events")
        r = await citizen.post("/staff/events/new", data={**new_event(), "csrf_token": token})
        assert r.status_code == 403

    async with browser(app, world.other_staff) as other:
        refused = await other.get(edit)
        assert refused.status_code == 403
        assert "<h1>" in refused.text and "owning department" in refused.text
        token = await csrf_token(other, "/staff/events")
        sneaky = new_event(title_vi="Đổi tên trái phép", csrf_token=token)
        assert (await other.post(edit, data=sneaky)).status_code == 403
        retire = f"/staff/events/{event.code}/retire"
        assert (await other.get(retire)).status_code == 403
        assert (await other.post(retire, data={"csrf_token": token})).status_code == 403
        # An event of no department: any staff member may change it.
        assert (await other.get(f"/staff/events/{nobody.code}/edit")).status_code == 200
        assert (await other.get("/staff/events/no-such-event/edit")).status_code == 404
    after = await fresh(session, event.code)
    assert after.title["vi"] == "Đêm Xòe" and after.retired_at is None

    async with browser(app, world.staff) as staff:
        # Staff cannot hand an event to another department, even by sending the field.
        shown = form_values((await staff.get(edit)).text, edit)
        assert "department" not in shown
        handed = await staff.post(edit, data={**shown, "department": world.other_dept.code})
        assert handed.status_code == 303
    assert (await fresh(session, event.code)).department_id == world.dept.id

    async with browser(app, world.manager) as manager:
        shown = form_values((await manager.get(edit)).text, edit)
        assert shown["department"] == "culture"
        moved = await manager.post(edit, data={**shown, "department": world.other_dept.code})
        assert moved.status_code == 303
    assert (await fresh(session, event.code)).department_id == world.other_dept.id


async def test_forms_without_the_csrf_token_are_refused(
    app: FastAPI, session: AsyncSession, world: World
) -> None:
    event = await ours(session, world)
    async with browser(app, world.staff) as staff:
        await staff.get("/staff/events/new")  # the cookie is set; the token is not sent
        assert (await staff.post("/staff/events/new", data=new_event())).status_code == 403
        retire = f"/staff/events/{event.code}/retire"
        assert (await staff.post(retire, data={})).status_code == 403
    assert await count_events(session) == 1
    assert (await fresh(session, event.code)).retired_at is None
