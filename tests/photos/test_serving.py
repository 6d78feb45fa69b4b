"""Resolving names to files, deleting, and GET /media/photos/{name}."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from app.config import Settings
from app.photos import PhotoNotFound, delete_photo, ingest_photo, photo_path, thumbnail_name
from tests.photos import images

CACHE = "public, max-age=31536000, immutable"
TOKEN = "A" * 16 + "b-_9" * 4  # 32 characters of the URL-safe alphabet

MALFORMED = [
    "../etc/passwd",
    "../../etc/passwd",
    "..",
    "",
    f"{TOKEN}.jpg/../../x",
    f"../{TOKEN}.jpg",
    f"{TOKEN}.jpg\n",
    f"{TOKEN}.jpg\x00",
    f"/{TOKEN}.jpg",
    f"{TOKEN}.png",
    f"{TOKEN}.JPG",
    f"{TOKEN[:-1]}.jpg",
    f"{TOKEN}A.jpg",
    f"{TOKEN}.thumb.thumb.jpg",
    f"{TOKEN[:-1]}/.jpg",
    f"{TOKEN[:-1]}ａ.jpg",  # a full-width letter
    "%2e%2e%2fetc%2fpasswd",
]


@pytest.mark.parametrize("name", MALFORMED)
def test_photo_path_refuses_anything_but_an_exact_name(settings: Settings, name: str) -> None:
    with pytest.raises(PhotoNotFound):
        photo_path(settings, name)


def test_photo_path_of_a_name_and_its_thumbnail(settings: Settings) -> None:
    root = settings.upload_dir / "photos" / TOKEN[:2]
    assert photo_path(settings, f"{TOKEN}.jpg") == root / f"{TOKEN}.jpg"
    assert thumbnail_name(f"{TOKEN}.jpg") == f"{TOKEN}.thumb.jpg"
    assert photo_path(settings, f"{TOKEN}.thumb.jpg") == root / f"{TOKEN}.thumb.jpg"


async def test_delete_photo_removes_both_files_and_may_be_repeated(settings: Settings) -> None:
    photo = await ingest_photo(settings, images.jpeg())
    kept = await ingest_photo(settings, images.jpeg())
    files = [photo_path(settings, photo.name), photo_path(settings, photo.thumb_name)]
    assert all(path.is_file() for path in files)
    await delete_photo(settings, photo.name)
    assert not any(path.exists() for path in files)
    await delete_photo(settings, photo.name)  # already gone: fine
    assert photo_path(settings, kept.name).is_file()
    with pytest.raises(PhotoNotFound):
        await delete_photo(settings, "../../etc/passwd")


async def test_get_serves_the_photo_and_its_thumbnail(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings
) -> None:
    photo = await ingest_photo(settings, images.phone_jpeg())
    for name in (photo.name, photo.thumb_name):
        response = await client.get(f"/media/photos/{name}")
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/jpeg"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == CACHE
        assert response.content == photo_path(settings, name).read_bytes()

    etag = (await client.get(f"/media/photos/{photo.name}")).headers["etag"]
    again = await client.get(f"/media/photos/{photo.name}", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["cache-control"] == CACHE and again.headers["etag"] == etag


@pytest.mark.parametrize(
    "path",
    [
        f"/media/photos/{TOKEN}.jpg",  # well formed, never stored
        f"/media/photos/{TOKEN}.thumb.jpg",
        "/media/photos/..%2F..%2Fetc%2Fpasswd",
        "/media/photos/..%2F..%2F..%2Fapp%2Fconfig.py",
        "/media/photos/%2Fetc%2Fpasswd",
        "/media/photos/a/b",
        "/media/photos/.tmp-abc.part",
        "/media/photos/photos",
    ],
)
async def test_get_answers_404_problem_json_for_unknown_or_malformed_names(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 404 and body["type"] == "/problems/photo-not-found"


async def test_get_404_is_a_page_for_a_person_in_a_browser(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/media/photos/..%2Fetc%2Fpasswd", headers={"Accept": "text/html,*/*;q=0.8"}
    )
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")


async def test_a_shard_folder_is_not_served(client: httpx.AsyncClient, settings: Settings) -> None:
    photo = await ingest_photo(settings, images.jpeg())
    # A directory where a file should be: the name matches the pattern but is not a file.
    token = photo.name.removesuffix(".jpg")
    photo_path(settings, f"{token[::-1]}.jpg").mkdir(parents=True)
    response = await client.get(f"/media/photos/{token[::-1]}.jpg")
    assert response.status_code == 404


def test_the_endpoint_is_documented(app: FastAPI) -> None:
    operation = app.openapi()["paths"]["/media/photos/{name}"]["get"]
    assert operation["tags"] == ["media"]
    assert operation["summary"]
    assert "image/jpeg" in operation["responses"]["200"]["content"]
    assert any(tag["name"] == "media" for tag in app.openapi()["tags"])
