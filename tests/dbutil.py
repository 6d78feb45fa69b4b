"""Throwaway databases for tests: a SQLite file, or a fresh PostgreSQL database on the server
named by TEST_DATABASE_URL (so parallel runs never share state)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL") or None


def _server_url(url: str) -> str:
    return make_url(url).set(database="postgres").render_as_string(hide_password=False)


async def _admin(url: str, statement: str) -> None:
    engine = create_async_engine(_server_url(url), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


def create_postgres_database(base_url: str, label: str) -> str:
    name = f"citizenhub_{label}_{os.getpid()}_{secrets.token_hex(3)}"
    asyncio.run(_admin(base_url, f'CREATE DATABASE "{name}"'))
    return make_url(base_url).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(url: str) -> None:
    name = make_url(url).database
    asyncio.run(_admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def sqlite_url(directory: Path | None = None, label: str = "test") -> str:
    folder = directory or Path(tempfile.mkdtemp(prefix="citizenhub-"))
    return f"sqlite+aiosqlite:///{folder / f'{label}.sqlite3'}"


CLI = str(Path(sys.executable).parent / "citizen-hub")


@contextlib.contextmanager
def cli_database(tmp: Path, label: str, columns: int) -> Iterator[dict[str, str]]:
    """The environment for running the `citizen-hub` CLI as a subprocess over a database of its
    own (PostgreSQL when TEST_DATABASE_URL is set, dropped afterwards), `columns` wide."""
    url = create_postgres_database(POSTGRES_URL, label) if POSTGRES_URL else sqlite_url(tmp, label)
    try:
        yield {
            **os.environ,
            "CITIZENHUB_ENVIRONMENT": "development",
            "CITIZENHUB_DATABASE_URL": url,
            "CITIZENHUB_PASSWORD_HASH_MEMORY_KIB": "8192",
            "CITIZENHUB_PASSWORD_HASH_TIME_COST": "1",
            "COLUMNS": str(columns),
        }
    finally:
        if POSTGRES_URL:
            drop_postgres_database(url)


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, *args],
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=180,
        stdin=subprocess.DEVNULL,
    )
