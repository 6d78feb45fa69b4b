"""citizen-hub: the operators' command line. Non-interactive, so scripts can drive it."""

from __future__ import annotations

import asyncio
import os
from typing import Annotated, Any

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


def main() -> None:
    os.environ.setdefault("PYTHONUTF8", "1")
    app()


if __name__ == "__main__":
    main()
