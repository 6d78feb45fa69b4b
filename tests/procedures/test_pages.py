"""The public procedure pages without JavaScript: search with or without accents, filters and
pages of results, browsing by field; a procedure as a checklist (what to bring, where to go,
how long, how much) and its print layout; life events with their totals."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from babel.numbers import format_currency
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import utcnow
from app.procedures import pages, service
from app.procedures.models import ProcedureForm
from app.procedures.schemas import LifeEventIn
from tests.builders import create_procedure

EN = {"lang": "en"}
HOUSEHOLD = "2.000720"
BUILDING = "1.009794"
BIRTH = "1.001193"
FOOD = "2.000591"


def results(response: httpx.Response) -> str:
    """The results section only (the form lists fields and agencies too)."""
    assert response.status_code == 200, response.text
    return response.text[response.text.index('id="results-title"') :]


def codes_in(html: str) -> list[str]:
    """The procedure codes of the result cards, in order."""
    found = []
    for part in html.split('class="procedure-card"')[1:]:
        start = part.index('href="/procedures/') + len('href="/procedures/')
        found.append(part[start : part.index('"', start)])
    return found


def money(amount: int, locale: str) -> str:
    return format_currency(amount, "VND", locale=locale)


@pytest.fixture
async def catalogue(session: AsyncSession) -> None:
    await create_procedure(session)  # household business: commune, fully online, 3 days, 100.000
    await create_procedure(
        session,
        BUILDING,
        name={
            "vi": "Cấp giấy phép xây dựng nhà ở riêng lẻ",
            "en": "Construction permit for a private house",
        },
        field={"code": "construction", "name": {"vi": "Hoạt động xây dựng", "en": "Construction"}},
        agency={
            "code": "commune-ppc",
            "name": {"vi": "Ủy ban nhân dân cấp xã", "en": "Commune People's Committee"},
        },
        online="partial",
        processing_days=15,
        fees=[
            {"name": {"vi": "Lệ phí cấp phép", "en": "Permit fee"}, "amount_vnd": 75_000},
        ],
        steps=[{"vi": "Nộp hồ sơ", "en": "Lodge the dossier"}],
        documents=[],
        legal_basis=[],
        applicants={"vi": "Chủ đầu tư", "en": "The owner"},
        result={"vi": "Giấy phép xây dựng", "en": "Construction permit"},
    )
    await create_procedure(
        session,
        BIRTH,
        name={"vi": "Đăng ký khai sinh", "en": "Birth registration"},
        field={"code": "civil-status", "name": {"vi": "Hộ tịch", "en": "Civil status"}},
        online="none",
        channels=["in_person"],
        processing_days=0,
        fees=[],
        steps=[{"vi": "Nộp tờ khai", "en": "Hand in the form"}],
        documents=[],
        legal_basis=[],
        applicants={"vi": "Cha, mẹ của trẻ", "en": "The child's parents"},
        result={"vi": "Giấy khai sinh", "en": "Birth certificate"},
    )
    await create_procedure(
        session,
        FOOD,
        name={"vi": "Cấp Giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm"},
        field={"code": "food-safety", "name": {"vi": "An toàn thực phẩm"}},
        agency={
            "code": "province-health",
            "name": {"vi": "Sở Y tế tỉnh Yên Bái", "en": "Provincial Department of Health"},
            "address": "Đường Điện Biên, Yên Bái",
            "phone": "0216 3852 339",
            "opening_hours": "Mo-Fr 07:30-17:00",
        },
        level="province",
        online="partial",
        processing_days=20,
        fees=[
            {
                "name": {"vi": "Phí thẩm định", "en": "Inspection fee"},
                "amount_vnd": 700_000,
                "note": {"vi": "Cơ sở sản xuất nhỏ lẻ", "en": "Small producers"},
            },
            {"name": {"vi": "Lệ phí cấp giấy", "en": "Certificate fee"}, "amount_vnd": 50_000},
        ],
        documents=[
            {
                "name": {"vi": "Đơn đề nghị cấp Giấy chứng nhận", "en": "Application"},
                "originals": 1,
                "copies": 2,
                "template_url": "https://example.gov.vn/mau-don.docx",
            }
        ],
        steps=[{"vi": "Nộp hồ sơ"}, {"vi": "Thẩm định tại cơ sở"}, {"vi": "Nhận giấy chứng nhận"}],
        legal_basis=[],
        applicants={"vi": "Cơ sở sản xuất, kinh doanh thực phẩm"},
        result={"vi": "Giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm"},
    )
    await session.commit()


# Search and browse ---------------------------------------------------------------------------


async def test_without_a_query_the_fields_are_listed_with_counts(
    client: httpx.AsyncClient, catalogue: None
) -> None:
    html = results(await client.get("/procedures", params=EN))
    assert "Browse by field" in html
    assert 'href="/procedures?field=construction"' in html
    assert "Construction</a> (1 procedure)" in html
    assert codes_in(html) == []


@pytest.mark.parametrize("query", ["đăng ký hộ kinh doanh", "dang ky ho kinh doanh", "DANG KY HO"])
async def test_search_with_or_without_accents(
    client: httpx.AsyncClient, catalogue: None, query: str
) -> None:
    html = results(await client.get("/procedures", params={"q": query}))
    found = codes_in(html)
    assert found[0] == HOUSEHOLD
    assert BUILDING not in found and FOOD not in found


async def test_a_result_says_what_it_takes(client: httpx.AsyncClient, catalogue: None) -> None:
    html = results(await client.get("/procedures", params={"q": "ho kinh doanh", **EN}))
    card = html[html.index('class="procedure-card"') :]
    assert "Registering a household business" in card
    assert HOUSEHOLD in card and "Household businesses" in card
    assert "Commune People&#39;s Committee" in card and "Commune level" in card
    assert "Fully online" in card and "3 working days" in card
    assert money(100_000, "en") in card
    found = codes_in(html)
    assert f"{len(found)} procedure{'s' if len(found) > 1 else ''} found." in html


async def test_a_typo_is_corrected_and_said(client: httpx.AsyncClient, catalogue: None) -> None:
    html = results(await client.get("/procedures", params={"q": "giay phep xay dunh", **EN}))
    assert "Showing results for" in html and "xay dung" in html
    assert codes_in(html) == [BUILDING]


async def test_filters(client: httpx.AsyncClient, catalogue: None) -> None:
    async def found(**params: str) -> set[str]:
        return set(codes_in(results(await client.get("/procedures", params=params))))

    assert await found(level="province") == {FOOD}
    assert await found(level="commune") == {HOUSEHOLD, BUILDING, BIRTH}
    assert await found(online="full") == {HOUSEHOLD}
    assert await found(online="partial") == {BUILDING, FOOD}
    assert await found(online="any") == {HOUSEHOLD, BUILDING, FOOD}
    assert await found(field="civil-status") == {BIRTH}
    assert await found(agency="province-health") == {FOOD}
    assert await found(q="giay", level="province") == {FOOD}
    # An unknown level is no filter at all, not an error page.
    assert await found(level="planet", field="construction") == {BUILDING}


async def test_the_form_keeps_what_was_chosen(client: httpx.AsyncClient, catalogue: None) -> None:
    r = await client.get("/procedures", params={"q": "giay", "level": "province", "online": "any"})
    form = r.text[r.text.index('id="procedure-search"') : r.text.index("</form>")]
    assert 'value="giay"' in form
    assert '<option value="province" selected>' in form
    assert '<option value="any" selected>' in form


async def test_pages_of_results(
    client: httpx.AsyncClient, catalogue: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pages, "PAGE_SIZE", 2)
    first = results(await client.get("/procedures", params={"level": "commune", **EN}))
    second = results(
        await client.get("/procedures", params={"level": "commune", "page": "2", **EN})
    )
    assert len(codes_in(first)) == 2 and len(codes_in(second)) == 1
    assert set(codes_in(first) + codes_in(second)) == {HOUSEHOLD, BUILDING, BIRTH}
    assert "Page 1 of 2" in first and "page=2" in first and "level=commune" in first
    assert "Page 2 of 2" in second and 'rel="prev"' in second
    assert "3 procedures found." in first


async def test_no_result_suggests_browsing_by_field(
    client: httpx.AsyncClient, catalogue: None
) -> None:
    html = results(await client.get("/procedures", params={"q": "xyzzy quux", **EN}))
    assert codes_in(html) == []
    assert "No procedure matches." in html
    assert 'href="/procedures?field=civil-status"' in html


async def test_a_page_past_the_end_links_back_to_the_first(
    client: httpx.AsyncClient, catalogue: None
) -> None:
    html = results(await client.get("/procedures", params={"level": "commune", "page": 9, **EN}))
    assert "There are no more results." in html
    assert 'href="/procedures?level=commune&amp;lang=en"' in html


# A procedure as a checklist ------------------------------------------------------------------


def section(html: str, title_id: str) -> str:
    start = html.index(f'id="{title_id}"')
    end = html.find("</section>", start)
    return html[start:end]


async def test_the_checklist_of_a_procedure(client: httpx.AsyncClient, catalogue: None) -> None:
    r = await client.get(f"/procedures/{FOOD}", params=EN)
    assert r.status_code == 200, r.text
    html = r.text
    glance = section(html, "glance-title")
    assert "Provincial Department of Health" in glance
    assert "20 working days" in glance and money(750_000, "en") in glance
    documents = section(html, "documents-title")
    assert 'type="checkbox"' in documents
    assert "Application" in documents and "1 original, 2 copies" in documents
    assert 'href="https://example.gov.vn/mau-don.docx"' in documents and "Word" in documents
    where = section(html, "where-title")
    assert 'href="tel:02163852339"' in where and "Đường Điện Biên" in where
    assert "Mon-Fri 07:30-17:00" in where
    ways = section(html, "channels-title")
    assert 'href="https://dichvucong.gov.vn"' in ways
    time = section(html, "time-title")
    assert "20 working days" in time and "public holidays do not" in time
    fees = section(html, "fees-title")
    assert money(700_000, "en") in fees and money(50_000, "en") in fees
    assert "Small producers" in fees
    assert "Total" in fees and money(750_000, "en") in fees
    steps = section(html, "steps-title")
    assert steps.count("<li") == 3 and "<ol" in steps
    # The name has no English text: it is shown in Vietnamese, marked as such.
    assert '<h1 lang="vi">Cấp Giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm</h1>' in html


async def test_the_checklist_in_vietnamese(client: httpx.AsyncClient, catalogue: None) -> None:
    r = await client.get(f"/procedures/{HOUSEHOLD}", params={"lang": "vi"})
    html = r.text
    assert '<html lang="vi"' in html
    assert "<h1>Đăng ký thành lập hộ kinh doanh</h1>" in html
    documents = section(html, "documents-title")
    assert "Giấy đề nghị đăng ký hộ kinh doanh" in documents
    assert "Bản sao căn cước công dân" in documents
    assert money(100_000, "vi") in section(html, "fees-title")
    legal = section(html, "legal-title")
    assert "168/2025/NĐ-CP" in legal and "Nghị định về đăng ký doanh nghiệp" in legal
    assert '<time datetime="2025-07-01">' in html


async def test_a_free_procedure_in_person_only(client: httpx.AsyncClient, catalogue: None) -> None:
    html = (await client.get(f"/procedures/{BIRTH}", params=EN)).text
    assert "The same working day" in section(html, "glance-title")
    assert "No fee." in section(html, "fees-title")
    ways = section(html, "channels-title")
    assert "In person" in ways and "dichvucong.gov.vn" not in ways


async def test_an_uploaded_form_with_its_kind_and_size(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    procedure = await create_procedure(session)
    form = ProcedureForm(
        procedure_id=procedure.id,
        filename="to-khai.pdf",
        media_type="application/pdf",
        size=48_000,
        sha256="0" * 64,
        content=b"%PDF-1.4",
    )
    session.add(form)
    await session.flush()
    url = f"/api/v1/procedure-forms/{form.id}/to-khai.pdf"
    documents: list[dict[str, Any]] = [
        {"name": {"vi": "Tờ khai", "en": "Declaration"}, "originals": 1, "template_url": url}
    ]
    await create_procedure(session, documents=documents)
    await session.commit()
    html = section(
        (await client.get(f"/procedures/{HOUSEHOLD}", params=EN)).text, "documents-title"
    )
    assert f'href="{url}"' in html
    assert "(PDF, 47 KB)" in html


async def test_an_agency_at_a_place_links_to_it(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    from app.places.schemas import PlaceIn
    from app.places.service import create_place

    await create_place(
        session,
        None,
        PlaceIn.model_validate(
            {
                "code": "one-stop-centre",
                "category": "government",
                "name": {"vi": "Trung tâm Phục vụ hành chính công"},
                "lat": 21.70,
                "lon": 104.87,
            }
        ),
    )
    await create_procedure(
        session,
        agency={
            "code": "commune-ppc",
            "name": {"vi": "Ủy ban nhân dân cấp xã"},
            "place_code": "one-stop-centre",
        },
    )
    await session.commit()
    where = section((await client.get(f"/procedures/{HOUSEHOLD}")).text, "where-title")
    assert 'href="/places/one-stop-centre"' in where


async def test_print_layout(client: httpx.AsyncClient, catalogue: None) -> None:
    screen = (await client.get(f"/procedures/{FOOD}", params=EN)).text
    assert '<link rel="stylesheet" href="/static/css/print.css" media="print">' in screen
    assert f'href="/procedures/{FOOD}?print=1"' in screen
    printed = (await client.get(f"/procedures/{FOOD}", params={"print": "1", **EN})).text
    assert '<link rel="stylesheet" href="/static/css/print.css" media="all">' in printed
    assert 'id="print-now"' in printed and "/static/js/print.js" in printed
    assert f'href="/procedures/{FOOD}"' in printed  # back to the full page
    # Addresses written out for paper, absolute.
    assert "(https://example.gov.vn/mau-don.docx)" in printed
    assert "(https://dichvucong.gov.vn)" in printed
    # The checklist itself is all there.
    assert "1 original, 2 copies" in printed and money(750_000, "en") in printed
    css = (await client.get("/static/css/print.css")).text
    assert ".site-header" in css and "\\2610" in css


async def test_unknown_and_retired_procedures_are_not_found(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    procedure = await create_procedure(session)
    await session.commit()
    assert (await client.get("/procedures/9.999999")).status_code == 404
    procedure.retired_at = utcnow()
    await session.commit()
    r = await client.get(f"/procedures/{HOUSEHOLD}", params=EN)
    assert r.status_code == 404
    assert "There is no procedure with this code." in r.text
    assert HOUSEHOLD not in codes_in(
        results(await client.get("/procedures", params={"q": "ho kinh doanh"}))
    )


# Life events ---------------------------------------------------------------------------------


@pytest.fixture
async def restaurant(session: AsyncSession, catalogue: None) -> None:
    await service.save_life_event(
        session,
        None,
        LifeEventIn.model_validate(
            {
                "slug": "mo-nha-hang",
                "name": {"vi": "Mở nhà hàng", "en": "Open a restaurant"},
                "description": {"vi": "Từ đăng ký đến khai trương."},
                "audience": "business",
                "steps": [
                    {"procedure": HOUSEHOLD},
                    {"procedure": FOOD, "note": {"en": "Before you serve food"}},
                    {
                        "procedure": BUILDING,
                        "optional": True,
                        "note": {"vi": "Chỉ khi xây mới", "en": "Only if you build"},
                    },
                ],
            }
        ),
    )
    await service.save_life_event(
        session,
        None,
        LifeEventIn.model_validate(
            {
                "slug": "sinh-con",
                "name": {"vi": "Sinh con", "en": "Have a baby"},
                "audience": "citizen",
                "steps": [{"procedure": BIRTH}],
            }
        ),
    )
    await session.commit()


async def test_life_events_for_businesses_and_residents(
    client: httpx.AsyncClient, restaurant: None
) -> None:
    r = await client.get("/life-events", params=EN)
    assert r.status_code == 200
    business = section(r.text, "business-title")
    citizen = section(r.text, "citizen-title")
    assert 'href="/life-events/mo-nha-hang"' in business and "Open a restaurant" in business
    assert "2 procedures you need, and 1 more if it applies to you." in business
    assert "23 working days" in business and money(850_000, "en") in business
    assert 'href="/life-events/sinh-con"' in citizen and "mo-nha-hang" not in citizen


async def test_a_life_event_in_order_with_its_totals(
    client: httpx.AsyncClient, restaurant: None
) -> None:
    r = await client.get("/life-events/mo-nha-hang", params=EN)
    assert r.status_code == 200, r.text
    html = r.text
    totals = section(html, "totals-title")
    assert "2 procedures you need." in totals
    assert "23 working days" in totals  # 3 + 20, one after the other
    assert money(850_000, "en") in totals  # 100.000 + 750.000
    assert "15 working days" in totals and money(75_000, "en") in totals  # the optional one
    steps = html[html.index('class="life-event-steps"') :]
    order = [steps.index(f'href="/procedures/{code}"') for code in (HOUSEHOLD, FOOD, BUILDING)]
    assert order == sorted(order)
    optional = steps[steps.index(f'href="/procedures/{BUILDING}"') :]
    assert "If it applies to you" in optional and "Only if you build" in optional
    assert "Before you serve food" in steps
    # The checklist names the life events it is part of.
    checklist = (await client.get(f"/procedures/{FOOD}", params=EN)).text
    assert 'href="/life-events/mo-nha-hang"' in section(checklist, "events-title")


async def test_a_life_event_in_vietnamese_and_an_unknown_one(
    client: httpx.AsyncClient, restaurant: None
) -> None:
    html = (await client.get("/life-events/mo-nha-hang", params={"lang": "vi"})).text
    assert "<h1>Mở nhà hàng</h1>" in html
    assert "Từ đăng ký đến khai trương." in html
    assert money(850_000, "vi") in section(html, "totals-title")
    assert (await client.get("/life-events/no-such-thing")).status_code == 404


async def test_businesses_and_residents_are_led_to_the_procedures(
    client: httpx.AsyncClient,
) -> None:
    for path in ("/businesses", "/residents"):
        html = (await client.get(path)).text
        main = html[html.index("<main") :]
        assert 'href="/procedures"' in main and 'href="/life-events"' in main
        nav = html[html.index('class="main-nav"') : html.index("<main")]
        assert 'href="/procedures"' in nav


async def test_a_second_visit_on_a_slow_link_costs_a_304(
    client: httpx.AsyncClient, catalogue: None
) -> None:
    first = await client.get(f"/procedures/{HOUSEHOLD}")
    tag = first.headers["etag"]
    assert first.headers["cache-control"] == "private, no-cache"
    again = await client.get(f"/procedures/{HOUSEHOLD}", headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b""
    other = await client.get(f"/procedures/{FOOD}", headers={"If-None-Match": tag})
    assert other.status_code == 200
