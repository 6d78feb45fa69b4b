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


def _queue_a_push(url: str, token: str) -> None:
    """A device for the demo citizen and a notification for them, as a report change would."""
    import asyncio

    from sqlalchemy import select

    from app.auth.models import User
    from app.db import create_engine, create_sessionmaker
    from app.devices.models import Device
    from app.inbox.models import Notification
    from app.push import outbox

    async def go() -> None:
        engine = create_engine(url)
        try:
            async with create_sessionmaker(engine)() as session:
                user = (
                    await session.execute(select(User).where(User.role == "citizen").limit(1))
                ).scalar_one()
                session.add(Device(token=token, platform="android", user_id=user.id))
                await session.flush()
                await outbox.notify(
                    session,
                    [
                        Notification(
                            user_id=user.id,
                            event="report.acknowledged",
                            subject_type="report",
                            subject_id=1,
                            data={"code": "PA0000001", "status": "acknowledged"},
                        )
                    ],
                )
                await session.commit()
        finally:
            await engine.dispose()

    asyncio.run(go())


def test_the_worker_delivers_through_firebase_to_a_staging_fake(
    cli_env: dict, tmp_path: Path
) -> None:
    import signal
    import socket
    import time

    assert run(cli_env, "migrate").returncode == 0
    assert run(cli_env, "seed-demo").returncode == 0
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    credentials = tmp_path / "sa.json"
    fake = subprocess.Popen(
        [CLI, "push", "fake-fcm", "--port", str(port), "--credentials-out", str(credentials)],
        env=cli_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    worker = None
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the fake FCM did not start"
                time.sleep(0.1)
        _queue_a_push(cli_env["CITIZENHUB_DATABASE_URL"], "cli-token-0123456789abcdef")
        worker_env = {
            **cli_env,
            "CITIZENHUB_PUSH_BACKEND": "firebase",
            "CITIZENHUB_FIREBASE_PROJECT_ID": "citizen-hub-staging",
            "CITIZENHUB_FIREBASE_CREDENTIALS_FILE": str(credentials),
            "CITIZENHUB_FCM_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        }
        worker = subprocess.Popen(
            [CLI, "worker"],
            env=worker_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + 30
        while "pushes: 1 sent" not in (status := run(cli_env, "push", "status").stdout):
            assert worker.poll() is None, worker.stdout.read() if worker.stdout else ""
            assert time.monotonic() < deadline, status
            time.sleep(0.3)
        assert "Every channel is open." in status
        worker.send_signal(signal.SIGTERM)
        out, _ = worker.communicate(timeout=20)
        assert worker.returncode == 0, out
        assert "Worker stopped." in out
    finally:
        for process in (worker, fake):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
