"""Photo intake: read the upload within the size limit, recognise it by its bytes, process it off
the event loop (app.photos.imaging), store it (app.photos.storage)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass

from anyio import CancelScope, CapacityLimiter, to_thread
from anyio.lowlevel import checkpoint
from starlette.datastructures import UploadFile

from app.config import Settings
from app.errors import AppError, InvalidInput, PayloadTooLarge
from app.kit.i18n import N_, format_number
from app.kit.i18n import gettext as _
from app.photos import imaging, storage
from app.photos.imaging import PhotoFormat

logger = logging.getLogger("citizenhub.photos")

CHUNK_BYTES = 1024 * 1024
# Photos processed at once per process. Each holds its decoded pixels (a PNG at the pixel limit
# is 160 MB), and Pillow uses one core per photo: more at once buys memory use, not speed.
CONCURRENCY = 2
_limiter = CapacityLimiter(CONCURRENCY)

PhotoUpload = UploadFile | bytes | AsyncIterable[bytes]

NOT_A_PHOTO = N_("This file is not a photo we accept. Send a JPEG, PNG or WebP image.")
EMPTY = N_("The file is empty.")
TOO_LARGE = N_("This photo is too large: each photo may be at most %(size)s MB.")
TOO_MANY_PIXELS = N_(
    "This photo has too many pixels: at most %(megapixels)s megapixels are accepted."
)
DAMAGED = N_("This photo could not be read: the file is damaged or incomplete.")


@dataclass(frozen=True, slots=True)
class StoredPhoto:
    """A photo as stored: `name` is what a domain keeps (the thumbnail's name follows from it);
    width and height are the stored JPEG's; bytes and sha256 describe the stored file."""

    name: str
    thumb_name: str
    width: int
    height: int
    bytes: int
    sha256: str


async def ingest_photo(
    settings: Settings, upload: PhotoUpload, *, field: str = "photos"
) -> StoredPhoto:
    """Checks, re-encodes and stores one photo. Raises PayloadTooLarge (413) or InvalidInput (422)
    naming `field`; stores nothing when it raises."""
    data, kind = await _read(upload, settings.max_photo_bytes, field)
    token = storage.new_token()
    try:
        stored = await to_thread.run_sync(
            _process_and_store, settings, token, data, kind, limiter=_limiter
        )
        # The worker cannot be interrupted: a cancellation meanwhile (the client went away) is
        # only delivered here, and then nobody will ever receive the name.
        await checkpoint()
        return stored
    except imaging.TooManyPixels:
        megapixels = format_number(round(settings.max_photo_pixels / 1_000_000, 1))
        raise _refusal(InvalidInput, field, TOO_MANY_PIXELS, megapixels=megapixels) from None
    except imaging.DamagedPhoto:
        raise _refusal(InvalidInput, field, DAMAGED) from None
    except imaging.NotAPhoto:
        raise _refusal(InvalidInput, field, NOT_A_PHOTO) from None
    except BaseException:
        # Cancelled or failed after the worker may have written files.
        with CancelScope(shield=True):
            await storage.delete_photo(settings, storage.photo_name(token))
        raise


def _process_and_store(
    settings: Settings, token: str, data: bytes, kind: PhotoFormat
) -> StoredPhoto:
    encoded = imaging.process(data, kind, settings.max_photo_pixels)
    name = storage.photo_name(token)
    thumb_name = storage.thumbnail_name(name)
    storage.write_atomically(storage.photo_path(settings, thumb_name), encoded.thumbnail)
    storage.write_atomically(storage.photo_path(settings, name), encoded.photo)
    return StoredPhoto(
        name=name,
        thumb_name=thumb_name,
        width=encoded.width,
        height=encoded.height,
        bytes=len(encoded.photo),
        sha256=hashlib.sha256(encoded.photo).hexdigest(),
    )


async def _read(upload: PhotoUpload, limit: int, field: str) -> tuple[bytes, PhotoFormat]:
    """The upload's bytes, refused as soon as they pass `limit` (at most one chunk more is read)
    or as soon as the first bytes show the file is not a photo."""
    if isinstance(upload, bytes | bytearray | memoryview):
        data = bytes(upload)
        if len(data) > limit:
            raise _too_large(field, limit)
        return data, _recognise(data, field)
    if isinstance(upload, UploadFile):
        if upload.size is not None and upload.size > limit:
            raise _too_large(field, limit)
        await upload.seek(0)
        chunks = _chunks_of(upload)
    else:
        chunks = aiter(upload)
    buffer = bytearray()
    kind: PhotoFormat | None = None
    try:
        async for chunk in chunks:
            if len(buffer) + len(chunk) > limit:
                raise _too_large(field, limit)
            buffer += chunk
            if kind is None and len(buffer) >= imaging.SNIFF_BYTES:
                kind = _recognise(buffer, field)
    finally:
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            await aclose()
    data = bytes(buffer)
    return data, kind or _recognise(data, field)


async def _chunks_of(upload: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(CHUNK_BYTES):
        yield chunk


def _recognise(head: bytes | bytearray, field: str) -> PhotoFormat:
    if not head:
        raise _refusal(InvalidInput, field, EMPTY)
    kind = imaging.sniff(bytes(head[: imaging.SNIFF_BYTES]))
    if kind is None:
        raise _refusal(InvalidInput, field, NOT_A_PHOTO)
    return kind


def _too_large(field: str, limit: int) -> AppError:
    size = format_number(round(limit / (1024 * 1024), 1))
    return _refusal(PayloadTooLarge, field, TOO_LARGE, limit_bytes=limit, size=size)


def _refusal(
    error: type[AppError],
    field: str,
    message: str,
    *,
    limit_bytes: int | None = None,
    **variables: object,
) -> AppError:
    reason = _(message, **variables)
    logger.info("photo refused", extra={"field": field, "reason": message})
    errors = [{"field": field, "in": "body", "reason": reason}]
    if limit_bytes is None:
        return error(reason, errors=errors)
    return error(reason, errors=errors, limit_bytes=limit_bytes)
