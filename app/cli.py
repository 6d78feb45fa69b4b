"""citizen-hub: the operators' command line. Non-interactive, so scripts can drive it."""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path
from typing import Annotated, Any, BinaryIO, TextIO

import typer
from rich.console import Console

from app.auth.models import Role

app = typer.Typer(help="Citizen Hub operations.", no_args_is_help=True, add_completion=False)
users_app = typer.Typer(help="Manage accounts.", no_args_is_help=True)
app.add_typer(users_app, name="users")
open311_keys_app = typer.Typer(help="Manage Open311 partner API keys.", no_args_is_help=True)
app.add_typer(open311_keys_app, name="open311-keys")
console = Console()
err = Console(stderr=True)


def _settings() -> Any:
    from pydantic import ValidationError

    from app.config import get_settings

    try:
        return get_settings()
    except ValidationError as exc:
        err.print(f"[red]Configuration error:[/red] {exc}")
        raise typer.Exit(2) from exc


async def _with_session(fn: Any) -> Any:
    from app.auth.passwords import Hasher
    from app.db import create_engine, create_sessionmaker

    settings = _settings()
    engine = create_engine(settings.database_url)
    hasher = Hasher(
        settings.password_hash_time_cost,
        settings.password_hash_memory_kib,
        settings.password_hash_parallelism,
        settings.password_hash_concurrency,
    )
    try:
        async with create_sessionmaker(engine)() as session:
            result = await fn(session, hasher, settings)
            await session.commit()
            return result
    finally:
        await engine.dispose()


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes")] = 1,
    reload: Annotated[bool, typer.Option(help="Reload on code changes (development)")] = False,
) -> None:
    """Serve the web application with uvicorn."""
    import uvicorn

    _settings()
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        reload=reload,
        proxy_headers=False,  # our ClientAddressMiddleware decides whom to believe
        server_header=False,
        log_config=None,
    )


@app.command()
def migrate(revision: Annotated[str, typer.Argument(help="Target revision")] = "head") -> None:
    """Bring the database schema up to date (Alembic)."""
    from app.ops.migrations import upgrade

    settings = _settings()
    if settings.is_sqlite:
        from pathlib import Path

        Path(settings.database_url.split("///", 1)[-1]).parent.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url, revision)
    console.print(f"[green]Database at {revision}.[/green]")


@app.command("seed-demo")
def seed_demo() -> None:
    """Load the demo province (Yên Bái). Running it again changes nothing."""
    from app.demo.loader import load_demo

    report = asyncio.run(_with_session(load_demo))
    created = ", ".join(f"{n} {kind}" for kind, n in report.created.items()) or "nothing new"
    console.print(f"[green]Demo province loaded:[/green] {created}.")


@users_app.command("create")
def users_create(
    password: Annotated[
        str, typer.Option(help="Initial password", envvar="CITIZENHUB_NEW_USER_PASSWORD")
    ],
    email: Annotated[str | None, typer.Option(help="E-mail address")] = None,
    phone: Annotated[str | None, typer.Option(help="Vietnamese mobile number")] = None,
    role: Annotated[Role, typer.Option(help="citizen, staff, manager or admin")] = Role.citizen,
    department: Annotated[
        str | None, typer.Option(help="Department code (required for staff)")
    ] = None,
    name: Annotated[str | None, typer.Option(help="Full name")] = None,
) -> None:
    """Create an account with any role."""
    from pydantic import ValidationError

    from app.auth import service
    from app.auth.schemas import UserCreate
    from app.errors import AppError

    try:
        data = UserCreate(
            email=email,
            phone=phone,
            password=password,
            role=role,
            department_code=department,
            full_name=name,
        )
    except ValidationError as exc:
        for error in exc.errors():
            err.print(f"[red]{'.'.join(map(str, error['loc'])) or 'input'}:[/red] {error['msg']}")
        raise typer.Exit(2) from exc

    async def create(session: Any, hasher: Any, _settings: Any) -> Any:
        return await service.create_user(session, hasher, data)

    try:
        user = asyncio.run(_with_session(create))
    except AppError as exc:
        err.print(f"[red]{exc.detail or exc.title}[/red]")
        for item in exc.errors or []:
            err.print(f"  {item['field']}: {item['reason']}")
        raise typer.Exit(1) from exc
    console.print(f"Created {user.role} account {user.identifier} (id {user.id}).")


@open311_keys_app.command("create")
def open311_keys_create(
    name: Annotated[str, typer.Option(help="The partner's name (1-32 of A-Z a-z 0-9 . _ -)")],
) -> None:
    """Issue a key to a partner. It is printed once: only its hash is stored."""
    from app.errors import AppError
    from app.open311 import service

    if not service.valid_key_name(name):
        err.print("[red]name:[/red] 1 to 32 letters, digits, dots, dashes or underscores")
        raise typer.Exit(2)

    async def create(session: Any, _hasher: Any, _settings: Any) -> Any:
        return await service.create_key(session, name)

    try:
        key, plain = asyncio.run(_with_session(create))
    except AppError as exc:
        err.print(f"[red]{exc.detail or exc.title}[/red]")
        raise typer.Exit(1) from exc
    err.print(f"Created Open311 key {key.name!r} (id {key.id}). It is shown only this once:")
    print(plain)  # plain stdout, no markup: scripts capture it


@open311_keys_app.command("list")
def open311_keys_list() -> None:
    """Every key: name, state, when it was created, last used and revoked (never the key)."""
    from app.open311 import service

    async def rows(session: Any, _hasher: Any, _settings: Any) -> Any:
        return await service.list_keys(session)

    keys = asyncio.run(_with_session(rows))
    if not keys:
        console.print("No Open311 keys.")
        return

    def when(value: Any) -> str:
        return value.isoformat(timespec="seconds") if value else "-"

    for key in keys:
        state = "active" if key.active else "revoked"
        console.print(
            f"{key.name}\t{state}\tcreated {when(key.created_at)}\t"
            f"last used {when(key.last_used_at)}\trevoked {when(key.revoked_at)}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )


@open311_keys_app.command("revoke")
def open311_keys_revoke(
    name: Annotated[str, typer.Option(help="The name the key was created with")],
) -> None:
    """Revoke a partner's active key at once; its requests then answer 403."""
    from app.errors import AppError
    from app.open311 import service

    async def revoke(session: Any, _hasher: Any, _settings: Any) -> Any:
        return await service.revoke_key(session, name)

    try:
        key = asyncio.run(_with_session(revoke))
    except AppError as exc:
        err.print(f"[red]{exc.detail or exc.title}[/red]")
        raise typer.Exit(1) from exc
    console.print(f"Revoked Open311 key {key.name!r} (id {key.id}).", markup=False)


reports_app = typer.Typer(help="Reports, feedback and requests.", no_args_is_help=True)
app.add_typer(reports_app, name="reports")


@reports_app.command("close-resolved")
def reports_close_resolved() -> None:
    """Close resolved reports nobody disputed within CITIZENHUB_REPORT_AUTO_CLOSE_DAYS."""
    from app.reports.service import close_quiet_resolved

    async def run(session: Any, _hasher: Any, settings: Any) -> int:
        return await close_quiet_resolved(session, settings.report_auto_close_days)

    closed = asyncio.run(_with_session(run))
    console.print(f"Closed {closed} resolved report(s).")


push_app = typer.Typer(
    help="Push notifications: the outbox and its channels.", no_args_is_help=True
)
app.add_typer(push_app, name="push")


@app.command()
def worker(
    dispatchers: Annotated[
        int, typer.Option(help="Dispatcher loops in this process (PostgreSQL shares the work)")
    ] = 1,
) -> None:
    """Run the background work as its own process: push delivery (dispatcher, sweeper, topic
    changes, device upkeep) and closing quiet resolved reports. Run several for more
    throughput; set CITIZENHUB_RUN_DISPATCHER_IN_PROCESS=false on the web servers then."""
    import signal

    from app.db import create_engine, create_sessionmaker
    from app.push.jobs import run_push_worker
    from app.reports.jobs import close_resolved_forever

    settings = _settings()
    if settings.is_sqlite and dispatchers > 1:
        err.print("[red]SQLite has one writer: run one dispatcher.[/red]")
        raise typer.Exit(2)

    async def run() -> None:
        engine = create_engine(settings.database_url)
        sessionmaker = create_sessionmaker(engine)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        console.print(
            f"Worker started: {dispatchers} dispatcher(s), push backend "
            f"{settings.push_backend.value}. Ctrl+C stops it."
        )
        try:
            await asyncio.gather(
                close_resolved_forever(sessionmaker, settings, stop),
                *(run_push_worker(sessionmaker, settings, stop) for _ in range(dispatchers)),
            )
        finally:
            await engine.dispose()
        console.print("Worker stopped.")

    asyncio.run(run())


@push_app.command("status")
def push_status() -> None:
    """The outbox by status, the oldest waiting record, and halted channels."""
    from sqlalchemy import func, select

    from app.push.dispatcher import channel_halts
    from app.push.models import Delivery, TopicChange

    async def read(session: Any, _hasher: Any, _settings: Any) -> Any:
        counts = {}
        for name, model in (("pushes", Delivery), ("topic changes", TopicChange)):
            rows = await session.execute(
                select(model.status, func.count(), func.min(model.next_attempt_at)).group_by(
                    model.status
                )
            )
            counts[name] = [tuple(r) for r in rows]
        return counts, await channel_halts(session)

    counts, halts = asyncio.run(_with_session(read))
    for name, rows in counts.items():
        if not rows:
            console.print(f"{name}: none")
        for status, n, oldest in rows:
            due = f", next due {oldest.isoformat(timespec='seconds')}" if status == "queued" else ""
            console.print(f"{name}: {n} {status}{due}", markup=False, highlight=False)
    for halt in halts:
        console.print(
            f"[red]HALTED[/red] {halt.platform}: {halt.error_code} since "
            f"{halt.halted_at.isoformat(timespec='seconds')}, retried after "
            f"{halt.halted_until.isoformat(timespec='seconds')}"
        )
    if not halts:
        console.print("Every channel is open.")


@push_app.command("resume")
def push_resume(
    platform: Annotated[str, typer.Argument(help="web, android or ios")],
) -> None:
    """Reopen a channel halted by THIRD_PARTY_AUTH_ERROR once its credentials are fixed."""
    from app.push.dispatcher import resume_channel

    async def run(session: Any, _hasher: Any, _settings: Any) -> bool:
        return await resume_channel(session, platform)

    if asyncio.run(_with_session(run)):
        console.print(f"Channel {platform} resumed: its waiting pushes go out on the next round.")
    else:
        console.print(f"Channel {platform} was not halted.")


@push_app.command("fake-fcm")
def push_fake_fcm(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1")] = 9099,
    credentials_out: Annotated[
        str, typer.Option(help="Where to write a service-account file for the fake")
    ] = "var/fake-fcm-service-account.json",
    project: Annotated[str, typer.Option(help="Project id")] = "citizen-hub-staging",
) -> None:
    """Serve a fake FCM (and its token endpoint) for staging: test the whole chain without
    Google. Point the app at it with the printed settings."""
    import uvicorn

    from notifications.fake_fcm import FakeFcm, write_service_account

    base = f"http://127.0.0.1:{port}"
    write_service_account(credentials_out, project_id=project, token_uri=f"{base}/token")
    console.print(
        "Set, then restart the app or worker:\n"
        "  CITIZENHUB_PUSH_BACKEND=firebase\n"
        f"  CITIZENHUB_FIREBASE_PROJECT_ID={project}\n"
        f"  CITIZENHUB_FIREBASE_CREDENTIALS_FILE={credentials_out}\n"
        f"  CITIZENHUB_FCM_ENDPOINT_URL={base}",
        markup=False,
        highlight=False,
    )
    uvicorn.run(FakeFcm(record=False), host="127.0.0.1", port=port, log_level="warning")


def _open_import(file: Path, report: Path | None) -> tuple[BinaryIO, TextIO | None]:
    """The file an import reads and the CSV report it writes, or exit 2 saying why not."""
    try:
        stream = file.open("rb")
        report_file = report.open("w", encoding="utf-8", newline="") if report else None
    except OSError as exc:
        err.print(f"[red]Cannot read {file}:[/red] {exc.strerror or exc}", highlight=False)
        raise typer.Exit(2) from exc
    return stream, report_file


def _import_progress(total: int) -> tuple[Any, Any]:
    """A progress bar on standard error over the `total` bytes an import reads."""
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=err,
    )
    return progress, progress.add_task("Importing", total=total)


def _more_skipped(hidden: int, report: Path | None) -> None:
    """Say how many skipped records the listing left out, and where to find them."""
    if hidden and report:
        console.print(f"  … and {hidden} more: all are in {report}.", markup=False)
    elif hidden:
        console.print(f"  … and {hidden} more: --report FILE lists them all.", markup=False)


def _bbox(value: str | None) -> tuple[float, float, float, float] | None:
    if value is None:
        return None
    try:
        west, south, east, north = (float(part) for part in value.split(","))
    except ValueError as exc:
        raise typer.BadParameter(
            "give WEST,SOUTH,EAST,NORTH in degrees", param_hint="--bbox"
        ) from exc
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise typer.BadParameter(
            "give WEST,SOUTH,EAST,NORTH with west < east and south < north", param_hint="--bbox"
        )
    return west, south, east, north


@app.command("import-places")
def import_places(
    file: Annotated[Path, typer.Argument(help="GeoJSON or Overpass JSON (out center;) file")],
    source: Annotated[
        str, typer.Option(help="Source name stored with each place (upserts match on it)")
    ] = "osm",
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Read and check everything, save nothing")
    ] = False,
    department: Annotated[
        str | None, typer.Option(help="Department code owning the places this creates")
    ] = None,
    bbox: Annotated[
        str | None,
        typer.Option(
            help="Skip points outside WEST,SOUTH,EAST,NORTH (e.g. the province: 103.9,21.3,105.2,22.3)"
        ),
    ] = None,
    report: Annotated[
        Path | None, typer.Option(help="Write every skipped record (id, name, reason) as CSV")
    ] = None,
    batch_size: Annotated[int, typer.Option(help="Records per committed batch", min=1)] = 500,
) -> None:
    """Import places from OpenStreetMap. Running the same file again changes nothing; fields
    staff filled in and OSM leaves empty are kept."""
    import re

    from rich.table import Table

    from app.places import importer

    if not re.fullmatch(r"[a-z0-9_-]{2,20}", source):
        err.print("[red]--source:[/red] 2 to 20 of a-z 0-9 _ -")
        raise typer.Exit(2)
    box = _bbox(bbox)
    options = importer.Options(
        source=source, department_code=department, bbox=box, dry_run=dry_run, batch_size=batch_size
    )
    stream, report_file = _open_import(file, report)
    progress, task = _import_progress(os.fstat(stream.fileno()).st_size)

    def advance(done: int, summary: importer.Summary) -> None:
        read = sum(
            (summary.created, summary.updated, summary.unchanged, summary.skipped, summary.untagged)
        )
        progress.update(task, completed=done, description=f"Importing: {read} records")

    async def run(session: Any, _hasher: Any, _settings: Any) -> importer.Summary:
        return await importer.import_places(
            session, stream, options, progress=advance, report=report_file
        )

    try:
        with stream, report_file or contextlib.nullcontext(), progress:
            summary = asyncio.run(_with_session(run))
    except importer.NotOsmData as exc:
        err.print(f"[red]Cannot import {file}:[/red] {exc}", highlight=False)
        raise typer.Exit(2) from exc
    except importer.UnknownDepartment as exc:
        err.print(f"[red]--department:[/red] no department has the code {exc}", highlight=False)
        raise typer.Exit(2) from exc

    kind = importer.FORMAT_NAMES.get(summary.format or "", "?")
    done = "Checked" if dry_run else "Imported"
    dry = " Dry run: nothing was saved." if dry_run else ""
    # One line whatever the terminal's width: scripts and logs grep for it.
    console.print(
        f"{done} {file} ({kind}) as source {source!r}.{dry}", markup=False, soft_wrap=True
    )
    table = Table("Records", "", show_header=False)
    for label, count in (
        ("created", summary.created),
        ("updated", summary.updated),
        ("unchanged", summary.unchanged),
        ("skipped", summary.skipped),
    ):
        table.add_row(label, str(count))
    if summary.untagged:
        table.add_row("without tags (ignored)", str(summary.untagged))
    console.print(table)
    if summary.skips:
        console.print("Skipped:")
        for record_id, reason in summary.skips:
            console.print(
                f"  {record_id:<20} {reason}", markup=False, highlight=False, soft_wrap=True
            )
        hidden = summary.skipped - len(summary.skips)
        _more_skipped(hidden, report)
    if summary.remark:
        err.print(
            f"[yellow]Overpass remark:[/yellow] {summary.remark} (the extract may be incomplete)",
            highlight=False,
        )
    if summary.broken:
        err.print(f"[red]Stopped:[/red] {summary.broken}", highlight=False)
        raise typer.Exit(2)


def _transfer_format(value: str | None, name: str) -> Any:
    from app.procedures import transfer

    fmt = value or transfer.format_of(name)
    if fmt not in transfer.FORMATS:
        raise typer.BadParameter(
            "give json or csv (the file's name does not say which)", param_hint="--format"
        )
    return fmt


@app.command("import-procedures")
def import_procedures(
    file: Annotated[Path, typer.Argument(help="JSON or CSV file of procedures")],
    fmt: Annotated[
        str | None,
        typer.Option("--format", help="json or csv (default: from the file's extension)"),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Read and check everything, save nothing")
    ] = False,
    report: Annotated[
        Path | None,
        typer.Option(help="Write every skipped record (kind, where, code, reason) as CSV"),
    ] = None,
    batch_size: Annotated[int, typer.Option(help="Procedures per committed batch", min=1)] = 200,
) -> None:
    """Import procedures (and, from JSON, life events) into the catalogue. Records are matched
    by code: running the same file again changes nothing."""
    from rich.table import Table

    from app.procedures import transfer

    kind = _transfer_format(fmt, file.name)
    options = transfer.Options(dry_run=dry_run, batch_size=batch_size)
    stream, report_file = _open_import(file, report)
    progress, task = _import_progress(os.fstat(stream.fileno()).st_size)

    def advance(summary: transfer.Summary) -> None:
        read = summary.procedures.total + summary.life_events.total
        progress.update(task, completed=stream.tell(), description=f"Importing: {read} records")

    async def run(session: Any, _hasher: Any, _settings: Any) -> transfer.Summary:
        return await transfer.import_catalogue(
            session, stream, kind, options, progress=advance, report=report_file
        )

    try:
        with stream, report_file or contextlib.nullcontext(), progress:
            summary = asyncio.run(_with_session(run))
    except transfer.NotCatalogue as exc:
        err.print(f"[red]Cannot import {file}:[/red] {exc}", highlight=False)
        raise typer.Exit(2) from exc

    done = "Checked" if dry_run else "Imported"
    dry = " Dry run: nothing was saved." if dry_run else ""
    console.print(f"{done} {file} ({kind.upper()}).{dry}", markup=False, soft_wrap=True)
    table = Table("Records", "procedures", "life events")
    for label in ("created", "updated", "unchanged", "skipped"):
        table.add_row(
            label,
            str(getattr(summary.procedures, label)),
            str(getattr(summary.life_events, label)),
        )
    console.print(table)
    if summary.skips:
        console.print("Skipped:")
        for skip in summary.skips:
            console.print(
                f"  {skip.where:<24} {skip.code:<12} {skip.reason}",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
        hidden = summary.procedures.skipped + summary.life_events.skipped - len(summary.skips)
        _more_skipped(hidden, report)
    if summary.broken:
        err.print(f"[red]Stopped:[/red] {summary.broken}", highlight=False)
        raise typer.Exit(2)


@app.command("export-procedures")
def export_procedures(
    file: Annotated[str, typer.Argument(help="File to write, or - for standard output")],
    fmt: Annotated[
        str | None,
        typer.Option("--format", help="json or csv (default: from the file's extension)"),
    ] = None,
    include_retired: Annotated[
        bool, typer.Option("--include-retired", help="Also the retired procedures")
    ] = False,
) -> None:
    """Export the catalogue in the format import-procedures reads (JSON: procedures and life
    events; CSV: procedures), streamed."""
    import sys

    from app.procedures import transfer

    kind = _transfer_format(fmt, "" if file == "-" else file)
    try:
        out = (
            contextlib.nullcontext(sys.stdout)
            if file == "-"
            else open(file, "w", encoding="utf-8", newline="")  # noqa: SIM115
        )
    except OSError as exc:
        err.print(f"[red]Cannot write {file}:[/red] {exc.strerror or exc}", highlight=False)
        raise typer.Exit(2) from exc

    async def run(session: Any, _hasher: Any, _settings: Any) -> None:
        async for chunk in transfer.export(session, kind, include_retired=include_retired):
            target.write(chunk)

    with out as target:
        asyncio.run(_with_session(run))
    if file != "-":
        err.print(f"Exported the catalogue to {file} ({kind.upper()}).", markup=False)


def main() -> None:
    os.environ.setdefault("PYTHONUTF8", "1")
    app()


if __name__ == "__main__":
    main()
