"""Photos through the report endpoints: what residents and staff upload is cleaned and kept."""

from __future__ import annotations

import io
import json

import httpx
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.photos import photo_path
from app.reports.models import Report, ReportPhoto
from tests.reports.conftest import World


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (800, 600), (120, 160, 90))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (21.0, 42.0, 6.0), "E", (104.0, 52.0, 12.0)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def payload(**extra: object) -> str:
    body = {
        "service_code": "street_light",
        "description": "Cột đèn bị đổ sau mưa bão",
        "lat": 21.70,
        "lon": 104.87,
        "attributes": {"pole_state": "fallen"},
    }
    body.update(extra)
    return json.dumps(body)


async def test_multipart_submission_strips_location_metadata(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, world: World
) -> None:
    original = jpeg_with_gps()
    assert b"Exif" in original
    r = await client.post(
        "/api/v1/reports/multipart",
        data={"payload": payload()},
        files=[
            ("photos", ("IMG_0001.jpg", original, "image/jpeg")),
            ("photos", ("IMG_0002.jpg", original, "image/jpeg")),
        ],
    )
    assert r.status_code == 201, r.text
    report = (
        await session.execute(select(Report).where(Report.code == r.json()["code"]))
    ).scalar_one()
    photos = (
        (await session.execute(select(ReportPhoto).where(ReportPhoto.report_id == report.id)))
        .scalars()
        .all()
    )
    assert len(photos) == 2
    for photo in photos:
        stored = photo_path(settings, photo.name).read_bytes()
        assert b"Exif" not in stored and b"GPS" not in stored and b"PhoneMaker" not in stored
        with Image.open(io.BytesIO(stored)) as image:
            assert not image.getexif()
    public = (await client.get(f"/api/v1/reports/{report.code}")).json()
    served = await client.get(public["photos"][0]["url"])
    assert served.status_code == 200 and served.headers["X-Content-Type-Options"] == "nosniff"


async def test_html_named_jpg_and_a_bomb_are_refused_and_nothing_is_kept(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, world: World
) -> None:
    html = b"<!doctype html><script>alert(1)</script>"
    r = await client.post(
        "/api/v1/reports/multipart",
        data={"payload": payload()},
        files=[("photos", ("photo.jpg", html, "image/jpeg"))],
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "photos"
    bomb = io.BytesIO()
    Image.new("1", (30000, 30000)).save(bomb, "PNG")
    good = jpeg_with_gps()
    r = await client.post(
        "/api/v1/reports/multipart",
        data={"payload": payload()},
        files=[
            ("photos", ("ok.jpg", good, "image/jpeg")),
            ("photos", ("bomb.png", bomb.getvalue(), "image/png")),
        ],
    )
    assert r.status_code == 422
    assert await session.scalar(select(func.count()).select_from(Report)) == 0
    leftovers = (
        [p for p in (settings.upload_dir / "photos").rglob("*") if p.is_file()]
        if (settings.upload_dir / "photos").exists()
        else []
    )
    assert leftovers == []  # the good photo stored before the bomb was refused is removed


async def test_at_most_five_photos(client: httpx.AsyncClient, world: World) -> None:
    good = jpeg_with_gps()
    r = await client.post(
        "/api/v1/reports/multipart",
        data={"payload": payload()},
        files=[("photos", (f"{i}.jpg", good, "image/jpeg")) for i in range(6)],
    )
    assert r.status_code == 422


async def test_bad_payload_in_multipart_names_the_field(
    client: httpx.AsyncClient, world: World
) -> None:
    r = await client.post(
        "/api/v1/reports/multipart", data={"payload": json.dumps({"service_code": "street_light"})}
    )
    assert r.status_code == 422
    assert "description" in [e["field"] for e in r.json()["errors"]]


async def test_resolving_needs_a_proof_photo_where_the_service_asks(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    world.light.proof_required = True
    await session.commit()
    code = (await client.post("/api/v1/reports", json=json.loads(payload()))).json()["code"]
    url = f"/api/v1/staff/reports/{code}/status/multipart"
    without = await client.post(
        url, headers=world.staff_headers, data={"status": "resolved", "note": "Đã dựng lại cột"}
    )
    assert without.status_code == 422 and without.json()["errors"][0]["field"] == "photos"
    with_photo = await client.post(
        url,
        headers=world.staff_headers,
        data={"status": "resolved", "note": "Đã dựng lại cột"},
        files=[("photos", ("after.jpg", jpeg_with_gps(), "image/jpeg"))],
    )
    assert with_photo.status_code == 200, with_photo.text
    resolved = with_photo.json()["timeline"][-1]
    assert resolved["kind"] == "resolved" and len(resolved["photos"]) == 1
    public = (await client.get(f"/api/v1/reports/{code}/timeline")).json()
    assert public[-1]["photos"][0]["url"].startswith("/media/photos/")
