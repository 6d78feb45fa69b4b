"""The operators' CLI, run as a real subprocess against its own database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import dbutil

CLI = str(Path(sys.executable).parent / "citizen-hub")


@pytest.fixture(scope="module")
def cli_env(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("cli")
    url = (
        dbutil.create_postgres_database(dbutil.POSTGRES_URL, "cli")
        if dbutil.POSTGRES_URL
        else dbutil.sqlite_url(tmp, "cli")
    )
    env = {
        **os.environ,
        "CITIZENHUB_ENVIRONMENT": "development",
        "CITIZENHUB_DATABASE_URL": url,
        "CITIZENHUB_PASSWORD_HASH_MEMORY_KIB": "8192",
        "CITIZENHUB_PASSWORD_HASH_TIME_COST": "1",
    }
    yield env
    if dbutil.POSTGRES_URL:
        dbutil.drop_postgres_database(url)


def run(env: dict, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, *args], env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL
    )


def test_migrate_seed_and_create_users_non_interactively(cli_env: dict) -> None:
    assert run(cli_env, "migrate").returncode == 0
    seeded = run(cli_env, "seed-demo")
    assert seeded.returncode == 0 and "6 departments" in seeded.stdout
    again = run(cli_env, "seed-demo")
    assert again.returncode == 0 and "nothing new" in again.stdout

    staff_without_department = run(
        cli_env,
        "users",
        "create",
        "--email",
        "cb@example.vn",
        "--password",
        "đồi chè Suối Giàng",
        "--role",
        "staff",
    )
    assert staff_without_department.returncode == 1
    assert "department" in staff_without_department.stderr.lower()

    created = run(
        cli_env,
        "users",
        "create",
        "--email",
        "cb@example.vn",
        "--password",
        "đồi chè Suối Giàng",
        "--role",
        "staff",
        "--department",
        "health",
        "--name",
        "Vũ Thị Hoa",
    )
    assert created.returncode == 0, created.stderr
    assert "staff account cb@example.vn" in created.stdout

    duplicate = run(
        cli_env, "users", "create", "--email", "cb@example.vn", "--password", "đồi chè Suối Giàng"
    )
    assert duplicate.returncode == 1

    weak = run(cli_env, "users", "create", "--phone", "0977000111", "--password", "12345678")
    assert weak.returncode == 1 and "phổ biến" in weak.stderr  # the CLI speaks Vietnamese first

    bad_phone = run(
        cli_env, "users", "create", "--phone", "12345", "--password", "đồi chè Suối Giàng"
    )
    assert bad_phone.returncode == 2 and "phone" in bad_phone.stderr


def test_closing_quiet_resolved_reports(cli_env: dict) -> None:
    assert run(cli_env, "migrate").returncode == 0
    result = run(cli_env, "reports", "close-resolved")
    assert result.returncode == 0 and "Closed 0" in result.stdout


def test_production_without_a_secret_key_refuses_to_start(cli_env: dict) -> None:
    env = {**cli_env, "CITIZENHUB_ENVIRONMENT": "production"}
    env.pop("CITIZENHUB_SECRET_KEY", None)
    result = run(env, "serve", "--port", "1")
    assert result.returncode == 2
    assert "SECRET_KEY" in result.stderr
