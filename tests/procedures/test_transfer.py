"""Importing and exporting the catalogue (JSON and CSV): bad records skipped with their reasons
and nothing stored from them, a second run that changes nothing, files that break off, the
export read back into an empty catalogue, streaming in constant memory, the commands and the
public export. The samples in tests/procedures/data/ hold records of the demo catalogue with
mistakes an editor makes."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
import tracemalloc
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.procedures import service, transfer
from app.procedures.demo import load_demo
from app.procedures.models import (
    Agency,
    LifeEvent,
    LifeEventStep,
    Procedure,
    ProcedureField,
    ProcedureForm,
    ProcedureTerm,
)
from app.procedures.schemas import ProcedureIn
from tests import dbutil

DATA = Path(__file__).with_name("data")
JSON_SAMPLE = DATA / "catalogue.json"
CSV_SAMPLE = DATA / "catalogue.csv"

JSON_GOOD = {"2.000720", "1.001193", "1.000894", "1.004222"}
JSON_SKIPS = {
    "procedures record 2": "code: String should match pattern",
    "procedures record 4": "record: online is full, but channels does not list online",
    "procedures record 5": "not a JSON object",
    "procedures record 6": "record: the name needs a Vietnamese text (vi)",
    "procedures record 8": "fees.0.amount_vnd: Input should be greater than or equal to 0",
    "procedures record 9": "agency: A new agency needs its Vietnamese name.",
    "procedures record 11": "fee: Extra inputs are not permitted",
    "life_events record 2": "steps.1.procedure: There is no procedure with this code.",
    "life_events record 3": "slug: String should match pattern",
}
CSV_GOOD = {"2.000720", "1.001193", "1.004222"}
CSV_SKIPS = {
    "line 3": "level: Input should be 'province' or 'commune'",
    "line 5": "steps: not valid JSON",
    "line 6": "channels.1: Input should be 'in_person', 'post' or 'online'",
}


async def run_import(
    session: AsyncSession, source: Path | bytes, fmt: transfer.Format = "json", **options: Any
) -> transfer.Summary:
    stream = io.BytesIO(source) if isinstance(source, bytes) else source.open("rb")
    with stream:
        return await transfer.import_catalogue(session, stream, fmt, transfer.Options(**options))


async def codes(session: AsyncSession) -> set[str]:
    return set(await session.scalars(select(Procedure.code)))


async def updated_stamps(session: AsyncSession) -> dict[str, Any]:
    rows = await session.execute(select(Procedure.code, Procedure.updated_at))
    return {code: stamp for code, stamp in rows}


def counts(c: transfer.Counts) -> tuple[int, int, int, int]:
    return (c.created, c.updated, c.unchanged, c.skipped)


def skipped(summary: transfer.Summary) -> dict[str, str]:
    return {s.where: s.reason for s in summary.skips}


def assert_reasons(found: dict[str, str], expected: dict[str, str]) -> None:
    assert set(found) == set(expected)
    for where, reason in expected.items():
        assert found[where].startswith(reason), (where, found[where])


async def export_text(session: AsyncSession, fmt: transfer.Format, **kw: Any) -> str:
    return "".join([chunk async for chunk in transfer.export(session, fmt, **kw)])


async def empty_the_catalogue(session: AsyncSession) -> None:
    for model in (
        LifeEventStep,
        LifeEvent,
        ProcedureForm,
        Procedure,
        Agency,
        ProcedureField,
        ProcedureTerm,
    ):
        await session.execute(delete(model))
    await session.commit()


# Importing -------------------------------------------------------------------------------------


async def test_json_import_stores_the_good_records_and_says_why_each_bad_one_was_skipped(
    session: AsyncSession,
) -> None:
    report = io.StringIO()
    with JSON_SAMPLE.open("rb") as stream:
        summary = await transfer.import_catalogue(session, stream, "json", report=report)
    assert counts(summary.procedures) == (4, 0, 0, 7)
    assert counts(summary.life_events) == (1, 0, 0, 2)
    assert summary.broken is None
    assert_reasons(skipped(summary), JSON_SKIPS)
    assert {s.code for s in summary.skips if s.where == "procedures record 2"} == {"bản sao!"}
    # Nothing of a skipped record is stored: not the procedure, not its new agency.
    assert await codes(session) == JSON_GOOD
    assert await service.agency_by_code(session, "so-tu-phap") is None
    assert await session.scalar(select(LifeEvent.slug)) == "sinh-con-mau"
    rows = list(csv.DictReader(io.StringIO(report.getvalue())))
    assert [r["kind"] for r in rows].count("life_event") == 2
    assert {r["where"]: r["reason"] for r in rows} == skipped(summary)

    household = await service.get(session, "2.000720")
    assert household.fee_total_vnd == 100_000 and household.level == "commune"
    baby = await service.life_event(session, "sinh-con-mau")
    steps = await service.life_event_steps(session, baby)
    assert [p.code for _, p in steps] == ["1.001193", "1.004222"]
    assert steps[1][0].note == {"vi": "Cho bé", "en": "For the baby"}


async def test_a_second_run_of_the_same_file_changes_nothing(session: AsyncSession) -> None:
    await run_import(session, JSON_SAMPLE)
    stamps = await updated_stamps(session)
    steps = list(await session.scalars(select(LifeEventStep.id).order_by(LifeEventStep.id)))
    again = await run_import(session, JSON_SAMPLE)
    assert counts(again.procedures) == (0, 0, 4, 7)
    assert counts(again.life_events) == (0, 0, 1, 2)
    assert await updated_stamps(session) == stamps
    assert list(await session.scalars(select(LifeEventStep.id).order_by(LifeEventStep.id))) == steps


async def test_a_changed_record_is_updated_and_the_others_left_alone(
    session: AsyncSession,
) -> None:
    await run_import(session, JSON_SAMPLE)
    data = json.loads(JSON_SAMPLE.read_text(encoding="utf-8"))
    data["procedures"][0]["processing_days"] = 5
    data["life_events"][0]["steps"].reverse()
    summary = await run_import(session, json.dumps(data).encode())
    assert counts(summary.procedures) == (0, 1, 3, 7)
    assert counts(summary.life_events) == (0, 1, 0, 2)
    assert (await service.get(session, "2.000720")).processing_days == 5
    baby = await service.life_event(session, "sinh-con-mau")
    steps = await service.life_event_steps(session, baby)
    assert [p.code for _, p in steps] == ["1.004222", "1.001193"]


async def test_a_plain_list_of_records_is_read_too(session: AsyncSession) -> None:
    data = json.loads(JSON_SAMPLE.read_text(encoding="utf-8"))["procedures"]
    summary = await run_import(session, json.dumps(data, ensure_ascii=False).encode("utf-8"))
    assert counts(summary.procedures) == (4, 0, 0, 7)
    assert "record 2" in skipped(summary)
    assert await codes(session) == JSON_GOOD


async def test_a_dry_run_checks_everything_and_saves_nothing(session: AsyncSession) -> None:
    summary = await run_import(session, JSON_SAMPLE, dry_run=True)
    assert counts(summary.procedures) == (4, 0, 0, 7)
    assert counts(summary.life_events) == (1, 0, 0, 2)
    assert await codes(session) == set()
    assert await session.scalar(select(func.count()).select_from(LifeEvent)) == 0


async def test_csv_with_or_without_a_byte_order_mark(session: AsyncSession) -> None:
    raw = CSV_SAMPLE.read_bytes()
    assert raw.startswith(transfer.BOM)
    summary = await run_import(session, CSV_SAMPLE, "csv")
    assert counts(summary.procedures) == (3, 0, 0, 3)
    assert_reasons(skipped(summary), CSV_SKIPS)
    assert {s.code for s in summary.skips} == {"2.000575", "1.004884", "1.003197"}
    assert await codes(session) == CSV_GOOD

    without_bom = await run_import(session, raw[len(transfer.BOM) :], "csv")
    assert counts(without_bom.procedures) == (0, 0, 3, 3)
    # The CSV holds the same procedures as the JSON sample: importing that changes them not.
    from_json = await run_import(session, JSON_SAMPLE)
    assert from_json.procedures.unchanged == 3 and from_json.procedures.created == 1


async def test_csv_cells_quoted_against_spreadsheet_formulas_come_back_as_they_were(
    session: AsyncSession,
) -> None:
    record = json.loads(JSON_SAMPLE.read_text(encoding="utf-8"))["procedures"][0]
    record["agency"]["phone"] = "+84 216 3852 000"
    data = ProcedureIn.model_validate(record).model_dump(mode="json")
    row = transfer.row_of(data)
    assert row[transfer.COLUMNS.index("agency_phone")] == "'+84 216 3852 000"
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(transfer.COLUMNS)
    writer.writerow(row)
    summary = await run_import(session, text.getvalue().encode(), "csv")
    assert summary.procedures.created == 1
    agency = await service.agency_by_code(session, record["agency"]["code"])
    assert agency is not None and agency.phone == "+84 216 3852 000"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"code,name_vi,colour\r\n", "unknown columns: colour"),
        (b"code,name_vi,level\r\n", "missing columns: field_code, agency_code, channels, steps"),
        (b"code,code,name_vi\r\n", "columns given twice: code"),
        (b"\xff\xfec\x00o\x00d\x00e\x00", "not UTF-8"),
    ],
)
async def test_a_csv_that_is_not_the_catalogue_is_refused_whole(
    session: AsyncSession, content: bytes, message: str
) -> None:
    with pytest.raises(transfer.NotCatalogue, match=message):
        await run_import(session, content, "csv")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"<procedures/>", "not valid JSON"),
        (b'"procedures"', "neither a list nor an object"),
        (b'{"rows": []}', 'neither a list of procedures nor an object with "procedures"'),
        (b"", "not valid JSON"),
    ],
)
async def test_a_json_file_that_is_not_the_catalogue_is_refused_whole(
    session: AsyncSession, content: bytes, message: str
) -> None:
    with pytest.raises(transfer.NotCatalogue, match=message):
        await run_import(session, content)
    assert await codes(session) == set()


async def test_a_json_file_that_breaks_off_keeps_what_came_before(session: AsyncSession) -> None:
    text = JSON_SAMPLE.read_bytes()
    cut = text[: text.index(b'"code": "2.000884"')]  # inside procedures record 8
    summary = await run_import(session, cut, batch_size=2)
    assert summary.broken is not None
    assert summary.broken.startswith("the file breaks off after 7 records")
    # Records 1-7 were read: the good ones among them are kept, the life events never came.
    assert await codes(session) == {"2.000720", "1.001193", "1.000894"}
    assert counts(summary.life_events) == (0, 0, 0, 0)


async def test_a_json_file_with_a_byte_order_mark_is_read(session: AsyncSession) -> None:
    summary = await run_import(session, transfer.BOM + JSON_SAMPLE.read_bytes())
    assert counts(summary.procedures) == (4, 0, 0, 7)


async def test_a_batch_the_database_refuses_is_saved_record_by_record(
    session: AsyncSession,
) -> None:
    """A record good by itself that the database refuses (its agency's place does not exist)
    costs only that record, even in the middle of a batch."""
    data = json.loads(JSON_SAMPLE.read_text(encoding="utf-8"))
    data["procedures"][2]["agency"]["place_code"] = "no-such-place"
    data["procedures"][2]["agency"]["code"] = "ubnd-xa-khac"
    summary = await run_import(session, json.dumps(data).encode(), batch_size=50)
    assert counts(summary.procedures) == (3, 0, 0, 8)
    assert skipped(summary)["procedures record 3"] == (
        "agency.place_code: There is no place with this code."
    )
    assert await codes(session) == JSON_GOOD - {"1.001193"}


# Exporting -------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "csv"])
async def test_the_export_read_back_into_an_empty_catalogue_is_the_same_catalogue(
    session: AsyncSession, fmt: transfer.Format
) -> None:
    await load_demo(session)
    await session.commit()
    first = await export_text(session, fmt)
    await empty_the_catalogue(session)
    summary = await run_import(session, first.encode("utf-8"), fmt, batch_size=7)
    procedures, events = await _demo_sizes(session)
    assert counts(summary.procedures) == (procedures, 0, 0, 0)
    if fmt == "json":
        assert counts(summary.life_events) == (events, 0, 0, 0)
    assert await export_text(session, fmt) == first
    again = await run_import(session, first.encode("utf-8"), fmt)
    assert counts(again.procedures) == (0, 0, procedures, 0)


async def _demo_sizes(session: AsyncSession) -> tuple[int, int]:
    from app.procedures.demo import read_catalogue

    procedures, events = read_catalogue()
    return len(procedures), len(events)


async def test_the_json_export_has_every_language_and_the_life_events(
    session: AsyncSession,
) -> None:
    await load_demo(session)
    data = json.loads(await export_text(session, "json"))
    assert [p["code"] for p in data["procedures"]] == sorted(p["code"] for p in data["procedures"])
    household = next(p for p in data["procedures"] if p["code"] == "2.000720")
    assert (
        household["agency"]["code"] == "ubnd-xa" and household["fees"][0]["amount_vnd"] == 100_000
    )
    ProcedureIn.model_validate(household)
    assert {e["slug"] for e in data["life_events"]} >= {"mo-ho-kinh-doanh", "sinh-con"}


async def test_retired_procedures_are_exported_only_when_asked(session: AsyncSession) -> None:
    await load_demo(session)
    await session.execute(
        update(Procedure).where(Procedure.code == "2.000620").values(retired_at=func.now())
    )
    live = json.loads(await export_text(session, "json"))
    every = json.loads(await export_text(session, "json", include_retired=True))
    assert "2.000620" not in {p["code"] for p in live["procedures"]}
    assert "2.000620" in {p["code"] for p in every["procedures"]}
    # The life events leave out a step through a retired procedure, as the pages do.
    opening = next(e for e in live["life_events"] if e["slug"] == "mo-ho-kinh-doanh")
    assert "2.000620" not in [s["procedure"] for s in opening["steps"]]
    rows = list(csv.DictReader(io.StringIO(await export_text(session, "csv"))))
    assert len(rows) == len(live["procedures"])


# Streaming ------------------------------------------------------------------------------------


def _small_record() -> dict[str, Any]:
    """A short valid record (the tests measure the pipeline, not the record's size)."""
    return ProcedureIn.model_validate(
        {
            "code": "9.000000",
            "name": {"vi": "Thủ tục thử", "en": "Test procedure"},
            "field": {"code": "thu", "name": {"vi": "Thử"}},
            "agency": {"code": "ubnd-xa", "name": {"vi": "UBND xã"}},
            "level": "commune",
            "online": "full",
            "channels": ["in_person", "online"],
            "steps": [{"vi": "Nộp hồ sơ"}, {"vi": "Nhận kết quả"}],
            "documents": [{"name": {"vi": "Tờ khai"}}],
            "fees": [{"name": {"vi": "Lệ phí"}, "amount_vnd": 50_000}],
            "processing_days": 3,
            "updated_on": "2025-07-01",
        }
    ).model_dump(mode="json")


def _write_generated(path: Path, n: int, fmt: transfer.Format) -> None:
    """n procedure records, one in ten invalid, as JSON or CSV."""
    base = _small_record()
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out) if fmt == "csv" else None
        if writer is not None:
            writer.writerow(transfer.COLUMNS)
        else:
            out.write('{"procedures": [\n')
        for i in range(n):
            record = dict(base, code=f"9.{i:06d}", processing_days=i % 30)
            record["name"] = {"vi": f"Thủ tục thử số {i}", "en": f"Test procedure {i}"}
            if i % 10 == 9:
                record["level"] = "district"
            if writer is not None:
                writer.writerow(transfer.row_of(record))
            else:
                out.write(("," if i else "") + json.dumps(record, ensure_ascii=False) + "\n")
        if writer is None:
            out.write("]}\n")


@pytest.mark.parametrize("fmt", ["json", "csv"])
async def test_the_import_streams_in_constant_memory(
    session: AsyncSession,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fmt: transfer.Format,
) -> None:
    """20,000 records (CSV: 10,000) go through reading, validation, batching and the report in
    no more memory than a tenth of them do (a batch is the most ever held). The database writes are replaced: their memory is the
    database's business."""

    async def save(_session: AsyncSession, _data: ProcedureIn) -> transfer.Outcome:
        return "created"

    monkeypatch.setattr(transfer, "save", save)

    async def peak_for(n: int, traced: bool = True) -> tuple[int, int, transfer.Summary]:
        path = tmp_path / f"generated-{n}.{fmt}"
        _write_generated(path, n, fmt)
        with path.open("rb") as stream, (tmp_path / f"report-{n}.csv").open("w") as report:
            if not traced:
                summary = await transfer.import_catalogue(session, stream, fmt, report=report)
                return 0, 0, summary
            tracemalloc.start()
            try:
                summary = await transfer.import_catalogue(
                    session, stream, fmt, transfer.Options(batch_size=200), report=report
                )
                peak = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
        return peak, path.stat().st_size, summary

    n = 20_000 if fmt == "json" else 10_000  # CSV's reading is the standard library's
    await peak_for(8_000, traced=False)  # fill pydantic's (bounded) cache of strings
    small_peak, _, _ = await peak_for(n // 10)
    peak, size, summary = await peak_for(n)
    assert counts(summary.procedures) == (n * 9 // 10, 0, 0, n // 10)
    assert len(summary.skips) == transfer.SHOWN_SKIPS
    with (tmp_path / f"report-{n}.csv").open() as report:
        assert sum(1 for _ in report) == n // 10 + 1  # every skip in the report, none in memory
    assert peak < small_peak * 1.3 + 300_000, f"{peak:,} bytes for {n:,}, {small_peak:,} for less"
    # A batch, the parser's buffers and pydantic's bounded string cache: a few MB at most.
    assert peak < 6_000_000, f"peak {peak:,} bytes for a {size:,} byte file"


async def test_the_export_streams_in_constant_memory(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The export holds one record at a time: writing 10,000 records needs no more memory than
    1,000 (the rows are generated: the database's reading is measured by other tests)."""
    template = transfer._record(_row_of(_small_record()))

    def rows(n: int) -> Any:
        async def records(_session: AsyncSession, **_kw: Any) -> Any:
            for i in range(n):
                yield dict(template, code=f"9.{i:06d}")

        return records

    async def peak_for(n: int, fmt: transfer.Format) -> tuple[int, int]:
        monkeypatch.setattr(transfer, "procedure_records", rows(n))
        written = 0
        tracemalloc.start()
        try:
            async for chunk in transfer.export(session, fmt):
                written += len(chunk)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        return peak, written

    for fmt in ("json", "csv"):
        small, _ = await peak_for(1_000, fmt)
        peak, written = await peak_for(10_000, fmt)
        assert peak < small * 1.3 + 100_000 and peak < written / 20, (fmt, peak, small, written)


def _row_of(data: dict[str, Any]) -> dict[str, Any]:
    """An import record as the export's query reads it from the database."""
    row = {k: v for k, v in data.items() if k not in ("field", "agency")}
    row |= {
        "field_code": data["field"]["code"],
        "field_name": data["field"]["name"],
        "agency_code": data["agency"]["code"],
        "agency_name": data["agency"]["name"],
        **{f"agency_{d}": data["agency"].get(d) for d in transfer.AGENCY_DETAILS},
        "updated_on": date.fromisoformat(data["updated_on"]),
    }
    return row


# The public export ----------------------------------------------------------------------------


async def test_the_export_endpoint_streams_a_file_with_a_version(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await load_demo(session)
    await session.commit()
    response = await client.get("/api/v1/procedures/export")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert re.match(
        r'attachment; filename="procedures-\d{4}-\d{2}-\d{2}\.json"',
        response.headers["content-disposition"],
    )
    data = response.json()
    assert len(data["procedures"]) == (await _demo_sizes(session))[0]
    etag = response.headers["etag"]
    cached = await client.get("/api/v1/procedures/export", headers={"If-None-Match": etag})
    assert cached.status_code == 304 and not cached.content

    as_csv = await client.get("/api/v1/procedures/export", params={"format": "csv"})
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    assert as_csv.content.startswith(transfer.BOM)  # spreadsheets open it as UTF-8
    assert as_csv.headers["etag"] != etag
    rows = list(csv.DictReader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert len(rows) == len(data["procedures"])

    # A change anywhere in what the export writes gives a new version.
    agency = await service.agency_by_code(session, "ubnd-xa")
    assert agency is not None
    agency.phone = "0216 3852 111"
    await session.commit()
    changed = await client.get("/api/v1/procedures/export", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag

    refused = await client.get("/api/v1/procedures/export", params={"format": "xml"})
    assert refused.status_code == 422


# The commands ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cli_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    with dbutil.cli_database(tmp_path_factory.mktemp("procedures-cli"), "procedures", 200) as env:
        yield env


cli = dbutil.run_cli


def table(output: str) -> dict[str, tuple[int, int]]:
    """The summary table: label -> (procedures, life events)."""
    return {
        label: (int(p), int(e))
        for label, p, e in re.findall(
            r"(created|updated|unchanged|skipped)\W+(\d+)\W+(\d+)", output
        )
    }


def _stored_codes(url: str) -> set[str]:
    from app.db import create_engine, create_sessionmaker

    async def go() -> set[str]:
        engine = create_engine(url)
        try:
            async with create_sessionmaker(engine)() as session:
                return set(await session.scalars(select(Procedure.code)))
        finally:
            await engine.dispose()

    return asyncio.run(go())


def test_the_commands_end_to_end(cli_env: dict[str, str], tmp_path: Path) -> None:
    assert cli(cli_env, "migrate").returncode == 0
    url = cli_env["CITIZENHUB_DATABASE_URL"]

    dry = cli(cli_env, "import-procedures", str(JSON_SAMPLE), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "nothing was saved" in dry.stdout and table(dry.stdout)["created"] == (4, 1)
    assert _stored_codes(url) == set()

    report = tmp_path / "skipped.csv"
    first = cli(
        cli_env, "import-procedures", str(JSON_SAMPLE), "--report", str(report), "--batch-size", "2"
    )
    assert first.returncode == 0, first.stderr
    assert table(first.stdout) == {
        "created": (4, 1),
        "updated": (0, 0),
        "unchanged": (0, 0),
        "skipped": (7, 2),
    }
    for where, reason in JSON_SKIPS.items():
        assert re.search(rf"{re.escape(where)}\s[^\n]*?{re.escape(reason)}", first.stdout), where
    assert "Importing" in first.stderr  # the progress bar
    with report.open(encoding="utf-8") as rows:
        assert {row["where"] for row in csv.DictReader(rows)} == set(JSON_SKIPS)
    assert _stored_codes(url) == JSON_GOOD

    again = cli(cli_env, "import-procedures", str(JSON_SAMPLE))
    assert table(again.stdout)["unchanged"] == (4, 1) and table(again.stdout)["created"] == (0, 0)

    from_csv = cli(cli_env, "import-procedures", str(CSV_SAMPLE))
    assert from_csv.returncode == 0, from_csv.stderr
    assert table(from_csv.stdout)["unchanged"] == (3, 0)
    for where, reason in CSV_SKIPS.items():
        assert re.search(rf"{re.escape(where)}\s[^\n]*?{re.escape(reason)}", from_csv.stdout)

    exported = tmp_path / "catalogue.csv"
    done = cli(cli_env, "export-procedures", str(exported))
    assert done.returncode == 0, done.stderr
    assert len(list(csv.DictReader(exported.open(encoding="utf-8")))) == len(JSON_GOOD)
    to_stdout = cli(cli_env, "export-procedures", "-", "--format", "json")
    assert to_stdout.returncode == 0, to_stdout.stderr
    data = json.loads(to_stdout.stdout)
    assert {p["code"] for p in data["procedures"]} == JSON_GOOD
    assert [e["slug"] for e in data["life_events"]] == ["sinh-con-mau"]
    # The export reads back as it was.
    back = cli(cli_env, "import-procedures", str(exported))
    assert table(back.stdout)["unchanged"] == (len(JSON_GOOD), 0)


def test_the_commands_refuse_what_they_cannot_read(cli_env: dict[str, str], tmp_path: Path) -> None:
    assert cli(cli_env, "migrate").returncode == 0
    missing = cli(cli_env, "import-procedures", str(tmp_path / "nowhere.json"))
    assert missing.returncode == 2 and "Cannot read" in missing.stderr

    unknown = tmp_path / "catalogue.xml"
    unknown.write_text("<procedures/>", encoding="utf-8")
    refused = cli(cli_env, "import-procedures", str(unknown))
    assert refused.returncode == 2 and "json or csv" in refused.stderr
    refused = cli(cli_env, "import-procedures", str(unknown), "--format", "json")
    assert refused.returncode == 2 and "not valid JSON" in refused.stderr

    broken = tmp_path / "broken.json"
    text = JSON_SAMPLE.read_bytes()
    broken.write_bytes(text[: text.index(b'"code": "2.000884"')])
    stopped = cli(cli_env, "import-procedures", str(broken))
    assert stopped.returncode == 2 and "breaks off after 7 records" in stopped.stderr
    assert table(stopped.stdout)["created"][0] + table(stopped.stdout)["unchanged"][0] == 3

    nowhere = cli(cli_env, "export-procedures", str(tmp_path / "no" / "such" / "dir.json"))
    assert nowhere.returncode == 2 and "Cannot write" in nowhere.stderr
