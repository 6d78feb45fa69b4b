"""Where photos live: <upload_dir>/photos/<2-character shard>/<name>, under unguessable names.

A name is 32 characters of secrets.token_urlsafe (192 random bits) plus ".jpg"; its thumbnail is
the same token plus ".thumb.jpg". Nothing that does not match that pattern exactly is ever turned
into a path, so no name can reach outside the photos folder.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import tempfile
from pathlib import Path

from anyio import to_thread

from app.config import Settings
from app.errors import NotFound
from app.kit.i18n import N_

PHOTOS_DIR = "photos"
TOKEN_BYTES = 24  # 192 bits, 32 URL-safe characters
FILE_MODE = 0o640
DIR_MODE = 0o750
_NAME = re.compile(r"(?P<token>[A-Za-z0-9_-]{32})(?P<thumbnail>\.thumb)?\.jpg")


class PhotoNotFound(NotFound):
    code = "photo-not-found"
    title = N_("We could not find this photo.")


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def photo_name(token: str) -> str:
    return f"{token}.jpg"


def thumbnail_name(name: str) -> str:
    """The thumbnail's name for a photo's name (what the reports domain stores)."""
    return f"{_parse(name)['token']}.thumb.jpg"


def _parse(name: str) -> re.Match[str]:
    match = _NAME.fullmatch(name) if isinstance(name, str) else None
    if match is None:
        raise PhotoNotFound()
    return match


def photo_path(settings: Settings, name: str) -> Path:
    """The file of a photo or thumbnail name; PhotoNotFound (404) for anything else."""
    token = _parse(name)["token"]
    return settings.upload_dir / PHOTOS_DIR / token[:2] / name


def write_atomically(path: Path, data: bytes) -> None:
    """Readers see the whole file or none of it: a temporary file in the same folder, flushed to
    disk, then renamed over the final name."""
    path.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".part")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            os.fchmod(handle.fileno(), FILE_MODE)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def remove_files(settings: Settings, name: str) -> None:
    """Removes a photo and its thumbnail (either name may be given); missing files are fine."""
    token = _parse(name)["token"]
    for file_name in (photo_name(token), thumbnail_name(name)):
        with contextlib.suppress(FileNotFoundError):
            photo_path(settings, file_name).unlink()


async def delete_photo(settings: Settings, name: str) -> None:
    """Deletes a stored photo and its thumbnail, e.g. when the submission that stored them fails.
    Deleting twice, or a photo that is already gone, is not an error."""
    await to_thread.run_sync(remove_files, settings, name)
