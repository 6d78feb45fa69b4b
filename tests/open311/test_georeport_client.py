"""A real Open311 client (georeport, from PyPI) against a real server with the demo province.

georeport 0.3 reads (services, definitions, requests) but has no call that sends a request, so
requests are sent with `requests` (georeport's own HTTP library) as the spec's form, then read
back through georeport."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from georeport import GeoReport

from tests.open311.conftest import LiveServer

FORMATS = ["json", "xml"]


def _listed(value: Any) -> list[Any]:
    """xmltodict gives a dict for a single child and a list for several."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _requests(client: GeoReport, **filters: str) -> list[Any]:
    """georeport's XML reading fails on an empty <service_requests/> (xmltodict gives None)."""
    try:
        return _listed(client.get_service_requests(**filters))
    except TypeError:
        if client.output_format != "xml":
            raise
        return []


def _send(server: LiveServer, fmt: str, **fields: Any) -> requests.Response:
    form = {
        "api_key": server.api_key,
        "jurisdiction_id": "",
        "service_code": "street_light",
        "lat": "21.7101",
        "long": "104.8731",
        "address_string": "Đường Nguyễn Thái Học, gần số 120",
        "description": "Đèn đường không sáng từ tối qua",
        "first_name": "Lan",
        "last_name": "Nguyễn Thị",
        "email": "lan.partner@example.vn",
        "attribute[pole_state]": "off",
        "attribute[pole_number]": "NTH-120",
        **fields,
    }
    return requests.post(f"{server.url}/requests.{fmt}", data=form, timeout=10)


def _code_of(fmt: str, response: requests.Response) -> str:
    assert response.status_code == 201, response.text
    if fmt == "json":
        return str(response.json()[0]["service_request_id"])
    import xmltodict

    return str(
        xmltodict.parse(response.content)["service_requests"]["request"]["service_request_id"]
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_services_and_definition(live_open311: LiveServer, fmt: str) -> None:
    client = GeoReport(live_open311.url, output_format=fmt)
    services = _listed(client.get_service_list())
    by_code = {s["service_code"]: s for s in services}
    assert len(by_code) >= 20
    light = by_code["street_light"]
    assert light["service_name"] == "Đèn đường hỏng"
    assert str(light["metadata"]).lower() == "true" and light["type"] == "realtime"
    assert light["group"] == "roads_lighting"

    definition = client.get_service_definition("street_light")
    assert definition["service_code"] == "street_light"
    attributes = definition["attributes"]
    if fmt == "xml":
        attributes = _listed(attributes["attribute"])
    pole = next(a for a in attributes if a["code"] == "pole_state")
    assert pole["datatype"] == "singlevaluelist"
    assert str(pole["required"]).lower() == "true"
    values = pole["values"] if fmt == "json" else _listed(pole["values"]["value"])
    assert "off" in {v["key"] for v in values}

    with pytest.raises(requests.HTTPError) as missing:
        client.get_service_definition("no_such_service")
    assert missing.value.response is not None and missing.value.response.status_code == 404


@pytest.mark.parametrize("fmt", FORMATS)
def test_send_then_read_back_with_filters(live_open311: LiveServer, fmt: str) -> None:
    code = _code_of(fmt, _send(live_open311, fmt))
    client = GeoReport(live_open311.url, jurisdiction="yenbai.gov.vn", output_format=fmt)

    one = client.get_service_request(code)
    assert one["service_request_id"] == code
    assert one["status"] == "open"
    assert one["service_code"] == "street_light"
    assert float(one["lat"]) == pytest.approx(21.7101)
    assert float(one["long"]) == pytest.approx(104.8731)
    assert one["address"] == "Đường Nguyễn Thái Học, gần số 120"
    assert one["agency_responsible"]
    assert "lan.partner@example.vn" not in str(one) and "Lan" not in str(one)

    now = datetime.now(UTC)
    listed = _requests(
        client,
        service_code="street_light,uncollected_rubbish",
        status="open",
        start_date=(now - timedelta(days=1)).isoformat(),
        end_date=(now + timedelta(minutes=5)).isoformat(),
    )
    assert code in {r["service_request_id"] for r in listed}
    assert all(r["status"] == "open" for r in listed)
    assert {r["service_code"] for r in listed} <= {"street_light", "uncollected_rubbish"}

    closed = _requests(client, service_code="street_light", status="closed")
    assert code not in {r["service_request_id"] for r in closed}
    by_id = _requests(client, service_request_id=code, status="closed")
    assert [r["service_request_id"] for r in by_id] == [code]

    with pytest.raises(requests.HTTPError) as too_long:
        client.get_service_requests(
            start_date="2026-01-01T00:00:00Z", end_date="2026-06-01T00:00:00Z"
        )
    assert too_long.value.response is not None and too_long.value.response.status_code == 400


@pytest.mark.parametrize("fmt", FORMATS)
def test_sending_needs_a_valid_key(live_open311: LiveServer, fmt: str) -> None:
    refused = _send(live_open311, fmt, api_key="o311_wrong")
    assert refused.status_code == 403
    invalid = _send(live_open311, fmt, **{"attribute[pole_state]": "melted"})
    assert invalid.status_code == 400
    if fmt == "json":
        assert invalid.json()[0]["code"] == 400
        assert invalid.json()[0]["description"].startswith("attribute[pole_state]")
    else:
        assert b"<errors><error><code>400</code>" in invalid.content
