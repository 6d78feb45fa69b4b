import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.kit.ratelimit import Limiter, per_minute
from app.main import create_app
from tests.conftest import make_settings


def _client(app: FastAPI, ip: str = "198.51.100.20", https: bool = True) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(ip, 5000))
    return httpx.AsyncClient(
        transport=transport, base_url=f"{'https' if https else 'http'}://testserver"
    )


def _app(
    database_url: str,
    tmp_path: Path,
    engine: AsyncEngine,
    sm: async_sessionmaker[AsyncSession],
    **overrides: object,
) -> FastAPI:
    app = create_app(make_settings(database_url, tmp_path, **overrides))
    app.state.engine = engine
    app.state.sessionmaker = sm
    return app


async def test_security_headers_on_pages_and_api(client: httpx.AsyncClient) -> None:
    for path in ("/", "/api/v1/departments"):
        r = await client.get(path)
        csp = r.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert "max-age=" in r.headers["Strict-Transport-Security"]


async def test_no_hsts_over_plain_http(app: FastAPI) -> None:
    async with _client(app, https=False) as client:
        r = await client.get("/healthz")
    assert "Strict-Transport-Security" not in r.headers


async def test_pages_contain_no_inline_script(client: httpx.AsyncClient) -> None:
    for path in ("/", "/login", "/register", "/preferences", "/docs"):
        html = (await client.get(path)).text
        for chunk in html.split("<script")[1:]:
            assert chunk.lstrip().startswith("src="), f"inline script on {path}"
        assert " onclick=" not in html and " style=" not in html


async def test_body_limit_refuses_by_content_length_before_reading(
    database_url: str,
    tmp_path: Path,
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    app = _app(database_url, tmp_path, engine, sessionmaker, max_body_bytes=1000)
    read = False

    async def receive() -> dict:
        nonlocal read
        read = True
        return {"type": "http.request", "body": b"x" * 2000, "more_body": False}

    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "https",
        "path": "/api/v1/auth/register",
        "raw_path": b"/api/v1/auth/register",
        "query_string": b"",
        "root_path": "",
        "client": ("198.51.100.1", 1),
        "server": ("testserver", 443),
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"2000")],
    }
    await app(scope, receive, send)
    assert sent[0]["status"] == 413
    assert read is False, "the body was read although Content-Length already said too much"
    assert b"problem+json" in dict(sent[0]["headers"])[b"content-type"]


async def test_body_limit_stops_a_chunked_upload_midway(
    database_url: str,
    tmp_path: Path,
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    app = _app(database_url, tmp_path, engine, sessionmaker, max_body_bytes=4096)
    chunks_sent = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal chunks_sent
        for _ in range(100):
            chunks_sent += 1
            yield b"a" * 1024

    async with _client(app) as client:
        r = await client.post(
            "/api/v1/auth/register", content=body(), headers={"Content-Type": "application/json"}
        )
    assert r.status_code == 413
    assert r.json()["limit_bytes"] == 4096
    assert chunks_sent < 100


async def test_cors_only_for_configured_pwa_origins(
    database_url: str,
    tmp_path: Path,
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    app = _app(
        database_url, tmp_path, engine, sessionmaker, pwa_origins="https://app.yenbai.example"
    )
    async with _client(app) as client:
        ok = await client.options(
            "/api/v1/departments",
            headers={
                "Origin": "https://app.yenbai.example",
                "Access-Control-Request-Method": "GET",
            },
        )
        evil = await client.options(
            "/api/v1/departments",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
        )
        simple = await client.get("/api/v1/departments", headers={"Origin": "https://evil.example"})
    assert ok.headers["access-control-allow-origin"] == "https://app.yenbai.example"
    assert "access-control-allow-origin" not in evil.headers
    assert "access-control-allow-origin" not in simple.headers


async def test_write_rate_limit_per_client_ip(
    database_url: str,
    tmp_path: Path,
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    app = _app(database_url, tmp_path, engine, sessionmaker, rate_limit_write_per_minute=3)
    async with _client(app, ip="198.51.100.30") as client:
        codes = [
            (
                await client.post("/api/v1/auth/refresh", json={"refresh_token": "x" * 20})
            ).status_code
            for _ in range(4)
        ]
        # A forged X-Forwarded-For from an untrusted peer changes nothing.
        forged = await client.post(
            "/api/v1/auth/refresh",
            json={"refresh_token": "x" * 20},
            headers={"X-Forwarded-For": "192.0.2.99"},
        )
    assert codes[:3] == [401, 401, 401]
    assert codes[3] == 429
    assert forged.status_code == 429 and int(forged.headers["Retry-After"]) >= 1
    async with _client(app, ip="198.51.100.31") as other:
        assert (
            await other.post("/api/v1/auth/refresh", json={"refresh_token": "x" * 20})
        ).status_code == 401


async def test_forwarded_for_is_believed_only_from_trusted_proxies(
    database_url: str,
    tmp_path: Path,
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    app = _app(
        database_url,
        tmp_path,
        engine,
        sessionmaker,
        rate_limit_write_per_minute=1,
        trusted_proxies="10.0.0.0/8",
    )
    async with _client(app, ip="10.1.2.3") as proxy:

        def post(xff: str):
            return proxy.post(
                "/api/v1/auth/refresh",
                json={"refresh_token": "x" * 20},
                headers={"X-Forwarded-For": xff},
            )

        first = await post("192.0.2.1")
        second_same_client = await post("192.0.2.1")
        other_client = await post("192.0.2.2")
        # The client cannot forge its way out: the proxy appends the real address last.
        spoofed = await post("203.0.113.250, 192.0.2.1")
    assert first.status_code == 401
    assert second_same_client.status_code == 429
    assert other_client.status_code == 401
    assert spoofed.status_code == 429


async def test_https_scheme_from_trusted_proxy_turns_on_hsts(
    database_url: str,
    tmp_path: Path,
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    app = _app(database_url, tmp_path, engine, sessionmaker, trusted_proxies="10.0.0.1")
    async with _client(app, ip="10.0.0.1", https=False) as proxy:
        r = await proxy.get(
            "/healthz", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "192.0.2.5"}
        )
    assert "Strict-Transport-Security" in r.headers


REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


async def _redis_available() -> bool:
    import redis.asyncio as redis

    client = redis.from_url(REDIS_URL)
    try:
        return bool(await client.ping())
    except Exception:
        return False
    finally:
        await client.aclose()


async def test_redis_limiter_is_shared_between_workers() -> None:
    if not await _redis_available():
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    import secrets

    worker_a, worker_b = Limiter(REDIS_URL), Limiter(REDIS_URL)
    key = secrets.token_hex(6)
    item = per_minute(3)
    assert (await worker_a.hit(item, "test", key)).allowed
    assert (await worker_b.hit(item, "test", key)).allowed
    assert (await worker_a.hit(item, "test", key)).allowed
    refused = await worker_b.hit(item, "test", key)
    assert not refused.allowed and refused.retry_after >= 1
    await worker_a.clear(item, "test", key)


async def test_memory_limiter_is_the_default(app: FastAPI) -> None:
    assert app.state.limiter.shared is False
