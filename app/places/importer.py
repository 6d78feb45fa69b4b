"""Importing places from an OpenStreetMap extract (GeoJSON or Overpass JSON), streamed: memory
stays the same whatever the file's size (at most one batch of places is held). Each record is
upserted by its OSM id, so running the same file twice changes nothing. A batch is written in
one SAVEPOINT and committed; should the database refuse a record, the batch is written again
one SAVEPOINT per record, so only that record is skipped, with its reason."""

from __future__ import annotations

import contextlib
import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any, Literal

import ijson
from sqlalchemy.ext.asyncio import AsyncSession

from app.kit import batches
from app.org import repository as org_repo
from app.places import osm
from app.places.schemas import PlaceIn
from app.places.service import Outcome, upsert_from_source

Format = Literal["geojson", "overpass"]
FORMAT_NAMES: dict[str, str] = {"geojson": "GeoJSON", "overpass": "Overpass JSON"}
_ITEMS: dict[str, Format] = {"features": "geojson", "elements": "overpass"}
BATCH_SIZE = 500
SHOWN_SKIPS = 50


class NotOsmData(Exception):
    """The file cannot be read as GeoJSON or Overpass JSON (nothing was imported)."""


class BrokenFile(Exception):
    """The file stopped being valid JSON part-way through (what came before was imported)."""


class UnknownDepartment(Exception):
    pass


@dataclass
class FileInfo:
    """What the reader learned about the file besides its records."""

    format: Format | None = None
    remark: str | None = None  # Overpass reports a timeout or an error here: the data is partial
    records: int = 0


def read_records(stream: IO[bytes], info: FileInfo) -> Iterator[Any]:
    """The records of the file one by one (GeoJSON `features` or Overpass `elements`), parsed
    as they are read: only one record is ever held in memory. `info.format` is set when the
    list is found; NotOsmData when the file is no such document, BrokenFile when it breaks
    after records were read."""
    builder: ijson.ObjectBuilder | None = None
    item_prefix = ""
    try:
        for prefix, event, value in ijson.parse(stream, use_float=True):
            if builder is not None:
                builder.event(event, value)
                if prefix == item_prefix and event in ("end_map", "end_array"):
                    info.records += 1
                    yield builder.value
                    builder = None
                continue
            if prefix == item_prefix and item_prefix:
                if event in ("start_map", "start_array"):
                    builder = ijson.ObjectBuilder()
                    builder.event(event, value)
                else:  # a bare number or string in the list
                    info.records += 1
                    yield value
            elif prefix == "" and event == "map_key":
                if value in _ITEMS and info.format is None:
                    info.format = _ITEMS[value]
                    item_prefix = f"{value}.item"
            elif prefix == "" and event not in ("start_map", "end_map"):
                raise NotOsmData("the file is JSON but not an object (GeoJSON or Overpass JSON)")
            elif prefix == "remark" and event == "string":
                info.remark = value
    except ijson.JSONError as exc:
        message = str(exc).strip() or type(exc).__name__
        if info.records or builder is not None:
            raise BrokenFile(
                f"the file breaks off after {info.records} records: {message}"
            ) from exc
        raise NotOsmData(f"not valid JSON: {message}") from exc
    if info.format is None:
        raise NotOsmData(
            'neither GeoJSON (no "features" list) nor Overpass JSON (no "elements" list)'
        )


@dataclass
class Summary:
    format: Format | None = None
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    untagged: int = 0  # bare nodes of ways and the like: geometry, not places
    skips: list[tuple[str, str]] = field(default_factory=list)  # the first SHOWN_SKIPS
    remark: str | None = None
    broken: str | None = None


@dataclass(frozen=True)
class Options:
    source: str = "osm"
    department_code: str | None = None
    bbox: tuple[float, float, float, float] | None = None  # west, south, east, north
    dry_run: bool = False
    batch_size: int = BATCH_SIZE
    shown_skips: int = SHOWN_SKIPS


def _name(tags: dict[str, str]) -> str:
    return tags.get("name") or tags.get("name:vi") or tags.get("name:en") or ""


@dataclass(frozen=True, slots=True)
class _Pending:
    record_id: str
    name: str
    data: PlaceIn


class _Import:
    def __init__(
        self,
        session: AsyncSession,
        options: Options,
        department_id: int | None,
        report: IO[str] | None,
    ) -> None:
        self.session = session
        self.options = options
        self.department_id = department_id
        self.summary = Summary()
        self.writer = csv.writer(report) if report is not None else None
        if self.writer is not None:
            self.writer.writerow(["id", "name", "reason"])

    def skip(self, record_id: str, name: str, reason: str) -> None:
        self.summary.skipped += 1
        if len(self.summary.skips) < self.options.shown_skips:
            self.summary.skips.append((record_id, reason))
        if self.writer is not None:
            self.writer.writerow([record_id, name, reason])

    def place_of(self, index: int, record: Any, fmt: Format | None) -> _Pending | None:
        """The place a record describes, or None (counted as skipped or untagged)."""
        feature: osm.OsmFeature | None = None
        try:
            if not isinstance(record, dict):
                raise osm.Skip("not a JSON object")
            feature = osm.from_geojson(record) if fmt == "geojson" else osm.from_overpass(record)
            if not feature.tags:
                self.summary.untagged += 1
                return None
            data = osm.to_place(feature, source=self.options.source, bbox=self.options.bbox)
        except osm.Skip as exc:
            record_id = (feature.osm_id if feature else None) or f"#{index}"
            self.skip(record_id, _name(feature.tags) if feature else "", str(exc))
            return None
        except (TypeError, ValueError, KeyError, AttributeError) as exc:  # a shape never seen
            self.skip(f"#{index}", "", f"malformed record ({type(exc).__name__}: {exc})")
            return None
        return _Pending(data.source_id or f"#{index}", _name(feature.tags), data)

    async def _upsert(self, data: PlaceIn) -> Outcome:
        upserted = await upsert_from_source(self.session, data)
        if upserted.outcome == "created" and self.department_id is not None:
            upserted.place.department_id = self.department_id
            await self.session.flush()
        return upserted.outcome

    def _count(self, outcome: Outcome) -> None:
        setattr(self.summary, outcome, getattr(self.summary, outcome) + 1)

    async def write(self, batch: list[_Pending]) -> None:
        await batches.save_batch(
            self.session,
            batch,
            lambda item: self._upsert(item.data),
            saved=self._count,
            refused=lambda item, reason: self.skip(item.record_id, item.name, reason),
        )


async def import_places(
    session: AsyncSession,
    stream: IO[bytes],
    options: Options,
    *,
    progress: Callable[[int, Summary], None] | None = None,
    report: IO[str] | None = None,
) -> Summary:
    """Import every record of `stream`. `progress(bytes read, summary)` is called after each
    record; `report` (a text file) receives a CSV line (id, name, reason) per skipped record.
    Commits every `options.batch_size` places, or rolls everything back for a dry run."""
    info = FileInfo()
    batch: list[_Pending] = []
    async with contextlib.AsyncExitStack() as stack:
        await batches.begin(session, stack)
        department_id: int | None = None
        if options.department_code:
            department = await org_repo.department_by_code(session, options.department_code)
            if department is None:
                await session.rollback()
                raise UnknownDepartment(options.department_code)
            department_id = department.id
        work = _Import(session, options, department_id, report)
        summary = work.summary
        try:
            for index, record in enumerate(read_records(stream, info), 1):
                summary.format = info.format
                pending = work.place_of(index, record, info.format)
                if pending is not None:
                    batch.append(pending)
                if len(batch) >= options.batch_size:
                    await work.write(batch)
                    batch.clear()
                    if not options.dry_run:
                        await session.commit()
                        await batches.begin(session, stack)
                if progress is not None:
                    progress(stream.tell(), summary)
        except BrokenFile as exc:
            summary.broken = str(exc)  # what was read is good: keep it
        except BaseException:
            await session.rollback()
            raise
        if batch:
            await work.write(batch)
        summary.format, summary.remark = info.format, info.remark
        if options.dry_run:
            await session.rollback()
        else:
            await session.commit()
    if progress is not None:
        progress(stream.tell(), summary)
    return summary
