"""The embedded database under concurrent writes: SQLite allows one writer at a time, so the
session dependency queues writers instead of letting SQLite refuse them ("database is locked")."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from app.auth.models import Role
from app.db import create_engine, create_sessionmaker
from app.main import create_app
from app.ops.migrations import upgrade
from tests import dbutil
from tests.builders import PASSWORD, create_user
from tests.conftest import make_settings


async def test_concurrent_sign_ins_on_a_sqlite_file_all_succeed(tmp_path: Path) -> None:
    url = dbutil.sqlite_url(tmp_path, "concurrent")
    await asyncio.to_thread(upgrade, url)
    app = create_app(make_settings(url, tmp_path, login_attempts_per_account=1000))
    app.state.engine = create_engine(url)
    app.state.sessionmaker = create_sessionmaker(app.state.engine)
    try:
        async with app.state.sessionmaker() as session:
            users = [await create_user(session, role=Role.citizen) for _ in range(4)]
            await session.commit()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://t") as client:

            async def sign_in(identifier: str) -> int:
                r = await client.post(
                    "/api/v1/auth/token", data={"username": identifier, "password": PASSWORD}
                )
                return r.status_code

            codes = await asyncio.gather(*(sign_in(u.identifier) for u in users * 5))
    finally:
        await app.state.engine.dispose()
    assert codes == [200] * 20
