"""The help pages, driven like a browser without JavaScript: plain forms, CSRF, redirects."""

from __future__ import annotations

import re

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEntry
from app.auth.models import Role
from app.practical import demo
from app.practical.models import GuidePage, HelpContact
from tests.builders import PASSWORD, create_user
from tests.pages import csrf_token, page_login
from tests.practical.conftest import HelpWorld, create_guide, create_place
from tests.reports.test_pages import browser

TEL = re.compile(r'<a class="help-number" href="(tel:[^"]+)">([^<]+)</a>')


async def test_help_page_puts_the_emergency_numbers_first_as_tel_links(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await create_place(
        session, "demo-tourist-info-yen-bai", {"vi": "Trung tâm", "en": "Information centre"}
    )
    await demo.load_demo(session)
    await session.commit()
    page = await client.get("/help?lang=en")
    assert page.status_code == 200
    text = page.text
    links = TEL.findall(text)
    assert links[:3] == [("tel:113", "113"), ("tel:114", "114"), ("tel:115", "115")]
    assert ("tel:02163862222", "0216 3862 222") in links  # the tourism hotline
    emergency, rest = text.split('id="hotlines-title"')
    assert "Police" in emergency and "Yên Bái tourism hotline" not in emergency
    hotlines, rest = rest.split('id="tourist-title"')
    assert "Yên Bái tourism hotline" in hotlines and "Public administration hotline" in hotlines
    points, guides = rest.split('id="guides-title"')
    assert '<a href="/places/demo-tourist-info-yen-bai">' in points
    assert "Đường Hòa Bình" in points  # the place's address
    assert "Open now" in points or "Closed now" in points
    assert '<a href="/help/getting-to-mu-cang-chai">Getting to Mù Cang Chải</a>' in guides
    assert "<script" not in text and "<img" not in text
    assert len(page.content) < 16_000, len(page.content)  # one bar of signal

    vi = await client.get("/help?lang=vi")
    assert "Đường đến Mù Cang Chải" in vi.text and 'href="tel:113"' in vi.text


async def test_a_second_visit_costs_a_304(client: httpx.AsyncClient) -> None:
    first = await client.get("/help")
    again = await client.get("/help")  # the CSRF cookie is set now: the page is stable
    assert again.headers["Cache-Control"] == "private, no-cache"
    repeat = await client.get("/help", headers={"If-None-Match": again.headers["ETag"]})
    assert repeat.status_code == 304 and repeat.content == b""
    assert first.status_code == 200


async def test_a_guide_page_shows_paragraphs_and_lists(
    client: httpx.AsyncClient, world: HelpWorld
) -> None:
    await create_guide(client, world.staff_headers)
    page = await client.get("/help/getting-to-mu-cang-chai?lang=en")
    assert page.status_code == 200
    assert "<h1>Getting to Mù Cang Chải</h1>" in page.text
    assert "<p>Take National Road 32.</p>" in page.text
    assert "<ul><li>Drive in daylight.</li><li>Use a low gear.</li></ul>" in page.text
    assert 'href="tel:115"' in page.text and 'href="/help"' in page.text
    assert "/staff/help/guides/" not in page.text  # no edit link for the public
    only_vi = await create_guide(
        client,
        world.staff_headers,
        slug="chi-tieng-viet",
        title={"vi": "Chỉ tiếng Việt"},
        summary={},
        body={"vi": "Nội dung."},
    )
    page = await client.get(f"/help/{only_vi['slug']}?lang=en")
    assert '<h1 lang="vi">Chỉ tiếng Việt</h1>' in page.text
    assert "not yet written in your language" in page.text
    assert (await client.get("/help/no-such-guide")).status_code == 404


async def test_staff_pages_are_for_staff(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    anonymous = await client.get("/staff/help")
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    citizen = await create_user(session, role=Role.citizen)
    await session.commit()
    async with browser(app, citizen) as other:
        assert (await other.get("/staff/help")).status_code == 403
        assert (await other.get("/staff/help/guides/new")).status_code == 403
        token = await csrf_token(other, "/help")
        r = await other.post(
            "/staff/help/guides/new",
            data={"slug": "x-y", "title_vi": "Tiêu đề", "csrf_token": token},
        )
        assert r.status_code == 403
    assert (await session.execute(select(GuidePage))).first() is None


async def test_staff_write_change_and_retire_a_guide_with_plain_forms(
    client: httpx.AsyncClient, session: AsyncSession, world: HelpWorld
) -> None:
    assert (await page_login(client, world.staff.identifier, PASSWORD)).status_code == 303
    blank = await client.get("/staff/help/guides/new")
    assert blank.status_code == 200 and 'name="body_vi"' in blank.text
    token = await csrf_token(client, "/staff/help/guides/new")
    typed = {
        "slug": "Sai Dia Chi",
        "title_vi": "",
        "title_en": "",
        "summary_vi": "Tóm tắt đã gõ",
        "body_vi": "Đoạn một.\n\n- Ý một\n- Ý hai",
        "sort_order": "10",
        "csrf_token": token,
    }
    r = await client.post("/staff/help/guides/new", data=typed)
    assert r.status_code == 422
    assert 'href="#slug"' in r.text and 'href="#title_vi"' in r.text
    assert 'aria-invalid="true"' in r.text
    assert "Tóm tắt đã gõ" in r.text and "- Ý một\n- Ý hai</textarea>" in r.text  # kept

    r = await client.post(
        "/staff/help/guides/new",
        data={**typed, "slug": "le-hoi-mua-lua", "title_vi": "Lễ hội mùa lúa"},
    )
    assert r.status_code == 303 and r.headers["location"] == "/staff/help?done=guide-created"
    listing = await client.get(r.headers["location"])
    assert 'role="status"' in listing.text and "Lễ hội mùa lúa" in listing.text
    shown = await client.get("/help/le-hoi-mua-lua")
    assert "<ul><li>Ý một</li><li>Ý hai</li></ul>" in shown.text

    taken = await client.post(
        "/staff/help/guides/new",
        data={**typed, "slug": "le-hoi-mua-lua", "title_vi": "Lần hai"},
    )
    assert taken.status_code == 409 and 'href="#slug"' in taken.text and "Lần hai" in taken.text

    edit = await client.get("/staff/help/guides/le-hoi-mua-lua/edit")
    assert 'value="Lễ hội mùa lúa"' in edit.text and "Hà Thị Mai" in edit.text  # the history
    r = await client.post(
        "/staff/help/guides/le-hoi-mua-lua/edit",
        data={**typed, "title_vi": "Lễ hội mùa lúa chín", "title_en": "Harvest festival"},
    )
    assert r.status_code == 303 and r.headers["location"].endswith("done=guide-saved")
    guide = await session.scalar(
        select(GuidePage)
        .where(GuidePage.slug == "le-hoi-mua-lua")
        .execution_options(populate_existing=True)
    )
    assert guide is not None
    assert guide.title == {"vi": "Lễ hội mùa lúa chín", "en": "Harvest festival"}
    assert guide.body["vi"] == "Đoạn một.\n\n- Ý một\n- Ý hai"

    confirm = await client.get("/staff/help/guides/le-hoi-mua-lua/retire")
    assert 'action="/staff/help/guides/le-hoi-mua-lua/retire"' in confirm.text
    r = await client.post("/staff/help/guides/le-hoi-mua-lua/retire", data={"csrf_token": token})
    assert r.status_code == 303 and r.headers["location"].endswith("done=guide-retired")
    assert (await client.get("/help/le-hoi-mua-lua")).status_code == 404
    assert "/help/le-hoi-mua-lua" not in (await client.get("/help")).text
    r = await client.post("/staff/help/guides/le-hoi-mua-lua/restore", data={"csrf_token": token})
    assert r.status_code == 303
    assert (await client.get("/help/le-hoi-mua-lua")).status_code == 200

    actions = (
        await session.execute(
            select(AuditEntry.action, AuditEntry.data)
            .where(AuditEntry.subject_type == "guide_page", AuditEntry.subject_id == guide.id)
            .order_by(AuditEntry.id)
        )
    ).all()
    assert [a for a, _d in actions] == [
        "guide_page.create",
        "guide_page.update",
        "guide_page.retire",
        "guide_page.restore",
    ]
    assert actions[1][1] == {"fields": ["title"]}


async def test_staff_add_change_and_retire_a_number_with_plain_forms(
    client: httpx.AsyncClient, session: AsyncSession, world: HelpWorld
) -> None:
    await create_place(session, "ti-lake", {"vi": "Hồ Thác Bà"})
    await session.commit()
    assert (await page_login(client, world.staff.identifier, PASSWORD)).status_code == 303
    token = await csrf_token(client, "/staff/help/contacts/new")
    typed = {
        "kind": "hotline",
        "phone": "0216 38x",
        "name_vi": "Đường dây nóng điện lực",
        "name_en": "",
        "description_vi": "Mất điện, sự cố lưới điện.",
        "hours": "Mo-Fr 25:00",
        "place_code": "",
        "sort_order": "40",
        "code": "",
        "csrf_token": token,
    }
    r = await client.post("/staff/help/contacts/new", data=typed)
    assert r.status_code == 422
    assert 'href="#phone"' in r.text and 'href="#hours"' in r.text
    assert 'value="Đường dây nóng điện lực"' in r.text and 'value="0216 38x"' in r.text
    r = await client.post(
        "/staff/help/contacts/new",
        data={**typed, "phone": "0216 3855 666", "hours": "24/7", "place_code": "nowhere"},
    )
    assert r.status_code == 422 and 'href="#place_code"' in r.text
    r = await client.post(
        "/staff/help/contacts/new", data={**typed, "phone": "", "hours": "24/7", "kind": "police"}
    )
    assert r.status_code == 422 and 'href="#phone"' in r.text

    r = await client.post(
        "/staff/help/contacts/new", data={**typed, "phone": "0216 3855 666", "hours": "24/7"}
    )
    assert r.status_code == 303 and r.headers["location"].endswith("done=contact-created")
    page = await client.get("/help")
    assert '<a class="help-number" href="tel:02163855666">0216 3855 666</a>' in page.text
    listing = await client.get("/staff/help")
    code = "hotline-02163855666"
    assert f'href="/staff/help/contacts/{code}/edit"' in listing.text

    r = await client.post(
        f"/staff/help/contacts/{code}/edit",
        data={
            **typed,
            "kind": "tourist_info",
            "phone": "",
            "hours": "",
            "place_code": "ti-lake",
        },
    )
    assert r.status_code == 303, r.text
    contact = await session.scalar(
        select(HelpContact)
        .where(HelpContact.code == code)
        .execution_options(populate_existing=True)
    )
    assert contact is not None and contact.kind == "tourist_info" and contact.phone is None
    edit = await client.get(f"/staff/help/contacts/{code}/edit")
    assert 'value="ti-lake"' in edit.text and "hours, kind, phone, place_code" in edit.text

    r = await client.post(f"/staff/help/contacts/{code}/retire", data={"csrf_token": token})
    assert r.status_code == 303
    assert "Đường dây nóng điện lực" not in (await client.get("/help")).text
    no_token = await client.post(f"/staff/help/contacts/{code}/restore", data={})
    assert no_token.status_code == 403


async def test_the_form_keeps_languages_it_does_not_show(
    client: httpx.AsyncClient, session: AsyncSession, world: HelpWorld
) -> None:
    await create_guide(
        client,
        world.staff_headers,
        slug="ba-ngon-ngu",
        title={"vi": "Ba ngôn ngữ", "en": "Three languages", "fr": "Trois langues"},
        body={"vi": "Một.", "fr": "Un."},
    )
    assert (await page_login(client, world.staff.identifier, PASSWORD)).status_code == 303
    token = await csrf_token(client, "/staff/help/guides/ba-ngon-ngu/edit")
    r = await client.post(
        "/staff/help/guides/ba-ngon-ngu/edit",
        data={"title_vi": "Ba thứ tiếng", "title_en": "", "body_vi": "Hai.", "csrf_token": token},
    )
    assert r.status_code == 303
    guide = await session.scalar(
        select(GuidePage)
        .where(GuidePage.slug == "ba-ngon-ngu")
        .execution_options(populate_existing=True)
    )
    assert guide is not None
    assert guide.title == {"vi": "Ba thứ tiếng", "fr": "Trois langues"}
    assert guide.body == {"vi": "Hai.", "fr": "Un."}
