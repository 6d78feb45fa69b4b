from pathlib import Path

import httpx

from app.db import create_engine, create_sessionmaker
from app.main import create_app
from tests import dbutil
from tests.conftest import make_settings


async def test_healthz(client: httpx.AsyncClient) -> None:
    r = await client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}


async def test_readyz_at_head(client: httpx.AsyncClient) -> None:
    r = await client.get("/readyz")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok" and body["revision"] == body["head"]


async def test_readyz_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    url = dbutil.sqlite_url(tmp_path, "empty")
    app = create_app(make_settings(url, tmp_path))
    app.state.engine = create_engine(url)
    app.state.sessionmaker = create_sessionmaker(app.state.engine)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="https://t"
        ) as client:
            r = await client.get("/readyz")
    finally:
        await app.state.engine.dispose()
    assert r.status_code == 503
    assert r.headers["content-type"].startswith("application/json")


async def test_openapi_tags_and_describes_every_endpoint(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert operation.get("tags"), f"{method} {path} has no tag"
            assert operation.get("summary") or operation.get("description"), (
                f"{method} {path} undescribed"
            )
    allowed = ("/api/v1/", "/open311/v2/", "/media/", "/healthz", "/readyz")
    assert all(p.startswith(allowed) for p in spec["paths"])


async def test_docs_page_uses_local_assets(client: httpx.AsyncClient) -> None:
    html = (await client.get("/docs")).text
    assert "/static/swagger/swagger-ui-bundle.js" in html and "cdn" not in html
    assert (await client.get("/static/swagger/swagger-ui-bundle.js")).status_code == 200
