"""Practical help over JSON: the public help and guides, and staff keeping them."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEntry
from app.practical.models import GuidePage, HelpContact
from tests.practical.conftest import (
    HelpWorld,
    contact_body,
    create_contact,
    create_guide,
    create_place,
    guide_body,
)


async def test_without_records_the_national_numbers_are_still_there(
    client: httpx.AsyncClient,
) -> None:
    r = await client.get("/api/v1/help", headers={"Accept-Language": "en"})
    assert r.status_code == 200, r.text
    found = r.json()
    assert [(c["phone"], c["tel"], c["name"]) for c in found["emergency"]] == [
        ("113", "tel:113", "Police"),
        ("114", "tel:114", "Fire and rescue"),
        ("115", "tel:115", "Ambulance"),
    ]
    assert all(c["built_in"] and c["open_now"] for c in found["emergency"])
    assert found["hotlines"] == [] and found["tourist_info"] == [] and found["guides"] == []
    vi = (await client.get("/api/v1/help", headers={"Accept-Language": "vi"})).json()
    assert vi["emergency"][0]["name"] != "Police" and vi["locale"] == "vi"


async def test_emergency_first_then_hotlines_information_points_and_guides(
    client: httpx.AsyncClient, session: AsyncSession, world: HelpWorld
) -> None:
    h = world.staff_headers
    await create_place(
        session, "ti-yen-bai", {"vi": "Trung tâm thông tin", "en": "Information centre"}
    )
    await session.commit()
    await create_contact(client, h, code="hotline-b", phone="0216 3818 555", sort_order=30)
    await create_contact(client, h, code="hotline-a", sort_order=20, name={"vi": "Du lịch"})
    await create_contact(
        client,
        h,
        code="ambulance-own",
        kind="ambulance",
        phone="115",
        name={"vi": "Cấp cứu Yên Bái", "en": "Yên Bái ambulance"},
    )
    await create_contact(
        client, h, code="police-district", kind="police", phone="0216 3852 113", sort_order=50
    )
    await create_contact(
        client,
        h,
        code="ti-centre",
        kind="tourist_info",
        phone=None,
        name={"vi": "Điểm thông tin du lịch", "en": "Tourist information"},
        place_code="ti-yen-bai",
        hours="24/7",
    )
    await create_guide(client, h, slug="second", sort_order=20)
    await create_guide(client, h, slug="first", sort_order=10, title={"en": "First guide"})

    r = await client.get("/api/v1/help", headers={"Accept-Language": "en"})
    assert r.status_code == 200, r.text
    found = r.json()
    # Police (built-in 113, then the district's number), fire, then the province's own 115.
    assert [(c["code"], c["phone"]) for c in found["emergency"]] == [
        ("police-113", "113"),
        ("police-district", "0216 3852 113"),
        ("fire-114", "114"),
        ("ambulance-own", "115"),
    ]
    assert found["emergency"][1]["tel"] == "tel:02163852113"
    assert found["emergency"][3]["name"] == "Yên Bái ambulance"
    assert not found["emergency"][3]["built_in"]
    assert [c["code"] for c in found["hotlines"]] == ["hotline-a", "hotline-b"]
    assert found["hotlines"][1]["kind_label"] == "Hotline"
    point = found["tourist_info"][0]
    assert point["name"] == "Tourist information" and point["open_now"] is True
    assert point["phone"] is None and point["tel"] is None
    assert point["place"] == {
        "code": "ti-yen-bai",
        "name": "Information centre",
        "lat": 21.7229,
        "lon": 104.9113,
        "address": "Đường Hòa Bình, phường Nguyễn Thái Học, thành phố Yên Bái",
        "url": "/places/ti-yen-bai",
    }
    assert [(g["slug"], g["title"], g["url"]) for g in found["guides"]] == [
        ("first", "First guide", "/help/first"),
        ("second", "Getting to Mù Cang Chải", "/help/second"),
    ]
    assert found["guides"][1]["summary"] == "Roads and buses."


async def test_texts_fall_back_from_the_language_asked_to_vietnamese_english_then_any(
    client: httpx.AsyncClient, world: HelpWorld
) -> None:
    h = world.staff_headers
    await create_contact(client, h, code="only-vi", name={"vi": "Chỉ tiếng Việt"}, description={})
    await create_contact(client, h, code="only-fr", name={"fr": "Office de tourisme"})
    await create_guide(
        client,
        h,
        slug="only-en",
        title={"en": "English only"},
        summary={"en": "Short."},
        body={"en": "Just English."},
    )
    en = (await client.get("/api/v1/help", headers={"Accept-Language": "en"})).json()
    names = {c["code"]: (c["name"], c["lang"]) for c in en["hotlines"]}
    assert names == {"only-vi": ("Chỉ tiếng Việt", "vi"), "only-fr": ("Office de tourisme", "fr")}
    vi = (await client.get("/api/v1/help?lang=vi")).json()
    assert (vi["guides"][0]["title"], vi["guides"][0]["lang"]) == ("English only", "en")
    guide = (await client.get("/api/v1/guides/only-en", headers={"Accept-Language": "vi"})).json()
    assert guide["lang"] == "en" and guide["blocks"] == [
        {"type": "paragraph", "text": "Just English."}
    ]


async def test_help_and_guides_are_cacheable_and_answer_304(
    client: httpx.AsyncClient, world: HelpWorld
) -> None:
    await create_guide(client, world.staff_headers)
    first = await client.get("/api/v1/help")
    assert first.headers["Cache-Control"] == "public, max-age=300"
    assert "Accept-Language" in first.headers["Vary"]
    etag = first.headers["ETag"]
    again = await client.get("/api/v1/help", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["ETag"] == etag
    english = await client.get("/api/v1/help?lang=en", headers={"If-None-Match": etag})
    assert english.status_code == 200  # another language, another body

    await create_contact(client, world.staff_headers)
    changed = await client.get("/api/v1/help", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag

    guide = await client.get("/api/v1/guides/getting-to-mu-cang-chai")
    assert guide.headers["Cache-Control"] == "public, max-age=300"
    cached = await client.get(
        "/api/v1/guides/getting-to-mu-cang-chai", headers={"If-None-Match": guide.headers["ETag"]}
    )
    assert cached.status_code == 304


async def test_a_guide_comes_as_paragraphs_and_lists(
    client: httpx.AsyncClient, world: HelpWorld
) -> None:
    await create_guide(client, world.staff_headers)
    r = await client.get("/api/v1/guides/getting-to-mu-cang-chai?lang=en")
    assert r.status_code == 200, r.text
    guide = r.json()
    assert guide["title"] == "Getting to Mù Cang Chải" and guide["summary"] == "Roads and buses."
    assert guide["url"] == "/help/getting-to-mu-cang-chai" and guide["updated_at"]
    assert guide["blocks"] == [
        {"type": "paragraph", "text": "Take National Road 32."},
        {"type": "paragraph", "text": "Mind:"},
        {"type": "list", "items": ["Drive in daylight.", "Use a low gear."]},
    ]
    missing = await client.get("/api/v1/guides/no-such-guide")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")


async def test_invalid_input_is_a_problem_naming_the_fields(
    client: httpx.AsyncClient, world: HelpWorld
) -> None:
    h = world.staff_headers
    r = await client.post(
        "/api/v1/help/contacts",
        json=contact_body(
            code="Bad Code", kind="wizard", phone="113-abc", name={}, hours="Mo-Fr 25:00"
        ),
        headers=h,
    )
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert {e["field"] for e in r.json()["errors"]} == {"code", "kind", "phone", "name", "hours"}

    for fields, field in [
        ({"kind": "police", "phone": None}, "phone"),
        ({"place_code": "no-such-place"}, "place_code"),
    ]:
        r = await client.post("/api/v1/help/contacts", json=contact_body(**fields), headers=h)
        assert r.status_code == 422, r.text
        assert [e["field"] for e in r.json()["errors"]] == [field]

    r = await client.post(
        "/api/v1/guides",
        json=guide_body(slug="Bad_Slug", title={"vi": ""}, summary={"vi": "x" * 401}),
        headers=h,
    )
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {"slug", "title", "summary"}

    await create_guide(client, h)
    taken = await client.post("/api/v1/guides", json=guide_body(), headers=h)
    assert taken.status_code == 409 and taken.json()["errors"][0]["field"] == "slug"
    await create_contact(client, h, code="hotline-x")
    taken = await client.post(
        "/api/v1/help/contacts", json=contact_body(code="hotline-x"), headers=h
    )
    assert taken.status_code == 409 and taken.json()["errors"][0]["field"] == "code"

    cleared = await client.patch(
        "/api/v1/guides/getting-to-mu-cang-chai", json={"title": None}, headers=h
    )
    assert cleared.status_code == 422
    no_phone = await client.patch(
        "/api/v1/help/contacts/hotline-x", json={"phone": None}, headers=h
    )
    assert no_phone.status_code == 422 and no_phone.json()["errors"][0]["field"] == "phone"


async def test_only_staff_and_above_change_numbers_and_guides(
    client: httpx.AsyncClient, world: HelpWorld
) -> None:
    for headers, status in [({}, 401), (world.citizen_headers, 403)]:
        assert (
            await client.post("/api/v1/help/contacts", json=contact_body(), headers=headers)
        ).status_code == status
        assert (
            await client.post("/api/v1/guides", json=guide_body(), headers=headers)
        ).status_code == status
        assert (await client.get("/api/v1/staff/help", headers=headers)).status_code == status
    await create_contact(client, world.manager_headers, code="by-manager")
    await create_guide(client, world.staff_headers)
    r = await client.patch(
        "/api/v1/help/contacts/by-manager", json={"sort_order": 5}, headers=world.staff_headers
    )
    assert r.status_code == 200 and r.json()["sort_order"] == 5
    r = await client.post(
        "/api/v1/guides/getting-to-mu-cang-chai/retire", headers=world.citizen_headers
    )
    assert r.status_code == 403


async def test_every_change_is_audited_with_the_changed_fields(
    client: httpx.AsyncClient, session: AsyncSession, world: HelpWorld
) -> None:
    h = world.staff_headers
    created = await create_contact(client, h)
    code = created["code"]
    assert code == "hotline-02163862222"  # made from the kind and the number
    r = await client.patch(
        f"/api/v1/help/contacts/{code}",
        json={"phone": "0216 3862 223", "hours": "24/7", "name": created["name"]},
        headers=h,
    )
    assert r.status_code == 200 and r.json()["phone"] == "0216 3862 223"
    unchanged = await client.patch(
        f"/api/v1/help/contacts/{code}", json={"hours": "24/7"}, headers=h
    )
    assert unchanged.status_code == 200
    assert (await client.post(f"/api/v1/help/contacts/{code}/retire", headers=h)).status_code == 200
    assert (await client.post(f"/api/v1/help/contacts/{code}/retire", headers=h)).status_code == 200
    assert (
        await client.post(f"/api/v1/help/contacts/{code}/restore", headers=h)
    ).status_code == 200

    await create_guide(client, h)
    r = await client.patch(
        "/api/v1/guides/getting-to-mu-cang-chai",
        json={"summary": {"vi": "Mới."}, "sort_order": 5},
        headers=h,
    )
    assert r.status_code == 200 and r.json()["summary"] == {"vi": "Mới."}

    contact = await session.scalar(select(HelpContact).where(HelpContact.code == code))
    guide = await session.scalar(
        select(GuidePage).where(GuidePage.slug == "getting-to-mu-cang-chai")
    )
    assert contact is not None and guide is not None
    rows = (
        await session.execute(
            select(AuditEntry)
            .where(AuditEntry.subject_id.in_([contact.id, guide.id]))
            .where(AuditEntry.subject_type.in_(["help_contact", "guide_page"]))
            .order_by(AuditEntry.id)
        )
    ).scalars()
    trail = [(e.subject_type, e.action, e.data.get("fields"), e.actor_id) for e in rows]
    staff = world.staff.id
    assert trail == [
        ("help_contact", "help_contact.create", None, staff),
        ("help_contact", "help_contact.update", ["phone"], staff),
        ("help_contact", "help_contact.retire", None, staff),
        ("help_contact", "help_contact.restore", None, staff),
        ("guide_page", "guide_page.create", None, staff),
        ("guide_page", "guide_page.update", ["sort_order", "summary"], staff),
    ]


async def test_retired_numbers_and_guides_disappear_until_restored(
    client: httpx.AsyncClient, world: HelpWorld
) -> None:
    h = world.staff_headers
    await create_contact(client, h, code="hotline-x")
    await create_contact(
        client, h, code="police-own", kind="police", phone="113", name={"vi": "Công an tỉnh"}
    )
    await create_guide(client, h)
    before = (await client.get("/api/v1/help")).json()
    assert [c["code"] for c in before["hotlines"]] == ["hotline-x"]
    assert before["emergency"][0]["code"] == "police-own"

    for path in (
        "/api/v1/help/contacts/hotline-x/retire",
        "/api/v1/help/contacts/police-own/retire",
        "/api/v1/guides/getting-to-mu-cang-chai/retire",
    ):
        r = await client.post(path, headers=h)
        assert r.status_code == 200 and r.json()["retired_at"], r.text

    after = (await client.get("/api/v1/help")).json()
    assert after["hotlines"] == [] and after["guides"] == []
    assert after["emergency"][0]["code"] == "police-113"  # the national number stays
    assert (await client.get("/api/v1/guides/getting-to-mu-cang-chai")).status_code == 404
    staff_view = (await client.get("/api/v1/staff/help", headers=h)).json()
    assert {c["code"]: bool(c["retired_at"]) for c in staff_view["contacts"]} == {
        "hotline-x": True,
        "police-own": True,
    }
    assert staff_view["guides"][0]["retired_at"]

    r = await client.post("/api/v1/guides/getting-to-mu-cang-chai/restore", headers=h)
    assert r.status_code == 200 and r.json()["retired_at"] is None
    assert (await client.get("/api/v1/guides/getting-to-mu-cang-chai")).status_code == 200
    missing = await client.post("/api/v1/help/contacts/nothing-here/retire", headers=h)
    assert missing.status_code == 404
