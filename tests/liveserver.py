"""A real `citizen-hub serve` in a subprocess, on its own database (a SQLite file, or a fresh
PostgreSQL database when TEST_DATABASE_URL is set), migrated and seeded through the CLI as an
operator would. Used by the browser tests and the Open311 client tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests import dbutil

CLI = str(Path(sys.executable).parent / "citizen-hub")


@dataclass
class Live:
    base: str  # e.g. http://127.0.0.1:43117
    env: dict[str, str]

    def cli(self, *args: str) -> str:
        """Run an operator command against the live server's database; its stdout."""
        done = subprocess.run(
            [CLI, *args], env=self.env, check=True, capture_output=True, text=True, timeout=120
        )
        return done.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def live_server(tmp: Path, label: str) -> Iterator[Live]:
    pg_url = (
        dbutil.create_postgres_database(dbutil.POSTGRES_URL, label) if dbutil.POSTGRES_URL else None
    )
    env = {
        **os.environ,
        "CITIZENHUB_ENVIRONMENT": "development",
        "CITIZENHUB_DATABASE_URL": pg_url or dbutil.sqlite_url(tmp, label),
        "CITIZENHUB_UPLOAD_DIR": str(tmp / "uploads"),
        "CITIZENHUB_PRINT_DEMO_CREDENTIALS": "false",
        "CITIZENHUB_LOG_LEVEL": "WARNING",
        "CITIZENHUB_RATE_LIMIT_READ_PER_MINUTE": "100000",
        "CITIZENHUB_RATE_LIMIT_WRITE_PER_MINUTE": "100000",
        "CITIZENHUB_PASSWORD_HASH_MEMORY_KIB": "8192",
        "CITIZENHUB_PASSWORD_HASH_TIME_COST": "1",
    }
    server: subprocess.Popen[bytes] | None = None
    log_path = tmp / "server.log"
    log = log_path.open("w")
    live = Live("", env)
    try:
        live.cli("migrate")
        live.cli("seed-demo")
        port = free_port()
        server = subprocess.Popen(
            [CLI, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        live.base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{live.base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start: {log_path.read_text()}")
            time.sleep(0.2)
        yield live
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
        log.close()
        if pg_url:
            dbutil.drop_postgres_database(pg_url)
