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


def main() -> None:
    os.environ.setdefault("PYTHONUTF8", "1")
    app()


if __name__ == "__main__":
    main()
