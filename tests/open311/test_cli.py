"""`citizen-hub open311-keys`: create, list and revoke partner keys, non-interactively."""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from app.auth.tokens import hash_secret
from app.db import create_engine
from app.open311.models import Open311Key
from tests import dbutil
from tests.liveserver import CLI


@pytest.fixture(scope="module")
def cli_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    tmp = tmp_path_factory.mktemp("open311-cli")
    url = (
        dbutil.create_postgres_database(dbutil.POSTGRES_URL, "open311cli")
        if dbutil.POSTGRES_URL
        else dbutil.sqlite_url(tmp, "cli")
    )
    env = {
        **os.environ,
        "CITIZENHUB_ENVIRONMENT": "development",
        "CITIZENHUB_DATABASE_URL": url,
        "CITIZENHUB_LOG_LEVEL": "WARNING",
    }
    try:
        assert run(env, "migrate").returncode == 0
        yield env
    finally:
        if dbutil.POSTGRES_URL:
            dbutil.drop_postgres_database(url)


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, *args], env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL
    )


async def _stored(url: str) -> list[Any]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            columns = (Open311Key.name, Open311Key.key_hash, Open311Key.revoked_at)
            rows = await connection.execute(select(*columns).order_by(Open311Key.id))
            return list(rows.all())
    finally:
        await engine.dispose()


def test_create_list_revoke(cli_env: dict[str, str]) -> None:
    created = run(cli_env, "open311-keys", "create", "--name", "vnpost")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert key.startswith("o311_") and len(key) > 40 and "\n" not in key
    assert "shown only this once" in created.stderr

    [row] = asyncio.run(_stored(cli_env["CITIZENHUB_DATABASE_URL"]))
    assert row.name == "vnpost" and row.key_hash == hash_secret(key) and row.revoked_at is None

    again = run(cli_env, "open311-keys", "create", "--name", "vnpost")
    assert (
        again.returncode == 1 and "thu hồi" in again.stderr
    )  # the default language: "revoke it first"
    bad_name = run(cli_env, "open311-keys", "create", "--name", "đối tác có dấu cách")
    assert bad_name.returncode == 2
    assert run(cli_env, "open311-keys", "create").returncode == 2  # --name is required

    listed = run(cli_env, "open311-keys", "list")
    assert listed.returncode == 0
    assert "vnpost" in listed.stdout and "active" in listed.stdout
    assert key not in listed.stdout and key[5:] not in listed.stdout

    revoked = run(cli_env, "open311-keys", "revoke", "--name", "vnpost")
    assert revoked.returncode == 0, revoked.stderr
    assert "revoked" in run(cli_env, "open311-keys", "list").stdout
    unknown = run(cli_env, "open311-keys", "revoke", "--name", "vnpost")
    assert unknown.returncode == 1

    # The name is free again once revoked: a new key, a new hash.
    renewed = run(cli_env, "open311-keys", "create", "--name", "vnpost")
    assert renewed.returncode == 0 and renewed.stdout.strip() != key
    rows = asyncio.run(_stored(cli_env["CITIZENHUB_DATABASE_URL"]))
    assert [r.revoked_at is None for r in rows] == [False, True]
