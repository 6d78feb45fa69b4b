"""The photo pipeline: what is accepted, what is refused (and how early), what is stored."""

from __future__ import annotations

import hashlib
import io
import re
import stat
import threading
import time
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from fastapi import APIRouter, FastAPI, UploadFile
from PIL import Image, ImageCms, ImageFile, ImageOps
from starlette.datastructures import Headers
from starlette.datastructures import UploadFile as StarletteUpload

from app.auth.deps import SettingsDep
from app.config import Settings
from app.errors import InvalidInput, PayloadTooLarge
from app.kit.i18n import gettext as _
from app.photos import StoredPhoto, imaging, ingest_photo, photo_path, service, storage
from tests.photos import images

NAME = re.compile(r"[A-Za-z0-9_-]{32}\.jpg")


def stored_image(settings: Settings, name: str) -> Image.Image:
    image = Image.open(photo_path(settings, name))
    image.load()
    return image


def close(pixel: object, expected: tuple[int, int, int], tolerance: int = 24) -> bool:
    assert isinstance(pixel, tuple), pixel
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, expected, strict=True))


def upload_of(data: bytes, filename: str, content_type: str) -> StarletteUpload:
    headers = Headers({"content-type": content_type})
    return StarletteUpload(io.BytesIO(data), size=len(data), filename=filename, headers=headers)


# Metadata and orientation -------------------------------------------------------------------


async def test_every_piece_of_metadata_is_removed(settings: Settings) -> None:
    original = images.phone_jpeg(orientation=1)
    for marker in (b"Exif", b"GPS", b"http://ns.adobe.com/xap", b"ICC_PROFILE", b"Tran Hung"):
        assert marker in original  # the fixture really carries it

    photo = await ingest_photo(settings, original)

    for name in (photo.name, photo.thumb_name):
        raw = photo_path(settings, name).read_bytes()
        for marker in (b"Exif", b"GPS", b"http://ns.adobe.com/xap", b"ICC_PROFILE", b"Tran Hung"):
            assert marker not in raw, (name, marker)
        image = stored_image(settings, name)
        assert image.format == "JPEG" and image.mode == "RGB"
        assert not image.getexif()
        assert not image.getexif().get_ifd(0x8825)
        assert not {"exif", "xmp", "icc_profile", "comment"} & set(image.info)


async def test_orientation_6_is_applied_so_a_portrait_photo_stays_portrait(
    settings: Settings,
) -> None:
    original = images.phone_jpeg(orientation=6, size=(60, 40))  # stored sideways: landscape
    expected = ImageOps.exif_transpose(Image.open(io.BytesIO(original)))
    assert expected.size == (40, 60)

    photo = await ingest_photo(settings, original)

    assert (photo.width, photo.height) == (40, 60)
    image = stored_image(settings, photo.name)
    assert image.size == (40, 60)
    # The stored left half (red) is the top once turned 90° clockwise, as a viewer shows it.
    assert close(image.getpixel((20, 8)), images.RED)
    assert close(image.getpixel((20, 52)), images.BLUE)
    assert close(expected.getpixel((20, 8)), images.RED)
    thumb = stored_image(settings, photo.thumb_name)
    assert thumb.size == (40, 60)


async def test_stored_photo_is_a_jpeg_with_a_matching_record(
    settings: Settings,
) -> None:
    photo = await ingest_photo(settings, images.phone_jpeg(orientation=1))
    path = photo_path(settings, photo.name)
    data = path.read_bytes()
    assert isinstance(photo, StoredPhoto)
    assert photo.bytes == len(data) == path.stat().st_size
    assert photo.sha256 == hashlib.sha256(data).hexdigest()
    image = stored_image(settings, photo.name)
    assert image.format == "JPEG" and image.mode == "RGB"


# Formats ------------------------------------------------------------------------------------


async def test_png_alpha_is_flattened_onto_white(settings: Settings) -> None:
    rgba = Image.new("RGBA", (40, 30), (0, 0, 0, 0))  # transparent black on the left
    rgba.paste((*images.RED, 255), (20, 0, 40, 30))
    photo = await ingest_photo(settings, images.png(rgba))
    image = stored_image(settings, photo.name)
    assert image.format == "JPEG" and image.mode == "RGB" and image.size == (40, 30)
    assert close(image.getpixel((5, 15)), (255, 255, 255))
    assert close(image.getpixel((34, 15)), images.RED)


async def test_palette_png_with_transparency_is_flattened(settings: Settings) -> None:
    palette = Image.new("P", (20, 20), 0)
    palette.putpalette([0, 0, 0, *images.BLUE])
    palette.paste(1, (10, 0, 20, 20))
    palette.info["transparency"] = 0
    photo = await ingest_photo(settings, images.png(palette))
    image = stored_image(settings, photo.name)
    assert close(image.getpixel((3, 10)), (255, 255, 255))
    assert close(image.getpixel((17, 10)), images.BLUE)


async def test_sixteen_bit_grey_png_keeps_its_tones(settings: Settings) -> None:
    grey = Image.new("I;16", (20, 20), 32768)  # mid grey in 16 bits
    photo = await ingest_photo(settings, images.png(grey))
    assert close(stored_image(settings, photo.name).getpixel((10, 10)), (128, 128, 128), 6)


@pytest.mark.parametrize("with_alpha", [False, True])
async def test_webp_is_accepted(settings: Settings, with_alpha: bool) -> None:
    if with_alpha:
        source = Image.new("RGBA", (48, 32), (0, 0, 0, 0))
        source.paste((*images.BLUE, 255), (24, 0, 48, 32))
        data = images.webp(source, lossless=True)
    else:
        data = images.webp(images.halves((48, 32), images.RED, images.BLUE), quality=90)
    assert data[8:12] == b"WEBP"
    photo = await ingest_photo(settings, data)
    image = stored_image(settings, photo.name)
    assert image.format == "JPEG" and image.size == (48, 32)
    assert close(image.getpixel((40, 16)), images.BLUE)
    left = (255, 255, 255) if with_alpha else images.RED
    assert close(image.getpixel((6, 16)), left)


async def test_an_html_file_named_jpg_sent_as_image_jpeg_is_refused(settings: Settings) -> None:
    upload = upload_of(images.HTML, "cat.jpg", "image/jpeg")
    with pytest.raises(InvalidInput) as caught:
        await ingest_photo(settings, upload)
    error = caught.value
    assert error.status == 422
    assert error.errors == [{"field": "photos", "in": "body", "reason": _(service.NOT_A_PHOTO)}]
    assert not (settings.upload_dir / "photos").exists()


async def test_a_non_photo_is_refused_from_its_first_chunk(settings: Settings) -> None:
    stream = images.CountingStream(images.HTML, total=8 * 1024 * 1024, chunk=64 * 1024)
    with pytest.raises(InvalidInput):
        await ingest_photo(settings, stream, field="proof")
    assert stream.served == 64 * 1024


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"GIF89a" + b"\x00" * 64, id="gif"),
        pytest.param(b"%PDF-1.7\n" + b"\x00" * 64, id="pdf"),
        pytest.param(b"<svg xmlns='http://www.w3.org/2000/svg'/>", id="svg"),
        pytest.param(b"\xff\xd8", id="two-bytes"),
    ],
)
async def test_other_formats_are_refused(settings: Settings, data: bytes) -> None:
    with pytest.raises(InvalidInput) as caught:
        await ingest_photo(settings, data)
    assert caught.value.errors is not None
    assert caught.value.errors[0]["reason"] == _(service.NOT_A_PHOTO)


async def test_an_empty_file_is_refused(settings: Settings) -> None:
    with pytest.raises(InvalidInput) as caught:
        await ingest_photo(settings, upload_of(b"", "empty.jpg", "image/jpeg"))
    assert caught.value.errors is not None
    assert caught.value.errors[0]["reason"] == _(service.EMPTY)


# Damaged files and bombs --------------------------------------------------------------------


async def test_a_truncated_jpeg_is_refused_cleanly(settings: Settings) -> None:
    whole = images.noisy_jpeg()
    await ingest_photo(settings, whole)  # the uncut file is fine
    with pytest.raises(InvalidInput) as caught:
        await ingest_photo(settings, whole[: len(whole) * 6 // 10], field="photos[2]")
    assert caught.value.errors == [
        {"field": "photos[2]", "in": "body", "reason": _(service.DAMAGED)}
    ]


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, id="png-garbage"),
        pytest.param(b"\xff\xd8\xff\xe0" + b"\x13" * 100, id="jpeg-garbage"),
        pytest.param(b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 20, id="webp-garbage"),
    ],
)
async def test_garbage_behind_a_magic_number_is_refused(settings: Settings, data: bytes) -> None:
    with pytest.raises(InvalidInput) as caught:
        await ingest_photo(settings, data)
    assert caught.value.errors is not None
    assert caught.value.errors[0]["reason"] == _(service.DAMAGED)


@pytest.fixture
def decoding_forbidden(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records any attempt to decode pixels (and makes it fail)."""
    calls: list[str] = []

    def refuse(self: Image.Image, *args: object, **kwargs: object) -> None:
        calls.append(type(self).__name__)
        raise AssertionError("decoded")

    monkeypatch.setattr(Image.Image, "load", refuse)
    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)
    return calls


@pytest.mark.parametrize(
    "data",
    [
        # Pillow itself raises DecompressionBombError above 2 × Image.MAX_IMAGE_PIXELS ...
        pytest.param(images.png_declaring(30_000, 30_000), id="png-900-megapixels"),
        # ... and only warns between Image.MAX_IMAGE_PIXELS and twice that.
        pytest.param(images.png_declaring(10_000, 10_000), id="png-100-megapixels"),
        # Below Pillow's own guard, our limit (40 megapixels) applies.
        pytest.param(images.jpeg_declaring(8_000, 6_000), id="jpeg-48-megapixels"),
        pytest.param(images.png_declaring(40_001, 1_000), id="png-just-over"),
    ],
)
async def test_a_decompression_bomb_is_refused_without_decoding(
    settings: Settings, decoding_forbidden: list[str], data: bytes
) -> None:
    assert len(data) < 1000
    started = time.perf_counter()
    with pytest.raises(InvalidInput) as caught:
        await ingest_photo(settings, data)
    elapsed = time.perf_counter() - started
    assert decoding_forbidden == []
    assert elapsed < 0.5  # decoding 100 megapixels would take seconds and gigabytes
    assert caught.value.errors is not None
    reason = caught.value.errors[0]["reason"]
    assert reason == _(service.TOO_MANY_PIXELS, megapixels="40")


async def test_the_pixel_limit_follows_the_settings(settings: Settings) -> None:
    small_limit = settings.model_copy(update={"max_photo_pixels": 50 * 40})
    await ingest_photo(small_limit, images.jpeg(size=(50, 40)))
    with pytest.raises(InvalidInput):
        await ingest_photo(small_limit, images.jpeg(size=(51, 40)))


# Size ---------------------------------------------------------------------------------------


async def test_an_oversize_stream_is_refused_after_at_most_one_chunk_more(
    settings: Settings,
) -> None:
    limit = 1024 * 1024
    limited = settings.model_copy(update={"max_photo_bytes": limit})
    chunk = 64 * 1024
    stream = images.CountingStream(images.noisy_jpeg(), total=50 * limit, chunk=chunk)
    with pytest.raises(PayloadTooLarge) as caught:
        await ingest_photo(limited, stream)
    assert limit < stream.served <= limit + chunk
    error = caught.value
    assert error.status == 413
    assert error.extra["limit_bytes"] == limit
    assert error.errors == [
        {"field": "photos", "in": "body", "reason": _(service.TOO_LARGE, size="1")}
    ]


async def test_an_upload_declaring_too_many_bytes_is_not_read(settings: Settings) -> None:
    class Unreadable(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            raise AssertionError("read")

    headers = Headers({"content-type": "image/jpeg"})
    upload = StarletteUpload(
        Unreadable(), size=settings.max_photo_bytes + 1, filename="big.jpg", headers=headers
    )
    with pytest.raises(PayloadTooLarge):
        await ingest_photo(settings, upload)
    with pytest.raises(PayloadTooLarge):
        await ingest_photo(settings, b"\xff\xd8\xff" + bytes(settings.max_photo_bytes))


async def test_a_photo_at_the_size_limit_is_read_in_chunks_and_accepted(
    settings: Settings,
) -> None:
    data = images.noisy_jpeg((640, 480))
    exact = settings.model_copy(update={"max_photo_bytes": len(data)})
    photo = await ingest_photo(exact, upload_of(data, "IMG_1.JPG", "application/octet-stream"))
    assert photo_path(settings, photo.name).is_file()
    stream = images.CountingStream(data, total=len(data), chunk=1000)
    await ingest_photo(exact, stream)


# Downscaling --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "size", "stored"),
    [
        # Decoded at 1/2 scale by libjpeg: the long side stays ≥ 1600 and ≤ 2560.
        ("JPEG", (3400, 1800), (1700, 900)),
        # At 1/2 it would fall under 1600: decoded in full and resampled to 2560.
        ("JPEG", (2800, 2100), (2560, 1920)),
        ("PNG", (1800, 3000), (1536, 2560)),
        ("PNG", (1200, 800), (1200, 800)),
    ],
)
async def test_long_side_is_at_most_2560_and_the_thumbnail_320(
    settings: Settings, kind: str, size: tuple[int, int], stored: tuple[int, int]
) -> None:
    source = images.halves(size, images.RED, images.BLUE)
    data = images.jpeg(source, quality=80) if kind == "JPEG" else images.png(source)
    photo = await ingest_photo(settings, data)
    assert (photo.width, photo.height) == stored
    assert stored_image(settings, photo.name).size == stored
    thumb = stored_image(settings, photo.thumb_name)
    assert max(thumb.size) == 320
    assert abs(thumb.size[0] / thumb.size[1] - size[0] / size[1]) < 0.02
    assert close(thumb.getpixel((2, thumb.size[1] // 2)), images.RED)


async def test_a_small_photo_is_not_enlarged(settings: Settings) -> None:
    photo = await ingest_photo(settings, images.jpeg(size=(200, 100)))
    assert stored_image(settings, photo.thumb_name).size == (200, 100)


# Colour profiles ----------------------------------------------------------------------------


async def test_an_unusable_colour_profile_is_dropped(settings: Settings) -> None:
    data = images.jpeg(size=(40, 30), icc_profile=b"not a colour profile" * 10)
    photo = await ingest_photo(settings, data)
    image = stored_image(settings, photo.name)
    assert "icc_profile" not in image.info
    assert close(image.getpixel((5, 15)), images.RED)


async def test_a_non_srgb_profile_is_converted_to_srgb(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pillow cannot build a Display P3 profile; an sRGB one under another name takes the same
    # path (a real colour transform) and must leave the colours as they were.
    monkeypatch.setattr(ImageCms, "getProfileDescription", lambda profile: "Display P3")
    conversions: list[str] = []
    real = ImageCms.profileToProfile

    def spy(*args: object, **kwargs: object) -> Image.Image | None:
        conversions.append("converted")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ImageCms, "profileToProfile", spy)
    photo = await ingest_photo(settings, images.phone_jpeg(orientation=1))
    assert conversions == ["converted"]
    image = stored_image(settings, photo.name)
    assert "icc_profile" not in image.info
    assert close(image.getpixel((8, 20)), images.RED)
    assert close(image.getpixel((52, 20)), images.BLUE)


# Storage ------------------------------------------------------------------------------------


async def test_names_are_unguessable_distinct_and_files_private(settings: Settings) -> None:
    data = images.jpeg()
    photos = [await ingest_photo(settings, data) for _ in range(5)]
    names = {photo.name for photo in photos}
    assert len(names) == 5
    assert len({photo.sha256 for photo in photos}) == 1  # same pixels, different names
    for photo in photos:
        assert NAME.fullmatch(photo.name)
        assert storage.TOKEN_BYTES * 8 >= 128
        assert photo.thumb_name == photo.name.removesuffix(".jpg") + ".thumb.jpg"
        for name in (photo.name, photo.thumb_name):
            path = photo_path(settings, name)
            assert path == settings.upload_dir / "photos" / name[:2] / name
            assert stat.S_IMODE(path.stat().st_mode) == 0o640
    leftovers = [p for p in (settings.upload_dir / "photos").rglob("*") if p.name.startswith(".")]
    assert leftovers == []


async def test_nothing_is_left_behind_when_storing_fails(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    written: list[Path] = []
    real = storage.write_atomically

    def fail_second(path: Path, data: bytes) -> None:
        if written:
            raise OSError("disk full")
        real(path, data)
        written.append(path)

    monkeypatch.setattr(storage, "write_atomically", fail_second)
    with pytest.raises(OSError, match="disk full"):
        await ingest_photo(settings, images.jpeg())
    assert written and not written[0].exists()  # the thumbnail written first was removed


async def test_a_cancelled_ingest_leaves_no_files(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The client went away while its photo was being processed: the worker finishes and
    writes, nobody receives the name, so the files must go."""
    started, release = threading.Event(), threading.Event()
    real = imaging.process

    def slow(*args: Any) -> imaging.EncodedPhoto:
        started.set()
        release.wait(10)
        return real(*args)

    monkeypatch.setattr(imaging, "process", slow)
    async with anyio.create_task_group() as group:
        group.start_soon(ingest_photo, settings, images.jpeg())
        await anyio.to_thread.run_sync(started.wait, 10)
        group.cancel_scope.cancel()
        release.set()
    assert (settings.upload_dir / "photos").is_dir()  # the worker did write ...
    assert list((settings.upload_dir / "photos").rglob("*.jpg")) == []  # ... and it was removed


async def test_pillow_errors_other_than_refusals_are_not_hidden(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise MemoryError

    monkeypatch.setattr(imaging, "_to_rgb", broken)
    with pytest.raises(MemoryError):
        await ingest_photo(settings, images.png(Image.new("LA", (4, 4))))


# Through HTTP -------------------------------------------------------------------------------


@pytest.fixture
def upload_app(app: FastAPI) -> FastAPI:
    """A stand-in for the reports endpoint: one multipart file through ingest_photo."""
    router = APIRouter()

    @router.post("/api/v1/test-photos")
    async def receive(photos: UploadFile, settings: SettingsDep) -> dict[str, object]:
        stored = await ingest_photo(settings, photos)
        return {"name": stored.name, "width": stored.width}

    app.include_router(router)
    return app


async def test_multipart_upload_refusals_are_problem_json(
    upload_app: FastAPI, client: httpx.AsyncClient
) -> None:
    english = {"Accept-Language": "en"}
    refused = await client.post(
        "/api/v1/test-photos",
        files={"photos": ("cat.jpg", images.HTML, "image/jpeg")},
        headers=english,
    )
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    body = refused.json()
    assert body["type"] == "/problems/invalid-input"
    assert body["errors"][0]["field"] == "photos"
    assert "JPEG, PNG or WebP" in body["errors"][0]["reason"]

    accepted = await client.post(
        "/api/v1/test-photos",
        files={"photos": ("photo.png", images.phone_jpeg(orientation=6), "image/png")},
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["width"] == 40
