"""The Pillow half of the photo pipeline: recognise, check, decode once, re-encode once.

Everything here is synchronous CPU work on bytes already in memory; app.photos.service runs it in
a worker thread. Refusals are the exceptions below (no user-visible text: the worker thread does
not know the request's language); the service turns them into problem+json errors.
"""

from __future__ import annotations

import io
import logging
import threading
import warnings
from dataclasses import dataclass
from enum import StrEnum

from PIL import Image, ImageCms, ImageOps

logger = logging.getLogger("citizenhub.photos")

MAX_LONG_SIDE = 2560
THUMB_LONG_SIDE = 320
# A JPEG whose long side is still at least this long at 1/2, 1/4 or 1/8 scale is decoded at that
# scale (libjpeg's DCT scaling: cheaper than a full decode, and no resampling pass afterwards).
# A 12-megapixel phone photo (4000×3000) is decoded straight to 2000×1500. Below it, the photo is
# decoded in full and resampled to MAX_LONG_SIDE.
MIN_DRAFT_LONG_SIDE = 1600
QUALITY = 82
THUMB_QUALITY = 80
# Enough of the file to recognise every accepted format (WebP needs 12 bytes).
SNIFF_BYTES = 12


class PhotoFormat(StrEnum):
    jpeg = "JPEG"
    png = "PNG"
    webp = "WEBP"


# What Pillow may call a file we recognised: a JPEG carrying a multi-picture index opens as MPO.
_PILLOW_FORMATS = {
    PhotoFormat.jpeg: {"JPEG", "MPO"},
    PhotoFormat.png: {"PNG"},
    PhotoFormat.webp: {"WEBP"},
}


class PhotoRejected(Exception):
    """The bytes are not a photo we accept; subclasses say why."""


class NotAPhoto(PhotoRejected):
    pass


class TooManyPixels(PhotoRejected):
    pass


class DamagedPhoto(PhotoRejected):
    pass


@dataclass(frozen=True, slots=True)
class EncodedPhoto:
    photo: bytes
    thumbnail: bytes
    width: int
    height: int


def sniff(head: bytes) -> PhotoFormat | None:
    """The format from the file's first bytes (magic numbers), whatever its name or content type."""
    if head.startswith(b"\xff\xd8\xff"):
        return PhotoFormat.jpeg
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PhotoFormat.png
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return PhotoFormat.webp
    return None


def process(data: bytes, kind: PhotoFormat, max_pixels: int) -> EncodedPhoto:
    """One decode, one encode (plus the thumbnail): orientation applied, RGB on white, long side at
    most MAX_LONG_SIDE, sRGB, optimised baseline JPEG without any metadata."""
    image = _open(data, kind)
    try:
        width, height = image.size
        # Image.open has read the header only: refuse before a single pixel is decoded.
        if width * height > max_pixels:
            raise TooManyPixels(f"{width}×{height}")
        if kind is PhotoFormat.jpeg:
            scale = _dct_scale(width, height)
            if scale > 1:
                image.draft("RGB", (width // scale, height // scale))
        icc_profile = image.info.get("icc_profile")
        try:
            image.load()
        except MemoryError:
            raise
        except Exception as exc:  # truncated or corrupt data: Pillow raises a variety of errors
            raise DamagedPhoto(type(exc).__name__) from exc
        _apply_orientation(image)
        picture = _to_srgb(_fit(_to_rgb(image), MAX_LONG_SIDE, reducing_gap=3.0), icc_profile)
        photo = _encode(picture, QUALITY)
        thumbnail = _encode(_fit(picture, THUMB_LONG_SIDE, reducing_gap=2.0), THUMB_QUALITY)
        return EncodedPhoto(photo, thumbnail, picture.width, picture.height)
    finally:
        image.close()


# Python 3.11's warning filters are process-wide: the lock keeps our own threads from restoring
# each other's filters out of order. It is held only while Pillow reads a header.
_open_lock = threading.Lock()


def _open(data: bytes, kind: PhotoFormat) -> Image.Image:
    with _open_lock, warnings.catch_warnings():
        # Pillow's own guard warns above Image.MAX_IMAGE_PIXELS and raises above twice that.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=[kind.value])
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise TooManyPixels(str(exc)) from exc
        except MemoryError:
            raise
        except Exception as exc:  # right magic number, unreadable header
            raise DamagedPhoto(type(exc).__name__) from exc
    if image.format not in _PILLOW_FORMATS[kind]:
        image.close()
        raise NotAPhoto(str(image.format))
    return image


def _dct_scale(width: int, height: int) -> int:
    long_side = max(width, height)
    for scale in (8, 4, 2):
        if -(-long_side // scale) >= MIN_DRAFT_LONG_SIDE:
            return scale
    return 1


def _apply_orientation(image: Image.Image) -> None:
    try:
        ImageOps.exif_transpose(image, in_place=True)
    except MemoryError:
        raise
    except Exception:  # an unreadable EXIF block does not make the photo unusable
        logger.info("photo EXIF orientation unreadable; kept as stored")


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode in ("RGBA", "RGBa", "LA", "La", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    if image.mode == "RGB":
        return image
    if image.mode == "I" or image.mode.startswith("I;16"):
        # 16-bit grey: scale to 8 bits (a plain convert would clip nearly everything to white).
        return image.convert("I").point(lambda value: value * (1 / 256)).convert("RGB")
    return image.convert("RGB")


def _fit(image: Image.Image, long_side: int, *, reducing_gap: float) -> Image.Image:
    width, height = image.size
    if max(width, height) <= long_side:
        return image
    if width >= height:
        size = (long_side, max(1, round(height * long_side / width)))
    else:
        size = (max(1, round(width * long_side / height)), long_side)
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=reducing_gap)


_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _to_srgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """Photos from some phones (Display P3) look washed out once their profile is dropped:
    convert their pixels to sRGB, which is what a JPEG without a profile means."""
    if not icc_profile:
        return image
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        description = ImageCms.getProfileDescription(profile) or ""
        if "srgb" in description.lower() or profile.profile.xcolor_space.strip() != "RGB":
            return image
        converted = ImageCms.profileToProfile(image, profile, _SRGB, outputMode="RGB")
    except MemoryError:
        raise
    except Exception:  # a broken profile: keep the pixels as they are
        logger.info("photo colour profile unusable; pixels kept as sRGB")
        return image
    assert converted is not None
    return converted


def _encode(image: Image.Image, quality: int) -> bytes:
    # Pillow carries info (EXIF, XMP, comment, ICC, DPI) through convert() and resize() and
    # writes some of it back on save: drop it all.
    image.info = {}
    out = io.BytesIO()
    # Baseline, Huffman-optimised: progressive encoding cost 3x the time for 5% fewer bytes.
    image.save(out, "JPEG", quality=quality, optimize=True)
    return out.getvalue()
