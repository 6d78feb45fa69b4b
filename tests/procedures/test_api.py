"""The procedures API as an app or a partner reads it: search with filters and pages, a
procedure's checklist, facets, life events with totals, problem+json for bad input, ETag/304;
staff changes by the agency's department or managers only, audited; retiring hides."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import Role
from app.procedures.demo import load_demo
from tests.builders import create_department, create_procedure, procedure_in, signed_in

PROBLEM = "application/problem+json"


@pytest.fixture
async def catalogue(session: AsyncSession) -> AsyncSession:
    assert await load_demo(session) > 0
    await session.commit()
    return session


async def get_json(client: httpx.AsyncClient, path: str, **kw: Any) -> Any:
    response = await client.get(path, **kw)
    assert response.status_code == 200, response.text
    return response.json()


# Reading -----------------------------------------------------------------------------------


async def test_search_answers_in_the_asked_language(
    client: httpx.AsyncClient, catalogue: AsyncSession
) -> None:
    vi = await get_json(client, "/api/v1/procedures", params={"q": "dang ky ho kinh doanh"})
    assert (vi["limit"], vi["offset"], vi["corrected"], vi["partial"]) == (20, 0, None, False)
    first = vi["items"][0]
    assert first["code"] == "2.000720"
    assert first["name"] == "Đăng ký thành lập hộ kinh doanh" and first["name_lang"] == "vi"
    assert first["fee_total_vnd"] == 100_000 and first["processing_days"] == 3
    assert first["field"]["code"] == "household-business"
    assert first["agency"]["name"].startswith("Ủy ban nhân dân")
    assert vi["total"] >= len(vi["items"])
    en = await get_json(
        client, "/api/v1/procedures", params={"q": "đăng ký hộ kinh doanh", "lang": "en"}
    )
    assert en["items"][0]["name"] == "Registering a household business"
    assert en["items"][0]["name_lang"] == "en"


async def test_a_typo_is_corrected_and_said(
    client: httpx.AsyncClient, catalogue: AsyncSession
) -> None:
    found = await get_json(client, "/api/v1/procedures", params={"q": "giay phep xay dumg nha o"})
    assert found["items"][0]["code"] == "1.013225"
    assert found["corrected"] == "giay phep xay dung nha o"


async def test_filters_and_pages(client: httpx.AsyncClient, catalogue: AsyncSession) -> None:
    civil = await get_json(client, "/api/v1/procedures", params={"field": "civil-status"})
    assert civil["total"] == len(civil["items"]) >= 3
    assert {i["field"]["code"] for i in civil["items"]} == {"civil-status"}
    online = await get_json(client, "/api/v1/procedures", params={"online": "any", "limit": 100})
    assert {i["online"] for i in online["items"]} == {"full", "partial"}
    pages = [
        await get_json(
            client, "/api/v1/procedures", params={"q": "dang ky", "limit": 3, "offset": offset}
        )
        for offset in (0, 3)
    ]
    assert pages[0]["total"] == pages[1]["total"] > 6
    codes = [i["code"] for page in pages for i in page["items"]]
    assert len(codes) == len(set(codes)) == 6


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"offset": -1}, "offset"),
        ({"level": "city"}, "level"),
        ({"online": "maybe"}, "online"),
        ({"field": "Not A Code!"}, "field"),
        ({"q": "x" * 201}, "q"),
    ],
)
async def test_bad_search_input_is_a_problem(
    client: httpx.AsyncClient, params: dict[str, Any], field: str
) -> None:
    response = await client.get("/api/v1/procedures", params=params)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith(PROBLEM)
    assert field in {e["field"] for e in response.json()["errors"]}


async def test_a_list_is_revalidated_by_etag(
    client: httpx.AsyncClient, catalogue: AsyncSession
) -> None:
    first = await client.get("/api/v1/procedures", params={"q": "khai sinh"})
    etag = first.headers["etag"]
    assert "max-age" in first.headers["cache-control"]
    again = await client.get(
        "/api/v1/procedures", params={"q": "khai sinh"}, headers={"If-None-Match": etag}
    )
    assert again.status_code == 304 and again.content == b""


async def test_a_procedure_is_a_whole_checklist(
    client: httpx.AsyncClient, catalogue: AsyncSession
) -> None:
    response = await client.get("/api/v1/procedures/2.000720")
    assert response.status_code == 200
    data = response.json()
    assert data["name"] == "Đăng ký thành lập hộ kinh doanh"
    assert data["channels"] == ["in_person", "post", "online"]
    assert data["documents"][0] == {
        "name": "Giấy đề nghị đăng ký hộ kinh doanh",
        "originals": 1,
        "copies": 0,
        "template_url": None,
        "note": None,
    }
    assert any(d["copies"] and not d["originals"] for d in data["documents"])
    assert len(data["steps"]) == 3 and data["steps"][0].startswith("Nộp hồ sơ")
    assert data["processing_days"] == 3
    assert data["fees"][0]["amount_vnd"] == 100_000
    assert data["fee_total_vnd"] == sum(f["amount_vnd"] for f in data["fees"])
    assert data["legal_basis"][0]["number"] == "59/2020/QH14"
    agency = data["agency"]
    assert agency["address"] and agency["opening_hours"]
    assert {e["slug"] for e in data["life_events"]} >= {"mo-ho-kinh-doanh", "mo-nha-hang"}
    assert data["forms"] == [] and data["retired_at"] is None
    assert data["languages"] == {}
    etag = response.headers["etag"]
    assert "max-age" in response.headers["cache-control"]
    again = await client.get("/api/v1/procedures/2.000720", headers={"If-None-Match": etag})
    assert again.status_code == 304
    en = await get_json(client, "/api/v1/procedures/2.000720", params={"lang": "en"})
    assert en["name"] == "Registering a household business"
    assert en["steps"][0].startswith("Hand in the dossier")


async def test_text_in_another_language_is_marked(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await create_procedure(session, "9.000002", conditions={"vi": "Chỉ người từ đủ 18 tuổi"})
    await session.commit()
    data = await get_json(client, "/api/v1/procedures/9.000002", params={"lang": "en"})
    assert data["conditions"] == "Chỉ người từ đủ 18 tuổi"
    assert data["languages"]["conditions"] == "vi"
    assert "name" not in data["languages"]


async def test_unknown_things_are_404_problems(
    client: httpx.AsyncClient, catalogue: AsyncSession
) -> None:
    for path in ("/api/v1/procedures/9.999999", "/api/v1/life-events/no-such-event"):
        response = await client.get(path)
        assert response.status_code == 404
        assert response.headers["content-type"].startswith(PROBLEM)


async def test_facets_fields_and_agencies(
    client: httpx.AsyncClient, catalogue: AsyncSession
) -> None:
    everything = await get_json(client, "/api/v1/procedures", params={"limit": 1})
    facets = await get_json(client, "/api/v1/procedures/facets")
    assert sum(f["count"] for f in facets["fields"]) == everything["total"]
    assert sum(a["count"] for a in facets["agencies"]) == everything["total"]
    assert {x["code"] for x in facets["online"]} == {"full", "partial", "none"}
    civil = next(f for f in facets["fields"] if f["code"] == "civil-status")
    assert civil["name"] == "Hộ tịch"
    fields = await get_json(client, "/api/v1/procedure-fields", params={"lang": "en"})
    assert next(f for f in fields["items"] if f["code"] == "civil-status")["name"] == (
        "Civil status"
    )
    agencies = await get_json(client, "/api/v1/procedure-agencies")
    commune = next(a for a in agencies["items"] if a["code"] == "ubnd-xa")
    assert commune["count"] >= 10 and commune["opening_hours"]


async def test_life_events_add_up_their_steps(
    client: httpx.AsyncClient, catalogue: AsyncSession
) -> None:
    events = await get_json(client, "/api/v1/life-events")
    slugs = {e["slug"] for e in events["items"]}
    assert slugs >= {"mo-ho-kinh-doanh", "mo-nha-hang", "xay-nha-o", "sinh-con"}
    event = await get_json(client, "/api/v1/life-events/mo-ho-kinh-doanh")
    steps = event["steps"]
    assert [s["position"] for s in steps] == list(range(1, len(steps) + 1))
    assert steps[0]["procedure"]["code"] == "2.000720" and not steps[0]["optional"]
    assert steps[0]["procedure"]["agency"]["address"]
    required = [s["procedure"] for s in steps if not s["optional"]]
    optional = [s["procedure"] for s in steps if s["optional"]]
    assert optional, "the demo's household business has optional licences"
    assert event["totals"] == {
        "working_days": sum(p["processing_days"] for p in required),
        "fees_vnd": sum(p["fee_total_vnd"] for p in required),
        "optional_working_days": sum(p["processing_days"] for p in optional),
        "optional_fees_vnd": sum(p["fee_total_vnd"] for p in optional),
    }
    for p in required + optional:
        assert p["fee_total_vnd"] == sum(f["amount_vnd"] for f in p["fees"])
    summary = next(e for e in events["items"] if e["slug"] == "mo-ho-kinh-doanh")
    assert summary["totals"] == event["totals"] and summary["steps"] == len(steps)


# Staff -------------------------------------------------------------------------------------


def record(code: str, department_code: str, **overrides: Any) -> dict[str, Any]:
    body = procedure_in(code, **overrides).model_dump(mode="json", exclude_none=True)
    body["agency"] = {
        "code": "matrix-agency",
        "name": {"vi": "Phòng Kinh tế xã Thử"},
        "department_code": department_code,
    }
    return body


async def test_staff_of_the_agency_add_and_change_a_procedure(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    department = await create_department(session)
    _user, staff = await signed_in(client, session, Role.staff, department=department)
    path = "/api/v1/procedures/9.000010"
    created = await client.put(path, json=record("9.000010", department.code), headers=staff)
    assert created.status_code == 201, created.text
    assert created.json()["agency"]["code"] == "matrix-agency"
    changed = await client.put(
        path, json=record("9.000010", department.code, processing_days=5), headers=staff
    )
    assert changed.status_code == 200 and changed.json()["processing_days"] == 5
    history = await get_json(client, f"{path}/history", headers=staff)
    assert [e["action"] for e in history["items"]] == ["procedure.create", "procedure.update"]
    public = await get_json(client, path)
    assert public["processing_days"] == 5


async def test_staff_of_another_department_and_citizens_may_not(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    department = await create_department(session)
    await create_procedure(
        session,
        "9.000011",
        agency={
            "code": "matrix-agency",
            "name": {"vi": "Phòng"},
            "department_code": department.code,
        },
    )
    _other, stranger = await signed_in(client, session, Role.staff)  # another department
    _citizen, citizen = await signed_in(client, session, Role.citizen)
    path = "/api/v1/procedures/9.000011"
    body = record("9.000011", department.code, processing_days=9)
    for headers, status in ((stranger, 403), (citizen, 403), ({}, 401)):
        for method, url, json in (
            ("PUT", path, body),
            ("POST", f"{path}/retire", None),
            ("POST", f"{path}/restore", None),
        ):
            response = await client.request(method, url, json=json, headers=headers)
            assert response.status_code == status, (method, url, response.text)
            assert response.headers["content-type"].startswith(PROBLEM)
    # A new procedure of an agency in someone else's department cannot be made either.
    response = await client.put(
        "/api/v1/procedures/9.000012", json=record("9.000012", department.code), headers=stranger
    )
    assert response.status_code == 403
    assert (await client.get(f"{path}/history", headers=citizen)).status_code == 403
    _manager, manager = await signed_in(client, session, Role.manager)
    response = await client.put(path, json=body, headers=manager)
    assert response.status_code == 200 and response.json()["processing_days"] == 9


async def test_bad_records_are_422_problems(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    _user, manager = await signed_in(client, session, Role.manager)
    department = await create_department(session)
    await session.commit()
    other_code = await client.put(
        "/api/v1/procedures/9.000020", json=record("9.000021", department.code), headers=manager
    )
    assert other_code.status_code == 422
    assert other_code.headers["content-type"].startswith(PROBLEM)
    assert [e["field"] for e in other_code.json()["errors"]] == ["code"]
    no_steps = record("9.000020", department.code)
    no_steps["steps"] = []
    response = await client.put("/api/v1/procedures/9.000020", json=no_steps, headers=manager)
    assert response.status_code == 422
    assert any("steps" in e["field"] for e in response.json()["errors"])
    missing = await client.get("/api/v1/procedures/9.000020")
    assert missing.status_code == 404


async def test_retiring_hides_a_procedure_and_restoring_brings_it_back(
    client: httpx.AsyncClient, catalogue: AsyncSession
) -> None:
    _user, manager = await signed_in(client, catalogue, Role.manager)
    path = "/api/v1/procedures/2.000720"
    retired = await client.post(f"{path}/retire", headers=manager)
    assert retired.status_code == 200 and retired.json()["retired_at"]
    assert (await client.get(path)).status_code == 404
    # (A list asked for in the last few seconds may still be served from the shared cache.)
    found = await get_json(client, "/api/v1/procedures", params={"q": "ho kinh doanh"})
    assert "2.000720" not in {i["code"] for i in found["items"]}
    event = await get_json(client, "/api/v1/life-events/mo-ho-kinh-doanh")
    assert "2.000720" not in {s["procedure"]["code"] for s in event["steps"]}
    restored = await client.post(f"{path}/restore", headers=manager)
    assert restored.status_code == 200 and restored.json()["retired_at"] is None
    found = await get_json(client, "/api/v1/procedures", params={"q": "dang ky ho kinh doanh"})
    assert found["items"][0]["code"] == "2.000720"
    history = await get_json(client, f"{path}/history", headers=manager)
    assert [e["action"] for e in history["items"]][-2:] == [
        "procedure.retire",
        "procedure.restore",
    ]


async def test_managers_compose_life_events(
    client: httpx.AsyncClient, catalogue: AsyncSession
) -> None:
    body = {
        "slug": "mo-quan-ca-phe",
        "name": {"vi": "Mở quán cà phê", "en": "Opening a café"},
        "steps": [
            {"procedure": "2.000720"},
            {"procedure": "1.001283", "optional": True},
        ],
    }
    path = "/api/v1/life-events/mo-quan-ca-phe"
    _staff, staff = await signed_in(client, catalogue, Role.staff)
    assert (await client.put(path, json=body, headers=staff)).status_code == 403
    _manager, manager = await signed_in(client, catalogue, Role.manager)
    created = await client.put(path, json=body, headers=manager)
    assert created.status_code == 201, created.text
    data = created.json()
    assert [s["procedure"]["code"] for s in data["steps"]] == ["2.000720", "1.001283"]
    household = await get_json(client, "/api/v1/procedures/2.000720")
    assert data["totals"]["working_days"] == household["processing_days"]
    assert data["totals"]["fees_vnd"] == household["fee_total_vnd"]
    body["steps"] = [{"procedure": "1.001283"}]
    replaced = await client.put(path, json=body, headers=manager)
    assert replaced.status_code == 200
    assert [s["procedure"]["code"] for s in replaced.json()["steps"]] == ["1.001283"]
    wrong = await client.put(path, json=body | {"slug": "khac"}, headers=manager)
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "slug"
    unknown = await client.put(
        path, json=body | {"steps": [{"procedure": "9.999999"}]}, headers=manager
    )
    assert unknown.status_code == 422
    assert unknown.headers["content-type"].startswith(PROBLEM)
