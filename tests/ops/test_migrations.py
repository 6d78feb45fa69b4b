"""The schema comes only from migrations: upgrade on an empty database gives exactly the models,
and downgrading to base removes everything. On SQLite always, and on PostgreSQL when
TEST_DATABASE_URL is set (CI)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from app.db import create_engine
from app.models import Base
from app.ops.migrations import downgrade, include_name, upgrade
from tests import dbutil


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield dbutil.sqlite_url(tmp_path, "roundtrip")
        return
    if not dbutil.POSTGRES_URL:
        pytest.skip("TEST_DATABASE_URL is not set: the PostgreSQL round trip runs in CI")
    url = dbutil.create_postgres_database(dbutil.POSTGRES_URL, "migrations")
    try:
        yield url
    finally:
        dbutil.drop_postgres_database(url)


def _inspect(url: str) -> tuple[list, set[str]]:
    async def run() -> tuple[list, set[str]]:
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:

                def check(sync_conn):  # type: ignore[no-untyped-def]
                    context = MigrationContext.configure(
                        sync_conn, opts={"compare_type": True, "include_name": include_name}
                    )
                    return compare_metadata(context, Base.metadata), set(
                        inspect(sync_conn).get_table_names()
                    )

                return await connection.run_sync(check)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_upgrade_matches_models_and_downgrade_empties(empty_database: str) -> None:
    upgrade(empty_database)
    diff, tables = _inspect(empty_database)
    assert diff == [], f"migrations and models disagree: {diff}"
    assert set(Base.metadata.tables) <= tables
    downgrade(empty_database, "base")
    _diff, tables_after = _inspect(empty_database)
    assert tables_after <= {"alembic_version"}
    upgrade(empty_database)  # and back up again
    assert _inspect(empty_database)[0] == []
