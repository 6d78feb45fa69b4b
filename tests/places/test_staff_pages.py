"""The staff pages for places driven like a browser without JavaScript: the list and its filters,
adding a place through the form, errors that keep what was typed, an edit that writes only what
changed (and says so in the history), "not known" that stays unknown, retire and restore with a
confirmation step, and who may do what."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEntry
from app.auth.models import Role, User
from app.db import utcnow
from app.org.models import Department
from app.places import service
from app.places.models import Place
from app.places.schemas import PlaceIn, PlacePatch
from tests.builders import create_department, create_user, create_ward
from tests.pages import csrf_token
from tests.pages import read_form as form_values
from tests.pages import submit as post_form
from tests.reports.test_pages import browser as signed_in_browser

LA_PAN_TAN = [[104.05, 21.82], [104.12, 21.82], [104.12, 21.88], [104.05, 21.88], [104.05, 21.82]]
NGHIA_LO = [[104.45, 21.57], [104.55, 21.57], [104.55, 21.63], [104.45, 21.63], [104.45, 21.57]]


@asynccontextmanager
async def browser(app: FastAPI, user: User | None = None) -> AsyncIterator[httpx.AsyncClient]:
    """A browser set to English, so that the assertions do not depend on the catalogue."""
    async with signed_in_browser(app, user) as client:
        client.headers["Accept-Language"] = "en"
        yield client


def new_place(**values: str) -> dict[str, str]:
    data = {
        "name_vi": "Nhà văn hóa bản Lìm Mông",
        "name_en": "Lìm Mông village hall",
        "description_vi": "Nhà sàn gỗ, nơi bản họp và đón khách.\nCó chỗ ngồi có mái che.",
        "description_en": "A wooden stilt house where the village meets and greets guests.",
        "category": "culture",
        "address": "Bản Lìm Mông, xã Cao Phạ",
        "ward": "",
        "lat": "21.85",
        "lon": "104.08",
        "phone": "0216 3852 318",
        "website": "https://limmong.example.vn",
        "opening_hours": "Mo-Su 08:00-17:00; PH off",
        "price_level": "0",
        "tags": "nhà sàn, Hmong,  village , ",
        "wheelchair": "limited",
        "step_free_entrance": "no",
        "accessible_toilet": "unknown",
        "hearing_loop": "unknown",
        "door_width_cm": "85",
        "notes_vi": "Cầu thang gỗ 6 bậc.",
        "notes_en": "",
        "verified": "1",
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
    await create_ward(session, "la-pan-tan", LA_PAN_TAN, name="Xã La Pán Tẩn")
    await create_ward(session, "nghia-lo", NGHIA_LO, name="Phường Nghĩa Lộ")
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


async def add_place(session: AsyncSession, department: Department | None, **data: Any) -> Place:
    values: dict[str, Any] = {
        "code": "ban-lim-mong",
        "category": "culture",
        "name": {"vi": "Bản Lìm Mông", "en": "Lìm Mông village", "fr": "Village de Lìm Mông"},
        "description": {"vi": "Bản của người Mông.\nCó chợ phiên.", "fr": "Un village hmong."},
        "lat": 21.85,
        "lon": 104.08,
        "phone": "0216 3852 318",
        "tags": ["village"],
        "department_code": department.code if department else None,
        "accessibility": {
            "wheelchair": "no",
            "step_free_entrance": True,
            "accessible_toilet": False,
            "notes": {"vi": "Đường dốc.", "fr": "Chemin en pente."},
        },
    }
    values.update(data)
    place = await service.create_place(session, None, PlaceIn.model_validate(values))
    await session.commit()
    return place


async def fresh(session: AsyncSession, code: str) -> Place:
    found = await session.execute(
        select(Place).where(Place.code == code).execution_options(populate_existing=True)
    )
    return found.scalar_one()


async def entries(session: AsyncSession, place: Place) -> list[AuditEntry]:
    rows = await session.execute(
        select(AuditEntry)
        .where(AuditEntry.subject_type == "place", AuditEntry.subject_id == place.id)
        .order_by(AuditEntry.id)
        .execution_options(populate_existing=True)
    )
    return list(rows.scalars())


async def test_add_a_place_through_the_form(
    app: FastAPI, session: AsyncSession, world: World
) -> None:
    async with browser(app, world.staff) as staff:
        blank = await staff.get("/staff/places/new")
        assert blank.status_code == 200
        assert 'name="department"' not in blank.text  # staff do not choose: theirs is used
        assert (
            '<p id="department-fixed"><strong>Looked after by:</strong> Culture</p>' in blank.text
        )
        # Accessibility starts as not known, never as "no".
        assert form_values(blank.text, "/staff/places/new")["step_free_entrance"] == "unknown"
        assert form_values(blank.text, "/staff/places/new")["wheelchair"] == "unknown"

        sent = await post_form(staff, "/staff/places/new", "/staff/places/new", new_place())
        assert sent.status_code == 303, sent.text
        location = sent.headers["location"]
        assert location.startswith("/staff/places/") and location.endswith("/edit?done=created")
        code = location.split("/")[3]
        page = await staff.get(location)
        assert 'class="notice" role="status"' in page.text
        assert f'href="/places/{code}"' in page.text

    place = await fresh(session, code)
    assert place.name == {"vi": "Nhà văn hóa bản Lìm Mông", "en": "Lìm Mông village hall"}
    assert place.description["vi"].endswith("Có chỗ ngồi có mái che.")
    assert place.department_id == world.dept.id
    assert place.ward_id is not None  # found from the coordinates: inside La Pán Tẩn
    assert place.tags == ["nhà sàn", "Hmong", "village"]
    assert place.price_level == 0 and place.opening_hours == "Mo-Su 08:00-17:00; PH off"
    assert place.wheelchair == "limited" and place.door_width_cm == 85
    assert place.step_free_entrance is False
    assert place.accessible_toilet is None and place.hearing_loop is None
    assert place.accessibility_notes == {"vi": "Cầu thang gỗ 6 bậc."}
    assert place.last_verified_at is not None
    assert utcnow() - place.last_verified_at < timedelta(minutes=5)
    [created] = await entries(session, place)
    assert (created.action, created.actor_id) == ("place.create", world.staff.id)
    async with browser(app) as visitor:
        public = await visitor.get(f"/places/{code}")
    assert public.status_code == 200 and "Lìm Mông village hall" in public.text


async def test_errors_keep_what_was_typed_and_store_nothing(
    app: FastAPI, session: AsyncSession, world: World
) -> None:
    before = await session.scalar(select(func.count()).select_from(Place))
    typed = new_place(
        opening_hours="Mo-Fr 08:00-17:00; Tuesday",
        lat="",
        website="limmong.vn",
        name_vi="",
        name_en="",
        door_width_cm="wide",
    )
    async with browser(app, world.staff) as staff:
        r = await post_form(staff, "/staff/places/new", "/staff/places/new", typed)
    assert r.status_code == 422
    html = r.text
    summary = html[
        html.index('class="error-summary"') : html.index("</div>", html.index("error-summary"))
    ]
    targets = ("#name_vi", "#lat", "#website", "#opening_hours", "#door_width_cm")
    at = [summary.index(f'href="{target}"') for target in targets]
    assert at == sorted(at)  # in the order of the form
    # The parser's complaint, made readable: where in the expression it went wrong.
    assert "“Tuesday”" in html and 'id="opening_hours-error"' in html
    assert 'aria-invalid="true"' in html
    kept = form_values(html, "/staff/places/new")
    for name in ("description_vi", "address", "opening_hours", "website", "tags", "door_width_cm"):
        assert kept[name] == typed[name].strip(), name
    assert kept["wheelchair"] == "limited" and kept["step_free_entrance"] == "no"
    assert kept["accessible_toilet"] == "unknown" and kept["verified"] == "1"
    assert await session.scalar(select(func.count()).select_from(Place)) == before


async def test_an_edit_writes_only_what_changed(
    app: FastAPI, session: AsyncSession, world: World
) -> None:
    place = await add_place(session, world.dept)
    edit = f"/staff/places/{place.code}/edit"
    async with browser(app, world.staff) as staff:
        shown = form_values((await staff.get(edit)).text, edit)
        assert shown["name_vi"] == "Bản Lìm Mông" and shown["step_free_entrance"] == "yes"
        assert shown["accessible_toilet"] == "no" and shown["hearing_loop"] == "unknown"

        # The form sent back as shown (textareas with CR LF line ends, as browsers send them).
        crlf = {k: v.replace("\n", "\r\n") for k, v in shown.items()}
        same = await staff.post(edit, data=crlf)
        assert same.status_code == 303 and same.headers["location"].endswith("done=unchanged")
        assert [e.action for e in await entries(session, place)] == ["place.create"]

        changed = {**shown, "phone": "0216 3999 999", "hearing_loop": "yes", "name_en": ""}
        saved = await staff.post(edit, data=changed)
        assert saved.status_code == 303 and saved.headers["location"].endswith("done=saved")
        page = await staff.get(saved.headers["location"])

    after = await fresh(session, place.code)
    assert after.phone == "0216 3999 999" and after.hearing_loop is True
    # Other languages the form does not show are kept; the cleared English name is gone.
    assert after.name == {"vi": "Bản Lìm Mông", "fr": "Village de Lìm Mông"}
    assert after.description == {
        "vi": "Bản của người Mông.\nCó chợ phiên.",
        "fr": "Un village hmong.",
    }
    assert after.accessibility_notes == {"vi": "Đường dốc.", "fr": "Chemin en pente."}
    assert (after.lat, after.lon, after.ward_id) == (place.lat, place.lon, place.ward_id)
    assert after.last_verified_at is None  # not ticked: not checked
    update = (await entries(session, place))[-1]
    assert update.action == "place.update" and update.actor_id == world.staff.id
    assert update.data["fields"] == ["hearing_loop", "name", "phone"]
    history = page.text[page.text.index('id="history-title"') :]
    assert "Lò Văn Sình" in history
    assert "Hearing loop" in history and "Telephone" in history and "Changed" in history


async def test_not_known_is_stored_as_unknown_never_as_no(
    app: FastAPI, session: AsyncSession, world: World
) -> None:
    place = await add_place(session, world.dept)
    edit = f"/staff/places/{place.code}/edit"
    async with browser(app, world.staff) as staff:
        shown = form_values((await staff.get(edit)).text, edit)
        sent = {
            **shown,
            "wheelchair": "unknown",
            "step_free_entrance": "unknown",  # was yes
            "accessible_toilet": "unknown",  # was no
            "braille": "no",  # was not known
            "verified": "1",
        }
        assert (await staff.post(edit, data=sent)).status_code == 303
        again = form_values((await staff.get(edit)).text, edit)
    after = await fresh(session, place.code)
    assert after.wheelchair is None
    assert after.step_free_entrance is None and after.accessible_toilet is None
    assert after.braille is False and after.large_print is None
    assert after.last_verified_at is not None
    assert again["step_free_entrance"] == "unknown" and again["braille"] == "no"
    update = (await entries(session, place))[-1]
    assert update.data["fields"] == [
        "accessible_toilet",
        "braille",
        "last_verified_at",
        "step_free_entrance",
        "wheelchair",
    ]


async def test_a_change_saved_meanwhile_is_kept_and_a_clash_is_shown(
    app: FastAPI, session: AsyncSession, world: World
) -> None:
    place = await add_place(session, world.dept)
    edit = f"/staff/places/{place.code}/edit"
    async with browser(app, world.staff) as staff:
        opened = form_values((await staff.get(edit)).text, edit)
        # A colleague saves other fields while the form is open.
        await service.update_place(
            session, world.manager, place, PlacePatch(opening_hours="Mo-Fr 07:00-17:00")
        )
        await session.commit()
        mine = await staff.post(edit, data={**opened, "phone": "0216 3000 000"})
        assert mine.status_code == 303
        after = await fresh(session, place.code)
        assert after.phone == "0216 3000 000"
        assert after.opening_hours == "Mo-Fr 07:00-17:00"  # not undone by the older form
        assert (await entries(session, place))[-1].data["fields"] == ["phone"]

        # Both change the same field, differently: the later one is asked to look again.
        opened = form_values((await staff.get(edit)).text, edit)
        await service.update_place(session, world.manager, after, PlacePatch(phone="0216 1111 111"))
        await session.commit()
        clash = await staff.post(edit, data={**opened, "phone": "0216 2222 222"})
        assert clash.status_code == 409
        assert 'href="#phone"' in clash.text and "someone else changed it" in clash.text
        assert (await fresh(session, place.code)).phone == "0216 1111 111"
        kept = form_values(clash.text, edit)
        assert kept["phone"] == "0216 2222 222"  # what they typed is still there
        assert kept["opening_hours"] == "Mo-Fr 07:00-17:00"
        assert (await staff.post(edit, data=kept)).status_code == 303
    assert (await fresh(session, place.code)).phone == "0216 2222 222"


async def test_moving_the_point_and_choosing_a_ward(
    app: FastAPI, session: AsyncSession, world: World
) -> None:
    place = await add_place(session, world.dept)
    edit = f"/staff/places/{place.code}/edit"
    async with browser(app, world.staff) as staff:
        shown = form_values((await staff.get(edit)).text, edit)
        assert shown["ward"] == "la-pan-tan"
        moved = {**shown, "lat": "21.6", "lon": "104.5", "ward": ""}
        assert (await staff.post(edit, data=moved)).status_code == 303
        shown = form_values((await staff.get(edit)).text, edit)
        assert shown["ward"] == "nghia-lo"  # found from the new point
        chosen = await staff.post(edit, data={**shown, "ward": "la-pan-tan"})
        assert chosen.status_code == 303
        shown = form_values((await staff.get(edit)).text, edit)
        assert shown["ward"] == "la-pan-tan"  # chosen by name, kept though the point is elsewhere
        bad = await staff.post(edit, data={**shown, "ward": "atlantis"})
        assert bad.status_code == 422 and 'href="#ward"' in bad.text
        assert form_values(bad.text, edit)["ward"] == ""  # not in the list: nothing selected
    after = await fresh(session, place.code)
    assert (after.lat, after.lon) == (21.6, 104.5)
    assert [e.data.get("fields") for e in await entries(session, place)][1:] == [
        ["lat", "lon", "ward_id"],
        ["ward_id"],
    ]


async def test_retire_and_restore_with_a_confirmation(
    app: FastAPI, session: AsyncSession, world: World
) -> None:
    place = await add_place(session, world.dept)
    base = f"/staff/places/{place.code}"
    async with browser(app, world.staff) as staff:
        confirm = await staff.get(f"{base}/retire")
        assert confirm.status_code == 200
        assert f'action="{base}/retire"' in confirm.text and 'method="post"' in confirm.text
        assert (await fresh(session, place.code)).retired_at is None  # asking changes nothing
        done = await post_form(staff, f"{base}/retire", f"{base}/retire", {})
        assert done.status_code == 303 and done.headers["location"].endswith("done=retired")
        assert (await fresh(session, place.code)).retired_at is not None
        assert (await staff.get(f"/places/{place.code}")).status_code == 404
        in_use = await staff.get("/staff/places")
        assert f"{base}/edit" not in in_use.text
        retired = await staff.get("/staff/places?retired=1")
        assert f"{base}/edit" in retired.text
        again = await staff.get(f"{base}/retire")  # already retired: nothing to confirm
        assert again.status_code == 303 and again.headers["location"] == f"{base}/edit"
        page = await staff.get(f"{base}/edit")
        assert f'href="{base}/restore"' in page.text

        assert (await staff.get(f"{base}/restore")).status_code == 200
        back = await post_form(staff, f"{base}/restore", f"{base}/restore", {})
        assert back.status_code == 303 and back.headers["location"].endswith("done=restored")
    assert (await fresh(session, place.code)).retired_at is None
    actions = [e.action for e in await entries(session, place)]
    assert actions == ["place.create", "place.retire", "place.restore"]


async def test_the_list_finds_places_by_words_kind_and_staleness(
    app: FastAPI, session: AsyncSession, world: World
) -> None:
    await add_place(session, world.dept, last_verified_at=utcnow().isoformat())
    await add_place(
        session,
        None,
        code="tram-y-te",
        category="health",
        name={"vi": "Trạm y tế xã Cao Phạ", "en": "Cao Phạ health station"},
    )
    async with browser(app, world.staff) as staff:
        everything = await staff.get("/staff/places")
        assert everything.status_code == 200
        assert 'href="/staff/places/new"' in everything.text
        assert everything.text.count('class="overdue-flag"') == 1  # the never-checked one
        by_words = await staff.get("/staff/places", params={"q": "tram y te cao pha"})
        assert "/staff/places/tram-y-te/edit" in by_words.text
        assert "/staff/places/ban-lim-mong/edit" not in by_words.text
        by_kind = await staff.get("/staff/places", params={"category": "culture"})
        assert "/staff/places/ban-lim-mong/edit" in by_kind.text
        assert "/staff/places/tram-y-te/edit" not in by_kind.text
        stale = await staff.get("/staff/places", params={"stale": "1"})
        assert "/staff/places/tram-y-te/edit" in stale.text  # never checked
        assert "/staff/places/ban-lim-mong/edit" not in stale.text  # checked today


async def test_who_may_do_what(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    ours = await add_place(session, world.dept)
    nobody = await add_place(session, None, code="cho-phien", name={"vi": "Chợ phiên"})
    anonymous = await client.get("/staff/places")
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")

    async with browser(app, world.citizen) as citizen:
        for path in ("/staff/places", "/staff/places/new", f"/staff/places/{ours.code}/edit"):
            assert (await citizen.get(path)).status_code == 403, path
        token = await csrf_token(citizen, "/places")
        r = await citizen.post("/staff/places/new", data={**new_place(), "csrf_token": token})
        assert r.status_code == 403

    edit = f"/staff/places/{ours.code}/edit"
    async with browser(app, world.other_staff) as other:
        refused = await other.get(edit)
        assert refused.status_code == 403
        assert "<h1>" in refused.text and "owning department" in refused.text
        token = await csrf_token(other, "/staff/places")
        shown = new_place(name_vi="Đổi tên trái phép")
        assert (await other.post(edit, data={**shown, "csrf_token": token})).status_code == 403
        retire = f"/staff/places/{ours.code}/retire"
        assert (await other.get(retire)).status_code == 403
        assert (await other.post(retire, data={"csrf_token": token})).status_code == 403
        # A place of no department: any staff member may change it.
        assert (await other.get(f"/staff/places/{nobody.code}/edit")).status_code == 200
    after = await fresh(session, ours.code)
    assert after.name["vi"] == "Bản Lìm Mông" and after.retired_at is None

    async with browser(app, world.staff) as staff:
        # Staff cannot hand a place to another department, even by sending the field.
        shown = form_values((await staff.get(edit)).text, edit)
        assert "department" not in shown
        sneaky = await staff.post(edit, data={**shown, "department": world.other_dept.code})
        assert sneaky.status_code == 303
    assert (await fresh(session, ours.code)).department_id == world.dept.id

    async with browser(app, world.manager) as manager:
        shown = form_values((await manager.get(edit)).text, edit)
        assert shown["department"] == "culture"
        moved = await manager.post(edit, data={**shown, "department": world.other_dept.code})
        assert moved.status_code == 303
    assert (await fresh(session, ours.code)).department_id == world.other_dept.id


async def test_forms_without_the_csrf_token_are_refused(
    app: FastAPI, session: AsyncSession, world: World
) -> None:
    place = await add_place(session, world.dept)
    async with browser(app, world.staff) as staff:
        await staff.get("/staff/places/new")  # the cookie is set; the token is not sent
        assert (await staff.post("/staff/places/new", data=new_place())).status_code == 403
        retire = f"/staff/places/{place.code}/retire"
        assert (await staff.post(retire, data={})).status_code == 403
    assert await session.scalar(select(func.count()).select_from(Place)) == 1
    assert (await fresh(session, place.code)).retired_at is None
