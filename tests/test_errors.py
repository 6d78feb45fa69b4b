import logging

import httpx
import pytest
from fastapi import FastAPI


async def test_unknown_api_route_is_problem_json(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/nothing-here")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert {"type", "title", "status", "detail", "instance", "request_id"} <= body.keys()
    assert body["status"] == 404 and body["instance"] == "/api/v1/nothing-here"
    assert body["request_id"] == r.headers["X-Request-ID"]


async def test_validation_error_names_field_and_reason(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/wards/locate", params={"lat": "north", "lon": 200})
    assert r.status_code == 422
    errors = {e["field"]: e for e in r.json()["errors"]}
    assert set(errors) == {"lat", "lon"}
    assert errors["lat"]["in"] == "query" and errors["lat"]["reason"]
    assert "less than or equal to 180" in errors["lon"]["reason"]


async def test_500_carries_a_request_id_and_no_stack_trace(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    @app.get("/api/v1/explode")
    async def explode() -> None:
        raise RuntimeError("secret internals: password=hunter2")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
        with caplog.at_level(logging.ERROR):
            r = await client.get("/api/v1/explode", headers={"X-Request-ID": "req-test-12345"})
    assert r.status_code == 500
    assert r.headers["X-Request-ID"] == "req-test-12345"
    assert r.json()["request_id"] == "req-test-12345"
    assert "hunter2" not in r.text and "Traceback" not in r.text and "RuntimeError" not in r.text
    logged = [rec for rec in caplog.records if rec.name == "citizenhub.errors"]
    assert logged and logged[0].exc_info is not None
    assert getattr(logged[0], "request_id", None) == "req-test-12345"


async def test_page_errors_are_readable_translated_pages(client: httpx.AsyncClient) -> None:
    vi = await client.get("/no-such-page", headers={"Accept": "text/html"})
    assert vi.status_code == 404
    assert vi.headers["content-type"].startswith("text/html")
    assert '<html lang="vi"' in vi.text and "<h1>" in vi.text
    en = await client.get("/no-such-page?lang=en", headers={"Accept": "text/html"})
    assert "We could not find what you asked for." in en.text
    assert en.text.count("<h1") == 1
    assert vi.text.split("<h1>")[1].split("</h1>")[0] != "We could not find what you asked for."
