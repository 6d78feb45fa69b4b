"""Importing and exporting the procedure catalogue, streamed both ways: memory stays the same
whatever the size of the file or of the catalogue.

Formats
- JSON: a list of procedure records, or {"procedures": [...], "life_events": [...]}; a record is
  app.procedures.schemas.ProcedureIn (life events: LifeEventIn). Read with ijson, one record at
  a time. The export writes the object form, every language of every text.
- CSV (UTF-8, with or without a byte order mark): one procedure per row, flat columns (COLUMNS)
  and the nested lists (steps, documents, fees, legal_basis) as JSON in their cells. Texts have
  a column per language (name_vi, name_en; the importer also takes others, e.g. name_fr; the
  export writes vi and en). Life events travel in JSON only.

Every record is validated as the API validates it; a bad one is skipped with its place in the
file and a readable reason, the good ones are upserted by code (app.procedures.service) a batch
per transaction, so a second run of the same file changes nothing. Life events are saved after
every procedure of the file, since their steps name procedures (they are held until then: a
catalogue has a handful)."""

from __future__ import annotations

import contextlib
import csv
import io
import json
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import IO, Any, Literal

import ijson
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.kit import batches
from app.kit.i18n import use_locale
from app.kit.langtext import LANGUAGE_CODE
from app.org.models import Department
from app.places.models import Place
from app.procedures import service
from app.procedures.models import (
    Agency,
    LifeEvent,
    LifeEventStep,
    Procedure,
    ProcedureField,
)
from app.procedures.schemas import LifeEventIn, ProcedureIn

Format = Literal["json", "csv"]
FORMATS: tuple[Format, ...] = ("json", "csv")
MEDIA_TYPES: dict[Format, str] = {"json": "application/json", "csv": "text/csv; charset=utf-8"}
BATCH_SIZE = 200
SHOWN_SKIPS = 50
MAX_REASONS = 5  # per record; the rest are counted
MAX_CSV_CELL = 2 * 1024 * 1024  # a cell of JSON lists can be long (50 steps of 10,000 chars)
BOM = b"\xef\xbb\xbf"

# CSV ----------------------------------------------------------------------------------------

# Multilingual texts: "<prefix>_<language>" columns.
TEXTS = (
    "name",
    "field",
    "agency",
    "applicants",
    "processing_note",
    "fee_note",
    "conditions",
    "result",
)
AGENCY_DETAILS = ("address", "phone", "opening_hours", "place_code", "department_code")
JSON_CELLS = ("steps", "documents", "fees", "legal_basis")
EXPORT_LANGUAGES = ("vi", "en")
COLUMNS: tuple[str, ...] = (
    "code",
    "name_vi",
    "name_en",
    "field_code",
    "field_vi",
    "field_en",
    "agency_code",
    "agency_vi",
    "agency_en",
    *(f"agency_{d}" for d in AGENCY_DETAILS),
    "level",
    "online",
    "channels",
    "processing_days",
    "processing_note_vi",
    "processing_note_en",
    "applicants_vi",
    "applicants_en",
    "conditions_vi",
    "conditions_en",
    "result_vi",
    "result_en",
    "fee_note_vi",
    "fee_note_en",
    *JSON_CELLS,
    "source_url",
    "updated_on",
)
REQUIRED_COLUMNS = ("code", "name_vi", "field_code", "agency_code", "level", "channels", "steps")
_PLAIN = {c for c in COLUMNS if not any(c.startswith(f"{p}_") for p in TEXTS)} | {
    "field_code",
    "agency_code",
    *(f"agency_{d}" for d in AGENCY_DETAILS),
}
# Spreadsheets run a cell that starts with one of these as a formula: the export quotes it
# with an apostrophe, which the import takes off again.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class NotCatalogue(Exception):
    """The file cannot be read as a catalogue at all (nothing was imported)."""


class BrokenFile(Exception):
    """The file stopped being readable part-way through (what came before was imported)."""


def format_of(name: str) -> Format | None:
    """The format a file's name announces (.json or .csv), else None."""
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return suffix if suffix in FORMATS else None


# Reading ------------------------------------------------------------------------------------


Kind = Literal["procedure", "life_event"]


@dataclass(frozen=True, slots=True)
class Raw:
    """One record as read: where it is in the file, and its value or why it cannot be read."""

    kind: Kind
    where: str
    value: Any = None
    problem: str | None = None

    @property
    def code(self) -> str:
        key = "code" if self.kind == "procedure" else "slug"
        if isinstance(self.value, dict) and isinstance(self.value.get(key), str):
            return str(self.value[key])[:80]
        return ""


class _SkipBom:
    """A binary stream without its leading UTF-8 byte order mark, if it has one."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        head = stream.read(len(BOM))
        self.pending = b"" if head == BOM else head

    def read(self, size: int = -1) -> bytes:
        if not self.pending:
            return self.stream.read(size)
        if size < 0:
            data, self.pending = self.pending + self.stream.read(), b""
            return data
        data, self.pending = self.pending[:size], self.pending[size:]
        if len(data) < size:
            data += self.stream.read(size - len(data))
        return data


_LISTS: dict[str, Kind] = {"procedures": "procedure", "life_events": "life_event"}


def read_json(stream: IO[bytes]) -> Iterator[Raw]:
    """The records of a JSON file one by one, parsed as they are read (one record is held at a
    time). NotCatalogue when the file is no such document; BrokenFile when it breaks after
    records were read."""
    builder: ijson.ObjectBuilder | None = None
    item_prefix: str | None = None
    kind: Kind = "procedure"
    label = "record"
    counts: dict[str, int] = {}
    found = False
    read = 0
    try:
        for prefix, event, value in ijson.parse(_SkipBom(stream), use_float=True):
            if builder is not None:
                builder.event(event, value)
                if prefix == item_prefix and event in ("end_map", "end_array"):
                    read += 1
                    yield Raw(kind, f"{label} {counts[label]}", builder.value)
                    builder = None
                continue
            if item_prefix is not None and prefix == item_prefix:
                counts[label] = counts.get(label, 0) + 1
                if event in ("start_map", "start_array"):
                    builder = ijson.ObjectBuilder()
                    builder.event(event, value)
                else:  # a bare number, string or null in the list
                    read += 1
                    yield Raw(kind, f"{label} {counts[label]}", value)
            elif prefix == "" and event == "start_array":
                found, item_prefix, kind, label = True, "item", "procedure", "record"
            elif prefix == "" and event == "map_key":
                if value in _LISTS:
                    found, item_prefix, kind = True, f"{value}.item", _LISTS[value]
                    label = f"{value} record"
                else:
                    item_prefix = None  # another key: its value is read past
            elif prefix == "" and event not in ("start_map", "end_map", "end_array"):
                raise NotCatalogue("the file is JSON but neither a list nor an object")
    except ijson.JSONError as exc:
        message = str(exc).strip() or type(exc).__name__
        if read or builder is not None:
            raise BrokenFile(f"the file breaks off after {read} records: {message}") from exc
        raise NotCatalogue(f"not valid JSON: {message}") from exc
    if not found:
        raise NotCatalogue('neither a list of procedures nor an object with "procedures"')


def _text_column(column: str) -> tuple[str, str] | None:
    """("name", "vi") for "name_vi"; None for a column that is not a text in one language."""
    for prefix in TEXTS:
        if column.startswith(prefix + "_"):
            language = column[len(prefix) + 1 :]
            if LANGUAGE_CODE.match(language) and column not in _PLAIN:
                return prefix, language
    return None


def _check_header(header: list[str]) -> None:
    if not header or not any(h.strip() for h in header):
        raise NotCatalogue("the CSV file is empty (no header row)")
    columns = [h.strip() for h in header]
    unknown = [c for c in columns if c not in _PLAIN and _text_column(c) is None]
    if unknown:
        raise NotCatalogue(
            "unknown columns: "
            + ", ".join(unknown)
            + " (the export's columns are: "
            + ", ".join(COLUMNS)
            + ")"
        )
    twice = sorted({c for c in columns if columns.count(c) > 1})
    if twice:
        raise NotCatalogue("columns given twice: " + ", ".join(twice))
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise NotCatalogue("missing columns: " + ", ".join(missing))


def _unquote(cell: str) -> str:
    if len(cell) > 1 and cell[0] == "'" and cell[1] in _FORMULA_START:
        return cell[1:]
    return cell


class _CellProblem(Exception):
    pass


def record_from_row(row: dict[str, str]) -> dict[str, Any]:
    """The JSON record a CSV row stands for. Empty cells are left out (the record's default
    applies, or validation says it is required); _CellProblem for a cell of bad JSON."""
    cells = {k.strip(): _unquote(v.strip()) for k, v in row.items() if k and v and v.strip()}
    texts: dict[str, dict[str, str]] = {}
    for column, value in cells.items():
        if (named := _text_column(column)) is not None:
            texts.setdefault(named[0], {})[named[1]] = value
    record: dict[str, Any] = {"code": cells.get("code", "")}
    record["name"] = texts.get("name", {})
    record["field"] = {"code": cells.get("field_code", ""), "name": texts.get("field", {})}
    agency: dict[str, Any] = {"code": cells.get("agency_code", ""), "name": texts.get("agency", {})}
    for detail in AGENCY_DETAILS:
        if f"agency_{detail}" in cells:
            agency[detail] = cells[f"agency_{detail}"]
    record["agency"] = agency
    for name in ("level", "online", "processing_days", "source_url", "updated_on"):
        if name in cells:
            record[name] = cells[name]
    if "channels" in cells:
        record["channels"] = [c.strip() for c in cells["channels"].split("|") if c.strip()]
    for name in ("applicants", "processing_note", "fee_note", "conditions", "result"):
        if name in texts:
            record[name] = texts[name]
    for name in JSON_CELLS:
        if name in cells:
            try:
                record[name] = json.loads(cells[name])
            except ValueError as exc:
                raise _CellProblem(f"{name}: not valid JSON ({exc})") from exc
    return record


def read_csv(stream: IO[bytes]) -> Iterator[Raw]:
    """The rows of a CSV file one by one, as JSON records. NotCatalogue when the header is not
    the catalogue's; BrokenFile when the text stops being UTF-8 part-way."""
    csv.field_size_limit(max(csv.field_size_limit(), MAX_CSV_CELL))
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    reader = csv.reader(text)
    rows = 0
    try:
        try:
            header = next(reader)
        except StopIteration:
            raise NotCatalogue("the CSV file is empty (no header row)") from None
        _check_header(header)
        columns = [h.strip() for h in header]
        while True:
            line = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                break
            if not any(c.strip() for c in cells):
                continue  # a blank line
            rows += 1
            where = f"line {line}"
            if len(cells) > len(columns):
                yield Raw(
                    "procedure",
                    where,
                    {"code": cells[0]},
                    f"{len(cells)} cells for {len(columns)} columns",
                )
                continue
            row = dict(zip(columns, cells, strict=False))
            try:
                yield Raw("procedure", where, record_from_row(row))
            except _CellProblem as exc:
                yield Raw("procedure", where, {"code": row.get("code", "")}, str(exc))
    except UnicodeDecodeError as exc:
        if rows:
            raise BrokenFile(f"the file stops being UTF-8 after {rows} rows ({exc})") from exc
        raise NotCatalogue(f"not UTF-8 text ({exc.reason})") from exc
    except csv.Error as exc:
        if rows:
            raise BrokenFile(f"unreadable CSV after {rows} rows: {exc}") from exc
        raise NotCatalogue(f"not a CSV file: {exc}") from exc
    finally:
        text.detach()  # the caller owns the stream


def read_records(stream: IO[bytes], fmt: Format) -> Iterator[Raw]:
    return read_json(stream) if fmt == "json" else read_csv(stream)


# Validation ---------------------------------------------------------------------------------


def reasons(exc: ValidationError) -> str:
    """Pydantic's errors as "field: message; field: message" (the first MAX_REASONS)."""
    parts: list[str] = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(p) for p in error["loc"]) or "record"
        message = str(error["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
        parts.append(f"{where}: {message}")
    shown = "; ".join(parts[:MAX_REASONS])
    if len(parts) > MAX_REASONS:
        shown += f"; and {len(parts) - MAX_REASONS} more"
    return shown


# Importing ----------------------------------------------------------------------------------


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged + self.skipped


@dataclass(frozen=True, slots=True)
class Skip:
    kind: Kind
    where: str
    code: str
    reason: str


@dataclass
class Summary:
    format: Format
    procedures: Counts = field(default_factory=Counts)
    life_events: Counts = field(default_factory=Counts)
    skips: list[Skip] = field(default_factory=list)  # the first SHOWN_SKIPS
    broken: str | None = None  # why reading stopped part-way; what came before was imported


@dataclass(frozen=True)
class Options:
    dry_run: bool = False
    batch_size: int = BATCH_SIZE
    shown_skips: int = SHOWN_SKIPS
    # The reasons a record is skipped: the validation's are in English, so are the rules'.
    locale: str = "en"


Outcome = Literal["created", "updated", "unchanged"]
REPORT_COLUMNS = ("kind", "where", "code", "reason")


async def save(session: AsyncSession, data: ProcedureIn) -> Outcome:
    """Upsert one procedure (the importer is trusted: no actor)."""
    saved = await service.save_procedure(session, None, data)
    return "created" if saved.created else "updated" if saved.changed else "unchanged"


async def _same_life_event(session: AsyncSession, data: LifeEventIn) -> bool | None:
    """Whether the stored life event already reads as `data` (None when there is none)."""
    event = await session.scalar(select(LifeEvent).where(LifeEvent.slug == data.slug))
    if event is None:
        return None
    if (event.name, event.description, event.audience, event.position) != (
        data.name,
        data.description,
        data.audience,
        data.position,
    ):
        return False
    rows = await session.execute(
        select(Procedure.code, LifeEventStep.note, LifeEventStep.optional)
        .join(Procedure, Procedure.id == LifeEventStep.procedure_id)
        .where(LifeEventStep.life_event_id == event.id)
        .order_by(LifeEventStep.position)
    )
    stored = [(code, note or {}, optional) for code, note, optional in rows]
    return stored == [(s.procedure, s.note, s.optional) for s in data.steps]


async def save_life_event(session: AsyncSession, data: LifeEventIn) -> Outcome:
    same = await _same_life_event(session, data)
    if same:
        return "unchanged"
    await service.save_life_event(session, None, data)
    return "created" if same is None else "updated"


@dataclass(frozen=True, slots=True)
class _Pending:
    where: str
    code: str
    data: Any  # ProcedureIn or LifeEventIn


class _Import:
    def __init__(
        self, session: AsyncSession, fmt: Format, options: Options, report: IO[str] | None
    ):
        self.session = session
        self.options = options
        self.summary = Summary(format=fmt)
        self.writer = csv.writer(report) if report is not None else None
        if self.writer is not None:
            self.writer.writerow(REPORT_COLUMNS)

    def counts(self, kind: Kind) -> Counts:
        return self.summary.procedures if kind == "procedure" else self.summary.life_events

    def skip(self, kind: Kind, where: str, code: str, reason: str) -> None:
        self.counts(kind).skipped += 1
        if len(self.summary.skips) < self.options.shown_skips:
            self.summary.skips.append(Skip(kind, where, code, reason))
        if self.writer is not None:
            self.writer.writerow([kind, where, code, reason])

    def validate(self, raw: Raw) -> _Pending | None:
        if raw.problem is not None:
            self.skip(raw.kind, raw.where, raw.code, raw.problem)
            return None
        if not isinstance(raw.value, dict):
            self.skip(raw.kind, raw.where, "", "not a JSON object")
            return None
        model = ProcedureIn if raw.kind == "procedure" else LifeEventIn
        try:
            data = model.model_validate(raw.value)
        except ValidationError as exc:
            self.skip(raw.kind, raw.where, raw.code, reasons(exc))
            return None
        return _Pending(raw.where, raw.code, data)

    def count(self, kind: Kind, outcome: Outcome) -> None:
        counts = self.counts(kind)
        setattr(counts, outcome, getattr(counts, outcome) + 1)

    async def _one(self, kind: Kind, data: Any) -> Outcome:
        if kind == "procedure":
            return await save(self.session, data)
        return await save_life_event(self.session, data)

    async def write(self, kind: Kind, batch: list[_Pending]) -> None:
        await batches.save_batch(
            self.session,
            batch,
            lambda item: self._one(kind, item.data),
            saved=lambda outcome: self.count(kind, outcome),
            refused=lambda item, reason: self.skip(kind, item.where, item.code, reason),
        )


async def import_catalogue(
    session: AsyncSession,
    stream: IO[bytes],
    fmt: Format,
    options: Options = Options(),
    *,
    progress: Callable[[Summary], None] | None = None,
    report: IO[str] | None = None,
) -> Summary:
    """Import every record of `stream`. `progress(summary)` is called after each record;
    `report` (a text file) receives a CSV line (kind, where, code, reason) per skipped record.
    Commits every `options.batch_size` procedures, or rolls everything back for a dry run.
    NotCatalogue (nothing imported) when the file is not a catalogue; when it breaks off
    part-way, the records before the break are imported and `summary.broken` says why."""
    work = _Import(session, fmt, options, report)
    summary = work.summary
    batch: list[_Pending] = []
    events: list[_Pending] = []  # saved after every procedure: their steps name procedures
    async with contextlib.AsyncExitStack() as stack:
        stack.enter_context(use_locale(options.locale))
        await batches.begin(session, stack)
        try:
            for raw in read_records(stream, fmt):
                pending = work.validate(raw)
                if pending is not None and raw.kind == "life_event":
                    events.append(pending)
                elif pending is not None:
                    batch.append(pending)
                if len(batch) >= options.batch_size:
                    await work.write("procedure", batch)
                    batch.clear()
                    if not options.dry_run:
                        await session.commit()
                        await batches.begin(session, stack)
                if progress is not None:
                    progress(summary)
        except BrokenFile as exc:
            summary.broken = str(exc)  # what was read is good: keep it
        except BaseException:
            await session.rollback()
            raise
        if batch:
            await work.write("procedure", batch)
        for start in range(0, len(events), options.batch_size):
            await work.write("life_event", events[start : start + options.batch_size])
        if options.dry_run:
            await session.rollback()
        else:
            await session.commit()
    if progress is not None:
        progress(summary)
    return summary


# Exporting ----------------------------------------------------------------------------------


def _procedure_query(include_retired: bool) -> Any:
    stmt = (
        select(
            Procedure.code,
            Procedure.name,
            ProcedureField.code.label("field_code"),
            ProcedureField.name.label("field_name"),
            Agency.code.label("agency_code"),
            Agency.name.label("agency_name"),
            Agency.address.label("agency_address"),
            Agency.phone.label("agency_phone"),
            Agency.opening_hours.label("agency_opening_hours"),
            Place.code.label("agency_place_code"),
            Department.code.label("agency_department_code"),
            Procedure.level,
            Procedure.online,
            Procedure.channels,
            Procedure.applicants,
            Procedure.steps,
            Procedure.documents,
            Procedure.processing_days,
            Procedure.processing_note,
            Procedure.fees,
            Procedure.fee_note,
            Procedure.conditions,
            Procedure.result,
            Procedure.legal_basis,
            Procedure.source_url,
            Procedure.updated_on,
        )
        .join(ProcedureField, ProcedureField.id == Procedure.field_id)
        .join(Agency, Agency.id == Procedure.agency_id)
        .outerjoin(Place, Place.id == Agency.place_id)
        .outerjoin(Department, Department.id == Agency.department_id)
        .order_by(Procedure.code)
        .execution_options(yield_per=500)
    )
    if not include_retired:
        stmt = stmt.where(Procedure.retired_at.is_(None))
    return stmt


def _record(row: Any) -> dict[str, Any]:
    """A stored procedure as an import record (ProcedureIn's shape and order)."""
    updated_on: date | None = row["updated_on"]
    return {
        "code": row["code"],
        "name": row["name"],
        "field": {"code": row["field_code"], "name": row["field_name"]},
        "agency": {
            "code": row["agency_code"],
            "name": row["agency_name"],
            **{d: row[f"agency_{d}"] for d in AGENCY_DETAILS},
        },
        "level": row["level"],
        "online": row["online"],
        "channels": row["channels"],
        "applicants": row["applicants"],
        "steps": row["steps"],
        "documents": row["documents"],
        "processing_days": row["processing_days"],
        "processing_note": row["processing_note"],
        "fees": row["fees"],
        "fee_note": row["fee_note"],
        "conditions": row["conditions"],
        "result": row["result"],
        "legal_basis": row["legal_basis"],
        "source_url": row["source_url"],
        "updated_on": updated_on.isoformat() if updated_on else None,
    }


async def procedure_records(
    session: AsyncSession, *, include_retired: bool = False
) -> AsyncIterator[dict[str, Any]]:
    """Every procedure as an import record, by code, read in chunks."""
    result = await session.stream(_procedure_query(include_retired))
    async for row in result.mappings():
        yield _record(row)


async def life_event_records(
    session: AsyncSession, *, include_retired: bool = False
) -> AsyncIterator[dict[str, Any]]:
    """Every life event as an import record, its steps in order. Without retired ones, steps
    through a retired procedure are left out (as the public pages leave them out)."""
    stmt = (
        select(
            LifeEvent.id,
            LifeEvent.slug,
            LifeEvent.name,
            LifeEvent.description,
            LifeEvent.audience,
            LifeEvent.position,
            Procedure.code,
            LifeEventStep.note,
            LifeEventStep.optional,
        )
        .join(LifeEventStep, LifeEventStep.life_event_id == LifeEvent.id)
        .join(Procedure, Procedure.id == LifeEventStep.procedure_id)
        .order_by(LifeEvent.position, LifeEvent.slug, LifeEventStep.position)
        .execution_options(yield_per=500)
    )
    if not include_retired:
        stmt = stmt.where(LifeEvent.retired_at.is_(None), Procedure.retired_at.is_(None))
    current: dict[str, Any] | None = None
    current_id: int | None = None
    result = await session.stream(stmt)
    async for row in result.mappings():
        if row["id"] != current_id:
            if current is not None:
                yield current
            current_id = row["id"]
            current = {
                "slug": row["slug"],
                "name": row["name"],
                "description": row["description"],
                "audience": row["audience"],
                "position": row["position"],
                "steps": [],
            }
        assert current is not None
        current["steps"].append(
            {"procedure": row["code"], "note": row["note"] or {}, "optional": row["optional"]}
        )
    if current is not None:
        yield current


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


async def export_json(
    session: AsyncSession, *, include_retired: bool = False
) -> AsyncIterator[str]:
    """The catalogue as the JSON the importer reads, a record per line."""
    yield '{"procedures":[\n'
    first = True
    async for record in procedure_records(session, include_retired=include_retired):
        yield ("" if first else ",\n") + _dumps(record)
        first = False
    yield '\n],"life_events":[\n'
    first = True
    async for record in life_event_records(session, include_retired=include_retired):
        yield ("" if first else ",\n") + _dumps(record)
        first = False
    yield "\n]}\n"


def _quote(cell: str) -> str:
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def row_of(record: dict[str, Any]) -> list[str]:
    """A procedure record as a CSV row (COLUMNS)."""
    cells: dict[str, str] = {
        "code": record["code"],
        "field_code": record["field"]["code"],
        "agency_code": record["agency"]["code"],
        "level": record["level"],
        "online": record["online"],
        "channels": "|".join(record["channels"]),
        "processing_days": str(record["processing_days"]),
        "source_url": record["source_url"] or "",
        "updated_on": record["updated_on"] or "",
    }
    for detail in AGENCY_DETAILS:
        cells[f"agency_{detail}"] = record["agency"].get(detail) or ""
    texts = {
        "name": record["name"],
        "field": record["field"]["name"],
        "agency": record["agency"]["name"],
        **{k: record[k] for k in ("applicants", "processing_note", "fee_note", "conditions")},
        "result": record["result"],
    }
    for prefix, value in texts.items():
        for language in EXPORT_LANGUAGES:
            cells[f"{prefix}_{language}"] = (value or {}).get(language, "")
    for name in JSON_CELLS:
        cells[name] = _dumps(record[name]) if record[name] else ""
    return [_quote(cells[c]) for c in COLUMNS]


async def export_csv(
    session: AsyncSession, *, include_retired: bool = False, bom: bool = False
) -> AsyncIterator[str]:
    """The procedures as the CSV the importer reads (life events are in the JSON only). With
    `bom`, a byte order mark first, so spreadsheets open it as UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def line(cells: list[str] | tuple[str, ...]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(cells)
        return buffer.getvalue()

    yield ("\ufeff" if bom else "") + line(COLUMNS)
    async for record in procedure_records(session, include_retired=include_retired):
        yield line(row_of(record))


def export(
    session: AsyncSession, fmt: Format, *, include_retired: bool = False, bom: bool = False
) -> AsyncIterator[str]:
    if fmt == "json":
        return export_json(session, include_retired=include_retired)
    return export_csv(session, include_retired=include_retired, bom=bom)


@dataclass(frozen=True)
class Version:
    """What changes whenever anything the export writes changes."""

    latest: datetime | None
    procedures: int
    steps: int
    last_step: int

    def token(self) -> str:
        latest = self.latest.isoformat() if self.latest else "-"
        return f"{latest}|{self.procedures}|{self.steps}|{self.last_step}"


async def catalogue_version(session: AsyncSession) -> Version:
    latest: datetime | None = None
    for model in (Procedure, ProcedureField, Agency, LifeEvent):
        value = await session.scalar(select(func.max(model.updated_at)))
        if value is not None and (latest is None or value > latest):
            latest = value
    procedures = await session.scalar(select(func.count()).select_from(Procedure)) or 0
    steps, last_step = (
        await session.execute(select(func.count(), func.max(LifeEventStep.id)))
    ).one()
    return Version(latest, procedures, steps or 0, last_step or 0)
