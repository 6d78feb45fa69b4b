"""The staff's dossier pages driven like a browser without JavaScript: registering at the desk
(the receipt with the code and the PIN, which then looks the dossier up; a resent form registers
nothing twice), the queue, the case with its status and note forms, and who is refused."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import Role, User
from app.dossiers import service
from app.dossiers.models import Dossier, Status
from tests.builders import (
    PASSWORD,
    create_department,
    create_dossier,
    create_procedure,
    create_user,
)
from tests.pages import csrf_token, page_login, read_form

NEW = "/staff/dossiers/new"
_PIN = re.compile(r'<code class="big-code receipt-pin">(\d{6})</code>')
_CODE = re.compile(r'<code class="big-code">(YB-\d{6}-\d{4})</code>')
_SUMMARY = re.compile(r'<div class="error-summary".*?</div>', re.S)


@dataclass
class World:
    department: Any
    procedure: Any
    in_person_only: Any
    staff: User
    other_staff: User
    manager: User
    citizen: User


@pytest.fixture
async def world(session: AsyncSession) -> World:
    department = await create_department(session, code="desk-t")
    procedure = await create_procedure(
        session,
        "8.400001",
        processing_days=5,
        agency={
            "code": "agency-desk-t",
            "name": {"vi": "Sở Thử nghiệm", "en": "Test Department"},
            "address": "Số 1 Đường Thử",
            "department_code": department.code,
        },
    )
    in_person_only = await create_procedure(
        session,
        "8.400002",
        name={"vi": "Cấp phiếu lý lịch tư pháp", "en": "Criminal record certificate"},
        channels=["in_person"],
        online="none",
        agency={"code": "agency-desk-t", "name": {"vi": "Sở Thử nghiệm"}},
    )
    staff = await create_user(session, role=Role.staff, department=department)
    other_staff = await create_user(session, role=Role.staff)
    manager = await create_user(session, role=Role.manager)
    citizen = await create_user(session, role=Role.citizen)
    await session.commit()
    return World(department, procedure, in_person_only, staff, other_staff, manager, citizen)


@asynccontextmanager
async def browser(
    app: FastAPI, user: User | None = None, ip: str = "198.51.100.50"
) -> AsyncIterator[httpx.AsyncClient]:
    """A browser (English pages), signed in through the login page if asked."""
    transport = httpx.ASGITransport(app=app, client=(ip, 41000))
    async with httpx.AsyncClient(
        transport=transport, base_url="https://testserver", headers={"Accept-Language": "en"}
    ) as client:
        if user is not None:
            assert (await page_login(client, user.identifier, PASSWORD)).status_code == 303
        yield client


def summary(html: str) -> str:
    found = _SUMMARY.search(html)
    assert found, "no error summary"
    return found.group(0)


async def count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Dossier)) or 0)


async def reload(session: AsyncSession, code: str) -> Dossier:
    stmt = select(Dossier).where(Dossier.code == code).execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalar_one()


def filled(html: str, **values: str) -> dict[str, Any]:
    form = read_form(html, NEW)
    form.update(values)
    return form


# Registering at the desk --------------------------------------------------------------------


async def test_register_at_the_desk_prints_a_receipt_whose_pin_works(
    app: FastAPI, session: AsyncSession, world: World
) -> None:
    async with browser(app, world.staff) as desk:
        page = await desk.get(NEW)
        assert page.status_code == 200
        assert 'type="datetime-local"' in page.text and 'id="channel-in_person"' in page.text
        form = filled(
            page.text,
            procedure_code=world.procedure.code,
            applicant_kind="business",
            applicant_name="Hộ kinh doanh Bình An",
            tax_code="5200 123 456",
            phone="0912 345 678",
            address="Tổ 5, phường Yên Ninh",
        )
        assert form["received_at"]  # now, filled in
        receipt = await desk.post(NEW, data=form)
        assert receipt.status_code == 201, summary(receipt.text)
        code = _CODE.search(receipt.text).group(1)  # type: ignore[union-attr]
        pin = _PIN.search(receipt.text).group(1)  # type: ignore[union-attr]
        assert "never again" in receipt.text  # the PIN is shown once
        assert "https://testserver/dossiers/lookup" in receipt.text
        assert re.search(r"5:00 PM on \w+day", receipt.text)  # the due date in words
        assert 'media="print"' in receipt.text and "What to bring next time" in receipt.text
        stored = await reload(session, code)
        assert stored.tax_code == "5200123456" and stored.received_by_id == world.staff.id
        assert stored.applicant_kind == "business" and pin not in stored.pin_hash

        # The browser sends the same form again (a reload): nothing new is registered.
        before = await count(session)
        again = await desk.post(NEW, data=form)
        assert again.status_code == 409 and "already sent" in summary(again.text)
        assert await count(session) == before and _PIN.search(again.text) is None

    # The applicant tracks it with the PIN, in their own browser.
    async with browser(app, ip="198.51.100.51") as applicant:
        token = await csrf_token(applicant, "/dossiers/lookup")
        found = await applicant.post(
            "/dossiers/lookup", data={"code": code, "pin": pin, "csrf_token": token}
        )
        assert found.status_code == 303
        page = await applicant.get(f"/dossiers/{code}")
        assert page.status_code == 200 and code in page.text


async def test_registration_errors_name_their_fields_and_keep_what_was_typed(
    app: FastAPI, session: AsyncSession, world: World
) -> None:
    before = await count(session)
    async with browser(app, world.staff) as desk:
        page = await desk.get(NEW)
        bad = await desk.post(
            NEW,
            data=filled(
                page.text,
                procedure_code=world.procedure.code,
                applicant_name="A",
                tax_code="12345",
                phone="Ask at the desk",
                address="Tổ 9",
            ),
        )
        assert bad.status_code == 422
        box = summary(bad.text)
        for target in ("#applicant_name", "#tax_code", "#phone"):
            assert f'href="{target}"' in box, target
        assert 'value="Tổ 9"' in bad.text and 'value="12345"' in bad.text

        page = await desk.get(NEW)
        unknown = await desk.post(
            NEW, data=filled(page.text, procedure_code="0.000000", applicant_name="Lò Văn Pá")
        )
        assert unknown.status_code == 422
        assert 'href="#procedure_code"' in summary(unknown.text)
        assert "no procedure with this code" in summary(unknown.text)

        page = await desk.get(NEW)
        by_post = await desk.post(
            NEW,
            data=filled(
                page.text,
                procedure_code=world.in_person_only.code,
                applicant_name="Lò Văn Pá",
                channel="post",
            ),
        )
        assert by_post.status_code == 422
        assert 'href="#channel-in_person"' in summary(by_post.text)

        future = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
        page = await desk.get(NEW)
        later = await desk.post(
            NEW,
            data=filled(
                page.text,
                procedure_code=world.procedure.code,
                applicant_name="Lò Văn Pá",
                received_at=future,
            ),
        )
        assert later.status_code == 422 and 'href="#received_at"' in summary(later.text)
    assert await count(session) == before


async def test_find_the_procedure_by_its_name(app: FastAPI, world: World) -> None:
    async with browser(app, world.staff) as desk:
        found = await desk.get(NEW, params={"find": "ly lich tu phap"})
        assert found.status_code == 200
        assert f'name="procedure_code" type="radio" value="{world.in_person_only.code}"' in (
            found.text
        )
        nothing = await desk.get(NEW, params={"find": "zzzz qqqq"})
        assert "No procedure matches" in nothing.text and 'id="procedure_code"' in nothing.text
        chosen = await desk.get(NEW, params={"procedure": world.procedure.code})
        assert f'value="{world.procedure.code}"' in chosen.text


# The case ---------------------------------------------------------------------------------


async def test_status_changes_through_the_form(
    app: FastAPI, session: AsyncSession, world: World
) -> None:
    done = await create_dossier(session, world.procedure, actor=world.staff)
    await session.commit()
    code = done.dossier.code
    path = f"/staff/dossiers/{code}"
    async with browser(app, world.staff) as desk:
        case = await desk.get(path)
        assert case.status_code == 200
        options = re.findall(r'<option value="([a-z_]+)"', case.text)
        assert options == [s.value for s in service.next_statuses(done.dossier)]
        assert 'id="status-missing"' in case.text and "one item per line" in case.text
        token = await csrf_token(desk, path)

        empty = await desk.post(
            f"{path}/status", data={"status": "needs_supplement", "csrf_token": token}
        )
        assert empty.status_code == 422
        assert 'href="#status-missing"' in summary(empty.text)
        assert "List what the applicant must bring" in summary(empty.text)
        assert (await reload(session, code)).status == Status.received.value

        none = await desk.post(f"{path}/status", data={"status": "", "csrf_token": token})
        assert none.status_code == 422 and 'href="#status-to"' in summary(none.text)

        paused = await desk.post(
            f"{path}/status",
            data={
                "status": "needs_supplement",
                "missing": "- Bản sao sổ đỏ\n\n• Bản vẽ mặt bằng\n",
                "note": "Mời bổ sung",
                "csrf_token": token,
            },
        )
        assert paused.status_code == 303
        assert paused.headers["location"] == f"{path}?done=status"
        stored = await reload(session, code)
        assert stored.status == "needs_supplement" and stored.due_at is None
        assert stored.missing == ["Bản sao sổ đỏ", "Bản vẽ mặt bằng"]
        page = (await desk.get(paused.headers["location"])).text
        assert "The clock is paused" in page and "<li>Bản vẽ mặt bằng</li>" in page

        refused = await desk.post(
            f"{path}/status",
            data={
                "status": "rejected",
                "note": "Không đủ điều kiện",
                "internal": "1",
                "csrf_token": token,
            },
        )
        assert refused.status_code == 422 and 'href="#status-note"' in summary(refused.text)
        assert "Không đủ điều kiện" in refused.text  # kept in the form
        wrong = await desk.post(f"{path}/status", data={"status": "completed", "csrf_token": token})
        assert wrong.status_code == 409 and "cannot become" in summary(wrong.text)

        noted = await desk.post(
            f"{path}/notes",
            data={"note": "Gọi lại cho chủ hộ", "internal": "1", "csrf_token": token},
        )
        assert noted.status_code == 303
        page = (await desk.get(path)).text
        assert "Gọi lại cho chủ hộ" in page and "Internal: staff only</strong>" in page
        blank = await desk.post(f"{path}/notes", data={"note": " ", "csrf_token": token})
        assert blank.status_code == 422 and 'href="#note-text"' in summary(blank.text)


async def test_reissue_a_lost_pin_from_the_case_page(
    app: FastAPI, session: AsyncSession, world: World
) -> None:
    done = await create_dossier(session, world.procedure, actor=world.staff)
    await session.commit()
    code = done.dossier.code
    path = f"/staff/dossiers/{code}"
    async with browser(app, world.staff) as desk:
        case = await desk.get(path)
        assert "Re-issue the receipt PIN" in case.text and "old PIN stops working" in case.text
        form = read_form(case.text, f"{path}/pin")
        assert form["csrf_token"] and form["form_token"]
        receipt = await desk.post(f"{path}/pin", data=form)
        assert receipt.status_code == 200, receipt.text
        assert _CODE.search(receipt.text).group(1) == code  # type: ignore[union-attr]
        pin = _PIN.search(receipt.text).group(1)  # type: ignore[union-attr]
        assert "never again" in receipt.text and "replaces the earlier one" in receipt.text
        # The browser sends the same form again (a reload): the printed PIN stays.
        again = await desk.post(f"{path}/pin", data=form)
        assert again.status_code == 409 and "already sent" in summary(again.text)
        assert _PIN.search(again.text) is None
        assert "PIN re-issued" in (await desk.get(path)).text  # the internal note

    async with browser(app, ip="198.51.100.52") as applicant:
        lookup = "/api/v1/dossiers/lookup"
        found = await applicant.post(lookup, json={"code": code, "pin": pin})
        assert found.status_code == 200 and found.json()["code"] == code
        if pin != done.pin:
            old = await applicant.post(lookup, json={"code": code, "pin": done.pin})
            assert old.status_code == 404

    async with browser(app, world.other_staff) as other:
        token = await csrf_token(other, "/staff/dossiers")
        refused = await other.post(f"{path}/pin", data={"csrf_token": token})
        assert refused.status_code == 403 and _PIN.search(refused.text) is None

    await service.change_status(session, world.staff, await reload(session, code), Status.withdrawn)
    await session.commit()
    async with browser(app, world.staff) as desk:
        closed = await desk.get(path)
        assert f'action="{path}/pin"' not in closed.text
        assert "its PIN cannot be re-issued" in closed.text
        token = await csrf_token(desk, path)
        late = await desk.post(f"{path}/pin", data={"csrf_token": token})
        assert late.status_code == 409 and "cannot be re-issued" in summary(late.text)


async def test_the_queue_lists_the_departments_dossiers_overdue_first(
    app: FastAPI, session: AsyncSession, world: World
) -> None:
    long_ago = datetime.now(UTC) - timedelta(days=30)
    late = await create_dossier(
        session,
        world.procedure,
        actor=world.staff,
        received_at=long_ago,
        now=long_ago,
        applicant_name="Trần Thị Muộn",
    )
    fresh = await create_dossier(session, world.procedure, actor=world.staff)
    elsewhere_procedure = await create_procedure(
        session, "8.400003", agency={"code": "agency-elsewhere", "name": {"vi": "Nơi khác"}}
    )
    elsewhere = await create_dossier(session, elsewhere_procedure, actor=world.other_staff)
    await session.commit()
    async with browser(app, world.staff) as desk:
        page = (await desk.get("/staff/dossiers")).text
        codes = re.findall(r'href="/staff/dossiers/(YB-[\d-]+)"', page)
        assert codes[:2] == [late.dossier.code, fresh.dossier.code]
        assert elsewhere.dossier.code not in codes
        assert re.search(r"Overdue by \d+ working days", page)
        assert "Received: 2" in page and "Overdue: 1" in page
        only_late = (await desk.get("/staff/dossiers", params={"overdue": "1"})).text
        assert re.findall(r'href="/staff/dossiers/(YB-[\d-]+)"', only_late) == [late.dossier.code]
        by_name = (await desk.get("/staff/dossiers", params={"q": "Muộn"})).text
        assert late.dossier.code in by_name and fresh.dossier.code not in by_name
        assert 'name="department"' not in page  # staff see their own department's
    async with browser(app, world.manager) as manager:
        page = (await manager.get("/staff/dossiers")).text
        assert elsewhere.dossier.code in page and late.dossier.code in page
        one = (await manager.get("/staff/dossiers", params={"department": "desk-t"})).text
        assert elsewhere.dossier.code not in one and late.dossier.code in one


async def test_who_is_refused(app: FastAPI, session: AsyncSession, world: World) -> None:
    done = await create_dossier(session, world.procedure, actor=world.staff)
    await session.commit()
    path = f"/staff/dossiers/{done.dossier.code}"
    async with browser(app, world.other_staff) as other:
        refused = await other.get(path)
        assert refused.status_code == 403 and "another department" in refused.text
        assert 'action="' + path + '/status"' not in refused.text
        token = await csrf_token(other, "/staff/dossiers")
        moved = await other.post(
            f"{path}/status", data={"status": "in_processing", "csrf_token": token}
        )
        assert moved.status_code == 403
        assert (await reload(session, done.dossier.code)).status == "received"
        assert (await other.get("/staff/dossiers/YB-000101-9999")).status_code == 404
    async with browser(app, world.manager) as manager:
        assert (await manager.get(path)).status_code == 200  # managers work every department's
    async with browser(app, world.citizen) as citizen:
        for address in ("/staff/dossiers", NEW, path):
            assert (await citizen.get(address)).status_code == 403, address
        token = await csrf_token(citizen, "/dossiers/lookup")
        sent = await citizen.post(
            NEW,
            data={
                "procedure_code": world.procedure.code,
                "applicant_name": "Lò Văn Pá",
                "csrf_token": token,
            },
        )
        assert sent.status_code == 403
    async with browser(app) as anonymous:
        away = await anonymous.get("/staff/dossiers")
        assert away.status_code == 303 and away.headers["location"].startswith("/login")
