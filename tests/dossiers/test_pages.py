"""The public dossier pages driven like a browser without JavaScript: the lookup form (phone
digits or receipt PIN, one answer for an unknown code and a wrong factor, the throttle), the
status page (the paused clock, what is missing, lateness in words), rating once, following, and
the dossiers a signed-in person follows."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import Role, User
from app.dossiers import pages, service
from app.dossiers.models import Dossier, DossierFollower, Status
from tests.builders import (
    PASSWORD,
    create_department,
    create_dossier,
    create_procedure,
    create_user,
)
from tests.pages import csrf_token, page_login

LOOKUP = "/dossiers/lookup"
_SUMMARY = re.compile(r'<div class="error-summary".*?</div>', re.S)
_FIELD = re.compile(r'<p class="field-error" id="([^"]+)-error">')


@dataclass
class World:
    staff: User
    procedure: Any
    dossier: Dossier
    pin: str


@pytest.fixture
async def world(session: AsyncSession) -> World:
    department = await create_department(session)
    procedure = await create_procedure(
        session,
        "8.300001",
        processing_days=5,
        agency={
            "code": "agency-pages-t",
            "name": {"vi": "Ủy ban nhân dân phường", "en": "Ward People's Committee"},
            "address": "Số 1 Đường Thử",
            "department_code": department.code,
        },
    )
    staff = await create_user(session, role=Role.staff, department=department)
    done = await create_dossier(session, procedure, actor=staff, phone="0987 65 4321")
    await service.add_note(session, staff, done.dossier, "Nội bộ: gọi lại sau", internal=True)
    await session.commit()
    return World(staff, procedure, done.dossier, done.pin)


@asynccontextmanager
async def browser(app: FastAPI, ip: str = "198.51.100.20") -> AsyncIterator[httpx.AsyncClient]:
    """Another browser: its own cookies, English pages."""
    transport = httpx.ASGITransport(app=app, client=(ip, 41000))
    async with httpx.AsyncClient(
        transport=transport, base_url="https://testserver", headers={"Accept-Language": "en"}
    ) as other:
        yield other


async def look_up(client: httpx.AsyncClient, code: str, **factor: str) -> httpx.Response:
    token = await csrf_token(client, LOOKUP)
    return await client.post(LOOKUP, data={"code": code, **factor, "csrf_token": token})


async def reload(session: AsyncSession, code: str) -> Dossier:
    stmt = select(Dossier).where(Dossier.code == code).execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalar_one()


def summary(html: str) -> str:
    found = _SUMMARY.search(html)
    assert found, "no error summary"
    return found.group(0)


# Looking up ---------------------------------------------------------------------------------


async def test_lookup_with_the_phone_digits_shows_the_status_page(
    app: FastAPI, world: World
) -> None:
    code = world.dossier.code
    async with browser(app) as client:
        form = await client.get(LOOKUP)
        assert form.status_code == 200
        assert 'id="code"' in form.text and 'id="phone_last4"' in form.text
        assert 'id="pin"' in form.text and "receipt" in form.text
        found = await look_up(client, code.lower(), phone_last4="4321")
        assert found.status_code == 303
        assert found.headers["location"] == f"/dossiers/{code}?done=found"
        assert "4321" not in found.headers["location"]
        cookie = found.headers["set-cookie"]
        assert f"Path=/dossiers/{code}" in cookie and "HttpOnly" in cookie and "4321" not in cookie

        page = await client.get(found.headers["location"])
        assert page.status_code == 200, page.text
        html = page.text
        assert code in html and 'role="status"' in html  # "We found your dossier"
        assert f'href="/procedures/{world.procedure.code}"' in html
        assert "Registering a household business" in html
        assert "Received" in html and "Result due by" in html
        assert re.search(r"5:00 PM on \w+day \d{1,2} \w+ \d{4}", html)  # the due date in words
        assert "Ward People&#39;s Committee" in html
        # Nothing the code and four digits should not show: contacts, internal notes.
        for leaked in ("0987", "+8498", "gọi lại"):
            assert leaked not in html
        assert 'action="/dossiers/' + code + '/follow"' not in html  # signed out
        assert f"/login?next=/dossiers/{code}" in html


async def test_lookup_with_the_receipt_pin_and_the_due_date_in_vietnamese(
    app: FastAPI, client: httpx.AsyncClient, world: World
) -> None:
    found = await look_up(client, f" {world.dossier.code} ", pin=world.pin)
    assert found.status_code == 303, found.text
    page = await client.get(f"/dossiers/{world.dossier.code}")
    assert page.status_code == 200
    assert re.search(r"17:00 thứ [^,]+, \d{2}/\d{2}/\d{4}", page.text), "vi due date"
    # Another browser has no proof: it is sent to the form, the code filled in.
    async with browser(app, "198.51.100.21") as other:
        away = await other.get(f"/dossiers/{world.dossier.code}")
        assert away.status_code == 303
        assert away.headers["location"] == f"{LOOKUP}?code={world.dossier.code}"
        form = await other.get(away.headers["location"])
        assert f'value="{world.dossier.code}"' in form.text
        # A code typed in lower case gets the one address of the dossier.
        lower = await other.get(f"/dossiers/{world.dossier.code.lower()}")
        assert lower.status_code == 301
        assert lower.headers["location"] == f"/dossiers/{world.dossier.code}"


async def test_without_a_factor_the_form_says_what_is_missing(app: FastAPI, world: World) -> None:
    async with browser(app) as client:
        nothing = await look_up(client, world.dossier.code)
        assert nothing.status_code == 422
        assert "last 4 digits of the phone number or the PIN" in summary(nothing.text)
        assert 'href="#phone_last4"' in summary(nothing.text)
        assert f'value="{world.dossier.code}"' in nothing.text  # kept
        assert 'aria-invalid="true"' in nothing.text
        bad = await look_up(client, "", phone_last4="43a1", pin="12")
        assert bad.status_code == 422
        assert set(_FIELD.findall(bad.text)) == {"code", "phone_last4", "pin"}
        assert 'value="43a1"' in bad.text and 'value="12"' not in bad.text  # never the PIN


async def test_a_wrong_factor_reads_like_an_unknown_code(app: FastAPI, world: World) -> None:
    code = world.dossier.code
    wrong_pin = "000000" if world.pin != "000000" else "111111"
    async with browser(app) as client:
        answers = [
            await look_up(client, code, phone_last4="1234"),
            await look_up(client, code, pin=wrong_pin),
            await look_up(client, "YB-000101-9999", phone_last4="4321"),
            await look_up(client, "YB-000101-9999", pin=world.pin),
        ]
    assert {a.status_code for a in answers} == {404}
    assert len({summary(a.text) for a in answers}) == 1
    assert "No dossier matches this code and these digits" in summary(answers[0].text)
    assert 'value="1234"' in answers[0].text  # the form is kept, the PIN is not
    assert wrong_pin not in answers[1].text and world.pin not in answers[3].text
    assert all(
        "set-cookie" not in a.headers or "ch_dossier_" not in a.headers["set-cookie"]
        for a in answers
    )


async def test_too_many_attempts_is_a_readable_429(app: FastAPI, world: World) -> None:
    app.state.settings.dossier_lookups_per_minute = 2
    app.state.settings.dossier_lookup_failures_per_code = 100
    async with browser(app, "198.51.100.30") as client:
        first = await look_up(client, world.dossier.code, phone_last4="0000")
        second = await look_up(client, world.dossier.code, phone_last4="0001")
        third = await look_up(client, world.dossier.code, phone_last4="4321")
    assert [first.status_code, second.status_code] == [404, 404]
    assert third.status_code == 429
    assert int(third.headers["Retry-After"]) >= 1
    assert "<h1>Too many attempts</h1>" in third.text
    assert re.search(r"try again in 1 minute\.", third.text)
    assert "ch_dossier_" not in third.headers.get("set-cookie", "")


# The status page ----------------------------------------------------------------------------


async def test_the_status_page_says_paused_missing_and_overdue_in_words(
    app: FastAPI, session: AsyncSession, world: World
) -> None:
    long_ago = datetime.now(UTC) - timedelta(days=30)
    late = await create_dossier(
        session,
        world.procedure,
        actor=world.staff,
        phone="0911000111",
        received_at=long_ago,
        now=long_ago,
    )
    await service.change_status(
        session, world.staff, late.dossier, Status.in_processing, now=long_ago + timedelta(days=1)
    )
    await service.change_status(
        session,
        world.staff,
        world.dossier,
        Status.needs_supplement,
        note="Thiếu giấy tờ",
        missing=["Bản sao sổ đỏ", "Bản vẽ mặt bằng"],
    )
    await session.commit()
    async with browser(app) as client:
        assert (await look_up(client, world.dossier.code, phone_last4="4321")).status_code == 303
        paused = (await client.get(f"/dossiers/{world.dossier.code}")).text
        assert "The clock is paused" in paused
        assert "<li>Bản sao sổ đỏ</li>" in paused and "<li>Bản vẽ mặt bằng</li>" in paused
        assert "Waiting for more documents" in paused
        assert "Not counted while documents are missing" in paused
        assert re.search(r"\d+ working days? will be left", paused)
        assert "Thiếu giấy tờ" in paused  # the public note, in the history table
        assert "<caption>What happened to the dossier, oldest first</caption>" in paused
        assert "Overdue" not in paused

        assert (await look_up(client, late.dossier.code, phone_last4="0111")).status_code == 303
        overdue = (await client.get(f"/dossiers/{late.dossier.code}")).text
        assert re.search(r'class="overdue-flag">Overdue by \d+ working days<', overdue)
        assert "The result is late" in overdue


async def test_rating_through_the_form_once(
    app: FastAPI, session: AsyncSession, world: World
) -> None:
    for status in (Status.in_processing, Status.completed):
        await service.change_status(session, world.staff, world.dossier, status)
    await session.commit()
    code = world.dossier.code
    async with browser(app) as client:
        await look_up(client, code, pin=world.pin)
        page = (await client.get(f"/dossiers/{code}")).text
        assert page.count('name="score" type="radio"') == 5
        assert "<legend>How satisfied are you" in page
        token = await csrf_token(client, f"/dossiers/{code}")
        wrong = await client.post(
            f"/dossiers/{code}/rating", data={"score": "9", "comment": "x", "csrf_token": token}
        )
        assert wrong.status_code == 422 and 'href="#score-1"' in summary(wrong.text)
        assert (await reload(session, code)).rating is None
        rated = await client.post(
            f"/dossiers/{code}/rating",
            data={"score": "4", "comment": "Nhanh, đúng hẹn", "csrf_token": token},
        )
        assert rated.status_code == 303 and rated.headers["location"].endswith("done=rated")
        stored = await reload(session, code)
        assert (stored.rating, stored.rating_comment) == (4, "Nhanh, đúng hẹn")
        after = (await client.get(f"/dossiers/{code}")).text
        assert 'name="score"' not in after and "4 out of 5" in after
        again = await client.post(
            f"/dossiers/{code}/rating", data={"score": "1", "csrf_token": token}
        )
        assert again.status_code == 409 and "already been rated" in summary(again.text)
        assert (await reload(session, code)).rating == 4
    # Without the proof in this browser, rating is not possible.
    async with browser(app, "198.51.100.40") as stranger:
        token = await csrf_token(stranger, LOOKUP)
        refused = await stranger.post(
            f"/dossiers/{code}/rating", data={"score": "1", "csrf_token": token}
        )
        assert refused.status_code == 303 and refused.headers["location"].startswith(LOOKUP)


async def test_follow_unfollow_and_the_dossiers_i_follow(
    app: FastAPI, session: AsyncSession, world: World
) -> None:
    citizen = await create_user(session, role=Role.citizen)
    await session.commit()
    code = world.dossier.code
    async with browser(app) as client:
        assert (await client.get("/me/dossiers")).status_code == 303  # to the sign-in page
        assert (await page_login(client, citizen.identifier, PASSWORD)).status_code == 303
        # Signed in, yet without the proof: neither the page nor following.
        assert (await client.get(f"/dossiers/{code}")).status_code == 303
        token = await csrf_token(client, LOOKUP)
        early = await client.post(f"/dossiers/{code}/follow", data={"csrf_token": token})
        assert early.status_code == 303 and early.headers["location"].startswith(LOOKUP)
        assert await followers(session, world.dossier) == []

        await look_up(client, code, phone_last4="4321")
        page = (await client.get(f"/dossiers/{code}")).text
        assert f'action="/dossiers/{code}/follow"' in page
        followed = await client.post(f"/dossiers/{code}/follow", data={"csrf_token": token})
        assert followed.status_code == 303
        assert await followers(session, world.dossier) == [citizen.id]
        page = (await client.get(followed.headers["location"])).text
        assert f'action="/dossiers/{code}/unfollow"' in page and 'role="status"' in page

        mine = await client.get("/me/dossiers")
        assert mine.status_code == 200
        assert f'href="/dossiers/{code}"' in mine.text and "Received" in mine.text
        # A follower sees the page without the proof, from another browser.
        async with browser(app, "198.51.100.41") as phone:
            await page_login(phone, citizen.identifier, PASSWORD)
            assert (await phone.get(f"/dossiers/{code}")).status_code == 200
            token2 = await csrf_token(phone, "/me/dossiers")
            gone = await phone.post(f"/dossiers/{code}/unfollow", data={"csrf_token": token2})
            assert gone.status_code == 303
            assert gone.headers["location"] == "/me/dossiers?done=unfollowed"
            assert (await phone.get(f"/dossiers/{code}")).status_code == 303
        assert await followers(session, world.dossier) == []
        empty = await client.get("/me/dossiers")
        assert f'href="/dossiers/{code}"' not in empty.text
        assert "You do not follow any dossier yet" in empty.text


async def followers(session: AsyncSession, dossier: Dossier) -> list[int]:
    rows = await session.execute(
        select(DossierFollower.user_id).where(DossierFollower.dossier_id == dossier.id)
    )
    return list(rows.scalars())


async def test_forms_without_the_csrf_token_are_refused(
    client: httpx.AsyncClient, world: World
) -> None:
    answer = await client.post(LOOKUP, data={"code": world.dossier.code, "phone_last4": "4321"})
    assert answer.status_code == 403


async def test_a_forged_or_expired_proof_is_refused(app: FastAPI, world: World) -> None:
    code = world.dossier.code
    path = f"/dossiers/{code}"
    secret = app.state.settings.secret_key
    later = int(time.time()) + 600
    earlier = int(time.time()) - 1
    async with browser(app) as client:
        client.cookies.set(f"ch_dossier_{code}", f"{later}.{'0' * 64}", path=path)
        assert (await client.get(path)).status_code == 303  # a made-up signature
        stale = f"{earlier}.{pages._proof_mac(secret, world.dossier, earlier)}"
        client.cookies.set(f"ch_dossier_{code}", stale, path=path)
        assert (await client.get(path)).status_code == 303  # signed, but expired
        fresh = f"{later}.{pages._proof_mac(secret, world.dossier, later)}"
        client.cookies.set(f"ch_dossier_{code}", fresh, path=path)
        assert (await client.get(path)).status_code == 200
