"""Open311 GeoReport v2 in process: the spec's shapes in JSON and XML, the rules of our own API
behind POST, what the public may see, and errors in the spec's form (never problem+json)."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
from PIL import Image
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import utcnow
from app.open311 import service
from app.reports.models import Report, ServiceAttribute
from tests.open311.conftest import BASE, parse_xml, post_request
from tests.reports.conftest import World, submit


def errors_of(response: httpx.Response, status: int) -> list[str]:
    """The spec's error list, with the HTTP status as each code; never problem+json."""
    assert response.status_code == status, response.text
    if response.headers["content-type"].startswith("text/xml"):
        root = parse_xml(response)
        assert root.tag == "errors"
        found = [(int(e.findtext("code") or 0), e.findtext("description") or "") for e in root]
    else:
        assert response.headers["content-type"] == "application/json; charset=utf-8"
        body = response.json()
        assert isinstance(body, list) and body
        assert all(set(item) == {"code", "description"} for item in body)
        found = [(item["code"], item["description"]) for item in body]
    assert all(code == status for code, _d in found)
    return [d for _c, d in found]


async def _report(session: AsyncSession, code: str) -> Report:
    return (await session.execute(select(Report).where(Report.code == code))).scalar_one()


async def _set_status(
    client: httpx.AsyncClient, world: World, code: str, status: str, note: str | None = None
) -> None:
    r = await client.post(
        f"/api/v1/staff/reports/{code}/status",
        json={"status": status, "note": note, "public": True},
        headers=world.staff_headers,
    )
    assert r.status_code == 200, r.text


# Discovery and services ----------------------------------------------------------------------


async def test_discovery(client: httpx.AsyncClient) -> None:
    body = (await client.get(f"{BASE}/discovery.json")).json()
    endpoint = body["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "https://testserver/open311/v2"
    assert set(endpoint["formats"]) == {"text/xml", "application/json"}
    root = parse_xml(await client.get(f"{BASE}/discovery.xml"))
    assert root.tag == "discovery"
    assert [f.text for f in root.iterfind("endpoints/endpoint/formats/format")] == [
        "text/xml",
        "application/json",
    ]


async def test_services_in_both_formats_and_languages(
    client: httpx.AsyncClient, world: World
) -> None:
    r = await client.get(f"{BASE}/services.json")
    assert r.headers["content-type"] == "application/json; charset=utf-8"
    services = {s["service_code"]: s for s in r.json()}
    light = services["street_light"]
    assert light == {
        "service_code": "street_light",
        "service_name": "Đèn đường hỏng",
        "description": "",
        "metadata": True,
        "type": "realtime",
        "keywords": "",
        "group": "roads_lighting",
    }
    assert services["clinic_feedback"]["metadata"] is False
    english = (await client.get(f"{BASE}/services.json", params={"lang": "en"})).json()
    assert {s["service_code"]: s for s in english}["street_light"]["service_name"] == (
        "Broken street light"
    )
    client.cookies.clear()  # ?lang= is remembered in a cookie
    by_header = await client.get(f"{BASE}/services.json", headers={"Accept-Language": "en-GB"})
    assert "Broken street light" in by_header.text

    root = parse_xml(await client.get(f"{BASE}/services.xml"))
    assert root.tag == "services" and all(child.tag == "service" for child in root)
    xml_light = next(s for s in root if s.findtext("service_code") == "street_light")
    assert xml_light.findtext("service_name") == "Đèn đường hỏng"
    assert xml_light.findtext("metadata") == "true"
    assert xml_light.findtext("type") == "realtime"


async def test_service_definition(client: httpx.AsyncClient, world: World) -> None:
    body = (await client.get(f"{BASE}/services/street_light.json?lang=en")).json()
    assert body["service_code"] == "street_light"
    pole, height = body["attributes"]
    assert pole == {
        "variable": True,
        "code": "pole_state",
        "datatype": "singlevaluelist",
        "required": True,
        "datatype_description": None,
        "order": 1,
        "description": "State",
        "values": [{"key": "off", "name": "Off"}, {"key": "fallen", "name": "Fallen"}],
    }
    assert height["datatype"] == "number" and height["required"] is False
    assert height["values"] == []

    client.cookies.clear()  # ?lang= is remembered in a cookie
    root = parse_xml(await client.get(f"{BASE}/services/street_light.xml"))
    assert root.tag == "service_definition"
    attribute = root.find("attributes/attribute")
    assert attribute is not None
    assert attribute.findtext("code") == "pole_state"
    assert attribute.findtext("required") == "true"
    assert attribute.findtext("description") == "Tình trạng"
    assert [v.findtext("name") for v in attribute.iterfind("values/value")] == ["Tắt", "Đổ"]

    assert errors_of(await client.get(f"{BASE}/services/nothing_here.json"), 404)
    assert errors_of(await client.get(f"{BASE}/services/nothing_here.xml"), 404)


# Sending -------------------------------------------------------------------------------------


async def test_post_goes_through_our_rules_and_reads_back(
    client: httpx.AsyncClient, session: AsyncSession, world: World, api_key: str
) -> None:
    r = await post_request(
        client,
        api_key,
        lat="21.70",
        long="104.89",  # ward B: routed to the transport department
        email="lan@example.vn",
        first_name="Lan",
        last_name="Nguyễn Thị",
        phone="0912 345 678",
        device_id="partner-device-01",
        description="Đèn tắt cả tuần, gọi tôi 0987654321",
        **{"attribute[height_m]": "7.5", "media_url": "https://partner.example/p.jpg"},
        address_id="A-1",
        account_id="99",
        jurisdiction_id="yenbai.gov.vn",
    )
    assert r.status_code == 201, r.text
    [answer] = r.json()
    assert set(answer) == {"service_request_id", "service_notice", "account_id"}
    assert answer["account_id"] is None and answer["service_notice"]
    code = answer["service_request_id"]

    report = await _report(session, code)
    assert report.source == "open311:partner-t"
    assert report.department_id == world.transport.id and report.ward_id == world.ward_b.id
    assert report.attributes == {"pole_state": "off", "height_m": 7.5}
    assert report.reporter_name == "Lan Nguyễn Thị"
    assert report.reporter_email == "lan@example.vn"
    assert report.reporter_phone == "+84912345678"
    assert report.device_id == "partner-device-01"
    assert report.deadline_at > report.created_at

    one = await client.get(f"{BASE}/requests/{code}.json")
    [item] = one.json()
    assert item["service_request_id"] == code and item["status"] == "open"
    assert item["service_code"] == "street_light" and item["service_name"] == "Đèn đường hỏng"
    assert item["agency_responsible"] == world.transport.name_vi
    assert item["lat"] == 21.70 and item["long"] == 104.89
    assert item["requested_datetime"].endswith("+07:00")
    assert item["expected_datetime"] and item["media_url"] is None
    assert "0987654321" not in item["description"]
    assert set(item) == {
        "service_request_id",
        "status",
        "status_notes",
        "service_name",
        "service_code",
        "description",
        "agency_responsible",
        "service_notice",
        "requested_datetime",
        "updated_datetime",
        "expected_datetime",
        "address",
        "address_id",
        "zipcode",
        "lat",
        "long",
        "media_url",
    }
    for text in (one.text, (await client.get(f"{BASE}/requests.json")).text):
        assert "lan@example.vn" not in text and "912345678" not in text
        assert "Lan" not in text and "partner-device-01" not in text
        assert "0987654321" not in text
    # A lower-case id is the same request.
    assert (await client.get(f"{BASE}/requests/{code.lower()}.json")).json()[0][
        "service_request_id"
    ] == code


async def test_post_in_xml_and_multivalue_attributes(
    client: httpx.AsyncClient, session: AsyncSession, world: World, api_key: str
) -> None:
    session.add(
        ServiceAttribute(
            service_id=world.light.id,
            code="causes",
            datatype="multivaluelist",
            label_vi="Nguyên nhân",
            label_en="Causes",
            order=3,
            values=[
                {"key": "storm", "name_vi": "Bão", "name_en": "Storm"},
                {"key": "car", "name_vi": "Xe đâm", "name_en": "Car"},
                {"key": "age", "name_vi": "Cũ", "name_en": "Old"},
            ],
        )
    )
    await session.commit()
    r = await client.post(
        f"{BASE}/requests.xml",
        data={
            "api_key": api_key,
            "service_code": "street_light",
            "lat": "21.70",
            "long": "104.87",
            "description": "Cột đèn bị đổ",
            "attribute[pole_state]": "fallen",
            "attribute[causes][]": ["storm", "car"],
        },
    )
    assert r.status_code == 201, r.text
    root = parse_xml(r)
    assert root.tag == "service_requests"
    [request] = list(root)
    assert request.tag == "request"
    code = request.findtext("service_request_id")
    assert code and request.find("account_id") is not None
    report = await _report(session, code)
    assert report.attributes == {"pole_state": "fallen", "causes": ["storm", "car"]}

    wrong = await post_request(client, api_key, **{"attribute[causes][]": ["storm", "meteor"]})
    assert [d.split(":")[0] for d in errors_of(wrong, 400)] == ["attribute[causes]"]


async def test_api_key_missing_wrong_or_revoked_is_403(
    client: httpx.AsyncClient, session: AsyncSession, world: World, api_key: str
) -> None:
    for fmt in ("json", "xml"):
        assert errors_of(await post_request(client, None, fmt), 403)
        assert errors_of(await post_request(client, "", fmt), 403)
        assert errors_of(await post_request(client, "o311_not-a-key", fmt), 403)
    # 403 wins over an invalid payload: nothing is said about the payload without a key.
    assert errors_of(await post_request(client, "nope", service_code="nothing"), 403)
    assert (await post_request(client, api_key)).status_code == 201

    await service.revoke_key(session, "partner-t")
    await session.commit()
    assert errors_of(await post_request(client, api_key), 403)
    assert errors_of(await post_request(client, api_key, "xml"), 403)
    count = await session.scalar(select(Report.id).where(Report.source == "open311:partner-t"))
    assert count is not None  # the one sent before revoking


async def test_key_in_the_query_string_and_last_used(
    client: httpx.AsyncClient, session: AsyncSession, world: World, api_key: str
) -> None:
    form = {
        "service_code": "street_light",
        "lat": "21.70",
        "long": "104.87",
        "description": "Đèn tắt",
        "attribute[pole_state]": "off",
    }
    r = await client.post(f"{BASE}/requests.json", params={"api_key": api_key}, data=form)
    assert r.status_code == 201, r.text
    [key] = await service.list_keys(session)
    await session.refresh(key)
    assert key.last_used_at is not None


async def test_invalid_fields_are_400_one_error_per_field(
    client: httpx.AsyncClient, session: AsyncSession, world: World, api_key: str
) -> None:
    r = await post_request(
        client,
        api_key,
        lat="north",
        email="not-an-address",
        phone="12",
        description="x",
    )
    described = errors_of(r, 400)
    fields = {d.split(":")[0] for d in described}
    assert fields == {"lat", "email", "phone", "description"}, described

    missing_answer = await post_request(client, api_key, **{"attribute[pole_state]": None})
    assert [d.split(":")[0] for d in errors_of(missing_answer, 400)] == ["attribute[pole_state]"]
    bad_answers = await post_request(
        client, api_key, **{"attribute[pole_state]": "melted", "attribute[nope]": "1"}
    )
    assert {d.split(":")[0] for d in errors_of(bad_answers, 400)} == {
        "attribute[pole_state]",
        "attribute[nope]",
    }
    unknown = await post_request(client, api_key, "xml", service_code="nothing_here")
    assert errors_of(unknown, 400)[0].startswith("service_code:")
    only_lat = await post_request(client, api_key, long=None)
    assert errors_of(only_lat, 400)
    nowhere = await post_request(client, api_key, lat=None, long=None)
    assert errors_of(nowhere, 400)[0].startswith("location:")
    bad_device = await post_request(client, api_key, device_id="short")
    assert errors_of(bad_device, 400)[0].startswith("device_id:")
    # Nothing was stored.
    assert (await client.get(f"{BASE}/requests.json")).json() == []


async def test_service_for_signed_in_residents_only_is_400_not_403(
    client: httpx.AsyncClient, session: AsyncSession, world: World, api_key: str
) -> None:
    world.private.allow_anonymous = False
    await session.commit()
    r = await post_request(client, api_key, service_code="clinic_feedback")
    assert errors_of(r, 400)[0].startswith("service_code:")


async def test_empty_parameters_count_as_missing(
    client: httpx.AsyncClient, session: AsyncSession, world: World, api_key: str
) -> None:
    r = await post_request(
        client,
        api_key,
        jurisdiction_id="",
        address_string="",
        email="",
        phone="",
        device_id="",
        first_name="",
        last_name="",
        media_url="",
        **{"attribute[height_m]": ""},
    )
    assert r.status_code == 201, r.text
    report = await _report(session, r.json()[0]["service_request_id"])
    assert report.address is None and report.reporter_email is None
    assert report.attributes == {"pole_state": "off"}

    empty = await client.get(
        f"{BASE}/requests.json",
        params={
            "service_request_id": "",
            "service_code": "",
            "start_date": "",
            "end_date": "",
            "status": "",
            "page": "",
            "page_size": "",
            "extensions": "",
            "jurisdiction_id": "",
        },
    )
    assert empty.status_code == 200, empty.text
    assert [i["service_request_id"] for i in empty.json()] == [report.code]
    assert (
        await client.get(f"{BASE}/requests.json", params={"jurisdiction_id": "yenbai.gov.vn"})
    ).status_code == 200


async def test_idempotency_key_replays_the_first_answer(
    client: httpx.AsyncClient, session: AsyncSession, world: World, api_key: str
) -> None:
    headers = {"Idempotency-Key": "partner-retry-0001"}
    first = await post_request(client, api_key, headers=headers)
    again = await post_request(client, api_key, "xml", headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    code = first.json()[0]["service_request_id"]
    assert parse_xml(again).findtext("request/service_request_id") == code
    count = len((await client.get(f"{BASE}/requests.json")).json())
    assert count == 1
    other = await post_request(client, api_key, headers=headers, description="Một báo cáo khác")
    assert errors_of(other, 400)[0].startswith("Idempotency-Key:")


# Reading -------------------------------------------------------------------------------------


async def _backdate(session: AsyncSession, code: str, days: int) -> None:
    when = utcnow() - timedelta(days=days)
    await session.execute(
        update(Report).where(Report.code == code).values(created_at=when, updated_at=when)
    )
    await session.commit()


async def test_default_window_is_the_last_90_days(
    client: httpx.AsyncClient, session: AsyncSession, world: World, api_key: str
) -> None:
    old = (await post_request(client, api_key)).json()[0]["service_request_id"]
    recent = (await post_request(client, api_key)).json()[0]["service_request_id"]
    await _backdate(session, old, 100)
    await _backdate(session, recent, 10)
    listed = [i["service_request_id"] for i in (await client.get(f"{BASE}/requests.json")).json()]
    assert listed == [recent]
    start = (utcnow() - timedelta(days=120)).isoformat()
    end = (utcnow() - timedelta(days=50)).isoformat()
    window = await client.get(
        f"{BASE}/requests.json", params={"start_date": start, "end_date": end}
    )
    assert [i["service_request_id"] for i in window.json()] == [old]
    only_start = await client.get(f"{BASE}/requests.json", params={"start_date": start})
    assert [i["service_request_id"] for i in only_start.json()] == [old]  # start + 90 days
    # A "+07:00" offset sent without URL-encoding arrives as a space: still understood.
    raw = await client.get(
        f"{BASE}/requests.json?start_date=2026-01-01T00:00:00 07:00&end_date=2026-02-01T00:00:00Z"
    )
    assert raw.status_code == 200, raw.text


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-04-02T00:00:00Z"}, "end_date"),
        ({"start_date": "2026-03-01T00:00:00Z", "end_date": "2026-02-01T00:00:00Z"}, "end_date"),
        ({"start_date": "2026-01-01T00:00:00"}, "start_date"),  # no time zone
        ({"end_date": "yesterday"}, "end_date"),
        ({"status": "pending"}, "status"),
        ({"page_size": "1001"}, "page_size"),
        ({"page": "0"}, "page"),
        ({"extensions": "maybe"}, "extensions"),
    ],
)
async def test_invalid_filters_are_400(
    client: httpx.AsyncClient, params: dict[str, str], field: str
) -> None:
    for fmt in ("json", "xml"):
        described = errors_of(await client.get(f"{BASE}/requests.{fmt}", params=params), 400)
        assert [d.split(":")[0] for d in described] == [field]


async def test_exactly_90_days_is_allowed(client: httpx.AsyncClient) -> None:
    r = await client.get(
        f"{BASE}/requests.json",
        params={"start_date": "2026-01-01T00:00:00+07:00", "end_date": "2026-04-01T00:00:00+07:00"},
    )
    assert r.status_code == 200 and r.json() == []


async def test_status_mapping_and_service_request_id_overrides_filters(
    client: httpx.AsyncClient, session: AsyncSession, world: World, api_key: str
) -> None:
    a = (await post_request(client, api_key)).json()[0]["service_request_id"]
    b = (await post_request(client, api_key)).json()[0]["service_request_id"]
    c = (await post_request(client, api_key)).json()[0]["service_request_id"]
    await _set_status(client, world, b, "resolved", "Đã thay bóng")
    await _set_status(client, world, c, "rejected", "Không thuộc thẩm quyền")
    await _set_status(client, world, a, "in_progress")

    def codes(response: httpx.Response) -> set[str]:
        return {i["service_request_id"] for i in response.json()}

    get = client.get
    assert codes(await get(f"{BASE}/requests.json", params={"status": "open"})) == {a}
    assert codes(await get(f"{BASE}/requests.json", params={"status": "closed"})) == {b, c}
    assert codes(await get(f"{BASE}/requests.json", params={"status": "open,closed"})) == {a, b, c}
    statuses = {
        i["service_request_id"]: i["status"] for i in (await get(f"{BASE}/requests.json")).json()
    }
    assert statuses == {a: "open", b: "closed", c: "closed"}
    assert codes(await get(f"{BASE}/requests.json", params={"service_code": "nothing"})) == set()
    assert codes(
        await get(f"{BASE}/requests.json", params={"service_code": "nothing,street_light"})
    ) == {a, b, c}

    overriding = await get(
        f"{BASE}/requests.json",
        params={
            "service_request_id": f"{b}, {a},ZZZZ-ZZZZ",
            "status": "closed",
            "service_code": "nothing",
            "start_date": "2001-01-01T00:00:00Z",
            "end_date": "2001-01-02T00:00:00Z",
        },
    )
    assert [i["service_request_id"] for i in overriding.json()] == [b, a]
    # Even a range that would be refused does not matter when ids are given.
    assert (
        await get(
            f"{BASE}/requests.json",
            params={"service_request_id": a, "start_date": "2001-01-01T00:00:00Z"},
        )
    ).status_code == 200


async def test_only_public_not_hidden_reports(
    client: httpx.AsyncClient, session: AsyncSession, world: World, api_key: str
) -> None:
    shown = (await post_request(client, api_key)).json()[0]["service_request_id"]
    hidden = (await post_request(client, api_key)).json()[0]["service_request_id"]
    private = (
        await post_request(
            client, api_key, service_code="clinic_feedback", **{"attribute[pole_state]": None}
        )
    ).json()[0]["service_request_id"]
    r = await client.post(
        f"/api/v1/staff/reports/{hidden}/hide",
        json={"reason": "Lời lẽ xúc phạm"},
        headers=world.staff_headers,
    )
    assert r.status_code == 200, r.text
    listed = {i["service_request_id"] for i in (await client.get(f"{BASE}/requests.json")).json()}
    assert listed == {shown}
    by_id = await client.get(
        f"{BASE}/requests.json", params={"service_request_id": f"{hidden},{private},{shown}"}
    )
    assert [i["service_request_id"] for i in by_id.json()] == [shown]
    assert errors_of(await client.get(f"{BASE}/requests/{hidden}.json"), 404)
    assert errors_of(await client.get(f"{BASE}/requests/{private}.xml"), 404)


async def test_paging(
    client: httpx.AsyncClient, session: AsyncSession, world: World, api_key: str
) -> None:
    made = [(await post_request(client, api_key)).json()[0]["service_request_id"] for _ in range(3)]
    everything = [
        i["service_request_id"] for i in (await client.get(f"{BASE}/requests.json")).json()
    ]
    assert sorted(everything) == sorted(made)
    first = await client.get(f"{BASE}/requests.json", params={"page_size": 2})
    second = await client.get(f"{BASE}/requests.json", params={"page_size": 2, "page": 2})
    assert len(first.json()) == 2 and len(second.json()) == 1
    assert [i["service_request_id"] for i in first.json() + second.json()] == everything
    assert (
        await client.get(f"{BASE}/requests.json", params={"page": 3, "page_size": 2})
    ).json() == []
    by_ids = await client.get(
        f"{BASE}/requests.json",
        params={"service_request_id": ",".join(made), "page_size": 1, "page": 3},
    )
    assert [i["service_request_id"] for i in by_ids.json()] == [made[2]]


async def test_extensions_public_notes_masked(
    client: httpx.AsyncClient, world: World, api_key: str
) -> None:
    code = (await post_request(client, api_key)).json()[0]["service_request_id"]
    await _set_status(client, world, code, "acknowledged", "Đã tiếp nhận, liên hệ 0912345678")
    internal = await client.post(
        f"/api/v1/staff/reports/{code}/notes",
        json={"note": "Ghi chú nội bộ bí mật", "public": False},
        headers=world.staff_headers,
    )
    assert internal.status_code == 200, internal.text
    await _set_status(client, world, code, "in_progress", "Đội điện sẽ tới trong ngày")

    plain = (await client.get(f"{BASE}/requests.json")).json()[0]
    assert "extended_attributes" not in plain
    assert plain["status_notes"] == "Đội điện sẽ tới trong ngày"

    r = await client.get(f"{BASE}/requests.json", params={"extensions": "true"})
    extended = r.json()[0]["extended_attributes"]
    assert extended["detailed_status"] == "in_progress"
    notes = [n["description"] for n in extended["notes"]]
    assert len(notes) == 2 and notes[1] == "Đội điện sẽ tới trong ngày"
    assert "0912345678" not in notes[0] and notes[0].startswith("Đã tiếp nhận")
    assert "bí mật" not in r.text and "0912345678" not in r.text
    assert [n["status"] for n in extended["notes"]] == ["acknowledged", "in_progress"]

    root = parse_xml(await client.get(f"{BASE}/requests/{code}.xml", params={"extensions": "true"}))
    assert root.findtext("request/extended_attributes/detailed_status") == "in_progress"
    assert len(root.findall("request/extended_attributes/notes/note")) == 2
    assert root.findtext("request/status_notes") == "Đội điện sẽ tới trong ngày"


async def test_media_url_is_the_first_submission_photo(
    client: httpx.AsyncClient, world: World
) -> None:
    image = Image.new("RGB", (64, 48), (200, 40, 40))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG")
    payload = {
        "service_code": "street_light",
        "description": "Cột đèn bị đổ",
        "lat": 21.70,
        "lon": 104.87,
        "attributes": {"pole_state": "fallen"},
    }
    r = await client.post(
        "/api/v1/reports/multipart",
        data={"payload": json.dumps(payload)},
        files=[("photos", ("a.jpg", buffer.getvalue(), "image/jpeg"))],
    )
    assert r.status_code == 201, r.text
    [item] = (await client.get(f"{BASE}/requests/{r.json()['code']}.json")).json()
    assert item["media_url"].startswith("https://testserver/media/photos/")
    photo = await client.get(item["media_url"])
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"


async def test_tokens(client: httpx.AsyncClient, world: World, api_key: str) -> None:
    code = (await post_request(client, api_key)).json()[0]["service_request_id"]
    assert (await client.get(f"{BASE}/tokens/{code}.json")).json() == [
        {"service_request_id": code, "token": code}
    ]
    root = parse_xml(await client.get(f"{BASE}/tokens/{code}.xml"))
    assert root.tag == "service_requests"
    assert root.findtext("request/token") == code
    assert errors_of(await client.get(f"{BASE}/tokens/ZZZZ-ZZZZ.json"), 404)
    assert errors_of(await client.get(f"{BASE}/tokens/ZZZZ-ZZZZ.xml"), 404)


# Errors and XML ------------------------------------------------------------------------------


async def test_unknown_formats_paths_and_methods(client: httpx.AsyncClient) -> None:
    for path in (
        "/services.html",
        "/services/street_light.yaml",
        "/requests.csv",
        "/discovery.txt",
        "/tokens/ABCD-EFGH.php",
    ):
        errors_of(await client.get(f"{BASE}{path}"), 404)
    errors_of(await client.post(f"{BASE}/requests.html", data={"api_key": "x"}), 404)
    errors_of(await client.get(f"{BASE}/nothing.json"), 404)
    errors_of(await client.get(f"{BASE}/nothing.xml"), 404)
    errors_of(await client.get(f"{BASE}/requests/ZZZZ-ZZZZ.json"), 404)
    errors_of(await client.get(f"{BASE}/requests"), 404)  # no suffix: not a GeoReport address
    wrong = await client.put(f"{BASE}/requests.json")
    errors_of(wrong, 405)
    assert wrong.headers["allow"] == "GET, POST"
    # With no usable suffix, the format follows Accept.
    as_xml = await client.get(f"{BASE}/services.html", headers={"Accept": "text/xml"})
    assert parse_xml(as_xml).tag == "errors"


async def test_errors_follow_the_language(client: httpx.AsyncClient) -> None:
    english = await client.get(f"{BASE}/requests/ZZZZ-ZZZZ.json", params={"lang": "en"})
    assert errors_of(english, 404) == ["There is no public request with this id."]


async def test_every_endpoint_answers_well_formed_xml(
    client: httpx.AsyncClient, world: World, api_key: str
) -> None:
    # Control characters are legal in JSON but can never appear in XML 1.0.
    r = await submit(client, description="Đèn <b>tắt</b> & \x01\x08 ]]> \"'", address="Số 1 <x>")
    code = r.json()["code"]
    created = parse_xml(await post_request(client, api_key, "xml", description="Ký tự & < >"))
    roots = {
        "/discovery.xml": "discovery",
        "/services.xml": "services",
        "/services/street_light.xml": "service_definition",
        "/requests.xml": "service_requests",
        "/requests.xml?extensions=true": "service_requests",
        f"/requests/{code}.xml": "service_requests",
        f"/tokens/{code}.xml": "service_requests",
        "/requests/ZZZZ-ZZZZ.xml": "errors",
        "/requests.xml?status=nope": "errors",
        "/services/nothing.xml": "errors",
    }
    for path, root_tag in roots.items():
        root = parse_xml(await client.get(f"{BASE}{path}"))
        assert root.tag == root_tag, path
    assert created.tag == "service_requests"
    forbidden = parse_xml(await post_request(client, None, "xml"))
    assert forbidden.tag == "errors" and forbidden.findtext("error/code") == "403"
    invalid = parse_xml(await post_request(client, api_key, "xml", lat="x"))
    assert invalid.findtext("error/code") == "400"

    request = parse_xml(await client.get(f"{BASE}/requests/{code}.xml")).find("request")
    assert request is not None
    assert request.findtext("description") == "Đèn <b>tắt</b> &  ]]> \"'"
    assert request.findtext("address") == "Số 1 <x>"
    assert request.findtext("zipcode") == "" and request.find("zipcode") is not None


async def test_open311_errors_never_use_problem_json(
    client: httpx.AsyncClient, world: World, api_key: str
) -> None:
    responses: list[Any] = [
        await client.get(f"{BASE}/requests/ZZZZ-ZZZZ.json"),
        await post_request(client, None),
        await post_request(client, api_key, lat="x"),
        await client.get(f"{BASE}/requests.json?status=nope"),
        await client.post(
            f"{BASE}/requests.json",
            data={"api_key": api_key},
            headers={"Idempotency-Key": "x" * 200},
        ),
    ]
    for response in responses:
        assert response.status_code in (400, 403, 404)
        assert "problem" not in response.headers["content-type"]
        assert isinstance(response.json(), list)


async def test_multipart_form_is_accepted_too(
    client: httpx.AsyncClient, world: World, api_key: str
) -> None:
    fields = {
        "api_key": api_key,
        "service_code": "street_light",
        "lat": "21.70",
        "long": "104.87",
        "description": "Đèn tắt, gửi dạng multipart",
        "attribute[pole_state]": "off",
    }
    r = await client.post(
        f"{BASE}/requests.json",
        files={name: (None, value) for name, value in fields.items()},
    )
    assert r.status_code == 201, r.text
    [item] = (await client.get(f"{BASE}/requests/{r.json()[0]['service_request_id']}.json")).json()
    assert item["description"] == "Đèn tắt, gửi dạng multipart"


async def test_an_unexpected_failure_is_500_in_the_open311_shape(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_args: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(service, "service_list", broken)
    for fmt in ("json", "xml"):
        assert errors_of(await client.get(f"{BASE}/services.{fmt}"), 500)
