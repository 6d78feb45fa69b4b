"""Photos: residents' report photos and staff's proof-of-fix photos, checked, cleaned and stored.

Public API (what other domains use; everything else in the package is internal)::

    async def ingest_photo(
        settings: Settings, upload: UploadFile | bytes | AsyncIterable[bytes], *, field="photos"
    ) -> StoredPhoto
    async def delete_photo(settings: Settings, name: str) -> None
    def photo_path(settings: Settings, name: str) -> Path
    def thumbnail_name(name: str) -> str

    @dataclass(frozen=True)
    class StoredPhoto: name, thumb_name, width, height, bytes, sha256

`ingest_photo` reads the upload in chunks and refuses it with PayloadTooLarge (413) as soon as it
passes settings.max_photo_bytes. It accepts JPEG, PNG and WebP only, recognised by their first
bytes (never by the file name or the content type the client sent), and refuses anything else,
a photo of more than settings.max_photo_pixels pixels (checked from the header, before any
decoding) and a truncated or corrupt file with InvalidInput (422); every error names `field`.
An accepted photo is decoded once: EXIF orientation applied, flattened onto white, converted to
sRGB, its long side brought to at most 2560 px, and saved as an optimised baseline JPEG (quality 82)
without any metadata (no EXIF, GPS, XMP, ICC profile or comment), with a 320 px thumbnail.
Both files are written atomically under settings.upload_dir/photos/<shard>/, mode 0640.
StoredPhoto.name is what a domain stores; the thumbnail's name follows from it
(`thumbnail_name`). `bytes` and `sha256` describe the stored JPEG.

`delete_photo` removes a photo and its thumbnail (for a submission that fails after its photos
were stored); it is idempotent. `photo_path` turns a photo's or a thumbnail's name into its file
and raises PhotoNotFound (404) for anything that is not exactly such a name.

`GET /media/photos/{name}` (app.photos.api) serves both, as image/jpeg with nosniff and a year of
immutable caching. Names are unguessable (192 random bits); access control for photos of private
reports belongs to the reports domain.
"""

from app.photos.service import StoredPhoto, ingest_photo
from app.photos.storage import PhotoNotFound, delete_photo, photo_path, thumbnail_name

__all__ = [
    "PhotoNotFound",
    "StoredPhoto",
    "delete_photo",
    "ingest_photo",
    "photo_path",
    "thumbnail_name",
]
