"""Test images made with Pillow at run time (nothing binary is committed)."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import AsyncIterator

from PIL import ExifTags, Image, ImageCms

RED = (220, 20, 20)
BLUE = (20, 40, 220)
XMP = (
    b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" '
    b'exif:GPSLatitude="21,43.2N" exif:GPSLongitude="104,54.5E"/>'
    b'</rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
)


def halves(size: tuple[int, int], left: tuple[int, int, int], right: tuple[int, int, int]):
    image = Image.new("RGB", size, left)
    image.paste(right, (size[0] // 2, 0, size[0], size[1]))
    return image


def phone_exif(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Citizen"
    exif[ExifTags.Base.Model] = "Test Phone"
    exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (21.0, 43.0, 12.5)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (104.0, 54.0, 30.1)
    gps[ExifTags.GPS.GPSProcessingMethod] = b"ASCII\x00\x00\x00GPS"
    return exif


def jpeg(
    image: Image.Image | None = None,
    *,
    size: tuple[int, int] = (60, 40),
    quality: int = 92,
    **params: object,
) -> bytes:
    image = image or halves(size, RED, BLUE)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, **params)
    return out.getvalue()


def phone_jpeg(orientation: int = 6, size: tuple[int, int] = (60, 40)) -> bytes:
    """Landscape pixels (red left, blue right) with the metadata a phone writes: EXIF with GPS,
    an XMP packet, a comment and an sRGB colour profile."""
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return jpeg(
        size=size,
        exif=phone_exif(orientation),
        xmp=XMP,
        comment=b"taken at 12 Tran Hung Dao",
        icc_profile=srgb,
    )


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def webp(image: Image.Image, **params: object) -> bytes:
    out = io.BytesIO()
    image.save(out, "WEBP", **params)
    return out.getvalue()


def noisy_jpeg(size: tuple[int, int] = (320, 240)) -> bytes:
    """A JPEG with real entropy-coded data, so cutting it short truncates pixels."""
    noise = Image.effect_noise(size, 60)
    return jpeg(Image.merge("RGB", (noise, noise.rotate(90, expand=False), noise)))


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_declaring(width: int, height: int) -> bytes:
    """A few hundred bytes claiming width×height RGB pixels: a decompression bomb's header."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = zlib.compress(b"\x00" * 4096, 9)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", rows)
        + _png_chunk(b"IEND", b"")
    )


def jpeg_declaring(width: int, height: int) -> bytes:
    """A small real JPEG whose frame header (SOF0) is patched to claim width×height."""
    data = bytearray(jpeg(size=(16, 16)))
    sof = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, height, width)
    return bytes(data)


HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>\n"


class CountingStream:
    """An async byte iterator that counts what it served (a slow upload, chunk by chunk)."""

    def __init__(self, head: bytes, total: int, chunk: int = 64 * 1024) -> None:
        self.head = head
        self.total = total
        self.chunk = chunk
        self.served = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.served < self.total:
            start = self.served
            piece = (self.head[start : start + self.chunk]).ljust(self.chunk, b"\x00")
            piece = piece[: self.total - start]
            self.served += len(piece)
            yield piece
