"""Photo pipeline benchmark: `ingest_photo` against Pillow's own decode + encode of the same photo.

    .venv/bin/python bench/photos.py [--runs 21] [--warmup 3] [--size 4000x3000]
                                     [--orientation 1] [--strict] [--json FILE]

Generates a phone-like JPEG (12 megapixels by default, quality 92, with EXIF including GPS;
gradients, blotches and grain so it compresses like a photo, about 3 MB), then measures, in
alternation so both see the same machine load:

  floor   Pillow alone: open + load + save as JPEG quality 82 (baseline), into memory
  ingest  app.photos.ingest_photo end to end: read a spooled UploadFile in chunks, recognise,
          decode, orient, re-encode (optimised baseline, no metadata) + thumbnail, write both files
          atomically (fsync) to a temporary upload folder

and prints the median of each and ingest ÷ floor (target ≤ 1.3). `--strict` exits 1 above it.
The functions `make_photo_jpeg` and `median_ms` are meant to be reused by other benchmarks.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import platform
import random
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO, cast

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from PIL import ExifTags, Image  # noqa: E402
from starlette.datastructures import Headers, UploadFile  # noqa: E402

from app.config import Environment, Settings  # noqa: E402
from app.photos import delete_photo, ingest_photo  # noqa: E402

TARGET_RATIO = 1.3
FLOOR_QUALITY = 82
SPOOL_BYTES = 1024 * 1024  # what Starlette's multipart parser keeps in memory before disk


def make_photo_jpeg(
    width: int = 4000, height: int = 3000, *, orientation: int = 1, seed: int = 12
) -> bytes:
    """A JPEG that costs what a phone photo costs to decode: smooth light, blotchy shapes and
    sensor grain, quality 92, with the EXIF a phone writes (camera, time, GPS position)."""
    rng = random.Random(seed)

    def noise(w: int, h: int) -> Image.Image:
        return Image.frombytes("L", (w, h), rng.randbytes(w * h))

    light = Image.linear_gradient("L").resize((width, height))
    glow = Image.radial_gradient("L").resize((width, height))
    blotches = noise(max(1, width // 24), max(1, height // 24)).resize(
        (width, height), Image.Resampling.BICUBIC
    )
    grain = noise(width, height)
    channels = []
    for base, blotch_weight in ((light, 0.45), (glow, 0.35), (light.rotate(180), 0.3)):
        channel = Image.blend(base, blotches, blotch_weight)
        channels.append(Image.blend(channel, grain, 0.10))
    image = Image.merge("RGB", channels)

    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Citizen"
    exif[ExifTags.Base.Model] = "Bench Phone 12"
    exif[ExifTags.Base.DateTime] = "2026:11:25 09:30:00"
    exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (21.0, 43.0, 12.5)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (104.0, 54.0, 30.1)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=92, exif=exif)
    return out.getvalue()


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def pillow_floor(data: bytes) -> None:
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        image.save(io.BytesIO(), "JPEG", quality=FLOOR_QUALITY)


def spooled_upload(data: bytes) -> UploadFile:
    """The UploadFile Starlette hands an endpoint for a multipart file of this size."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - closed by caller
    spool.write(data)
    spool.seek(0)
    headers = Headers({"content-type": "image/jpeg"})
    file = cast(BinaryIO, spool)  # what Starlette's parser passes too
    return UploadFile(file, size=len(data), filename="IMG_0001.jpg", headers=headers)


async def measure(data: bytes, runs: int, warmup: int, upload_dir: Path) -> dict[str, Any]:
    settings = Settings(
        environment=Environment.test,
        secret_key=secrets.token_urlsafe(48),
        upload_dir=upload_dir,
        log_level="WARNING",
    )
    floor: list[float] = []
    ingest: list[float] = []
    stored = None

    def timed(function: Callable[[], None]) -> float:
        started = time.perf_counter()
        function()
        return time.perf_counter() - started

    for index in range(warmup + runs):
        upload = spooled_upload(data)
        # Alternate which goes first, so a burst of load elsewhere does not favour either.
        if index % 2:
            floor_s = timed(lambda: pillow_floor(data))
        started = time.perf_counter()
        stored = await ingest_photo(settings, upload)
        ingest_s = time.perf_counter() - started
        if not index % 2:
            floor_s = timed(lambda: pillow_floor(data))
        await upload.close()
        await delete_photo(settings, stored.name)
        if index >= warmup:
            floor.append(floor_s)
            ingest.append(ingest_s)
    assert stored is not None
    return {
        "floor_ms": median_ms(floor),
        "ingest_ms": median_ms(ingest),
        "ratio": statistics.median(ingest) / statistics.median(floor),
        "floor_samples_ms": [round(s * 1000, 2) for s in floor],
        "ingest_samples_ms": [round(s * 1000, 2) for s in ingest],
        "stored": {
            "width": stored.width,
            "height": stored.height,
            "bytes": stored.bytes,
        },
    }


async def measure_submission(data: bytes, runs: int, warmup: int, workdir: Path) -> dict[str, Any]:
    """The whole photo submission: POST /api/v1/reports/multipart with one photo, through the
    application (ASGI, in process: no network), on a migrated SQLite database with the demo
    province, against Pillow's floor measured alternately in the same loop."""
    import httpx

    from app.db import create_engine, create_sessionmaker
    from app.demo.loader import load_demo
    from app.main import create_app

    url = f"sqlite+aiosqlite:///{workdir / 'bench.sqlite3'}"
    settings = Settings(
        environment=Environment.test,
        secret_key=secrets.token_urlsafe(48),
        database_url=url,
        upload_dir=workdir / "uploads",
        log_level="WARNING",
        print_demo_credentials=False,
        report_submissions_per_minute=1_000_000,
        rate_limit_write_per_minute=0,
        password_hash_time_cost=1,
        password_hash_memory_kib=8192,
        password_hash_parallelism=1,
    )
    app = create_app(settings)
    app.state.engine = create_engine(url)
    app.state.sessionmaker = create_sessionmaker(app.state.engine)
    async with app.state.sessionmaker() as session:
        await load_demo(session, app.state.hasher, settings)
        await session.commit()
    payload = json.dumps(
        {
            "service_code": "street_light",
            "description": "Cột đèn bị đổ",
            "lat": 21.7101,
            "lon": 104.8731,
            "attributes": {"pole_state": "fallen"},
        }
    )
    floor: list[float] = []
    submit: list[float] = []
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        for index in range(warmup + runs):
            started = time.perf_counter()
            response = await client.post(
                "/api/v1/reports/multipart",
                data={"payload": payload},
                files=[("photos", ("IMG_0001.jpg", data, "image/jpeg"))],
            )
            submit_s = time.perf_counter() - started
            if response.status_code != 201:
                raise SystemExit(f"submission failed: {response.status_code} {response.text[:300]}")
            started = time.perf_counter()
            pillow_floor(data)
            floor_s = time.perf_counter() - started
            if index >= warmup:
                floor.append(floor_s)
                submit.append(submit_s)
    await app.state.engine.dispose()
    return {
        "floor_ms": median_ms(floor),
        "submission_ms": median_ms(submit),
        "ratio": statistics.median(submit) / statistics.median(floor),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=21, help="measured runs (median; ≥ 15)")
    parser.add_argument("--warmup", type=int, default=3, help="unmeasured runs first")
    parser.add_argument("--size", default="4000x3000", help="photo size, WIDTHxHEIGHT")
    parser.add_argument("--orientation", type=int, default=1, help="EXIF orientation (1-8)")
    parser.add_argument("--strict", action="store_true", help=f"exit 1 above {TARGET_RATIO}")
    parser.add_argument("--json", type=Path, help="also write the results as JSON")
    args = parser.parse_args(argv)
    width, height = (int(part) for part in args.size.lower().split("x"))

    print(f"generating a {width}×{height} JPEG ...", flush=True)
    data = make_photo_jpeg(width, height, orientation=args.orientation)
    with tempfile.TemporaryDirectory(prefix="citizenhub-photos-bench-") as upload_dir:
        result = asyncio.run(measure(data, args.runs, args.warmup, Path(upload_dir)))
    with tempfile.TemporaryDirectory(prefix="citizenhub-photos-bench-") as workdir:
        from app.ops.migrations import upgrade

        upgrade(f"sqlite+aiosqlite:///{Path(workdir) / 'bench.sqlite3'}")
        submission = asyncio.run(measure_submission(data, args.runs, args.warmup, Path(workdir)))
    result["submission"] = submission

    stored = result["stored"]
    verdict = "ok" if result["ratio"] <= TARGET_RATIO else "ABOVE TARGET"
    print(
        f"input   {width}×{height} JPEG q92 with EXIF+GPS, {len(data) / 1e6:.2f} MB, "
        f"orientation {args.orientation}\n"
        f"stored  {stored['width']}×{stored['height']} optimised JPEG q82, "
        f"{stored['bytes'] / 1e6:.2f} MB (+ 320 px thumbnail)\n"
        f"runs    {args.runs} measured after {args.warmup} warm-up, alternating\n"
        f"floor   {result['floor_ms']:8.1f} ms  Pillow open + load + save JPEG q{FLOOR_QUALITY}\n"
        f"ingest  {result['ingest_ms']:8.1f} ms  ingest_photo end to end, with storage\n"
        f"ratio   {result['ratio']:8.2f}     target ≤ {TARGET_RATIO}: {verdict}\n"
        f"submit  {submission['submission_ms']:8.1f} ms  POST /api/v1/reports/multipart with this "
        f"photo (in process, SQLite), floor {submission['floor_ms']:.1f} ms in the same loop\n"
        f"ratio   {submission['ratio']:8.2f}     target ≤ {TARGET_RATIO}: "
        f"{'ok' if submission['ratio'] <= TARGET_RATIO else 'ABOVE TARGET'}"
    )
    if args.json:
        result.update(
            input={"width": width, "height": height, "bytes": len(data)},
            orientation=args.orientation,
            runs=args.runs,
            warmup=args.warmup,
            machine={"python": platform.python_version(), "platform": platform.platform()},
            pillow=Image.__version__,
        )
        args.json.write_text(json.dumps(result, indent=2))
    worst = max(result["ratio"], submission["ratio"])
    return 1 if args.strict and worst > TARGET_RATIO else 0


if __name__ == "__main__":
    sys.exit(main())
